"""Part sizes and multipart ETags: how a file is cut into parts, and the ETag S3 gives the result."""

from __future__ import annotations

import hashlib
import math

MiB = 1024 * 1024
# Multipart from 100 MiB (AWS's guidance; rclone's cutoff is 200 MiB): below it one PUT is one
# request and no server-side reassembly, which measured fastest.
MULTIPART_THRESHOLD = 100 * MiB
MIN_PART = 16 * MiB
MAX_PART = 32 * MiB
MAX_PARTS = 10_000


def part_size_for(size: int) -> int:
    """Our part size: about eight parts a file (parallel within one file), 16 to 32 MiB (fewer
    requests than the usual 8 MiB, bounded memory: each worker holds one part), whole MiB, and never
    more than 10,000 parts."""
    about_eight = math.ceil(size / 8 / MiB) * MiB
    part = min(max(about_eight, MIN_PART), MAX_PART)
    return max(part, math.ceil(size / MAX_PARTS / MiB) * MiB)


def uses_multipart(size: int) -> bool:
    return size >= MULTIPART_THRESHOLD


def multipart_etag(part_md5s: list[bytes]) -> str:
    return f"{hashlib.md5(b''.join(part_md5s)).hexdigest()}-{len(part_md5s)}"


def candidate_part_sizes(size: int, parts: int) -> list[int]:
    """Part sizes that would give `parts` parts: ours, the common tool defaults, and the even split."""
    cands = [
        part_size_for(size),
        8 * MiB,
        5 * MiB,
        16 * MiB,
        15 * MiB,
        32 * MiB,
        64 * MiB,
        100 * MiB,
        128 * MiB,
    ]
    even = math.ceil(size / parts)
    cands += [even, math.ceil(even / MiB) * MiB]
    out = []
    for c in cands:
        if c > 0 and math.ceil(size / c) == parts and c not in out:
            out.append(c)
    return out


def is_md5_etag(etag: str) -> bool:
    head = etag.split("-", 1)[0]
    return len(head) == 32 and all(ch in "0123456789abcdef" for ch in head)
