"""The App shell driven with real key presses: header, step bar, navigation, help, palette."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from textual.screen import Screen
from textual.widgets import Static

from screens.connect import ConnectStep
from screens.connect_problem import ConnectProblemScreen
from screens.help import HelpScreen
from screens.step_picker import StepPicker
from services.session import AwsTarget
from tests.support import wait_connected
from tests.ui_text import shown
from tui.app import SagewizApp
from tui.cli import COMMANDS
from tui.steps import STEPS, StepState, load_screen_class
from tui.widgets.stepbar import StepBar


def _text(widget: Any) -> str:
    return shown(widget)


async def test_sandbox_start_connects_and_marks_connect_done(make_app: Callable[..., SagewizApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        assert isinstance(app.screen, ConnectStep)
        header = _text(app.screen.query_one("#hdr-identity", Static))
        assert "123456789012" in header and "eu-north-1" in header and "user/sagewiz-admin" in header
        assert app.screen.query_one("#hdr-sandbox").display
        assert app.step_states["connect"] is StepState.DONE
        bar = _text(app.screen.query_one(StepBar))
        for info in STEPS:
            assert info.title in bar
        assert app.journal.entries("session"), "the session is journaled"


async def test_next_back_and_number_keys_move_between_steps(make_app: Callable[..., SagewizApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await pilot.press("n")
        assert app.current_step == "notebook"
        await pilot.press("n", "n")
        assert app.current_step == "data"
        await pilot.press("b")
        assert app.current_step == "bucket"
        await pilot.press("0")
        assert app.current_step == "cleanup"
        await pilot.press("n")  # past the last step: stays, says so
        assert app.current_step == "cleanup"
        await pilot.press("1")
        assert app.current_step == "connect" and isinstance(app.screen, ConnectStep)


async def test_clicking_a_step_in_the_step_bar_opens_it(make_app: Callable[..., SagewizApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        # The first line is the heading; the bucket is the third step.
        await pilot.click(StepBar, offset=(3, 3))
        await pilot.pause()
        assert app.current_step == "bucket"


async def test_go_to_opens_a_step_list(make_app: Callable[..., SagewizApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await pilot.press("g")
        assert isinstance(app.screen, StepPicker)
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert app.current_step == "bucket"


async def test_help_lists_every_key_and_closes(make_app: Callable[..., SagewizApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = _text(app.screen.query_one("#help-dialog Static:last-of-type"))
        for shown_key in ("Next step", "Back", "Go to", "Help", "Quit", "^p", "Retry"):
            assert shown_key in text
        for info in STEPS:
            assert f"Go to {info.title}" in text
        await pilot.press("escape")
        assert isinstance(app.screen, ConnectStep)


async def test_a_binding_added_to_the_app_or_a_screen_shows_in_help(
    world: Any, journal: Any, monkeypatch: Any
) -> None:
    """Help is read from the bindings: a key added to the App or to a step screen is listed, with
    its description and tooltip, and nothing in the help screen had to change."""
    from pathlib import Path

    from textual.binding import Binding

    import screens.connect as screens_connect
    import tui.app as tui_app

    class MoreKeys(ConnectStep):
        CSS_PATH = Path(screens_connect.__file__).with_name("connect.tcss")
        BINDINGS = [Binding("ctrl+y", "noop", "Yank the plan", tooltip="(a key only this test has)")]

    class MoreApp(SagewizApp):
        CSS_PATH = [Path(tui_app.__file__).with_name("theme.tcss")]
        BINDINGS = [*SagewizApp.BINDINGS, Binding("ctrl+t", "noop", "Toggle the thing")]

    app = MoreApp(world.target(), sandbox=True, world=world, journal=journal)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await app.push_screen(MoreKeys())
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = _text(app.screen.query_one("#help-dialog Static:last-of-type"))
        assert "^y" in text and "Yank the plan" in text and "(a key only this test has)" in text
        assert "^t" in text and "Toggle the thing" in text
        assert text.index("Yank the plan") < text.index("Everywhere") < text.index("Toggle the thing")


async def test_command_palette_has_an_entry_per_step(make_app: Callable[..., SagewizApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for n, info in enumerate(STEPS, 1):
            assert f"Step {n}: {info.title}" in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Clean up")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_step == "cleanup"


async def test_q_quits(make_app: Callable[..., SagewizApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code in (0, None)


def test_every_step_and_command_has_its_module() -> None:
    # No step or command is a placeholder: each one's module and class exist.
    for info in STEPS:
        cls = load_screen_class(info)
        assert issubclass(cls, Screen) and cls.__name__ == info.cls, info.id
    for module in set(COMMANDS.values()):
        assert callable(importlib.import_module(f"tui.commands.{module}").run), module


async def test_no_credentials_screen_offers_the_sandbox_and_it_works(world: Any, journal: Any) -> None:
    app = SagewizApp(AwsTarget(region="eu-north-1"), journal=journal)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        assert isinstance(app.screen, ConnectProblemScreen)
        assert app.screen.reason == "no-credentials"
        assert app.step_states["connect"] is StepState.ATTENTION
        await pilot.press("s")
        await wait_connected(pilot)
        assert app.identity is not None and app.identity.sandbox
        assert app.step_states["connect"] is StepState.DONE
        # back on Connect after another step: the sandbox's identity, and no real-account form
        await pilot.press("4")
        await pilot.press("1")
        await pilot.pause()
        assert isinstance(app.screen, ConnectStep)
        assert "123456789012" in _text(app.screen.query_one("#connect-status"))
        assert not app.screen.query("#connect-form")


async def test_retry_after_a_problem_keeps_the_app_running(journal: Any) -> None:
    app = SagewizApp(AwsTarget(region="eu-nowhere"), journal=journal)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        assert isinstance(app.screen, ConnectProblemScreen) and app.screen.reason == "invalid-region"
        await pilot.press("r")
        await wait_connected(pilot)
        assert isinstance(app.screen, ConnectProblemScreen), "still wrong, still explained"
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ConnectStep)
