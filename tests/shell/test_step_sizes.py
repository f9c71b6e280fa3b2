"""Every step at the smallest supported size (100×30) and at a large one (160×48): nothing cut that
matters (header, footer keys, buttons), as a person sees it on opening the step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support import settled, steady_cursors, wait_connected
from tui.app import SagewizApp
from tui.steps import STEP_IDS


async def _opened(pilot: Any) -> None:
    await wait_connected(pilot)
    app = pilot.app
    # Each step reads AWS once on entry; the picture is taken when that has settled.
    await settled(pilot)
    steady_cursors(app)  # the focused field's cursor is in every picture, not every other one
    await pilot.pause()


@pytest.mark.parametrize("size", [(100, 30), (160, 48)], ids=["100x30", "160x48"])
@pytest.mark.parametrize("step", STEP_IDS)
def test_step_at_size(
    snap_compare: Any, make_app: Callable[..., SagewizApp], step: str, size: tuple[int, int]
) -> None:
    assert snap_compare(make_app(step), terminal_size=size, run_before=_opened)
