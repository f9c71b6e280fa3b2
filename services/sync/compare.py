"""Whether a file already at the destination holds the source's bytes (then it is skipped).

In order, cheapest first:
1. the hash cache's record of what this sync sent there, when S3 still lists the ETag it answered;
2. the checksum S3 stored (a CRC32 over the whole object, or over its parts), against the local
   file's, read with one HEAD only when the listing says the object has one;
3. an ETag equal to the file's MD5 (or multipart MD5): only these bytes can produce it.

An S3 source is unchanged when the two ETags are equal, or when the record says this source object
was copied there and S3 still lists the ETag it answered. Anything else is copied again: nothing is
guessed from the shape of an ETag.
"""

from __future__ import annotations

from typing import Any

from services.sync.checksums import composite_crc32, full_crc32, md5_hex, multipart_md5
from services.sync.files import RemoteObject, SourceFile
from services.sync.hash_cache import HashCache, dest_id, local_source_id, s3_source_id
from services.sync.parts import candidate_part_sizes


def source_id(f: SourceFile, src_bucket: str | None) -> str | None:
    if f.path is not None and f.sig is not None:
        return local_source_id(f.path, f.sig)
    if src_bucket is not None and f.key is not None and f.etag:
        return s3_source_id(src_bucket, f.key, f.etag)
    return None


def recorded(
    f: SourceFile, remote: RemoteObject, bucket: str, src_bucket: str | None, cache: HashCache | None
) -> bool:
    """Step 1 alone: answers without a request or a read (the whole of an unchanged rerun)."""
    if cache is None or f.size != remote.size:
        return False
    sid = source_id(f, src_bucket)
    return sid is not None and cache.sent(dest_id(bucket, remote.key), sid) == remote.etag


def unchanged(
    client: Any,
    f: SourceFile,
    remote: RemoteObject,
    bucket: str,
    src_bucket: str | None,
    cache: HashCache | None,
    account: str | None = None,
) -> bool:
    if f.size != remote.size:
        return False
    if recorded(f, remote, bucket, src_bucket, cache):
        return True
    if f.path is None:  # an S3 source: S3 computed both ETags the same way
        return bool(f.etag) and f.etag == remote.etag
    try:
        same = _stored_checksum_matches(client, f, remote, bucket, cache, account)
        if same is None:
            same = _etag_is_md5_of(f, remote.etag, cache)
    except OSError:
        return False
    if same and cache is not None:
        sid = source_id(f, src_bucket)
        if sid is not None:
            cache.record_sent(dest_id(bucket, remote.key), sid, remote.etag)
    return same


def _cached(f: SourceFile, scheme: str, cache: HashCache | None, compute: Any) -> str:
    assert f.path is not None and f.sig is not None
    if cache is not None and (hit := cache.get(f.path, f.sig, scheme)):
        return hit
    value: str = compute()
    if cache is not None:
        cache.put(f.path, f.sig, scheme, value)
    return value


def _stored_checksum_matches(
    client: Any,
    f: SourceFile,
    remote: RemoteObject,
    bucket: str,
    cache: HashCache | None,
    account: str | None,
) -> bool | None:
    """None when S3 keeps no CRC32 for the object (nothing to compare)."""
    if "CRC32" not in remote.checksums:
        return None
    owner = {"ExpectedBucketOwner": account} if account else {}
    head = client.head_object(Bucket=bucket, Key=remote.key, ChecksumMode="ENABLED", **owner)
    stored = str(head.get("ChecksumCRC32") or "")
    if not stored or head.get("ContentLength") != f.size:
        return None
    path = f.path
    assert path is not None
    kind = str(head.get("ChecksumType") or "")
    if kind == "FULL_OBJECT" or (not kind and "-" not in stored):
        if _cached(f, "crc32", cache, lambda: full_crc32(path)) == stored:
            return True
        if kind:
            return False
    # Over the parts (COMPOSITE: the CRC32 of the parts' CRC32s, "-<parts>" on AWS; some emulators
    # leave the suffix out and the type unsaid). The part size is the first part's length.
    first = client.head_object(Bucket=bucket, Key=remote.key, PartNumber=1, **owner)
    part, count = int(first.get("ContentLength") or 0), int(first.get("PartsCount") or 0)
    if part <= 0 or count <= 1:
        return False if not kind else None
    mine = _cached(f, f"crc32:{part}", cache, lambda: composite_crc32(path, f.size, part))
    return mine.partition("-")[0] == stored.partition("-")[0] and mine.endswith(f"-{count}")


def _etag_is_md5_of(f: SourceFile, etag: str, cache: HashCache | None) -> bool:
    path = f.path
    assert path is not None
    head, _, count = etag.partition("-")
    if not count:
        return _cached(f, "md5", cache, lambda: md5_hex(path)) == etag
    if not count.isdigit():
        return False
    for ps in candidate_part_sizes(f.size, int(count)):
        if _cached(f, f"mp:{ps}", cache, lambda ps=ps: multipart_md5(path, f.size, ps)) == etag:
            return True
    return False
