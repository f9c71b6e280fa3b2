"""Clean-up's two faces agree: for the same selection, the Clean-up screen's confirmation and
`--plain --step cleanup` show the same requests, in the sandbox.

`--plain` runs first and declines at the typed confirmation, so AWS is unchanged for the screen,
which is left at its confirmation."""

from __future__ import annotations

import asyncio
from typing import Any

from screens.confirm_plan import ConfirmPlanScreen
from tests.cleanup.helpers import SCREEN_WAIT, make_bucket, make_notebook, make_role
from tests.plain.test_plain import DOWN, ENTER, plain_args, run_plain
from tests.support import eventually, wait_connected

SIZE = (120, 40)


def plain_plan(world: Any, journal: Any, *presses: str) -> str:
    code, out = run_plain(plain_args(world, step="cleanup"), journal, *presses, "no" + ENTER)
    assert code == 0 and "Cancelled; nothing was changed." in out, out
    return out


async def screen_plan(make_app: Any, count: int, *presses: str) -> str:
    """The plan the screen's confirmation shows after `presses` on a table of `count` rows."""
    app = make_app(start_step="cleanup")
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        await eventually(pilot, lambda: len(screen.resources) == count, SCREEN_WAIT, what="the inventory")
        screen.query_one("#cleanup-table").focus()  # arrow keys move its cursor
        await pilot.press(*presses)
        await eventually(
            pilot, lambda: isinstance(app.screen, ConfirmPlanScreen), SCREEN_WAIT, what="the plan"
        )
        dialog = app.screen
        assert isinstance(dialog, ConfirmPlanScreen)
        return dialog.plan.render_text()


def same_requests(screen_text: str, plain_text: str) -> None:
    """Every line of the screen's plan, in order, is in what `--plain` printed. The screen shows a
    skipped resource as a warning, `--plain` as a line of its own: the reason is what must agree."""
    lines = plain_text.splitlines()
    at = 0
    for line in screen_text.splitlines():
        skipped = line.strip().removeprefix("warning: skipped: ")
        if skipped != line.strip():
            assert f"  skipped: {skipped}" in lines, f"--plain does not skip {skipped!r}:\n{plain_text}"
            continue
        assert line in lines[at:], f"--plain lacks {line!r}.\nscreen:\n{screen_text}\n--plain:\n{plain_text}"
        at = lines.index(line, at) + 1


def make_three(factory: Any, world: Any, journal: Any) -> None:
    journal.bind(world.account, world.region, True)
    make_notebook(factory, world, journal, name="faces-nb")
    make_bucket(factory, journal, "faces-bucket", objects=2)
    make_role(factory, journal, "faces-role")


async def test_deleting_a_selection(make_app, factory, world, journal, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
    make_three(factory, world, journal)
    # Choose what to delete; tick the first two rows; the typed confirmation is declined.
    plain_text = await asyncio.to_thread(
        plain_plan, world, journal, DOWN, DOWN, DOWN, ENTER, " ", DOWN, " ", ENTER
    )
    screen_text = await screen_plan(make_app, 3, "space", "down", "space", "d")
    chosen = [n for n in ("faces-nb", "faces-bucket", "faces-role") if n in screen_text]
    assert len(chosen) == 2, screen_text
    assert "Delete what sagewiz created" in screen_text
    same_requests(screen_text, plain_text)


async def test_stopping_everything(make_app, factory, world, journal, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
    make_three(factory, world, journal)
    plain_text = await asyncio.to_thread(plain_plan, world, journal, DOWN, ENTER)  # Stop what runs
    screen_text = await screen_plan(make_app, 3, "a", "s")
    assert "faces-nb" in screen_text and "StopNotebookInstance" in screen_text, screen_text
    assert "skipped:" in screen_text  # the bucket and the role have nothing to stop
    same_requests(screen_text, plain_text)
