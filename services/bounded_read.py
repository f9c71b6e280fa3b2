"""Reading a file a user named (a configuration, an error text): only a regular file, only up to a
stated size. A symlink to /dev/zero, a FIFO or a 20 GB file is refused at once instead of being
read until memory runs out."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from services.errors import ValidationError
from services.terminal_text import echo


def open_regular_file(path: Path | str, what: str) -> BinaryIO:
    """`path` opened for reading when it is a regular file; else a ValidationError naming `what`
    and why. The caller reads it (in chunks, or bounded) and closes it."""
    shown = echo(str(path), 200)
    if not str(path):
        raise ValidationError(what, "the file name is empty", "Give the path of a file.")
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ValidationError(what, f"{shown} does not exist", "Check the path.") from None
    except OSError as exc:
        raise ValidationError(what, f"{shown} cannot be read ({exc.strerror or exc})") from None
    except ValueError:  # a NUL in the path
        raise ValidationError(what, f"{shown} is not a file name (it holds a NUL character)") from None
    fh = os.fdopen(fd, "rb")
    info = os.fstat(fh.fileno())
    if not stat.S_ISREG(info.st_mode):
        fh.close()
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a device, pipe or socket)"
        raise ValidationError(what, f"{shown} is {kind}", "Give the path of a regular file.")
    return fh


def read_regular_file(path: Path | str, limit: int, what: str) -> bytes:
    """The bytes of `path` when it is a regular file of at most `limit` bytes; else a
    ValidationError naming `what` (e.g. "configuration file") and why."""
    shown = echo(str(path), 200)
    with open_regular_file(path, what) as fh:
        if os.fstat(fh.fileno()).st_size > limit:
            raise ValidationError(what, f"{shown} is {os.fstat(fh.fileno()).st_size:,} bytes; at most {limit:,} are read",
                                  "Give a smaller file.")  # fmt: skip
        data = fh.read(limit + 1)
    if len(data) > limit:  # it grew while being read
        raise ValidationError(what, f"{shown} is more than {limit:,} bytes", "Give a smaller file.")
    return data


def read_stream(stream: BinaryIO, limit: int) -> tuple[bytes, bool]:
    """At most `limit` bytes of `stream` (stdin), and whether more followed (then cut there)."""
    data = stream.read(limit + 1)
    return data[:limit], len(data) > limit
