"""`sagewiz data sync` through a fault-injecting proxy in front of the sandbox (tests/faultproxy.py):
a flipped byte, a dropped connection, a slow link, an HTTPS endpoint trusted through AWS_CA_BUNDLE.
The real command and engine run; only the network between them and the sandbox misbehaves. After
every run, every stored object is compared byte for byte with what it may hold."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import pytest

from services.session import AwsTarget, SessionFactory
from services.sync.engine import run_sync
from services.sync.locations import parse_destination, parse_source
from services.sync.plan import plan_sync
from tests.data.objects import stored
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


def test_a_connection_dropped_mid_body_and_mid_part_copies_neither_and_a_rerun_does(
    world, factory, via_proxy: FaultProxy, tmp_path: Path, small_multipart: int
) -> None:
    bucket, src = world.default_bucket, tmp_path / "src"
    dst = f"s3://{bucket}/drop/"
    write(
        src,
        {
            "big.bin": os.urandom(2 * small_multipart + 1000),
            "mid.bin": os.urandom(64 * 1024),
            "ok.txt": b"fine\n",
        },
    )
    # every attempt is cut (botocore retries a dropped connection): the command must see it fail
    via_proxy.drop_connection(after=1024, when=to_key("drop/mid.bin"), times=None)
    via_proxy.drop_connection(after=1024, when=to_key("drop/big.bin", part=2), times=None)
    code, out, err = sync(str(src), dst)
    dropped = [r for r in via_proxy.requests if r.fault is Fault.DROP]
    assert {r.path.rsplit("/", 1)[1] for r in dropped} == {"mid.bin", "big.bin"}
    assert code == 1, (out, err)
    assert "failed big.bin: " in out and "failed mid.bin: " in out and "copied 1 file(s)" in out
    assert f"2 file(s) failed; to retry them, run: sagewiz data sync {src} {dst}" in err
    assert "Traceback" not in err
    # nothing partial became an object, and the failed multipart upload was aborted, not left open
    assert stored(factory, bucket, "drop/") == {"drop/ok.txt": b"fine\n"}
    assert open_uploads(factory, bucket, "drop/") == []

    via_proxy.clear_faults()
    code, out, err = sync(str(src), dst)
    assert code == 0, err
    assert "copied 2 file(s)" in out and "skipped 1 unchanged" in out
    # so the rerun had nothing to resume or abort, and says so by saying nothing
    assert "multipart upload(s)" not in out
    assert open_uploads(factory, bucket, "drop/") == []
    assert stored(factory, bucket, "drop/") == local(src, "drop/")


def test_a_stop_on_a_slow_link_returns_within_two_seconds_and_says_exactly_what_was_copied(
    world, fault_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.support import eventually_blocking

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", fault_proxy.url)
    factory = SessionFactory(AwsTarget.from_env(region=world.region))
    bucket, src = world.default_bucket, tmp_path / "src"
    write(src, {"quick.txt": b"q\n", **{f"slow{i}.bin": os.urandom(256 * 1024) for i in range(3)}})
    plan = plan_sync(factory, parse_source(str(src)), parse_destination(f"s3://{bucket}/slow/"))
    fault_proxy.throttle(64 * 1024)  # each 256 KiB body takes ~4 s
    cancel = threading.Event()  # what the SIGINT handler of `data sync` and the Data step set
    box: dict[str, object] = {}
    worker = threading.Thread(target=lambda: box.setdefault("r", run_sync(factory, plan, cancel=cancel)))
    worker.start()

    def sending() -> bool:
        return sum(r.method == "PUT" and r.body_bytes > 0 for r in fault_proxy.requests) >= 3

    eventually_blocking(sending, 30, what="the slow bodies to be on the wire")
    pressed = time.monotonic()
    cancel.set()
    worker.join(10)
    took = time.monotonic() - pressed
    assert not worker.is_alive() and took < 2.0, f"took {took:.2f} s to stop"
    result = box["r"]
    assert isinstance(result.cancelled, bool) and result.cancelled and not result.ok
    at_return = stored(factory, bucket, "slow/")
    copied = {k.removeprefix("slow/") for k in at_return}
    # exact: the copied count is what is stored; every other file is said not copied or in flight
    assert result.copied == len(at_return)
    assert "quick.txt" in copied and not result.failed
    assert copied | set(result.not_copied) | set(result.in_flight) == {
        "quick.txt",
        "slow0.bin",
        "slow1.bin",
        "slow2.bin",
    }
    assert not copied & (set(result.not_copied) | set(result.in_flight))
    # whatever lands afterwards (a body already on the wire) is whole
    fault_proxy.throttle(None)
    for key, data in stored(factory, bucket, "slow/").items():
        assert data == (src / key.removeprefix("slow/")).read_bytes()


def test_an_https_endpoint_is_trusted_through_aws_ca_bundle_only(
    world, factory, https_fault_proxy: FaultProxy, tls_files, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
    monkeypatch.setenv("AWS_REGION", world.region)
    monkeypatch.setenv("AWS_ENDPOINT_URL", world.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", https_fault_proxy.url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    bucket, src = world.default_bucket, tmp_path / "src"
    dst = f"s3://{bucket}/tls/"
    write(src, {f"f{i}.txt": b"tls %d\n" % i for i in range(3)})

    code, out, err = sync(str(src), dst)
    assert code == 1 and out == "" and "Traceback" not in err, (code, out, err)
    assert err.startswith("sagewiz: The endpoint's certificate is not trusted: ")
    assert "what to do: If it is signed by your own CA, point AWS_CA_BUNDLE" in err
    assert stored(factory, bucket, "tls/") == {}

    https_fault_proxy.clear_log()
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tls_files.ca))
    code, out, err = sync(str(src), dst)
    assert code == 0, err
    assert "copied 3 file(s)" in out
    assert stored(factory, bucket, "tls/") == local(src, "tls/")
    seen = https_fault_proxy.requests
    assert any(r.method == "GET" and r.path == f"/{bucket}" for r in seen), seen
    assert sorted(r.path for r in seen if r.method == "PUT") == [f"/{bucket}/tls/f{i}.txt" for i in range(3)]


async def test_help_during_a_copy_gives_focus_back_to_the_content_so_x_cancels(
    world, journal, fault_proxy: FaultProxy, tmp_path: Path
) -> None:
    """`?` and Esc while a copy runs: focus returns where it rested, not to Source, so `x` cancels."""
    from textual.widgets import Input

    from screens.data import DataStep
    from tests.support import eventually, wait_connected
    from tui.app import SagewizApp

    src = tmp_path / "src"
    write(src, {f"slow{i}.bin": os.urandom(256 * 1024) for i in range(3)})
    fault_proxy.throttle(64 * 1024)  # each 256 KiB body takes ~4 s: the copy is still running
    # every call of the app goes through the proxy, which slows the uploads
    target = AwsTarget(
        region=world.region, endpoint_url=fault_proxy.url, credentials=world.admin, sandbox=True
    )
    app = SagewizApp(target, sandbox=True, world=world, journal=journal, start_step="data")
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_connected(pilot)
            screen = app.screen
            assert isinstance(screen, DataStep)
            source = screen.query_one("#source", Input)
            await eventually(pilot, lambda: bool(screen.query_one("#dest", Input).value))
            source.value = str(src)
            source.focus()
            await pilot.press("enter")  # the field's Enter starts the copy
            await eventually(pilot, lambda: screen.running, what="the copy to start")
            rest = app.focused
            assert rest is not source
            await pilot.press("question_mark")
            await eventually(pilot, lambda: app.screen is not screen, what="help open")
            await pilot.press("escape")
            await eventually(pilot, lambda: app.screen is screen, what="help closed")
            await pilot.pause()
            assert app.focused is rest
            await pilot.press("x")
            assert source.value == str(src)  # not typed into Source
            assert screen.cancel_event is not None and screen.cancel_event.is_set()
            fault_proxy.throttle(None)
            await eventually(pilot, lambda: not screen.running, 30, what="the copy to stop")
    finally:
        fault_proxy.throttle(None)
