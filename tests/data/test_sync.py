"""The sync engine against the sandbox: real uploads, skips, resume, cancel and failures."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from services.errors import NotFoundError, ValidationError
from services.s3uri import S3Uri
from services.session import SessionFactory
from services.sync.checksums import composite_crc32
from services.sync.engine import run_sync
from services.sync.hash_cache import HashCache
from services.sync.locations import parse_destination, parse_source
from services.sync.plan import plan_sync
from services.sync.preflight import check_destination
from tests.data.conftest import make_tree


def objects(factory: SessionFactory, uri: S3Uri) -> dict[str, bytes]:
    s3 = factory.client("s3")
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=uri.bucket, Prefix=uri.prefix):
        for o in page.get("Contents", []):
            out[o["Key"][len(uri.prefix) :]] = s3.get_object(Bucket=uri.bucket, Key=o["Key"])["Body"].read()
    return out


def open_uploads(factory: SessionFactory, bucket: str) -> list[dict]:
    return factory.client("s3").list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def sync(factory, src, dst, cache=None, **kw):
    source, dest = parse_source(str(src)), parse_destination(dst)
    plan = plan_sync(factory, source, dest, cache=cache)
    return plan, run_sync(factory, plan, cache=cache, **kw)


def test_folder_with_nested_and_unusual_names(world, factory, tmp_path: Path, cache) -> None:
    files = make_tree(tmp_path / "src")
    dst = f"s3://{world.default_bucket}/ground-truth-demo/images/"
    seen = []
    plan, result = sync(factory, tmp_path / "src", dst, cache, on_progress=seen.append)
    assert result.ok and result.copied == len(files) and result.skipped == 0
    assert objects(factory, parse_destination(dst)) == files
    assert seen[-1].files_done == len(files) and seen[-1].bytes_done == sum(map(len, files.values()))
    head = factory.client("s3").head_object(
        Bucket=world.default_bucket, Key="ground-truth-demo/images/a b/with space.jpg"
    )
    assert head["ContentType"] == "image/jpeg"


def test_rerun_skips_unchanged_and_copies_changed(world, factory, tmp_path: Path, cache) -> None:
    make_tree(tmp_path / "src")
    dst = f"s3://{world.default_bucket}/data/"
    sync(factory, tmp_path / "src", dst, cache)
    plan, result = sync(factory, tmp_path / "src", dst, cache)
    assert plan.to_copy == () and result.copied == 0 and result.skipped == 7
    # without the cache the files are hashed, with the same verdict
    plan, _ = sync(factory, tmp_path / "src", dst, HashCache(None))
    assert plan.to_copy == () and len(plan.skipped) == 7
    # same size, different bytes: the MD5 tells, not the size
    (tmp_path / "src" / "top.txt").write_bytes(b"TOP LEVEL\n")
    plan, result = sync(factory, tmp_path / "src", dst, cache)
    assert [f.rel for f in plan.to_copy] == ["top.txt"]
    assert objects(factory, parse_destination(dst))["top.txt"] == b"TOP LEVEL\n"


def test_multipart_upload_carries_part_checksums_and_a_fresh_cache_recognises_it(
    world, factory, tmp_path: Path, cache, small_multipart
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    data = os.urandom(11 * 1024 * 1024 + 123)
    (src / "big.bin").write_bytes(data)
    dst = f"s3://{world.default_bucket}/mp/"
    _, result = sync(factory, src, dst, cache)
    assert result.ok and result.copied == 1
    head = factory.client("s3").head_object(
        Bucket=world.default_bucket, Key="mp/big.bin", ChecksumMode="ENABLED"
    )
    # every part went up with a CRC32, and S3 keeps the checksum of the parts' checksums (AWS adds
    # "-3"; the emulator leaves it out)
    expected = composite_crc32(str(src / "big.bin"), len(data), small_multipart)
    assert expected.endswith("-3") and head["ChecksumCRC32"].partition("-")[0] == expected.partition("-")[0]
    # the record of what was sent answers a rerun without reading the file...
    plan, _ = sync(factory, src, dst, cache)
    assert plan.to_copy == () and len(plan.skipped) == 1
    # ...and without it, the stored checksum against the file's does
    plan, _ = sync(factory, src, dst, HashCache(tmp_path / "other-cache.json"))
    assert plan.to_copy == () and len(plan.skipped) == 1
    # a different file of the same size is not taken for it
    (src / "big.bin").write_bytes(os.urandom(len(data)))
    plan, _ = sync(factory, src, dst, HashCache(None))
    assert [f.rel for f in plan.to_copy] == ["big.bin"]


def test_leftover_uploads_are_resumed_when_they_match_and_aborted_otherwise(
    world, factory, tmp_path: Path, cache, small_multipart
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    data = os.urandom(11 * 1024 * 1024)
    (src / "big.bin").write_bytes(data)
    s3 = factory.client("s3")
    bucket, key = world.default_bucket, "resume/big.bin"
    # what killed runs leave behind: an upload of an earlier version of the file, one of a file that
    # is gone, and the newest one, with its first part sent
    older = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32")["UploadId"]
    s3.upload_part(
        Bucket=bucket,
        Key=key,
        UploadId=older,
        PartNumber=1,
        Body=os.urandom(6 * 1024 * 1024),
        ChecksumAlgorithm="CRC32",
    )
    gone = s3.create_multipart_upload(Bucket=bucket, Key="resume/gone.bin", ChecksumAlgorithm="CRC32")[
        "UploadId"
    ]
    s3.upload_part(
        Bucket=bucket,
        Key="resume/gone.bin",
        UploadId=gone,
        PartNumber=1,
        Body=b"g" * 5000,
        ChecksumAlgorithm="CRC32",
    )
    newest = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32")["UploadId"]
    s3.upload_part(
        Bucket=bucket,
        Key=key,
        UploadId=newest,
        PartNumber=1,
        Body=data[:small_multipart],
        ChecksumAlgorithm="CRC32",
    )
    plan, result = sync(factory, src, f"s3://{bucket}/resume/", cache)
    assert (
        len(plan.open_uploads) == 3
        and "open multipart uploads left by an earlier run: 3" in plan.render_text()
    )
    assert result.ok and result.copied == 1 and result.resumed_uploads == 1
    assert result.aborted_uploads == 2 and result.reclaimed_bytes == 6 * 1024 * 1024 + 5000
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    assert open_uploads(factory, bucket) == []
    # a leftover whose part does not hold the file's bytes is aborted, not completed
    bad = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32")["UploadId"]
    s3.upload_part(
        Bucket=bucket,
        Key=key,
        UploadId=bad,
        PartNumber=1,
        Body=os.urandom(small_multipart),
        ChecksumAlgorithm="CRC32",
    )
    (src / "big.bin").write_bytes(data[::-1])
    _, result = sync(factory, src, f"s3://{bucket}/resume/", cache)
    assert result.ok and result.resumed_uploads == 0 and result.aborted_uploads == 1
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data[::-1]
    assert open_uploads(factory, bucket) == []


def test_cancel_leaves_no_partial_object_and_a_rerun_finishes(world, factory, tmp_path: Path, cache) -> None:
    src = tmp_path / "src"
    for i in range(60):
        (src / f"d{i % 3}").mkdir(parents=True, exist_ok=True)
        (src / f"d{i % 3}" / f"f{i:03d}.bin").write_bytes(os.urandom(1000 + i))
    dst = f"s3://{world.default_bucket}/cancel/"
    cancel = threading.Event()

    def progress(p) -> None:
        if p.files_done >= 10:
            cancel.set()

    _, result = sync(factory, src, dst, cache, on_progress=progress, cancel=cancel, interval=0.0, workers=2)
    assert result.cancelled and not result.ok
    assert 10 <= result.copied < 60
    stored = objects(factory, parse_destination(dst))
    for rel, body in stored.items():  # whatever is there is whole
        assert body == (src / rel).read_bytes()
    plan, result = sync(factory, src, dst, cache)
    assert len(plan.skipped) == len(stored) and result.ok
    assert len(objects(factory, parse_destination(dst))) == 60


def test_cancel_during_multipart_aborts_the_upload(
    world, factory, tmp_path: Path, cache, small_multipart
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "big.bin").write_bytes(os.urandom(16 * 1024 * 1024))
    cancel = threading.Event()
    stopped_at: list[float] = []

    def progress(p) -> None:
        if p.bytes_done > 0 and not cancel.is_set():
            stopped_at.append(time.monotonic())
            cancel.set()

    _, result = sync(
        factory,
        src,
        f"s3://{world.default_bucket}/mpcancel/",
        cache,
        on_progress=progress,
        cancel=cancel,
        interval=0.0,
        workers=1,
    )
    assert time.monotonic() - stopped_at[0] < 2.0  # the first Ctrl-C ends the run within 2 s
    assert result.cancelled and result.copied == 0 and result.not_copied == ("big.bin",)
    s3 = factory.client("s3")
    assert "Contents" not in s3.list_objects_v2(Bucket=world.default_bucket, Prefix="mpcancel/")
    assert open_uploads(factory, world.default_bucket) == []


def test_s3_to_s3_server_side_copy_of_the_samples(world, factory, cache) -> None:
    src = f"s3://{world.sample_bucket}/{world.sample_prefix}"
    dst = f"s3://{world.default_bucket}/ground-truth-demo/images/"
    plan, result = sync(factory, src, dst, cache)
    assert result.ok and result.copied == 50 and not plan.source.is_local
    plan, result = sync(factory, src, dst, cache)
    assert plan.to_copy == () and result.skipped == 50


def test_access_denied_names_principal_action_and_resource(
    world, role_factory, tmp_path: Path, cache
) -> None:
    make_tree(tmp_path / "src")
    dst = f"s3://{world.default_bucket}/ground-truth-demo/images/"
    _, result = sync(
        role_factory,
        tmp_path / "src",
        dst,
        cache,
        principal_arn="arn:aws:sts::123456789012:assumed-role/SageMaker-tt/SageMaker",
    )
    assert not result.ok and result.failed
    denied = result.denied
    assert denied is not None
    assert denied.action == "s3:PutObject"
    assert denied.bucket == world.default_bucket
    assert denied.key and denied.key.startswith("ground-truth-demo/images/")
    assert denied.principal_arn.endswith("SageMaker-tt/SageMaker")
    assert denied.source_step == "data"
    # it stopped at the wall instead of failing every file one by one
    assert len(result.failed) < 7 or all("Access denied" in f.reason for f in result.failed)


@pytest.mark.parametrize(
    ("src", "fragment"),
    [
        ("/no/such/folder", "does not exist"),
        ("s3:/bucket", "does not start with s3://"),
        ("s3://Bad_Name/x", "not valid"),
    ],
)
def test_bad_sources_are_refused_before_any_call(src: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_source(src)
    assert fragment in info.value.message


def test_a_file_is_not_a_source_folder(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(ValidationError, match="file, not a folder"):
        parse_source(str(tmp_path / "f.txt"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_unreadable_folder(tmp_path: Path) -> None:
    d = tmp_path / "locked"
    d.mkdir()
    d.chmod(0)
    try:
        with pytest.raises(ValidationError, match="not readable"):
            parse_source(str(d))
    finally:
        d.chmod(0o755)


def test_local_destination_is_refused() -> None:
    with pytest.raises(ValidationError, match="not an s3:// prefix"):
        parse_destination("/tmp/out")


def test_destination_and_overlap_checks(world, factory) -> None:
    """One world for three refusals: a missing bucket, a bucket in another region, overlapping prefixes."""
    with pytest.raises(NotFoundError, match="does not exist"):
        check_destination(factory, parse_destination("s3://sagemaker-no-such-bucket-here/x/"))
    us = SessionFactory(world.target().with_(region="us-east-1"))
    us.client("s3").create_bucket(Bucket="sagemaker-far-away")
    with pytest.raises(ValidationError) as info:
        check_destination(factory, parse_destination("s3://sagemaker-far-away/x/"))
    assert "us-east-1" in info.value.message and "eu-north-1" in info.value.message
    with pytest.raises(ValidationError, match="overlap"):
        plan_sync(
            factory,
            parse_source(f"s3://{world.sample_bucket}/datasets/"),
            parse_destination(f"s3://{world.sample_bucket}/datasets/image/copy/"),
        )


def test_a_stop_after_everything_was_copied_is_no_cancel(world, factory, tmp_path: Path, cache) -> None:
    make_tree(tmp_path / "src")
    cancel = threading.Event()

    def progress(p) -> None:
        if p.files_done == p.files_total:
            cancel.set()

    _, result = sync(
        factory,
        tmp_path / "src",
        f"s3://{world.default_bucket}/late/",
        cache,
        on_progress=progress,
        cancel=cancel,
        interval=0.0,
    )
    assert cancel.is_set() and not result.cancelled and result.ok and result.copied == 7


def test_a_stop_once_every_part_is_sent_still_completes_the_upload(
    world, factory, tmp_path: Path, cache, small_multipart
) -> None:
    import time

    src = tmp_path / "src"
    src.mkdir()
    data = os.urandom(11 * 1024 * 1024)
    (src / "big.bin").write_bytes(data)
    cancel = threading.Event()
    stopped_at: list[float] = []

    def progress(p) -> None:
        if p.bytes_done >= len(data) and not cancel.is_set():
            stopped_at.append(time.monotonic())
            cancel.set()

    _, result = sync(
        factory,
        src,
        f"s3://{world.default_bucket}/allsent/",
        cache,
        on_progress=progress,
        cancel=cancel,
        interval=0.0,
    )
    assert stopped_at and time.monotonic() - stopped_at[0] < 2.0
    assert result.ok and not result.cancelled and result.copied == 1
    s3 = factory.client("s3")
    assert s3.get_object(Bucket=world.default_bucket, Key="allsent/big.bin")["Body"].read() == data
    assert open_uploads(factory, world.default_bucket) == []


def test_an_upload_that_may_not_be_aborted_is_said_to_stay(world, factory, tmp_path: Path, cache) -> None:
    import json

    from services.session import StaticCredentials

    iam = factory.client("iam")
    iam.create_user(UserName="no-abort")
    bucket = world.default_bucket
    iam.put_user_policy(
        UserName="no-abort",
        PolicyName="sync-but-not-abort",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "s3:ListBucket",
                            "s3:ListBucketMultipartUploads",
                            "s3:ListMultipartUploadParts",
                        ],
                        "Resource": f"arn:aws:s3:::{bucket}",
                    },
                    {
                        "Effect": "Allow",
                        "Action": ["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts"],
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                    },
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName="no-abort")["AccessKey"]
    limited = SessionFactory(
        world.target().with_(credentials=StaticCredentials(key["AccessKeyId"], key["SecretAccessKey"]))
    )
    factory.client("s3").create_multipart_upload(Bucket=bucket, Key="kept/left.bin")
    make_tree(tmp_path / "src")
    plan, result = sync(limited, tmp_path / "src", f"s3://{bucket}/kept/", cache)
    assert len(plan.open_uploads) == 1
    assert result.ok and result.copied == 7
    assert result.aborted_uploads == 0 and result.unaborted_uploads == 1
    assert len(open_uploads(factory, bucket)) == 1
