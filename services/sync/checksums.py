"""Content checksums of local files, in the forms S3 stores them.

S3 keeps a CRC32 for what we upload (every PUT and part carries one, and S3 refuses a body that does
not match it). A full-object CRC32 is base64 of the 4-byte big-endian CRC; a multipart ("composite")
one is the CRC32 of the parts' CRC32s followed by "-<parts>". The MD5 forms are only compared for
equality with an ETag: an ETag equal to the file's MD5 can only come from these bytes, and an ETag
that is not equal proves nothing (SSE-KMS, another part size), so the file is then simply copied.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Iterator

MiB = 1024 * 1024
_READ = 4 * MiB


def _chunks(path: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
    with open(path, "rb", buffering=0) as fh:
        fh.seek(start)
        left = length
        while left is None or left > 0:
            chunk = fh.read(_READ if left is None else min(_READ, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk


def crc32_b64(value: int) -> str:
    return base64.b64encode(value.to_bytes(4, "big")).decode()


def crc32_of(path: str, start: int = 0, length: int | None = None) -> int:
    crc = 0
    for chunk in _chunks(path, start, length):
        crc = zlib.crc32(chunk, crc)
    return crc


def full_crc32(path: str) -> str:
    return crc32_b64(crc32_of(path))


def composite_crc32(path: str, size: int, part_size: int) -> str:
    """What S3 shows for a multipart upload with CRC32 parts (ChecksumType COMPOSITE)."""
    digests = b""
    count = 0
    for start in range(0, max(size, 1), part_size):
        digests += crc32_of(path, start, part_size).to_bytes(4, "big")
        count += 1
    return f"{crc32_b64(zlib.crc32(digests))}-{count}"


def md5_hex(path: str) -> str:
    return md5_of_range(path, 0, None)


def md5_of_range(path: str, start: int, length: int | None) -> str:
    h = hashlib.md5(usedforsecurity=False)
    for chunk in _chunks(path, start, length):
        h.update(chunk)
    return h.hexdigest()


def multipart_md5(path: str, size: int, part_size: int) -> str:
    """The ETag S3 gives an unencrypted (or SSE-S3) multipart upload of this file in `part_size` parts."""
    digests = b""
    count = 0
    for start in range(0, max(size, 1), part_size):
        h = hashlib.md5(usedforsecurity=False)
        for chunk in _chunks(path, start, part_size):
            h.update(chunk)
        digests += h.digest()
        count += 1
    return f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{count}"
