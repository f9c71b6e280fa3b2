"""Keys round-trip byte for byte, integrity before anything is overwritten, where requests go, and
the state the sync keeps: real boto3 against the sandbox."""

from __future__ import annotations

import os
import stat
import unicodedata
from pathlib import Path

import pytest

from services.session import AwsTarget, SessionFactory
from services.sync.engine import run_sync
from services.sync.hash_cache import HashCache
from services.sync.locations import parse_destination, parse_source
from services.sync.plan import plan_sync
from services.sync.transfer_client import transfer_client
from tests.data.objects import stored


def sync(factory, src, dst, cache=None, **kw):
    source, dest = parse_source(str(src)), parse_destination(dst)
    plan = plan_sync(factory, source, dest, cache=cache)
    return plan, run_sync(factory, plan, cache=cache, **kw)


def long_rel(prefix: str, total: int) -> str:
    """A relative path whose key (prefix + path) is `total` UTF-8 bytes, in folders of at most 200
    bytes (a file name is limited to 255)."""
    left = total - len(prefix.encode())
    parts = []
    while left > 200:
        parts.append("d" * 199)
        left -= 200
    parts.append("f" * left)
    return "/".join(parts)


def test_any_key_round_trips_byte_for_byte_and_a_rerun_copies_nothing(
    world, factory, tmp_path: Path, cache
) -> None:
    prefix = "keys/"
    names = {
        "carriage\rreturn.txt": b"cr",
        "ctrl\x01\x1b[31m\x7f.txt": b"control characters",
        unicodedata.normalize("NFC", "caf\u00e9.txt"): b"nfc",
        unicodedata.normalize("NFD", "caf\u00e9.txt"): b"nfd: a different name, a different key",
        "tab\there.txt": b"tab",
        "trailing space .txt": b"space",
        long_rel(prefix, 1024): b"the longest key S3 takes",
    }
    src = tmp_path / "src"
    for rel, data in names.items():
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    too_long = long_rel(prefix, 1025)
    (src / too_long).parent.mkdir(parents=True, exist_ok=True)
    (src / too_long).write_bytes(b"x")
    dst = f"s3://{world.default_bucket}/{prefix}"
    plan, result = sync(factory, src, dst, cache)
    assert [p.rel for p in plan.problems] == [too_long]
    assert "longer than 1,024 bytes" in plan.problems[0].reason
    assert not result.failed, result.failed
    assert result.copied == len(names), (result.not_copied, result.in_flight)
    assert stored(factory, world.default_bucket, prefix) == {prefix + k: v for k, v in names.items()}
    # listed with encoding-type=url: CR stays CR (XML would turn it into LF), so nothing is sent again
    plan, result = sync(factory, src, dst, cache)
    assert plan.to_copy == () and len(plan.skipped) == len(names)
    plan, _ = sync(factory, src, dst, HashCache(None))  # and without the record, by checksum
    assert plan.to_copy == () and len(plan.skipped) == len(names)
    # a name that could rewrite the terminal is shown quoted in the plan
    (src / "carriage\rreturn.txt").write_bytes(b"CR")
    plan = plan_sync(factory, parse_source(str(src)), parse_destination(dst), cache=cache)
    assert "copy  'carriage\\rreturn.txt'" in plan.render_text()


def test_a_key_with_a_line_feed_round_trips(world, factory, tmp_path: Path, cache) -> None:
    s3 = factory.client("s3")
    try:
        s3.put_object(Bucket=world.default_bucket, Key="probe/line\nfeed", Body=b"x")
    except Exception:
        pytest.skip("the sandbox's S3 (moto) routes no key holding a line feed; AWS stores it")
    src = tmp_path / "src"
    src.mkdir()
    (src / "line\nfeed.txt").write_bytes(b"lf")
    dst = f"s3://{world.default_bucket}/lf/"
    _, result = sync(factory, src, dst, cache)
    assert result.ok and stored(factory, world.default_bucket, "lf/") == {"lf/line\nfeed.txt": b"lf"}
    plan, _ = sync(factory, src, dst, cache)
    assert plan.to_copy == ()


