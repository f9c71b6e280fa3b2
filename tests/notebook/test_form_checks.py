"""The notebook form and the new-role form check each field as it changes, say the problem under
that field, clear it once fixed, and Esc on the plan goes back to the form with its values."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input

from services.roles.creation import RoleSpec, spec_problems
from tests.notebook.test_screen import fill_form, on, open_step
from tests.support import eventually
from tests.ui_text import shown


async def _set(pilot: Any, selector: str, text: str) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    await pilot.press("ctrl+a", "ctrl+k", *text) if text else await pilot.press("ctrl+a", "ctrl+k")
    await pilot.pause()


async def test_notebook_fields_are_checked_as_they_change_under_their_own_line(make_app: Any) -> None:
    app = make_app(start_step="notebook")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_step(app, pilot)
        await pilot.press("c")
        await eventually(pilot, on(app, "NotebookForm"))
        form = app.screen
        await _set(pilot, "#nb-volume", "abc")
        assert "not a whole number" in shown(form.query_one("#nb-volume-error"))
        await _set(pilot, "#nb-volume", "20")
        assert shown(form.query_one("#nb-volume-error")).strip() == ""
        await _set(pilot, "#nb-subnet", "bad-subnet")
        assert shown(form.query_one("#nb-subnet-error")).strip(), (
            "the subnet problem is said under the subnet"
        )
        assert "subnet" not in shown(form.query_one("#nb-vpc-error")).lower()
        await _set(pilot, "#nb-subnet", "")
        assert shown(form.query_one("#nb-subnet-error")).strip() == ""


def test_new_role_rules_live_in_one_place() -> None:
    spec = RoleSpec("ok-role", "123456789012", "eu-north-1", "Bad_Bucket", "bad prefix**")
    problems = spec_problems(spec)
    assert set(problems) == {"bucket", "prefix"}
    assert spec_problems(RoleSpec("ok-role", "123456789012", "eu-north-1", "good-bucket", "images/")) == {}


async def test_new_role_form_says_each_problem_under_its_field_and_shows_the_prefix(make_app: Any) -> None:
    app = make_app(start_step="notebook")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_step(app, pilot)
        await fill_form(app, pilot, "nb-role-form", pick_role=False)
        await pilot.press("ctrl+r")
        await eventually(pilot, on(app, "RolePicker"))
        await eventually(pilot, lambda: app.screen.listing is not None)
        await pilot.press("ctrl+n")
        picker = app.screen
        await _set(pilot, "#role-bucket", "")
        assert "give its name" in shown(picker.query_one("#role-bucket-error"))
        assert shown(picker.query_one("#role-prefix-error")).strip() == ""
        await _set(pilot, "#role-bucket", "Bad_Bucket")
        assert "Bad_Bucket" in shown(picker.query_one("#role-bucket-error"))
        await _set(pilot, "#role-prefix", "bad prefix**")
        assert "wildcard" in shown(picker.query_one("#role-prefix-error"))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is picker, "a broken rule keeps the form open"
        await _set(pilot, "#role-bucket", "good-bucket-f18")
        await _set(pilot, "#role-prefix", "images/")
        assert shown(picker.query_one("#role-bucket-error")).strip() == ""
        assert shown(picker.query_one("#role-prefix-error")).strip() == ""
        await _set(pilot, "#role-name", "sw-role-f18")
        await pilot.press("ctrl+s")
        await eventually(pilot, on(app, "NotebookForm"))
        assert "s3://good-bucket-f18/images/" in shown(app.screen.query_one("#nb-role"))


async def test_esc_on_the_plan_returns_to_the_form_with_its_values(make_app: Any) -> None:
    app = make_app(start_step="notebook")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_step(app, pilot)
        await fill_form(app, pilot, "nb-kept-f18")
        await pilot.press("ctrl+s")
        await eventually(pilot, on(app, "ConfirmPlanScreen"))
        await pilot.press("escape")
        await eventually(pilot, on(app, "NotebookForm"))
        assert app.screen.query_one("#nb-name", Input).value == "nb-kept-f18"
