"""How files are cut into parts: the multipart threshold and part size handed to s3transfer, and the
part sizes other tools use (to recognise a multipart ETag they produced)."""

from __future__ import annotations

import math

MiB = 1024 * 1024
# Above this a file goes up in parts, sent in parallel; below, one PUT is one request and no
# server-side reassembly (measured: 4 x 64 MB as single PUTs cost the sandbox a third less CPU than
# in 16 MiB parts). 16 MiB parts: a 1 GB file in 64 requests, twice as fast as 64 MiB parts there.
MULTIPART_THRESHOLD = 100 * MiB
PART_SIZE = 16 * MiB
MAX_PARTS = 10_000


def uses_multipart(size: int) -> bool:
    return size >= MULTIPART_THRESHOLD


def part_size_for(size: int) -> int:
    """Our part size for a file, as s3transfer will cut it: PART_SIZE, grown to stay within 10,000 parts."""
    return max(PART_SIZE, math.ceil(size / MAX_PARTS / MiB) * MiB)


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
