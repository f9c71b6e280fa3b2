"""Where the details of an unforeseen error go: a file under the state directory, readable only by
the user (0600), so the screen shows one short line and the traceback is still there to report."""

from __future__ import annotations

import contextlib
import os
import traceback
from datetime import UTC, datetime
from pathlib import Path

from services.journal import default_path

# Kept files: enough to report the last few failures, never a growing pile.
KEEP = 20


def details_dir() -> Path:
    return default_path().parent / "errors"


def write_details(exc: BaseException, context: str = "") -> Path | None:
    """Write `exc`'s traceback to a new file and return its path (None when even that fails:
    the caller then says the details could not be kept)."""
    folder = details_dir()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = folder / f"error-{stamp}-{os.getpid()}.log"
    text = "".join(traceback.format_exception(exc))
    body = f"sagewiz error details, {datetime.now(UTC).isoformat(timespec='seconds')}\n"
    if context:
        body += f"while: {context}\n"
    body += "\n" + text
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, body.encode("utf-8", "backslashreplace"))
        finally:
            os.close(fd)
        _prune(folder, "error-*.log")
    except OSError:
        return None
    return path


def _prune(folder: Path, pattern: str) -> None:
    logs = sorted(folder.glob(pattern))  # the names start with the time they were written
    for old in logs[:-KEEP]:
        with contextlib.suppress(OSError):
            old.unlink()


def write_text(name: str, text: str) -> Path | None:
    """Keep `text` (an AWS error a command hit) in a 0600 file for the doctor to read."""
    folder = details_dir()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = folder / f"{name}-{stamp}-{os.getpid()}.txt"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, text.encode("utf-8", "backslashreplace"))
        finally:
            os.close(fd)
        _prune(folder, f"{name}-*.txt")
    except OSError:
        return None
    return path
