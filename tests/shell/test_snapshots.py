"""How the shell and every Connect problem look."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from services.session import AwsTarget
from tests.aws_files import write_aws_files
from tests.support import wait_connected
from tui.app import SagewizApp

SIZE = (120, 40)


async def _settle(pilot: Any) -> None:
    await wait_connected(pilot)


def test_connected_shell(snap_compare: Any, make_app: Callable[..., SagewizApp]) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_settle)


def test_help_screen(snap_compare: Any, make_app: Callable[..., SagewizApp]) -> None:
    assert snap_compare(make_app(), press=["question_mark"], terminal_size=SIZE, run_before=_settle)


def test_step_picker(snap_compare: Any, make_app: Callable[..., SagewizApp]) -> None:
    assert snap_compare(make_app(), press=["g"], terminal_size=SIZE, run_before=_settle)


@pytest.mark.parametrize(
    "name,target",
    [
        ("no-credentials", AwsTarget(region="eu-north-1")),
        ("sso-expired", AwsTarget(profile="ssoprof")),
        ("unknown-profile", AwsTarget(profile="nope", region="eu-north-1")),
        ("invalid-region", AwsTarget(profile="keys", region="eu-nowhere")),
        ("endpoint-unreachable", AwsTarget(profile="keys", endpoint_url="http://127.0.0.1:1")),
    ],
)
def test_connect_problem_screens(
    snap_compare: Any, isolated_env: Path, journal: Any, name: str, target: AwsTarget
) -> None:
    write_aws_files(isolated_env)
    app = SagewizApp(target, journal=journal)
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_invalid_keys_screen(snap_compare: Any, isolated_env: Path, journal: Any, world: Any) -> None:
    write_aws_files(isolated_env)
    app = SagewizApp(AwsTarget(profile="keys", endpoint_url=world.endpoint), journal=journal)
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)