def test_sse_s3_and_sse_kms_buckets_a_rerun_copies_nothing(world, factory, tmp_path: Path) -> None:
    s3 = factory.client("s3")
    src = tmp_path / "src"
    src.mkdir()
    for i in range(5):
        (src / f"f{i}.bin").write_bytes(os.urandom(3000 + i))
    kms = factory.client("kms").create_key()["KeyMetadata"]["Arn"]
    for name, rule in (
        ("sagemaker-sse-s3", {"SSEAlgorithm": "AES256"}),
        ("sagemaker-sse-kms", {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms}),
    ):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": world.region})
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": rule}]},
        )
        for cache in (HashCache(tmp_path / f"{name}.json"), HashCache(None)):
            _, result = sync(factory, src, f"s3://{name}/d/", cache)
            assert result.ok
            plan, result = sync(factory, src, f"s3://{name}/d/", cache)
            assert plan.to_copy == () and len(plan.skipped) == 5 and result.copied == 0, name


def _sandbox_verifies_checksums(factory, bucket: str) -> bool:
    import botocore.exceptions

    try:
        factory.client("s3").put_object(
            Bucket=bucket, Key="probe/checksum", Body=b"abc", ChecksumCRC32="AAAAAA=="
        )
    except botocore.exceptions.ClientError:
        return True
    return False


def test_a_body_damaged_after_its_checksum_is_refused_and_the_old_object_stays(
    world, factory, tmp_path: Path, cache
) -> None:
    if not _sandbox_verifies_checksums(factory, world.default_bucket):
        pytest.skip("this sandbox stores whatever checksum it is sent (S3 verifies it)")
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"first version\n")
    dst = f"s3://{world.default_bucket}/damaged/"
    assert sync(factory, src, dst, cache)[1].ok
    (src / "a.txt").write_bytes(b"second version, longer\n")

    # The network flips one byte of the body after botocore computed its CRC32 (a botocore event
    # hook on the very client the sync uses: nothing of ours is replaced).
    def flip(request, **_):
        body = request.body
        data = body.read() if hasattr(body, "read") else bytes(body)
        request.body = data[:-1] + bytes([data[-1] ^ 0x01])

    client = transfer_client(factory).s3
    client.meta.events.register_last("before-send.s3.PutObject", flip)
    try:
        _, result = sync(factory, src, dst, cache)
    finally:
        client.meta.events.unregister("before-send.s3.PutObject", flip)
    assert not result.ok and [f.rel for f in result.failed] == ["a.txt"]
    assert "S3 refused the bytes" in result.failed[0].reason
    assert stored(factory, world.default_bucket, "damaged/") == {"damaged/a.txt": b"first version\n"}
    # and the next run sends it again, whole
    plan, result = sync(factory, src, dst, cache)
    assert result.ok and [f.rel for f in plan.to_copy] == ["a.txt"]


def test_every_put_and_part_carries_a_crc32(world, factory, tmp_path: Path, cache, small_multipart) -> None:
    seen: list[tuple[str, str | None]] = []

    def note(request, **_):
        op = request.context.get("sagewiz_op", "")
        seen.append((op, request.headers.get("x-amz-checksum-crc32")))

    def tag(params, context, model, **_):
        context["sagewiz_op"] = model.name

    client = transfer_client(factory).s3
    for op in ("PutObject", "UploadPart"):
        client.meta.events.register(f"before-parameter-build.s3.{op}", tag)
        client.meta.events.register(f"before-send.s3.{op}", note)
    src = tmp_path / "src"
    src.mkdir()
    (src / "small.txt").write_bytes(b"s" * 100)
    (src / "big.bin").write_bytes(os.urandom(11 * 1024 * 1024))
    _, result = sync(factory, src, f"s3://{world.default_bucket}/crc/", cache)
    assert result.ok
    ops = sorted(op for op, _ in seen)
    assert ops == ["PutObject", "UploadPart", "UploadPart", "UploadPart"]
    assert all(crc for _, crc in seen)


