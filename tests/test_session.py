"""The session factory and the Connect failures, against real botocore and the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.errors import ConnectError
from services.profiles import list_profiles
from services.sandbox.world import SandboxWorld
from services.session import AwsTarget, SessionFactory, connect
from tests.aws_files import write_aws_files


def _reason(target: AwsTarget) -> ConnectError:
    with pytest.raises(ConnectError) as info:
        connect(SessionFactory(target))
    return info.value


def test_connect_to_the_sandbox_shows_account_caller_and_region(world: SandboxWorld) -> None:
    ident = connect(SessionFactory(world.target()))
    assert ident.account == "123456789012"
    assert ident.arn == "arn:aws:iam::123456789012:user/sagewiz-admin"
    assert ident.region == "eu-north-1"
    assert ident.endpoint == world.endpoint
    assert ident.sandbox


def test_no_credentials_offers_the_sandbox() -> None:
    err = _reason(AwsTarget(region="eu-north-1"))
    assert err.reason == "no-credentials"
    assert "sandbox" in err.hint


def test_expired_sso_gives_the_exact_login_command(isolated_env: Path) -> None:
    write_aws_files(isolated_env)
    err = _reason(AwsTarget(profile="ssoprof"))
    assert err.reason == "sso-expired"
    assert "aws sso login --profile ssoprof" in err.hint


def test_unknown_profile_lists_the_known_ones(isolated_env: Path) -> None:
    write_aws_files(isolated_env)
    err = _reason(AwsTarget(profile="nope", region="eu-north-1"))
    assert err.reason == "unknown-profile"
    assert "keys" in err.message and "ssoprof" in err.message


@pytest.mark.parametrize("region", ["eu-nowhere", "EU-NORTH-1", "eu north 1", "mars"])
def test_invalid_region_is_caught_before_any_call(isolated_env: Path, region: str) -> None:
    write_aws_files(isolated_env)
    err = _reason(AwsTarget(profile="keys", region=region))
    assert err.reason == "invalid-region"
    assert region in err.message


def test_invalid_keys_are_refused_by_the_endpoint(isolated_env: Path, world: SandboxWorld) -> None:
    write_aws_files(isolated_env)
    err = _reason(AwsTarget(profile="keys", endpoint_url=world.endpoint))
    assert err.reason == "invalid-credentials"
    assert "aws configure" in err.hint


def test_endpoint_refusing_connections(isolated_env: Path) -> None:
    write_aws_files(isolated_env)
    err = _reason(AwsTarget(profile="keys", endpoint_url="http://127.0.0.1:1"))
    assert err.reason == "endpoint-unreachable"
    assert "127.0.0.1:1" in err.message


def test_env_variables_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "p1")
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    t = AwsTarget.from_env()
    assert (t.profile, t.region, t.endpoint_url) == ("p1", "us-west-2", "http://127.0.0.1:9")
    # flags win over the environment
    t = AwsTarget.from_env("p2", "eu-north-1", None)
    assert (t.profile, t.region, t.endpoint_url) == ("p2", "eu-north-1", "http://127.0.0.1:9")


def test_profiles_are_read_from_both_files_with_their_kind(isolated_env: Path) -> None:
    write_aws_files(isolated_env)
    kinds = {p.name: p.kind for p in list_profiles()}
    assert kinds == {"default": "other", "ssoprof": "sso", "keys": "keys", "assumer": "assume-role"}
    assert list_profiles()[0].name == "default"


def test_broken_config_file_lists_nothing_instead_of_crashing(isolated_env: Path) -> None:
    (isolated_env / "config").write_text("[profile x\nregion = = =\n\x00")
    assert list_profiles() == []


def test_clients_carry_the_user_agent_and_adaptive_retries(world: SandboxWorld) -> None:
    f = SessionFactory(world.target())
    s3 = f.client("s3")
    assert s3 is f.client("s3"), "clients are created once and shared"
    assert "sagewiz/" in s3.meta.config.user_agent_extra
    assert s3.meta.config.retries["mode"] == "adaptive"
    real = SessionFactory(AwsTarget(region="eu-north-1"))
    assert real.config().retries["max_attempts"] == 5


def test_s3control_works_against_a_custom_endpoint(world: SandboxWorld) -> None:
    f = SessionFactory(world.target())
    cfg = f.client("s3control").get_public_access_block(AccountId=world.account)
    assert cfg["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
