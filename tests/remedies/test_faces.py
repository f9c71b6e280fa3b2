"""The remedies the real commands print, and the keys the screens still show, for the cases the
sandbox can produce: an expired SSO sign-in and a refused call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from screens.connect_problem import ConnectProblemScreen
from services.session import AwsTarget
from tests.aws_files import write_aws_files
from tests.support import eventually
from tests.ui_text import shown
from tui.app import SagewizApp
from tui.cli import main


def test_cli_says_run_again_after_the_sso_login_not_press_r(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_aws_files(isolated_env)
    code = main(["status", "--profile", "ssoprof"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "aws sso login --profile ssoprof" in err
    assert "then run the same command again." in err
    assert "press r" not in err


async def test_tui_still_says_press_r_after_the_sso_login(isolated_env: Path, journal: Any) -> None:
    write_aws_files(isolated_env)
    app = SagewizApp(AwsTarget(profile="ssoprof"), journal=journal)
    async with app.run_test(size=(120, 40)) as pilot:
        await eventually(pilot, lambda: isinstance(app.screen, ConnectProblemScreen), what="problem shown")
        await eventually(pilot, lambda: bool(app.screen.query("#problem-hint")), what="hint composed")
        hint = shown(app.screen.query_one("#problem-hint"))
        assert "aws sso login --profile ssoprof" in hint and "then press r to retry." in hint


def test_cli_names_the_doctor_command_for_a_refused_call(
    world: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = world.role_credentials  # the seeded execution role may not describe training jobs
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds.secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds.token)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    code = main(["status", "some-job", "--region", world.region, "--endpoint-url", world.endpoint])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Access denied" in err
    # the refused call's error is kept in a file only the user can read, named in the command to run
    kept = Path(err.split("sagewiz doctor --error-file ", 1)[1].split("`", 1)[0])
    assert kept.is_file() and kept.stat().st_mode & 0o777 == 0o600
    assert "(AccessDeniedException) when calling the DescribeTrainingJob operation" in kept.read_text()
    assert "(d)" not in err
