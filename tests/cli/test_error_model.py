"""The command line's error model, case by case: what the user gave is wrong -> one line saying what
and how to fix it, exit 2; AWS refused -> exit 1 and the doctor command; anything else -> a short
line and the file holding the details, exit 1. Never a traceback, never "Unexpected error"."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from tui.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_clear_line(err: str) -> None:
    assert "Traceback" not in err and "Unexpected error" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("sagewiz"), err
    assert "\x1b" not in err and "\x07" not in err


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", "spaces"),
        ("http://[::1", "not a URL"),
        ("ftp://x", "http://"),
        ("http://x:99999", "Port"),
    ],
)
def test_a_bad_endpoint_url_is_the_users_to_fix(
    url: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["status", "--region", "eu-north-1", "--endpoint-url", url], capsys)
    assert code == 2, err
    assert_one_clear_line(err)
    assert "Invalid endpoint URL" in err and says in err


@pytest.mark.parametrize("since", ["9" * 400, "99999999999d", "1e9d", "-5m", ""])
def test_a_bad_since_is_refused_before_any_call(since: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["logs", "some-job", "--since", since], capsys)
    assert code == 2, err
    assert_one_clear_line(err)
    assert "--since" in err and len(err) < 400


def test_an_empty_export_file_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["export", ""], capsys)
    assert code == 2, err
    assert_one_clear_line(err)
    assert "file name is empty" in err


def test_an_unknown_algorithm_in_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[training]\nalgorithm = "rm -rf"\n')
    code, _, err = run(["apply", str(cfg), "--dry-run"], capsys)
    assert code == 2, err
    assert_one_clear_line(err)
    assert "line 2" in err and "'rm -rf' is not an algorithm" in err and "xgboost" in err


def test_non_utf8_stdin_for_the_doctor(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = b"An error occurred (AccessDenied) when calling the PutObject operation: \xff\xfe denied \x80"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text), encoding="utf-8"))
    code, out, err = run(["doctor", "--error-file", "-"], capsys)
    assert code in (1, 2), err
    assert "Traceback" not in err and "UnicodeDecodeError" not in err + out


def test_an_error_file_that_is_not_a_regular_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = tmp_path / "err.txt"
    link.symlink_to("/dev/zero")
    code, _, err = run(["doctor", "--error-file", str(link)], capsys)
    assert code == 2, err
    assert_one_clear_line(err)
    assert "not a regular file" in err


def test_a_credential_process_printing_non_json(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated_env / "config").write_text(
        "[profile p]\nregion = eu-north-1\ncredential_process = echo not-json\n"
    )
    code, _, err = run(["status", "--profile", "p"], capsys)
    assert code == 2, err
    assert_one_clear_line(err)
    assert "credential_process" in err and "JSON" in err


def test_a_broken_aws_config(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (isolated_env / "config").write_text("[default\nregion = eu-north-1\n")
    code, _, err = run(["status"], capsys)
    assert code == 2, err
    assert_one_clear_line(err)
    assert "config file cannot be read" in err


def test_the_journal_being_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from services.errors import LocalFileError
    from services.journal import Journal
    from services.journal_events import SessionStarted

    (tmp_path / "state" / "journal.jsonl").mkdir(parents=True)
    code, _, err = run(["export", str(tmp_path / "out.toml")], capsys)
    assert code == 2, err
    assert_one_clear_line(err)
    assert "journal cannot be read" in err and "no session" not in err
    with pytest.raises(LocalFileError, match="cannot be written"):
        Journal().append(SessionStarted(caller="x", endpoint="y", sandbox=True, mode="apply"))


@pytest.mark.parametrize("name", ["x" * 100_000, "bad\x1b]0;pwned\x07name", "under_score", ""])
def test_a_bad_job_name_is_refused_short_and_escaped(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("status", "logs"):
        code, _, err = run([command, name], capsys)
        assert code == 2, err
        assert_one_clear_line(err)
        assert len(err) < 500
        assert "not a SageMaker job name" in err


def test_a_config_that_is_a_symlink_to_dev_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = tmp_path / "c.toml"
    link.symlink_to("/dev/zero")
    code, _, err = run(["apply", str(link), "--dry-run"], capsys)
    assert code == 2, err
    assert_one_clear_line(err)
    assert "not a regular file" in err


def test_a_config_nested_5000_deep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("a = " + "{b = " * 5000)
    code, _, err = run(["apply", str(cfg), "--dry-run"], capsys)
    assert code == 2, err
    assert_one_clear_line(err)
    assert "nested more than" in err


def test_an_oversized_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("# " + "x" * 1_100_000)
    code, _, err = run(["apply", str(cfg), "--dry-run"], capsys)
    assert code == 2, err
    assert_one_clear_line(err)
    assert "at most 1,000,000" in err


def test_an_unforeseen_failure_leaves_its_details_in_a_private_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tui.commands.status as status

    def broken(_args: object) -> int:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(status, "run", broken)  # stands for any bug inside a command
    code, _, err = run(["status"], capsys)
    assert code == 1
    assert_one_clear_line(err)
    assert "ZeroDivisionError" in err and "Unexpected error" not in err
    path = Path(err.split("details: ", 1)[1].split(". Please", 1)[0])
    assert path.is_file() and os.stat(path).st_mode & 0o777 == 0o600
    assert "ZeroDivisionError: a bug" in path.read_text()
