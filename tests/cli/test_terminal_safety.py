"""Outside text (S3 keys, log lines, error messages) reaches the terminal with its control
characters escaped, on the command line and in the TUI."""

from __future__ import annotations

import io
from typing import Any

import pytest
from textual.app import App, ComposeResult

from services.errors import ErrorInfo
from services.terminal_text import EscapingStream, echo, escape, safe_line, shorten
from tests.support import eventually
from tests.ui_text import shown
from tui.cli import main
from tui.widgets.log_pane import LogPane

TITLE = "\x1b]0;pwned\x07"


def test_escape_makes_every_control_character_visible() -> None:
    assert escape(TITLE) == "\\e]0;pwned\\x07"
    assert escape("a\tb\nc") == "a\tb\nc" and escape("a\tb\nc", one_line=True) == "a\\tb\\nc"
    assert escape("\x9b31m\u202eevil") == "\\x9b31m\\u202eevil"
    assert escape("bad \udcff byte") == "bad \\udcff byte"
    assert shorten("x" * 100_000, 10) == "xxxxxxxxxx… (99,990 more characters)"
    assert echo("a\x1bb" + "c" * 500).startswith("'a\\ebccc") and len(echo("c" * 500)) < 120
    assert safe_line("ok") == "ok"


def test_the_escaping_stream_lets_a_progress_line_through_only_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    plain, tty = io.StringIO(), Tty()
    EscapingStream(plain).write(f"\r50% {TITLE}\x1b[K")
    EscapingStream(tty).write(f"\r50% {TITLE}\x1b[K")
    assert plain.getvalue() == "\\r50% \\e]0;pwned\\x07\\e[K"
    assert tty.getvalue() == "\r50% \\e]0;pwned\\x07\x1b[K"


def test_data_sync_dry_run_escapes_an_s3_key(
    world: Any, factory: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = factory.client("s3")
    s3.create_bucket(Bucket="sagewiz-esc-src", CreateBucketConfiguration={"LocationConstraint": world.region})
    s3.put_object(Bucket="sagewiz-esc-src", Key=f"in/{TITLE}.jpg", Body=b"x")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
    code = main(["data", "sync", "s3://sagewiz-esc-src/in/", "s3://sagewiz-esc-src/out/", "--dry-run",
                 "--endpoint-url", world.endpoint, "--region", world.region])  # fmt: skip
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert "\\e]0;pwned\\x07" in out + err


class _Panes(App[None]):
    def compose(self) -> ComposeResult:
        yield LogPane(id="log")


async def test_the_log_pane_shows_control_characters_escaped() -> None:
    app = _Panes()
    async with app.run_test(size=(100, 10)) as pilot:
        pane = app.query_one(LogPane)
        pane.write_lines([("algo-1", f"epoch 1 {TITLE} loss=0.5")])
        await pilot.pause()
        text = "\n".join(pane.visible_text())
        assert "\x1b" not in text and "\\e]0;pwned\\x07" in text


async def test_the_error_screen_shows_control_characters_escaped() -> None:
    from screens.error import ErrorScreen

    app = App[None]()
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(ErrorScreen(ErrorInfo("Access denied", f"key {TITLE} refused", "", "aws")))
        await eventually(pilot, lambda: bool(app.screen.query("#error-message")), what="the error shown")
        text = shown(app.screen.query_one("#error-message"))
        assert "\x1b" not in text and "\\e]0;pwned\\x07" in text
