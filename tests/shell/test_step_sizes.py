"""Every step at the smallest supported size (100×30) and at a large one (160×48): nothing cut that
matters (header, footer keys, buttons), as a person sees it on opening the step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support import eventually, steady_cursors, wait_connected
from tui.app import SagewizApp
from tui.steps import STEP_IDS


async def _opened(pilot: Any) -> None:
    await wait_connected(pilot)
    app = pilot.app
    # Each step reads AWS once on entry; the picture is taken when that has settled.
    await eventually(
        pilot,
        lambda: not [w for w in app.workers if w.is_running and "poll" not in w.group and w.group != "cost"],
        what="the step's first reads to finish",
    )
    # A step may move focus when its reads arrive (the message after the worker): the picture is
    # taken once focus has stayed put for a few rounds of the message loop.
    last, same = app.focused, 0
    for _ in range(50):
        await pilot.pause()
        same = same + 1 if app.focused is last else 0
        last = app.focused
        if same >= 3:
            break
    steady_cursors(app)  # the focused field's cursor is in every picture, not every other one
    await pilot.pause()


@pytest.mark.parametrize("size", [(100, 30), (160, 48)], ids=["100x30", "160x48"])
@pytest.mark.parametrize("step", STEP_IDS)
def test_step_at_size(
    snap_compare: Any, make_app: Callable[..., SagewizApp], step: str, size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(step), terminal_size=size, run_before=_opened)
