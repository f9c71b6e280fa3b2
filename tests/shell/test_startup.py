"""Start-up: the first screen appears without the SageMaker SDK; the CLI's usage errors."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import eventually_blocking
from tui.cli import main

BIN = Path(sys.executable).parent


def _run_in_pty(args: list[str], env: dict[str, str]) -> int:
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)

    def ended() -> bool:
        # The terminal's output is drained, or the app would block writing its screen.
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                os.read(master, 65536)
            except OSError:
                return True  # the terminal closed: the app is exiting
        return proc.poll() is not None

    try:
        eventually_blocking(ended, 120, what=f"{args} to exit", every=0)
    finally:
        os.close(master)
        if proc.poll() is None:  # only after a timeout: leave no app running behind the test
            proc.kill()
    return proc.wait(timeout=60)


def test_first_screen_is_shown_without_importing_the_sagemaker_sdk(tmp_path: Path) -> None:
    ready = tmp_path / "ready.txt"
    env = {**os.environ, "TERM": "xterm-256color", "SAGEWIZ_EXIT_WHEN_READY": str(ready)}
    assert _run_in_pty([str(BIN / "sagewiz"), "--sandbox"], env) == 0
    lines = ready.read_text().split()
    assert float(lines[0]) > 0, "the first screen was painted"
    assert lines[1:] == [], f"SageMaker SDK modules loaded before the first screen: {lines[1:]}"


def test_unknown_step_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--step", "nowhere"]) == 2
    assert "unknown step 'nowhere'" in capsys.readouterr().err


def test_the_wizard_refuses_without_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2  # pytest's stdin is not a terminal
    assert "needs a terminal" in capsys.readouterr().err


def test_bad_flags_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--no-such-flag"])
    assert exit_info.value.code == 2
    assert "sagewiz:" in capsys.readouterr().err


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
