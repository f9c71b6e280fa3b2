"""`sagewiz data sync`: exit codes, plain output when piped, the progress line on a terminal,
--dry-run, the quick no-op path, and AccessDenied said with principal, action and resource."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.data.conftest import make_tree
from tests.support import eventually_blocking
from tui.cli import build_parser
from tui.commands.data_sync import run


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def admin_env(world, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
    monkeypatch.setenv("AWS_REGION", world.region)
    monkeypatch.setenv("AWS_ENDPOINT_URL", world.endpoint)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    return world


def sync(*argv: str, out: io.StringIO | None = None) -> tuple[int, str, str]:
    args = build_parser().parse_args(["data", "sync", *argv])
    out = out if out is not None else io.StringIO()
    err = io.StringIO()
    code = run(args, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_piped_copy_then_quick_rerun(admin_env, tmp_path: Path) -> None:
    files = make_tree(tmp_path / "src")
    dst = f"s3://{admin_env.default_bucket}/cli/"
    code, out, err = sync(str(tmp_path / "src"), dst)
    assert code == 0, err
    assert f"copied {len(files)} file(s)" in out and "\r" not in out
    assert "skipped 0 unchanged" in out
    code, out, _ = sync(str(tmp_path / "src"), dst)
    assert code == 0 and f"nothing to copy: {len(files)} file(s)" in out


def test_terminal_gets_one_progress_line(admin_env, tmp_path: Path) -> None:
    make_tree(tmp_path / "src")
    code, out, _ = sync(str(tmp_path / "src"), f"s3://{admin_env.default_bucket}/tty/", out=Tty())
    assert code == 0
    line, _, summary = out.partition("\n")
    assert line.startswith("\r[") and "7/7 files" in line and "left" in line and "\x1b[K" in line
    assert summary.startswith("copied 7 file(s)")  # the line is finished before the summary


def test_dry_run_copies_nothing(admin_env, factory, tmp_path: Path) -> None:
    make_tree(tmp_path / "src")
    code, out, _ = sync(str(tmp_path / "src"), f"s3://{admin_env.default_bucket}/dry/", "--dry-run")
    assert code == 0 and "to copy: 7 file(s)" in out and "copy  top.txt" in out
    assert "Contents" not in factory.client("s3").list_objects_v2(
        Bucket=admin_env.default_bucket, Prefix="dry/"
    )


def test_s3_to_s3_from_the_samples(admin_env) -> None:
    src = f"s3://{admin_env.sample_bucket}/{admin_env.sample_prefix}"
    code, out, _ = sync(src, f"s3://{admin_env.default_bucket}/ground-truth-demo/images/")
    assert code == 0 and "copied 50 file(s)" in out
    code, out, _ = sync(src, f"s3://{admin_env.default_bucket}/ground-truth-demo/images/")
    assert code == 0 and "nothing to copy: 50" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["/no/such/dir", "s3://sagemaker-x/y/"], "does not exist"),
        (["s3:/broken", "s3://sagemaker-x/y/"], "does not start with s3://"),
        (["SRC_PLACEHOLDER", "/tmp/local"], "not an s3:// prefix"),
        (["SRC_PLACEHOLDER", "s3://Bad_Bucket/y/"], "not valid"),
    ],
)
def test_bad_usage_exits_2_before_any_call(tmp_path: Path, argv: list[str], fragment: str) -> None:
    (tmp_path / "src").mkdir()
    argv = [str(tmp_path / "src") if a == "SRC_PLACEHOLDER" else a for a in argv]
    # no endpoint and no credentials: any AWS call would fail differently
    code, out, err = sync(*argv)
    assert code == 2
    assert fragment in err and "Traceback" not in err


def test_missing_destination_bucket_exits_2(admin_env, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    code, _, err = sync(str(tmp_path / "src"), "s3://sagemaker-missing-bucket/y/")
    assert code == 2 and "does not exist" in err and "Traceback" not in err


def test_access_denied_exits_1_and_names_who_what_where(world, monkeypatch, tmp_path: Path) -> None:
    creds = world.role_credentials
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds.secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds.token)
    monkeypatch.setenv("AWS_REGION", world.region)
    monkeypatch.setenv("AWS_ENDPOINT_URL", world.endpoint)
    make_tree(tmp_path / "src")
    code, out, err = sync(str(tmp_path / "src"), f"s3://{world.default_bucket}/denied/")
    assert code == 1
    assert (
        "access denied: arn:aws:sts::123456789012:assumed-role/SageMaker-tt/SageMaker may not s3:PutObject"
        in err
    )
    assert f"arn:aws:s3:::{world.default_bucket}/denied/" in err
    assert "sagewiz doctor --principal" in err and "--action s3:PutObject" in err
    assert "failed " in out


def test_destination_in_another_region_exits_2(admin_env, tmp_path: Path) -> None:
    from services.session import SessionFactory

    us = SessionFactory(admin_env.target().with_(region="us-east-1"))
    us.client("s3").create_bucket(Bucket="sagemaker-far-away")
    make_tree(tmp_path / "src")
    code, _, err = sync(str(tmp_path / "src"), "s3://sagemaker-far-away/x/")
    assert code == 2 and "is in us-east-1" in err and "eu-north-1" in err


def _start_copy(src: Path, dst: str, files: int) -> subprocess.Popen[str]:
    for i in range(files):
        (src / f"d{i % 10}").mkdir(parents=True, exist_ok=True)
        (src / f"d{i % 10}" / f"f{i:04d}.txt").write_bytes(b"x" * (100 + i))
    return subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "data", "sync", str(src), dst],
        env=dict(os.environ),
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stored(s3, bucket: str, prefix: str) -> dict[str, int]:
    return {
        o["Key"]: o["Size"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for o in page.get("Contents", [])
    }


def _wait_for_objects(proc: subprocess.Popen[str], s3, bucket: str, prefix: str, n: int) -> None:
    def copying() -> bool:
        assert proc.poll() is None, "the copy ended before it could be interrupted"
        return s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=n).get("KeyCount", 0) >= n

    # Polled without a pause: Ctrl-C must reach the copy while it still has most files to go.
    eventually_blocking(copying, 60, what=f"the copy to store {n} objects", every=0)


def test_ctrl_c_stops_within_two_seconds_says_what_was_copied_and_a_rerun_finishes(
    admin_env, factory, tmp_path: Path
) -> None:
    import re
    import signal
    import time

    src, dst = tmp_path / "many", f"s3://{admin_env.default_bucket}/ctrlc/"
    proc = _start_copy(src, dst, 1500)
    s3 = factory.client("s3")
    _wait_for_objects(proc, s3, admin_env.default_bucket, "ctrlc/", 50)
    pressed = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    took = time.monotonic() - pressed
    assert proc.returncode == 130, err
    assert took < 2.0, f"took {took:.2f} s to stop"
    assert "Traceback" not in err and "cancelled" not in err
    stored = _stored(s3, admin_env.default_bucket, "ctrlc/")
    assert 50 <= len(stored) < 1500
    for key, size in stored.items():  # every object there is whole
        assert size == (src / key.removeprefix("ctrlc/")).stat().st_size
    # exactly what is there is said copied; the rest is said not copied, with the command to run
    assert f"copied {len(stored)} file(s)" in out
    m = re.search(r"stopped: (\d+) of 1500 file\(s\) copied, (\d+) not copied", err)
    assert m and int(m.group(1)) == len(stored) and int(m.group(2)) == 1500 - len(stored)
    assert f"to copy the rest, run: sagewiz data sync {src} {dst}" in err
    code, out, _ = sync(str(src), dst)
    assert (
        code == 0
        and f"skipped {len(stored)} unchanged" in out
        and f"copied {1500 - len(stored)} file(s)" in out
    )


def test_a_second_ctrl_c_quits_at_once(admin_env, factory, tmp_path: Path) -> None:
    import signal

    src, dst = tmp_path / "many", f"s3://{admin_env.default_bucket}/ctrlc2/"
    proc = _start_copy(src, dst, 1500)
    _wait_for_objects(proc, factory.client("s3"), admin_env.default_bucket, "ctrlc2/", 20)
    proc.send_signal(signal.SIGINT)
    assert proc.stderr is not None
    assert "stopping: no new files" in proc.stderr.readline() + proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err
    assert "stopped at once" in err and f"run: sagewiz data sync {src} {dst}" in err


@pytest.mark.parametrize("region", ["eu-north-1; x", "EU-NORTH-1", "nowhere"])
def test_a_bad_region_exits_2_with_one_line_before_any_transfer(
    admin_env, tmp_path: Path, region: str
) -> None:
    make_tree(tmp_path / "src")
    code, out, err = sync(
        str(tmp_path / "src"), f"s3://{admin_env.default_bucket}/region/", "--region", region
    )
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith("sagewiz: Invalid region:") and region in err.splitlines()[0]


def test_leftover_uploads_are_reported_in_the_summary(admin_env, factory, tmp_path: Path) -> None:
    s3 = factory.client("s3")
    bucket = admin_env.default_bucket
    up = s3.create_multipart_upload(Bucket=bucket, Key="left/old.bin")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="left/old.bin", UploadId=up, PartNumber=1, Body=b"o" * 4096)
    make_tree(tmp_path / "src")
    code, out, _ = sync(str(tmp_path / "src"), f"s3://{bucket}/left/", "--dry-run")
    assert code == 0 and "open multipart uploads left by an earlier run: 1" in out
    code, out, _ = sync(str(tmp_path / "src"), f"s3://{bucket}/left/")
    assert code == 0 and "aborted 1 multipart upload(s) left open by an earlier run, reclaiming 4.0 KB" in out
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
