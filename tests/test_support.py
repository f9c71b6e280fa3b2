"""The waiting helpers every test relies on: a timeout is always a failure that names what was awaited."""

from __future__ import annotations

import itertools

import pytest

from tests.support import eventually, eventually_blocking


class Pilot:
    """Only what `eventually` uses of Textual's Pilot."""

    async def pause(self, delay: float | None = None) -> None:
        return None


def test_blocking_returns_the_first_truthy_value() -> None:
    polls = itertools.count()
    assert eventually_blocking(lambda: next(polls) >= 3 and "ready", 5, every=0) == "ready"


def test_blocking_timeout_raises_naming_what_was_awaited() -> None:
    with pytest.raises(AssertionError, match="the job to end"):
        eventually_blocking(lambda: False, 0.05, what="the job to end", every=0.01)


def test_a_timeout_without_what_names_the_condition_by_its_source() -> None:
    with pytest.raises(AssertionError, match=r"lambda: 1 > 2"):
        eventually_blocking(lambda: 1 > 2, 0.05, every=0.01)


def test_what_can_report_what_was_seen_at_the_timeout() -> None:
    seen: list[int] = []
    with pytest.raises(AssertionError, match=r"seen \[1, 1"):
        eventually_blocking(lambda: seen.append(1), 0.05, what=lambda: f"seen {seen}", every=0.01)


async def test_eventually_returns_the_value_and_raises_on_timeout() -> None:
    polls = itertools.count()
    assert await eventually(Pilot(), lambda: next(polls) >= 2 and 42, 5) == 42
    with pytest.raises(AssertionError, match="a screen that never comes"):
        await eventually(Pilot(), lambda: None, 0.05, what="a screen that never comes")
