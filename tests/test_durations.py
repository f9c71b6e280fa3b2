"""The one duration formatter: words for how long, a clock for what ticks."""

from __future__ import annotations

import math

import pytest

from services.durations import clock, duration


@pytest.mark.parametrize(
    "seconds,words",
    [
        (0, "0s"),
        (59.9, "59s"),
        (60, "1m 00s"),
        (135, "2m 15s"),
        (3599, "59m 59s"),
        (3600, "1h 00m"),
        (7199, "1h 59m"),
        (86399, "23h 59m"),
        (86400, "1d 0h"),
        (3 * 86400 + 3600, "3d 1h"),
        (10**12, "11574074d 1h"),  # huge: still one line, never an exception
    ],
)
def test_duration_in_words(seconds: float, words: str) -> None:
    assert duration(seconds) == words


@pytest.mark.parametrize(
    "seconds,shown",
    [(0, "0:00:00"), (187, "0:03:07"), (3787, "1:03:07"), (360000, "100:00:00"), (10**9, "277777:46:40")],
)
def test_clock(seconds: float, shown: str) -> None:
    assert clock(seconds) == shown


@pytest.mark.parametrize("seconds", [None, math.inf, -math.inf, math.nan])
def test_unknown_is_said_not_raised(seconds: float | None) -> None:
    assert duration(seconds) == "-"
    assert clock(seconds) == "-:--:--"


def test_negative_is_zero() -> None:
    # The machine's clock a little behind AWS's: "just now", never "-3s".
    assert duration(-3.2) == "0s"
    assert clock(-3.2) == "0:00:00"
