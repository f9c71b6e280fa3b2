"""Start-up: the first screen appears without the SageMaker SDK; the CLI's usage errors."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import eventually_blocking
from tui.cli import main

BIN = Path(sys.executable).parent


FIRST_SCREEN = "Not connected yet."  # the Connect step, before the sandbox answers
_ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", re.MULTILINE)


def _terminal_until_shown(args: list[str], env: dict[str, str], text: str) -> str:
    """Run `args` in a pseudo-terminal and return what the terminal received until `text` was on
    it, read from outside as a person would see it; then quit the app with ctrl+q."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    received: list[str] = []

    def read() -> bool:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                received.append(os.read(master, 65536).decode("utf-8", "replace"))
            except OSError:
                return True  # the terminal closed: the app is exiting
        return proc.poll() is not None

    def shown() -> bool:
        read()
        return text in _ESCAPES.sub("", "".join(received)) or proc.poll() is not None

    try:
        eventually_blocking(shown, 120, what=f"{text!r} on the terminal", every=0)
        seen = "".join(received)
        os.write(master, b"\x11")  # ctrl+q, the App's quit key
        eventually_blocking(read, 60, what=f"{args} to exit", every=0)
    finally:
        os.close(master)
        if proc.poll() is None:  # only after a timeout: leave no app running behind the test
            proc.kill()
    assert text in _ESCAPES.sub("", seen), f"{args} ended (code {proc.wait()}) before showing {text!r}"
    return seen


def test_first_screen_is_shown_without_importing_the_sagemaker_sdk() -> None:
    # The interpreter's import log (PYTHONPROFILEIMPORTTIME) goes to the same terminal as the
    # screen, so what was imported before the Connect form appeared is read from the outside.
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONPROFILEIMPORTTIME": "1"}
    before = _terminal_until_shown([str(BIN / "sagewiz"), "--sandbox"], env, FIRST_SCREEN)
    before = _ESCAPES.sub("", before).replace("\r", "")
    before = before[: before.index(FIRST_SCREEN)]
    imported = _IMPORTED.findall(before)
    assert "textual.app" in imported, "the import log was read"
    heavy = [m for m in imported if m.split(".")[0] == "sagemaker"]
    assert heavy == [], f"SageMaker SDK modules loaded before the first screen: {heavy}"


def test_unknown_step_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--step", "nowhere"]) == 2
    assert "unknown step 'nowhere'" in capsys.readouterr().err


def test_the_wizard_refuses_without_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2  # pytest's stdin is not a terminal
    assert "needs a terminal" in capsys.readouterr().err


def test_bad_flags_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--no-such-flag"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sagewiz:") and len(err.splitlines()) == 1
    assert "sagewiz --help" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("sagewiz ")


@pytest.mark.parametrize(
    "argv",
    [["--sandbox", "--region", "eu-north-1", "status"], ["status", "--sandbox", "--region", "eu-north-1"]],
)
def test_connection_flags_work_before_or_after_the_subcommand(argv: list[str]) -> None:
    from tui.cli import build_parser

    args = build_parser().parse_args(argv)
    assert args.sandbox is True and args.region == "eu-north-1" and args.profile is None
