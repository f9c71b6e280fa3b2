"""Multipart uploads left open at the destination (a killed run): each is resumed when it matches a
file to copy (same key, a part layout the file fits, every stored part's CRC32 equal to the file's
bytes there), otherwise aborted, so no invisible parts stay billed.

A resumed upload sends only its missing parts, each with a CRC32 S3 checks, then completes with every
part's checksum."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from services.sync.checksums import crc32_b64, crc32_of, md5_of_range
from services.sync.files import OpenUpload, SourceFile

MIN_PART = 5 * 1024 * 1024  # S3's smallest part (but the last)


@dataclass(frozen=True)
class StoredPart:
    number: int
    size: int
    etag: str
    crc32: str


@dataclass(frozen=True)
class Resumable:
    upload: OpenUpload
    part_size: int
    parts: tuple[StoredPart, ...]

    @property
    def bytes_present(self) -> int:
        return sum(p.size for p in self.parts)


@dataclass(frozen=True)
class Tidied:
    resumable: dict[str, Resumable]  # by rel
    aborted: int
    reclaimed: int  # bytes of the aborted uploads' parts
    failed_aborts: int


def _parts(client: Any, bucket: str, up: OpenUpload, owner: dict[str, str]) -> list[StoredPart]:
    out = []
    for page in client.get_paginator("list_parts").paginate(
        Bucket=bucket, Key=up.key, UploadId=up.upload_id, **owner
    ):
        for p in page.get("Parts", []):
            out.append(
                StoredPart(
                    int(p["PartNumber"]),
                    int(p["Size"]),
                    str(p.get("ETag", "")).strip('"'),
                    str(p.get("ChecksumCRC32") or ""),
                )
            )
    return sorted(out, key=lambda p: p.number)


def _fits(f: SourceFile, parts: list[StoredPart]) -> int | None:
    """The part size when every stored part holds this file's bytes at its place: its CRC32 equal
    (or, where S3 lists no part checksum, its ETag equal to the MD5 of those bytes)."""
    if not parts or f.path is None or parts[0].number != 1:
        return None
    psize = parts[0].size
    if psize <= 0 or (psize < MIN_PART and psize < f.size):
        return None
    for p in parts:
        start = (p.number - 1) * psize
        if start >= f.size or p.size != min(psize, f.size - start):
            return None
        if p.crc32:
            if crc32_b64(crc32_of(f.path, start, p.size)) != p.crc32:
                return None
        elif md5_of_range(f.path, start, p.size) != p.etag:
            return None
    return psize


def tidy(
    client: Any,
    bucket: str,
    uploads: tuple[OpenUpload, ...],
    to_copy: dict[str, SourceFile],
    prefix: str,
    owner: dict[str, str],
) -> Tidied:
    """Keep, for each file to copy, the matching upload with the most bytes already sent; abort every
    other one."""
    fitting: dict[str, Resumable] = {}
    sizes: dict[str, int] = {}
    for up in uploads:
        try:
            parts = _parts(client, bucket, up, owner)
        except Exception:
            parts = []
        sizes[up.upload_id] = sum(p.size for p in parts)
        rel = up.key[len(prefix) :] if up.key.startswith(prefix) else None
        f = to_copy.get(rel) if rel is not None else None
        if f is None or rel is None or up.checksum_algorithm.upper() != "CRC32":
            continue
        try:
            psize = _fits(f, parts)
        except OSError:
            continue
        if psize is not None:
            r = Resumable(up, psize, tuple(parts))
            if rel not in fitting or r.bytes_present > fitting[rel].bytes_present:
                fitting[rel] = r
    keep = {r.upload.upload_id for r in fitting.values()}
    aborted = reclaimed = failed = 0
    for up in uploads:
        if up.upload_id in keep:
            continue
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=up.key, UploadId=up.upload_id, **owner)
        except Exception:
            failed += 1  # left for the bucket's lifecycle rule or the next run
            continue
        aborted += 1
        reclaimed += sizes.get(up.upload_id, 0)
    return Tidied(fitting, aborted, reclaimed, failed)


def resume(
    client: Any,
    bucket: str,
    f: SourceFile,
    r: Resumable,
    *,
    owner: dict[str, str],
    workers: int,
    stopped: Callable[[], bool],
    on_bytes: Callable[[int], None],
) -> str | None:
    """Send the missing parts and complete. Returns the ETag, or None when stopped (the upload stays
    open and the next run resumes it). Raises what S3 raised."""
    assert f.path is not None
    path = f.path
    psize = r.part_size
    nparts = max(1, math.ceil(f.size / psize))
    have = {p.number: p for p in r.parts}
    on_bytes(r.bytes_present)
    sent: dict[int, tuple[str, str]] = {n: (p.etag, p.crc32) for n, p in have.items()}
    lock = threading.Lock()

    def send(n: int) -> None:
        if stopped():
            return
        start = (n - 1) * psize
        length = min(psize, f.size - start)
        with open(path, "rb") as fh:
            fh.seek(start)
            data = fh.read(length)
        if len(data) != length:
            raise OSError(0, "the file changed while it was being copied; run again")
        resp = client.upload_part(
            Bucket=bucket, Key=r.upload.key, UploadId=r.upload.upload_id, PartNumber=n, Body=data,
            ChecksumAlgorithm="CRC32", **owner,
        )  # fmt: skip
        with lock:
            sent[n] = (str(resp["ETag"]).strip('"'), str(resp.get("ChecksumCRC32") or ""))
        on_bytes(length)

    missing = [n for n in range(1, nparts + 1) if n not in have]
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(missing) or 1))) as pool:
        for fut in [pool.submit(send, n) for n in missing]:
            fut.result()
    if stopped() or len(sent) != nparts:
        return None
    parts = [
        {"PartNumber": n, "ETag": f'"{sent[n][0]}"', **({"ChecksumCRC32": sent[n][1]} if sent[n][1] else {})}
        for n in range(1, nparts + 1)
    ]
    out = client.complete_multipart_upload(
        Bucket=bucket,
        Key=r.upload.key,
        UploadId=r.upload.upload_id,
        MultipartUpload={"Parts": parts},
        **owner,
    )
    return str(out.get("ETag", "")).strip('"')
