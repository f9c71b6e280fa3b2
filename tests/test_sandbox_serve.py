"""`sagewiz sandbox serve | stop`, driven as a person does: the real command in a subprocess."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.support import eventually_blocking

BIN = Path(sys.executable).parent


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of a person's shell: a private state dir, the background world allowed."""
    monkeypatch.delenv("SAGEWIZ_SANDBOX", raising=False)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("AWS_") or k == "AWS_EC2_METADATA_DISABLED"
    }
    env["SAGEWIZ_STATE_DIR"] = str(tmp_path / "state")
    env["AWS_CONFIG_FILE"] = str(tmp_path / "aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "aws-credentials")
    return env


def _sagewiz(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "sagewiz"), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _exports(lines: list[str]) -> list[dict[str, str]]:
    """Each block of `export` lines as variables (shell-unquoted): [admin, role]."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines:
        words = shlex.split(line.strip()) if line.strip().startswith(("export ", "unset ")) else []
        if not words:
            current = None
            continue
        if current is None:
            current = {}
            blocks.append(current)
        if words[0] == "export":
            for word in words[1:]:
                key, _, value = word.partition("=")
                current[key] = value
    return blocks


@pytest.mark.parametrize(
    ("port", "says"), [("-1", "from 0 to 65535"), ("99999", "from 0 to 65535"), ("x", "whole number")]
)
def test_a_port_out_of_range_is_refused_in_one_line(cli_env: dict[str, str], port: str, says: str) -> None:
    done = _sagewiz(["sandbox", "serve", "--port", port], cli_env, timeout=30)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("sagewiz:")]
    assert len(errors) == 1 and says in errors[0] and "Traceback" not in done.stderr


@pytest.mark.parametrize("mode", [[], ["--background"]])
def test_a_port_in_use_is_one_line_and_exit_2_not_a_hang(cli_env: dict[str, str], mode: list[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _sagewiz(["sandbox", "serve", "--port", str(port), *mode], cli_env, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"sagewiz: cannot listen on 127.0.0.1:{port}: Address already in use; pick another --port"
    ]
    assert not (Path(cli_env["SAGEWIZ_STATE_DIR"]) / "sandbox.json").exists()


@pytest.fixture
def served(cli_env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """`sagewiz sandbox serve` in the foreground, until its exports are printed."""
    proc = subprocess.Popen(
        [str(BIN / "sagewiz"), "sandbox", "serve"],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []

    def ready() -> bool:
        if proc.poll() is not None:  # only now can stderr be read without blocking
            raise AssertionError(
                f"serve ended before it was ready: {lines} {proc.stderr.read() if proc.stderr else ''}"
            )
        # readline blocks until serve prints, so the timeout is checked between lines only.
        line = proc.stdout.readline() if proc.stdout else ""
        if line:
            lines.append(line.rstrip("\n"))
        return any("Ctrl-C" in seen for seen in lines)

    try:
        eventually_blocking(
            ready, 90, what=lambda: f"serve to print its exports; printed so far: {lines}", every=0
        )
        yield proc, lines
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def test_serve_exports_work_for_the_aws_cli_and_failures_are_quiet(
    served: tuple[subprocess.Popen[str], list[str]], cli_env: dict[str, str]
) -> None:
    proc, lines = served
    admin, role = _exports(lines)
    assert admin["AWS_DEFAULT_REGION"] == admin["AWS_REGION"] == "eu-north-1"
    # The AWS CLI v1 reads only AWS_DEFAULT_REGION; give it nothing else.
    cli = {k: v for k, v in {**cli_env, **admin}.items() if k != "AWS_REGION"}
    done = subprocess.run(
        [str(BIN / "aws"), "s3api", "list-buckets", "--query", "Buckets[].Name", "--output", "json"],
        env=cli, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # The user's bucket only: the sample bucket belongs to the sandbox's second account, as in AWS.
    assert json.loads(done.stdout) == ["sagemaker-eu-north-1-123456789012"]

    # The record lets `sagewiz --sandbox` elsewhere use this world: 0600, and removed on stop.
    record = Path(cli_env["SAGEWIZ_STATE_DIR"]) / "sandbox.json"
    assert record.stat().st_mode & 0o777 == 0o600

    # An operation the emulator lacks: AWS's error shape, HTTP 501, one quiet line in the terminal.
    iam = boto3.client(
        "iam", region_name="eu-north-1", endpoint_url=admin["AWS_ENDPOINT_URL"],
        aws_access_key_id=admin["AWS_ACCESS_KEY_ID"], aws_secret_access_key=admin["AWS_SECRET_ACCESS_KEY"],
    )  # fmt: skip
    with pytest.raises(ClientError) as err:
        iam.simulate_custom_policy(PolicyInputList=["{}"], ActionNames=["s3:GetObject"])
    assert err.value.response["Error"]["Code"] == "NotImplemented"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501

    # The role exports sign as the execution role; IAM is enforced for it.
    s3_role = boto3.client(
        "s3", region_name="eu-north-1", endpoint_url=admin["AWS_ENDPOINT_URL"],
        aws_access_key_id=role["AWS_ACCESS_KEY_ID"], aws_secret_access_key=role["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=role["AWS_SESSION_TOKEN"],
    )  # fmt: skip
    with pytest.raises(ClientError) as denied:
        s3_role.put_object(Bucket="sagemaker-eu-north-1-123456789012", Key="x.txt", Body=b"x")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"

    proc.send_signal(signal.SIGINT)
    out, err_text = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "sandbox stopped." in out
    assert "Traceback" not in err_text
    quiet = [line for line in err_text.splitlines() if line.strip()]
    assert len(quiet) == 1 and "SimulateCustomPolicy" in quiet[0] and "NotImplemented" in quiet[0]
    assert not record.exists()


def test_the_admin_can_assume_the_seeded_role_from_the_aws_cli(
    served: tuple[subprocess.Popen[str], list[str]], cli_env: dict[str, str]
) -> None:
    _proc, lines = served
    admin, _role = _exports(lines)
    assume = next(line for line in lines if "aws sts assume-role" in line)
    done = subprocess.run(
        [str(BIN / "aws"), *shlex.split(assume.strip())[1:], "--output", "json"],
        env={**cli_env, **admin}, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    creds = json.loads(done.stdout)
    assert creds["AssumedRoleUser"]["Arn"] == "arn:aws:sts::123456789012:assumed-role/SageMaker-tt/me"
    # The SageMaker trust is intact beside the sandbox admin's statement.
    iam = boto3.client(
        "iam", region_name="eu-north-1", endpoint_url=admin["AWS_ENDPOINT_URL"],
        aws_access_key_id=admin["AWS_ACCESS_KEY_ID"], aws_secret_access_key=admin["AWS_SECRET_ACCESS_KEY"],
    )  # fmt: skip
    trust = iam.get_role(RoleName="SageMaker-tt")["Role"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust[0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    # The role itself is not trusted to assume the role: AccessDenied, not a crash.
    as_role = boto3.client(
        "sts", region_name="eu-north-1", endpoint_url=admin["AWS_ENDPOINT_URL"],
        aws_access_key_id=creds["Credentials"]["AccessKeyId"],
        aws_secret_access_key=creds["Credentials"]["SecretAccessKey"],
        aws_session_token=creds["Credentials"]["SessionToken"],
    )  # fmt: skip
    with pytest.raises(ClientError) as denied:
        as_role.assume_role(
            RoleArn="arn:aws:iam::123456789012:role/service-role/SageMaker-tt", RoleSessionName="again"
        )
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
