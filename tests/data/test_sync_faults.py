"""`sagewiz data sync` through a fault-injecting proxy in front of the sandbox (tests/faultproxy.py):
a flipped byte, a dropped connection, a slow link, an HTTPS endpoint trusted through AWS_CA_BUNDLE.
The real command and engine run; only the network between them and the sandbox misbehaves. After
every run, every stored object is compared byte for byte with what it may hold."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from tests.faultproxy import Fault, FaultProxy, ProxiedRequest
from tui.cli import build_parser
from tui.commands.data_sync import run

MiB = 1024 * 1024


@pytest.fixture
def via_proxy(world, fault_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch) -> FaultProxy:
    """The command's S3 endpoint is the proxy (STS and the rest go straight to the sandbox)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
    monkeypatch.setenv("AWS_REGION", world.region)
    monkeypatch.setenv("AWS_ENDPOINT_URL", world.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", fault_proxy.url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    return fault_proxy


def sync(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(build_parser().parse_args(["data", "sync", *argv]), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def stored(factory, bucket: str, prefix: str) -> dict[str, bytes]:
    s3 = factory.client("s3")
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"]] = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
    return out


def open_uploads(factory, bucket: str, prefix: str) -> list[str]:
    got = factory.client("s3").list_multipart_uploads(Bucket=bucket, Prefix=prefix)
    return [u["Key"] for u in got.get("Uploads", [])]


def local(src: Path, prefix: str) -> dict[str, bytes]:
    return {prefix + p.relative_to(src).as_posix(): p.read_bytes() for p in src.rglob("*") if p.is_file()}


def write(src: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)


def to_key(key: str, method: str = "PUT", part: int | None = None):
    """A `when` predicate: requests sending (part `part` of) the object `key`."""

    def match(r: ProxiedRequest) -> bool:
        if r.method != method or not r.path.endswith("/" + key):
            return False
        return part is None or f"partNumber={part}" in r.query

    return match


def test_a_flipped_byte_in_one_put_is_refused_and_the_old_object_stays(
    world, factory, via_proxy: FaultProxy, tmp_path: Path
) -> None:
    bucket, src = world.default_bucket, tmp_path / "src"
    dst = f"s3://{bucket}/flip/"
    write(src, {"a.txt": b"a v1\n" * 20, "b.txt": b"b v1\n" * 20, "c.txt": b"c v1\n" * 20})
    code, _, err = sync(str(src), dst)
    assert code == 0, err
    v1 = local(src, "flip/")
    write(src, {"a.txt": b"a v2, longer\n" * 20, "b.txt": b"b v2, longer\n" * 20, "c.txt": b"c v2\n" * 30})

    via_proxy.flip_byte(after=50, when=to_key("flip/b.txt"), times=None)
    code, out, err = sync(str(src), dst)
    flipped = [r for r in via_proxy.requests if r.fault is Fault.FLIP]
    assert flipped and all(r.status == 400 for r in flipped)  # the sandbox refused every damaged body
    assert code == 1, (out, err)
    assert "failed b.txt: " in out and "S3 refused the bytes" in out
    assert "copied 2 file(s)" in out
    assert f"1 file(s) failed; to retry them, run: sagewiz data sync {src} {dst}" in err
    assert "Traceback" not in err
    now = stored(factory, bucket, "flip/")
    assert now["flip/b.txt"] == v1["flip/b.txt"]  # the good old version, byte for byte
    assert now == {**local(src, "flip/"), "flip/b.txt": v1["flip/b.txt"]}

    via_proxy.clear_faults()
    code, out, err = sync(str(src), dst)
    assert code == 0, err
    assert "copied 1 file(s)" in out and "skipped 2 unchanged" in out
    assert stored(factory, bucket, "flip/") == local(src, "flip/")


def test_a_flipped_byte_in_one_part_completes_no_object_and_a_rerun_finishes(
    world, factory, via_proxy: FaultProxy, tmp_path: Path, small_multipart: int
) -> None:
    bucket, src = world.default_bucket, tmp_path / "src"
    dst = f"s3://{bucket}/flippart/"
    write(src, {"big.bin": os.urandom(2 * small_multipart + 1000), "small.txt": b"s" * 100})

    via_proxy.flip_byte(after=4096, when=to_key("flippart/big.bin", part=2), times=None)
    code, out, err = sync(str(src), dst)
    flipped = [r for r in via_proxy.requests if r.fault is Fault.FLIP]
    assert flipped and all(r.status == 400 for r in flipped)
    assert code == 1, (out, err)
    assert "failed big.bin: " in out and "copied 1 file(s)" in out
    # no object was completed from the damaged part, and the failed upload was not left open
    assert stored(factory, bucket, "flippart/") == {"flippart/small.txt": b"s" * 100}
    assert not any(r.method == "POST" and "uploadId=" in r.query for r in via_proxy.requests)
    assert open_uploads(factory, bucket, "flippart/") == []

    via_proxy.clear_faults()
    via_proxy.clear_log()
    code, out, err = sync(str(src), dst)
    assert code == 0, err
    assert "copied 1 file(s)" in out and "skipped 1 unchanged" in out
    assert stored(factory, bucket, "flippart/") == local(src, "flippart/")
    assert sum("partNumber=" in r.query for r in via_proxy.requests) == 3
