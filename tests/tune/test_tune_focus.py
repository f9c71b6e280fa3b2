"""Keys and focus on the Tune step at 100x30, the smallest supported size."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input

from screens.tune import TuneStep
from tests.support import eventually, wait_connected

SIZE = (100, 30)


async def test_tune_form_opens_on_its_first_field(make_app: Any) -> None:
    app = make_app(start_step="tune")
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        assert isinstance(screen, TuneStep)
        first = screen.query_one("#base-job", Input)
        await eventually(pilot, lambda: app.focused is not None, what="focus placed")
        assert app.focused is first, app.focused
        await pilot.press(*"x9")  # typed into the field, not the step bar's `9`
        assert first.value.endswith("x9") and app.screen is screen
