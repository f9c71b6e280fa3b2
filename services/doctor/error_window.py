"""The part of a long text (a log, a traceback, a console dump) that can still hold its last AWS
error, read in chunks so a 200 MB log never sits in memory whole.

An error is found by its markers (AWS's own phrases); the window kept starts a little before the
last marker, because some forms name the resource before it (`upload failed: ./x to s3://b/k An
error occurred ...`), and ends at most WINDOW bytes later, since no AWS error text is longer.
"""

from __future__ import annotations

import io
import re
from typing import BinaryIO

WINDOW = 20_000  # bytes kept from an error's start: far more than any AWS error message
BEFORE = 2_000  # bytes kept before a marker: the CLI's "upload failed: SRC to s3://..." lead-in
CHUNK = 1 << 16

_MARKER = re.compile(
    rb"An error occurred \(|is not authorized to perform|ClientError:|upload failed:|download failed:"
    rb"|delete failed:|copy failed:|Insufficient permissions|You don't have permissions?|<Code>"
    rb"|unable to assume|No S3 objects found|Data download failed|exists, but access is forbidden"
    rb"|not accessible as the default bucket|Access Denied|AccessDenied|Could not assume role",
)  # case as AWS writes them: a case-blind scan is several times slower on a long log
_LONGEST_MARKER = 48  # a marker cut by a chunk boundary is found once the next chunk arrives


def last_error_window(stream: BinaryIO, window: int = WINDOW) -> str:
    """The text around the stream's last error (or its last `window` bytes when none is marked).
    Memory stays near CHUNK + window whatever the stream's length."""
    buf = b""
    base = 0  # the stream offset of buf[0]
    last_marker = -1  # the stream offset of the last marker seen
    pending: int | None = None  # where the window of the last marker starts, until it is full
    frozen = b""  # the last full window
    while chunk := stream.read(CHUNK):
        buf += chunk
        # Only the new bytes (and a marker's length before them) can hold a new marker.
        start = max(0, last_marker - base + 1, len(buf) - len(chunk) - _LONGEST_MARKER)
        found = None
        for m in _MARKER.finditer(buf, start):
            found = m.start()
        if found is not None:
            last_marker = base + found
            pending = max(base, last_marker - BEFORE)
        if pending is not None and base + len(buf) - pending >= window:
            frozen = buf[pending - base : pending - base + window]
            pending = None
        keep = max(0, len(buf) - max(window, BEFORE + _LONGEST_MARKER))
        if pending is not None:
            keep = min(keep, pending - base)
        buf, base = buf[keep:], base + keep
    if pending is not None:
        frozen = buf[pending - base : pending - base + window]
    elif last_marker < 0:
        frozen = buf[-window:]
    return frozen.decode("utf-8", errors="replace")


def last_error_text(text: str, window: int = WINDOW) -> str:
    """The same for a text already in memory (an `--error` argument, a pasted text)."""
    if len(text) <= window:
        return text
    return last_error_window(io.BytesIO(text.encode("utf-8", errors="replace")), window)
