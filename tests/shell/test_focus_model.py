"""The focus model (README, Development): typed text goes into fields, Esc leaves them, dialogs
give focus back, plans scroll at once and a typed confirmation never closes on a slip."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Input, TextArea

from screens.confirm_plan import ConfirmPlanScreen
from screens.error import ErrorScreen
from services.buckets.ownership import BucketStatus
from services.plan import Action, Plan
from tests.support import eventually, wait_connected
from tui.app import SagewizApp
from tui.focus import is_text_field
from tui.steps import STEP_IDS

SIZE = (100, 30)
TEXT = "3nbgqc0"  # a step digit, the App's keys and common screen keys: all must be typed
DIGITS = "390"


def _fields(screen: Any) -> list[Any]:
    return [
        w
        for w in screen.query("Input, TextArea")
        if is_text_field(w) and w.focusable and w.display and w.visible and w.region.height
    ]


def _value(widget: Any) -> str:
    return str(widget.text if isinstance(widget, TextArea) else widget.value)


async def _type(pilot: Any, text: str) -> None:
    await pilot.press(*text)
    await pilot.pause()


@pytest.mark.parametrize("step", STEP_IDS)
async def test_every_field_takes_digits_and_letters_and_esc_leaves_it(
    make_app: Callable[..., SagewizApp], step: str
) -> None:
    app = make_app(step)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        await pilot.pause(0.3)
        screen = app.screen
        assert screen.focused is not None, f"{step}: nothing has focus on entry"
        fields = _fields(screen)
        for field in fields:
            field.scroll_visible(animate=False)
            screen.set_focus(field, from_app_focus=True)  # the cursor at the end, nothing selected
            await pilot.pause()
            before = _value(field)
            numeric = isinstance(field, Input) and (field.type != "text" or field.restrict)
            typed = DIGITS if numeric else TEXT
            await _type(pilot, typed)
            assert app.screen is screen, f"{step}: typing in #{field.id} changed the screen"
            assert screen.focused is field, f"{step}: typing in #{field.id} moved the focus"
            if not numeric or field.restrict is None:
                assert _value(field).endswith(typed) or typed in _value(field), (
                    f"{step}: #{field.id} got {_value(field)!r} (was {before!r})"
                )
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is screen, f"{step}: Esc in #{field.id} left the screen"
            assert not is_text_field(screen.focused), f"{step}: Esc left focus in a field"
            assert screen.focused is not None, f"{step}: Esc in #{field.id} left focus nowhere"


async def test_focus_comes_back_to_the_field_after_the_not_found_dialog(
    make_app: Callable[..., SagewizApp],
) -> None:
    app = make_app("data")
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        source = screen.query_one("#source", Input)
        await eventually(pilot, lambda: bool(source.value))
        source.focus()
        source.value = ""
        await _type(pilot, "s3://no-such-bucket-f18/x/")
        await pilot.press("enter")
        await eventually(pilot, lambda: isinstance(app.screen, ErrorScreen), what="the Not found dialog")
        await pilot.press("escape")
        await eventually(pilot, lambda: app.screen is screen and screen.focused is source)
        await _type(pilot, "3b")
        assert app.screen is screen
        assert source.value == "s3://no-such-bucket-f18/x/3b"


async def test_doctor_box_lets_go_on_esc_and_keeps_its_text(make_app: Callable[..., SagewizApp]) -> None:
    app = make_app("doctor")
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        box = app.screen.query_one("#error-text", TextArea)
        await eventually(
            pilot, lambda: app.screen.focused is box, what="the empty error box focused to paste"
        )
        await _type(pilot, "denied 2nbq")
        assert box.text == "denied 2nbq"
        await pilot.press("escape")
        await pilot.pause()
        assert not is_text_field(app.screen.focused)
        keys = {b.binding.action for b in app.screen.active_bindings.values()}
        assert {"fix", "next_step", "quit"} <= keys or {"next_step", "quit"} <= keys
        await pilot.press("3")
        await eventually(pilot, lambda: app.current_step == "bucket")
        await pilot.press("6")
        await eventually(pilot, lambda: app.current_step == "doctor" and app.screen.is_attached)
        await pilot.pause(0.3)
        doctor = app.screen
        assert doctor.query_one("#error-text", TextArea).text == "denied 2nbq"
        # Back with text in the box: focus rests outside it, so a step digit switches steps.
        assert doctor.focused is not None and not is_text_field(doctor.focused), doctor.focused
        await pilot.press("3")
        await eventually(
            pilot, lambda: app.current_step == "bucket", what="3 switching steps from the doctor"
        )


def _plan(steps: int) -> Plan:
    return Plan(
        "A long plan",
        tuple(
            Action("s3", "put_object", {"Bucket": "b", "Key": f"k{n}"}, f"step {n}", undo="delete it")
            for n in range(steps)
        ),
    )


async def test_a_plan_scrolls_at_once_and_keeps_its_buttons(make_app: Callable[..., SagewizApp]) -> None:
    app = make_app(auto_connect=False)
    async with app.run_test(size=SIZE) as pilot:
        answers: list[bool | None] = []
        app.push_screen(ConfirmPlanScreen(_plan(30), where=""), answers.append)
        await pilot.pause()
        dialog = app.screen
        body = dialog.query_one("#plan-body", VerticalScroll)
        assert body.max_scroll_y > 0
        assert "more below" in str(body.border_subtitle)
        await pilot.press("pagedown", "down")
        assert body.scroll_y > 0
        await pilot.press("end")
        assert body.scroll_y == body.max_scroll_y
        apply = dialog.query_one("#apply")
        assert apply.region.bottom <= SIZE[1] and apply.region.height > 0
        keys = [b.binding.description for b in dialog.active_bindings.values()]
        assert "Next step" not in keys, "the footer lists the dialog's keys, not the screen's below"
        await pilot.press("escape")
        assert answers == [False]


async def test_a_typed_confirmation_says_mismatch_and_applies_on_enter(
    make_app: Callable[..., SagewizApp],
) -> None:
    app = make_app(auto_connect=False)
    async with app.run_test(size=SIZE) as pilot:
        answers: list[bool | None] = []
        app.push_screen(ConfirmPlanScreen(_plan(2), where="", typed="delete"), answers.append)
        await pilot.pause()
        dialog = app.screen
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog and "does not match" in str(
            dialog.query_one("#confirm-mismatch").render()
        )
        await _type(pilot, "delet")
        await pilot.click("#apply")
        await pilot.pause()
        assert app.screen is dialog and "'delet' does not match" in str(
            dialog.query_one("#confirm-mismatch").render()
        )
        await _type(pilot, "e")
        assert dialog.query_one("#confirm-typed", Input).value == "delete", dialog.focused
        assert str(dialog.query_one("#confirm-mismatch").render()) == ""
        await pilot.press("enter")
        await pilot.pause()
        assert answers == [True]


@pytest.mark.parametrize("typed", ["", "delet"])
async def test_a_typed_confirmation_stays_open_on_a_slip_by_enter_or_apply_and_esc_cancels(
    make_app: Callable[..., SagewizApp], typed: str
) -> None:
    app = make_app(auto_connect=False)
    async with app.run_test(size=SIZE) as pilot:
        answers: list[bool | None] = []
        app.push_screen(ConfirmPlanScreen(_plan(2), where="", typed="delete"), answers.append)
        await pilot.pause()
        dialog = app.screen
        field = dialog.query_one("#confirm-typed", Input)
        assert dialog.focused is field
        await _type(pilot, typed)
        for submit in ("enter", "apply"):
            if submit == "apply":
                await pilot.click("#apply")
            else:
                await pilot.press("enter")
            await pilot.pause()
            assert app.screen is dialog, f"{submit} with {typed!r} closed the dialog"
            assert "does not match" in str(dialog.query_one("#confirm-mismatch").render())
            assert dialog.focused is field and field.value == typed
        assert answers == []
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not dialog
        assert answers == [False]


async def test_focus_comes_back_to_the_bucket_name_after_esc_on_the_create_plan(
    make_app: Callable[..., SagewizApp],
) -> None:
    app = make_app("bucket")
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        name = screen.query_one("#bucket-name", Input)
        await eventually(pilot, lambda: getattr(screen, "check", None) is not None, what="the first check")
        await app.workers.wait_for_complete()
        screen.set_focus(name, from_app_focus=True)
        name.value = ""
        await _type(pilot, "sagewiz-focus-f18")
        await pilot.press("enter")
        await eventually(
            pilot,
            lambda: getattr(screen.check, "name", "") == "sagewiz-focus-f18",
            what="the typed name checked",
        )
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.check.status is BucketStatus.MISSING
        await pilot.press("k")
        await eventually(pilot, lambda: isinstance(app.screen, ConfirmPlanScreen), what="the create plan")
        await pilot.press("escape")
        await eventually(pilot, lambda: app.screen is screen and screen.focused is name, what="focus back")
        await _type(pilot, "3b")
        assert app.screen is screen and app.current_step == "bucket"
        assert name.value == "sagewiz-focus-f183b"


async def test_a_long_typed_plan_scrolls_while_its_field_has_focus(
    make_app: Callable[..., SagewizApp],
) -> None:
    app = make_app(auto_connect=False)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ConfirmPlanScreen(_plan(30), where="", typed="delete"))
        await pilot.pause()
        dialog = app.screen
        field = dialog.query_one("#confirm-typed", Input)
        body = dialog.query_one("#plan-body", VerticalScroll)
        assert dialog.focused is field and body.max_scroll_y > 0
        await pilot.press("pagedown", "down")
        assert body.scroll_y > 0 and dialog.focused is field
        for widget in (field, dialog.query_one("#apply"), dialog.query_one("#cancel")):
            assert widget.region.height > 0 and widget.region.bottom <= SIZE[1], widget
