"""The sandbox's S3 keeps integrity as AWS does, seen through real boto3 calls and the fault proxy.

Uploads are verified before they are stored (a corrupted body is refused and the previous object
stays), stored checksums come back, and SSE-KMS objects carry ETags that are no MD5 of the body.
The fault proxy (tests/faultproxy.py, fixture `fault_proxy`) corrupts, cuts and slows requests on
their way to the sandbox; its own modes are tested at the end.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import subprocess
import time
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ProxyConnectionError,
    SSLError,
)

from services.sandbox.checksums import encoded
from services.sandbox.world import SandboxWorld
from services.session import SessionFactory
from tests.faultproxy import Fault, FaultProxy
from tests.test_sandbox_serve import _exports, cli_env, served  # noqa: F401 - fixtures for `sandbox serve`
from tests.tlscerts import TlsFiles

KMS_KEY = "arn:aws:kms:eu-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PART = 5 * 1024 * 1024  # S3's smallest part but the last
DROPPED = (ConnectionClosedError, EndpointConnectionError)


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def make_bucket(s3: Any, name: str, kms: bool = False) -> str:
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    if kms:
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": KMS_KEY,
                        }
                    }
                ]
            },
        )
    return name


def through(world: SandboxWorld, proxy: FaultProxy) -> Any:
    """An S3 client whose endpoint is the proxy (signed as the sandbox admin, no retries)."""
    return SessionFactory(replace(world.target(), endpoint_url=proxy.url)).client("s3")


def force_trailing_checksums(s3: Any) -> None:
    """botocore sends its CRC32 as an aws-chunked trailer only over HTTPS; the sandbox speaks HTTP.
    Moving the checksum to the trailer before the request is built exercises the same encoding."""

    def to_trailer(context: dict[str, Any], **_: Any) -> None:
        algorithm = context.get("checksum", {}).get("request_algorithm")
        if isinstance(algorithm, dict):
            algorithm["in"] = "trailer"

    for op in ("PutObject", "UploadPart"):
        s3.meta.events.register(f"before-call.s3.{op}", to_trailer)


def strip_checksums(request: Any, **_: Any) -> None:
    """A before-sign hook: the request leaves with no Content-MD5 and no x-amz-checksum-*."""
    for name in list(request.headers.keys()):
        lowered = name.lower()
        if lowered.startswith(("x-amz-checksum-", "x-amz-sdk-checksum-")) or lowered == "content-md5":
            del request.headers[name]


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    r = exc.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


# -- SSE-KMS ETags --------------------------------------------------------------------------------


def test_sse_kms_etags_are_not_md5s_and_hold_across_head_get_and_list(
    world: SandboxWorld, factory: SessionFactory
) -> None:
    s3 = factory.client("s3")
    bucket = make_bucket(s3, "integrity-kms", kms=True)
    body = b"the same bytes twice"
    first = s3.put_object(Bucket=bucket, Key="a.txt", Body=body)
    assert first["ServerSideEncryption"] == "aws:kms"
    etag = first["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag) and etag != f'"{md5_hex(body)}"'
    assert s3.head_object(Bucket=bucket, Key="a.txt")["ETag"] == etag
    assert s3.get_object(Bucket=bucket, Key="a.txt")["ETag"] == etag
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["ETag"]) for o in listed] == [("a.txt", etag)]
    # As in AWS, the same bytes written again get another ETag: it cannot be used to skip a copy.
    assert s3.put_object(Bucket=bucket, Key="a.txt", Body=body)["ETag"] != etag

    # Asked for on the request in a bucket without default encryption: the same. SSE-S3 keeps the MD5.
    plain = make_bucket(s3, "integrity-plain")
    kms = s3.put_object(Bucket=plain, Key="k", Body=body, ServerSideEncryption="aws:kms")
    assert kms["ETag"] != f'"{md5_hex(body)}"'
    sse_s3 = s3.put_object(Bucket=plain, Key="s", Body=body, ServerSideEncryption="AES256")
    assert sse_s3["ETag"] == f'"{md5_hex(body)}"'


def test_sse_kms_multipart_etag_keeps_its_shape_but_is_no_md5_of_part_md5s(
    world: SandboxWorld, factory: SessionFactory
) -> None:
    s3 = factory.client("s3")
    bucket = make_bucket(s3, "integrity-kms-mpu", kms=True)
    parts = [os.urandom(PART), b"tail"]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
    sent = []
    for number, data in enumerate(parts, 1):
        etag = s3.upload_part(Bucket=bucket, Key="big.bin", UploadId=upload, PartNumber=number, Body=data)[
            "ETag"
        ]
        assert etag != f'"{md5_hex(data)}"'
        sent.append({"PartNumber": number, "ETag": etag})
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="big.bin", UploadId=upload, MultipartUpload={"Parts": sent}
    )
    md5_of_md5s = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    assert re.fullmatch(r'"[0-9a-f]{32}-2"', done["ETag"]) and done["ETag"] != f'"{md5_of_md5s}-2"'
    assert s3.head_object(Bucket=bucket, Key="big.bin")["ETag"] == done["ETag"]
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["ETag"] == done["ETag"]
    assert s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == b"".join(parts)


# -- checksums verified before storing ------------------------------------------------------------

BODY = b"version two of the object"
WRONG_MD5 = base64.b64encode(hashlib.md5(b"something else").digest()).decode()


@pytest.mark.parametrize(
    ("claims", "status", "code", "message"),
    [
        (
            {"ContentMD5": WRONG_MD5},
            400,
            "BadDigest",
            "The Content-MD5 you specified did not match what we received.",
        ),
        ({"ContentMD5": "not-base64!"}, 400, "InvalidDigest", "The Content-MD5 you specified is not valid."),
        (
            {"ChecksumCRC32": encoded(b"other", "CRC32")},
            400,
            "BadDigest",
            "The CRC32 you specified did not match the calculated checksum.",
        ),
        (
            {"ChecksumCRC32C": encoded(b"other", "CRC32C")},
            400,
            "BadDigest",
            "The CRC32C you specified did not match the calculated checksum.",
        ),
        (
            {"ChecksumCRC64NVME": encoded(b"other", "CRC64NVME")},
            400,
            "BadDigest",
            "The CRC64NVME you specified did not match the calculated checksum.",
        ),
        (
            {"ChecksumSHA256": encoded(b"other", "SHA256")},
            400,
            "BadDigest",
            "The SHA256 you specified did not match the calculated checksum.",
        ),
        ({"ChecksumSHA1": "AAAA"}, 400, "InvalidRequest", "Value for x-amz-checksum-sha1 header is invalid."),
    ],
)
def test_a_body_that_does_not_match_its_checksum_is_refused_and_the_previous_object_stays(
    world: SandboxWorld,
    factory: SessionFactory,
    claims: dict[str, str],
    status: int,
    code: str,
    message: str,
) -> None:
    s3 = factory.client("s3")
    bucket = world.default_bucket
    s3.put_object(Bucket=bucket, Key="kept.txt", Body=b"version one")
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=bucket, Key="kept.txt", Body=BODY, **claims)
    assert error_of(refused) == (status, code, message)
    assert s3.get_object(Bucket=bucket, Key="kept.txt")["Body"].read() == b"version one"


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_a_correct_checksum_is_stored_and_returned(
    world: SandboxWorld, factory: SessionFactory, algorithm: str
) -> None:
    s3 = factory.client("s3")
    value = encoded(BODY, algorithm)
    put = s3.put_object(
        Bucket=world.default_bucket, Key="c.bin", Body=BODY, **{f"Checksum{algorithm}": value}
    )
    assert put[f"Checksum{algorithm}"] == value
    head = s3.head_object(Bucket=world.default_bucket, Key="c.bin", ChecksumMode="ENABLED")
    got = s3.get_object(Bucket=world.default_bucket, Key="c.bin", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == got[f"Checksum{algorithm}"] == value
    assert got["ChecksumType"] == "FULL_OBJECT"
    listed = s3.list_objects_v2(Bucket=world.default_bucket, Prefix="c.bin")["Contents"]
    assert listed[0]["ChecksumAlgorithm"] == [algorithm]
    # Without ChecksumMode nothing is computed or sent.
    assert f"Checksum{algorithm}" not in s3.head_object(Bucket=world.default_bucket, Key="c.bin")


def test_known_checksum_values() -> None:
    # The CRC catalogue's check values for b"123456789" (CRC-32C, CRC-64/NVME).
    assert binascii.hexlify(base64.b64decode(encoded(b"123456789", "CRC32C"))) == b"e3069283"
    assert binascii.hexlify(base64.b64decode(encoded(b"123456789", "CRC64NVME"))) == b"ae8b14860a799888"


def test_two_checksums_or_an_algorithm_without_one_are_invalid(
    world: SandboxWorld, factory: SessionFactory
) -> None:
    s3 = factory.client("s3")
    with pytest.raises(ClientError) as two:
        s3.put_object(
            Bucket=world.default_bucket,
            Key="x",
            Body=BODY,
            ChecksumCRC32=encoded(BODY, "CRC32"),
            ChecksumSHA256=encoded(BODY, "SHA256"),
        )
    assert error_of(two)[1:] == (
        "InvalidRequest",
        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
    )

    def drop_value(request: Any, **_: Any) -> None:
        del request.headers["x-amz-checksum-crc32"]

    s3.meta.events.register("before-sign.s3.PutObject", drop_value)
    with pytest.raises(ClientError) as bare:
        s3.put_object(Bucket=world.default_bucket, Key="x", Body=BODY, ChecksumAlgorithm="CRC32")
    assert error_of(bare)[1] == "InvalidRequest" and "x-amz-sdk-checksum-algorithm" in error_of(bare)[2]


def test_upload_part_is_verified_too(world: SandboxWorld, factory: SessionFactory) -> None:
    s3 = factory.client("s3")
    bucket = world.default_bucket
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp.bin", ChecksumAlgorithm="CRC32")["UploadId"]
    with pytest.raises(ClientError) as refused:
        s3.upload_part(
            Bucket=bucket,
            Key="mp.bin",
            UploadId=upload,
            PartNumber=1,
            Body=b"part",
            ChecksumCRC32=encoded(b"x", "CRC32"),
        )
    assert error_of(refused)[1] == "BadDigest"
    assert s3.list_parts(Bucket=bucket, Key="mp.bin", UploadId=upload).get("Parts", []) == []


def test_complete_multipart_upload_checks_the_checksums_it_is_sent(
    world: SandboxWorld, factory: SessionFactory
) -> None:
    s3 = factory.client("s3")
    bucket = world.default_bucket
    first, last = os.urandom(PART), b"tail"
    upload = s3.create_multipart_upload(
        Bucket=bucket, Key="whole.bin", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT"
    )["UploadId"]
    parts = []
    for number, data in enumerate((first, last), 1):
        sent = s3.upload_part(Bucket=bucket, Key="whole.bin", UploadId=upload, PartNumber=number, Body=data)
        parts.append({"PartNumber": number, "ETag": sent["ETag"], "ChecksumCRC32": sent["ChecksumCRC32"]})

    def complete(part_list: list[dict[str, Any]], whole: str) -> Any:
        return s3.complete_multipart_upload(
            Bucket=bucket,
            Key="whole.bin",
            UploadId=upload,
            MultipartUpload={"Parts": part_list},
            ChecksumCRC32=whole,
            ChecksumType="FULL_OBJECT",
        )

    with pytest.raises(ClientError) as wrong_part:
        complete(
            [{**parts[0], "ChecksumCRC32": encoded(b"x", "CRC32")}, parts[1]], encoded(first + last, "CRC32")
        )
    assert error_of(wrong_part)[1] == "InvalidPart"
    with pytest.raises(ClientError) as wrong_whole:
        complete(parts, encoded(b"not the object", "CRC32"))
    assert error_of(wrong_whole)[1:] == (
        "BadDigest",
        "The crc32 you specified did not match the calculated checksum.",
    )
    # Nothing was stored and the upload is still open: it can still be completed.
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [upload]
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="whole.bin")
    done = complete(parts, encoded(first + last, "CRC32"))
    assert (done["ChecksumCRC32"], done["ChecksumType"]) == (encoded(first + last, "CRC32"), "FULL_OBJECT")
    head = s3.head_object(Bucket=bucket, Key="whole.bin", ChecksumMode="ENABLED")
    assert (head["ChecksumCRC32"], head["ChecksumType"]) == (done["ChecksumCRC32"], "FULL_OBJECT")


def test_trailing_aws_chunked_checksums_are_decoded_and_verified(
    world: SandboxWorld, fault_proxy: FaultProxy
) -> None:
    s3 = through(world, fault_proxy)
    force_trailing_checksums(s3)
    bucket = world.default_bucket
    put = s3.put_object(Bucket=bucket, Key="t.bin", Body=BODY)
    sent = [r for r in fault_proxy.requests if r.method == "PUT"][-1]
    assert (
        sent.headers["content-encoding"] == "aws-chunked"
        and sent.headers["x-amz-trailer"] == "x-amz-checksum-crc32"
    )
    assert put["ChecksumCRC32"] == encoded(BODY, "CRC32")
    assert s3.get_object(Bucket=bucket, Key="t.bin")["Body"].read() == BODY
    assert (
        s3.head_object(Bucket=bucket, Key="t.bin", ChecksumMode="ENABLED")["ChecksumCRC32"]
        == put["ChecksumCRC32"]
    )

    # The first payload byte is past the aws-chunked size line ("19\r\n" for 25 bytes).
    fault_proxy.flip_byte(after=len(b"19\r\n") + 3, when=lambda r: r.method == "PUT")
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=bucket, Key="t.bin", Body=b"version three, corrupted")
    assert error_of(refused)[1] == "BadDigest" and fault_proxy.pending_faults() == 0
    assert s3.get_object(Bucket=bucket, Key="t.bin")["Body"].read() == BODY


@pytest.mark.parametrize("key", ["line\nfeed.txt", "dir/ends\n", "both\r\n.txt", "/leading\nslash"])
def test_a_key_holding_a_line_feed_round_trips(
    world: SandboxWorld, factory: SessionFactory, key: str
) -> None:
    s3 = factory.client("s3")
    bucket = world.default_bucket
    s3.put_object(Bucket=bucket, Key=key, Body=b"lf")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"lf"
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == 2
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key[:3])[
        "Contents"
    ]  # botocore decodes encoding-type=url
    assert key in [o["Key"] for o in listed]
    s3.copy_object(Bucket=bucket, Key=key + ".copy", CopySource={"Bucket": bucket, "Key": key})
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key + ".mp")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key + ".mp", UploadId=upload, PartNumber=1, Body=b"mp")["ETag"]
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key=key + ".mp",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    assert s3.get_object(Bucket=bucket, Key=key + ".mp")["Body"].read() == b"mp"
    s3.delete_object(Bucket=bucket, Key=key)
    with pytest.raises(ClientError) as gone:
        s3.head_object(Bucket=bucket, Key=key)
    assert error_of(gone)[0] == 404
    assert s3.get_object(Bucket=bucket, Key=key + ".copy")["Body"].read() == b"lf"


# -- through the fault proxy ----------------------------------------------------------------------


def test_a_flipped_byte_on_the_way_is_refused_and_the_previous_object_stays(
    world: SandboxWorld, factory: SessionFactory, fault_proxy: FaultProxy
) -> None:
    bucket = world.default_bucket
    good = os.urandom(64 * 1024)
    factory.client("s3").put_object(Bucket=bucket, Key="data/file.bin", Body=good)
    s3 = through(world, fault_proxy)
    fault_proxy.flip_byte(after=40_000, when=lambda r: r.method == "PUT")
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=bucket, Key="data/file.bin", Body=os.urandom(64 * 1024))  # botocore adds CRC32
    assert error_of(refused)[1] == "BadDigest"
    assert fault_proxy.pending_faults() == 0
    assert factory.client("s3").get_object(Bucket=bucket, Key="data/file.bin")["Body"].read() == good
    puts = [r for r in fault_proxy.requests if r.method == "PUT"]
    assert [(r.path, r.fault, r.status) for r in puts] == [(f"/{bucket}/data/file.bin", Fault.FLIP, 400)]


def test_a_flipped_byte_in_a_part_is_refused(world: SandboxWorld, fault_proxy: FaultProxy) -> None:
    s3 = through(world, fault_proxy)
    bucket = world.default_bucket
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp.bin", ChecksumAlgorithm="CRC32")["UploadId"]
    fault_proxy.flip_byte(after=PART - 1, when=lambda r: "partNumber=1" in r.query)
    part = os.urandom(PART)
    with pytest.raises(ClientError) as refused:
        s3.upload_part(Bucket=bucket, Key="mp.bin", UploadId=upload, PartNumber=1, Body=part)
    assert error_of(refused)[1] == "BadDigest"
    assert s3.list_parts(Bucket=bucket, Key="mp.bin", UploadId=upload).get("Parts", []) == []
    # Sent again, unharmed: stored, and the upload completes with exactly the bytes sent.
    etag = s3.upload_part(Bucket=bucket, Key="mp.bin", UploadId=upload, PartNumber=1, Body=part)["ETag"]
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp.bin",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    assert s3.get_object(Bucket=bucket, Key="mp.bin")["Body"].read() == part
    # The stored composite checksum reads the same from HeadObject as from GetObject.
    head = s3.head_object(Bucket=bucket, Key="mp.bin", ChecksumMode="ENABLED")
    got = s3.get_object(Bucket=bucket, Key="mp.bin", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == got["ChecksumCRC32"] and head["ChecksumCRC32"].endswith("-1")
    assert head["ChecksumType"] == got["ChecksumType"] == "COMPOSITE"


def test_a_connection_dropped_mid_part_stores_no_part_and_no_object(
    world: SandboxWorld, fault_proxy: FaultProxy
) -> None:
    s3 = through(world, fault_proxy)
    bucket = world.default_bucket
    upload = s3.create_multipart_upload(Bucket=bucket, Key="cut.bin")["UploadId"]
    # Every attempt is cut (botocore retries a dropped connection once here).
    fault_proxy.drop_connection(after=PART // 2, when=lambda r: r.method == "PUT", times=None)
    with pytest.raises(DROPPED):
        s3.upload_part(Bucket=bucket, Key="cut.bin", UploadId=upload, PartNumber=1, Body=os.urandom(PART))
    cuts = [(r.fault, r.body_bytes, r.status) for r in fault_proxy.requests if r.method == "PUT"]
    # The sandbox saw each body end early and refused it, as S3 does (IncompleteBody).
    assert cuts and set(cuts) == {(Fault.DROP, PART // 2, 400)}
    assert s3.list_parts(Bucket=bucket, Key="cut.bin", UploadId=upload).get("Parts", []) == []
    with pytest.raises(ClientError) as missing:
        s3.head_object(Bucket=bucket, Key="cut.bin")
    assert error_of(missing)[0] == 404


def test_a_single_put_cut_short_stores_nothing(
    world: SandboxWorld, factory: SessionFactory, fault_proxy: FaultProxy
) -> None:
    s3 = through(world, fault_proxy)
    # Without any checksum only the cut itself tells: the sandbox must not keep the part that arrived.
    s3.meta.events.register("before-sign.s3.PutObject", strip_checksums)
    fault_proxy.drop_connection(after=1000, times=None)
    with pytest.raises(DROPPED):
        s3.put_object(Bucket=world.default_bucket, Key="half.bin", Body=os.urandom(4000))
    assert {r.status for r in fault_proxy.requests} == {400}
    with pytest.raises(ClientError) as missing:
        factory.client("s3").head_object(Bucket=world.default_bucket, Key="half.bin")
    assert error_of(missing)[0] == 404


def test_sagewiz_sandbox_serve_verifies_and_keeps_kms_etags_the_same_way(
    served: tuple[subprocess.Popen[str], list[str]],  # noqa: F811 - the imported fixture
) -> None:
    """The background world (`sagewiz sandbox serve`, the daemon) runs the same extensions."""
    _proc, lines = served
    admin, _role = _exports(lines)
    with FaultProxy(upstream=admin["AWS_ENDPOINT_URL"]) as proxy:
        s3 = boto3.client(
            "s3",
            region_name=admin["AWS_REGION"],
            endpoint_url=proxy.url,
            aws_access_key_id=admin["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=admin["AWS_SECRET_ACCESS_KEY"],
            config=Config(retries={"total_max_attempts": 1}),
        )
        force_trailing_checksums(s3)
        bucket = make_bucket(s3, "integrity-served")
        s3.put_object(Bucket=bucket, Key="kept.bin", Body=b"version one")
        proxy.flip_byte(after=len(b"b\r\n") + 5, when=lambda r: r.method == "PUT")
        with pytest.raises(ClientError) as refused:
            s3.put_object(Bucket=bucket, Key="kept.bin", Body=b"version two")
        assert error_of(refused)[1] == "BadDigest"
        proxy.drop_connection(after=4, when=lambda r: r.method == "PUT")
        with pytest.raises(DROPPED):
            s3.put_object(Bucket=bucket, Key="kept.bin", Body=b"version three")
        assert [r.status for r in proxy.requests if r.fault is Fault.DROP] == [400]
        assert s3.get_object(Bucket=bucket, Key="kept.bin")["Body"].read() == b"version one"

        kms = make_bucket(s3, "integrity-served-kms", kms=True)
        etag = s3.put_object(Bucket=kms, Key="k", Body=b"x")["ETag"]
        assert etag != f'"{md5_hex(b"x")}"' and s3.head_object(Bucket=kms, Key="k")["ETag"] == etag


# -- the fault proxy itself -----------------------------------------------------------------------


def test_proxy_as_http_proxy_logs_where_requests_went(
    world: SandboxWorld, fault_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", fault_proxy.url)
    s3 = SessionFactory(world.target()).client("s3")  # the endpoint stays the sandbox's
    s3.put_object(Bucket=world.default_bucket, Key="via-proxy.txt", Body=b"hello")
    sandbox_at = world.endpoint.removeprefix("http://")
    (put,) = [r for r in fault_proxy.requests if r.method == "PUT"]
    assert put.target == f"{world.endpoint}/{world.default_bucket}/via-proxy.txt"  # absolute form
    assert put.host == put.upstream == sandbox_at and put.status == 200 and put.body_bytes == 5
    monkeypatch.delenv("HTTP_PROXY")
    before = len(fault_proxy.requests)
    SessionFactory(world.target()).client("s3").list_buckets()
    assert len(fault_proxy.requests) == before  # without the variable, nothing passes the proxy


def test_proxy_over_https_is_trusted_through_the_ca_bundle_and_gets_trailing_checksums(
    world: SandboxWorld, https_fault_proxy: FaultProxy, tls_files: TlsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = https_fault_proxy
    assert proxy.url.startswith("https://127.0.0.1:")
    target = replace(world.target(), endpoint_url=proxy.url)
    with pytest.raises(SSLError):
        SessionFactory(target).client("s3").list_buckets()  # a CA nobody trusts
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tls_files.ca))
    s3 = SessionFactory(target).client("s3")
    bucket = world.default_bucket
    s3.put_object(Bucket=bucket, Key="tls.bin", Body=BODY)
    put = [r for r in proxy.requests if r.method == "PUT"][-1]
    # Over HTTPS botocore sends its CRC32 as an aws-chunked trailer, unprompted.
    assert put.headers["x-amz-trailer"] == "x-amz-checksum-crc32" and put.status == 200
    assert put.headers["transfer-encoding"] == "chunked"
    proxy.flip_byte(after=10, when=lambda r: r.method == "PUT")
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=bucket, Key="tls.bin", Body=b"version three, corrupted")
    assert error_of(refused)[1] == "BadDigest"
    assert s3.get_object(Bucket=bucket, Key="tls.bin")["Body"].read() == BODY


def test_proxy_tunnels_https_as_https_proxy(
    world: SandboxWorld,
    fault_proxy: FaultProxy,
    https_fault_proxy: FaultProxy,
    tls_files: TlsFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # client -> fault_proxy (HTTPS_PROXY, CONNECT) -> https_fault_proxy (the https endpoint) -> sandbox
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tls_files.ca))
    monkeypatch.setenv("HTTPS_PROXY", fault_proxy.url)
    s3 = SessionFactory(replace(world.target(), endpoint_url=https_fault_proxy.url)).client("s3")
    s3.put_object(Bucket=world.default_bucket, Key="tunnelled.txt", Body=b"hello")
    endpoint_at = https_fault_proxy.url.removeprefix("https://")
    (tunnel,) = fault_proxy.requests
    assert (tunnel.method, tunnel.target, tunnel.upstream, tunnel.status) == (
        "CONNECT",
        endpoint_at,
        endpoint_at,
        200,
    )
    assert tunnel.body_bytes > 5  # TLS records, not the plain body
    (put,) = [r for r in https_fault_proxy.requests if r.method == "PUT"]
    assert put.path == f"/{world.default_bucket}/tunnelled.txt" and put.status == 200


def test_proxy_never_leaves_the_machine_but_logs_the_host_a_client_chose(
    world: SandboxWorld, fault_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", fault_proxy.url)
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "true")
    s3 = SessionFactory(replace(world.target(), endpoint_url=None)).client("s3")  # AWS's own endpoint
    with pytest.raises(ProxyConnectionError):
        s3.list_objects_v2(Bucket="any-bucket")
    tunnels = {(r.method, r.target, r.status) for r in fault_proxy.requests}
    assert tunnels == {("CONNECT", "any-bucket.s3-fips.eu-north-1.amazonaws.com:443", 502)}


def test_proxy_flips_exactly_one_byte_at_the_offset(
    world: SandboxWorld, factory: SessionFactory, fault_proxy: FaultProxy
) -> None:
    # With no checksum sent, the sandbox (as S3) stores what arrives: exactly what the proxy did.
    s3 = through(world, fault_proxy)
    s3.meta.events.register("before-sign.s3.PutObject", strip_checksums)
    body = bytes(1000)
    fault_proxy.flip_byte(after=777)
    s3.put_object(Bucket=world.default_bucket, Key="flipped.bin", Body=body)
    stored = factory.client("s3").get_object(Bucket=world.default_bucket, Key="flipped.bin")["Body"].read()
    assert [i for i, (a, b) in enumerate(zip(stored, body, strict=True)) if a != b] == [777]
    assert stored[777] == 1 and fault_proxy.requests[-1].fault is Fault.FLIP


def test_proxy_faults_wait_for_a_long_enough_body_and_fire_times_times(
    world: SandboxWorld, fault_proxy: FaultProxy
) -> None:
    s3 = through(world, fault_proxy)
    fault_proxy.flip_byte(after=10_000, times=2, when=lambda r: r.method == "PUT")
    s3.put_object(Bucket=world.default_bucket, Key="short.txt", Body=b"too short to reach byte 10000")
    assert fault_proxy.pending_faults() == 2  # not reached: given back
    for _ in range(2):
        with pytest.raises(ClientError):
            s3.put_object(Bucket=world.default_bucket, Key="long.bin", Body=os.urandom(20_000))
    assert fault_proxy.pending_faults() == 0
    s3.put_object(Bucket=world.default_bucket, Key="long.bin", Body=os.urandom(20_000))
    fault_proxy.flip_byte(times=None)
    assert fault_proxy.pending_faults() == 1
    fault_proxy.clear_faults()
    assert fault_proxy.pending_faults() == 0


def test_proxy_throttles_the_link(world: SandboxWorld, fault_proxy: FaultProxy) -> None:
    s3 = through(world, fault_proxy)
    fault_proxy.throttle(200_000)
    started = time.monotonic()
    s3.put_object(Bucket=world.default_bucket, Key="slow.bin", Body=os.urandom(100_000))
    assert time.monotonic() - started >= 0.5  # 100 kB at 200 kB/s, at the least
    fault_proxy.throttle(None)
    with pytest.raises(ValueError):
        fault_proxy.throttle(0)