def test_aws_endpoint_url_s3_wins_over_aws_endpoint_url(world, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", world.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
    factory = SessionFactory(AwsTarget.from_env(region=world.region))
    client = transfer_client(factory).s3
    assert client.meta.endpoint_url == world.endpoint
    assert client.head_bucket(Bucket=world.default_bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    # an endpoint given on the command line is used as given
    given = SessionFactory(AwsTarget.from_env(region=world.region, endpoint_url="http://127.0.0.1:8"))
    assert transfer_client(given).s3.meta.endpoint_url == "http://127.0.0.1:8"


def _first_request_url(client, call) -> str:
    """Where botocore sends `call`: the URL of its first request, answered here (never sent)."""
    from botocore.awsrequest import AWSResponse

    class Raw:
        def stream(self, **_):
            yield b""

    seen: list[str] = []

    def answer(request, **_):
        seen.append(request.url)
        return AWSResponse(request.url, 200, {}, Raw())

    client.meta.events.register("before-send.s3", answer)
    try:
        call(client)
    finally:
        client.meta.events.unregister("before-send.s3", answer)
    return seen[0]


def test_fips_and_dual_stack_endpoints_are_botocores(monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x" * 40)

    def head(client):
        client.head_bucket(Bucket="sagemaker-x")

    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "true")
    fips = transfer_client(SessionFactory(AwsTarget.from_env(region="us-east-1"))).s3
    assert _first_request_url(fips, head).startswith("https://sagemaker-x.s3-fips.us-east-1.amazonaws.com")
    monkeypatch.delenv("AWS_USE_FIPS_ENDPOINT")
    monkeypatch.setenv("AWS_USE_DUALSTACK_ENDPOINT", "true")
    dual = transfer_client(SessionFactory(AwsTarget.from_env(region="eu-north-1"))).s3
    assert _first_request_url(dual, head).startswith(
        "https://sagemaker-x.s3.dualstack.eu-north-1.amazonaws.com"
    )


class _CountingProxy:
    """A forwarding HTTP proxy on 127.0.0.1 that counts what passes through it."""

    def __init__(self) -> None:
        import http.client
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlsplit

        outer = self
        self.requests: list[str] = []
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def forward(self) -> None:
                target = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    outer.requests.append(f"{self.command} {target.path}")
                conn = http.client.HTTPConnection(target.netloc, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection",)}
                conn.request(
                    self.command, target.path + (f"?{target.query}" if target.query else ""), body, headers
                )
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = forward

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_proxy_sees_every_request_of_a_sync(world, monkeypatch, tmp_path: Path) -> None:
    import io

    from tui.cli import build_parser
    from tui.commands.data_sync import run

    proxy = _CountingProxy()
    try:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
        monkeypatch.setenv("AWS_REGION", world.region)
        monkeypatch.setenv("AWS_ENDPOINT_URL", world.endpoint)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        src = tmp_path / "src"
        src.mkdir()
        for i in range(3):
            (src / f"f{i}.txt").write_bytes(b"x" * (10 + i))
        dst = f"s3://{world.default_bucket}/proxied/"
        for expected in ("copied 3 file(s)", "nothing to copy: 3 file(s)"):
            before = len(proxy.requests)
            out, err = io.StringIO(), io.StringIO()
            code = run(build_parser().parse_args(["data", "sync", str(src), dst]), out=out, err=err)
            assert code == 0, err.getvalue()
            assert expected in out.getvalue()
            through = proxy.requests[before:]
            # the listing (the whole of an unchanged rerun) and every upload went through it
            assert any(r.startswith("GET /" + world.default_bucket) for r in through), through
            if expected.startswith("copied"):
                assert sum(r.startswith("PUT ") for r in through) == 3, through
    finally:
        proxy.close()


def test_state_file_is_private(world, factory, tmp_path: Path) -> None:
    state = tmp_path / "state-dir"
    state.mkdir(mode=0o755)
    state.chmod(0o755)
    cache = HashCache(state / "hash-cache.json")
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"a")
    assert sync(factory, src, f"s3://{world.default_bucket}/private/", cache)[1].ok
    assert stat.S_IMODE((state / "hash-cache.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
