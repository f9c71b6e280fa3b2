"""What the sync remembers between runs: local content hashes and what it sent where.

- Hashes are cached by (path, size, mtime, ctime, inode), so an unchanged rerun reads no file.
- A "sent" record says: this destination key got these source bytes and S3 answered this ETag. A
  rerun whose listing shows the same size and ETag at that key skips the file without a HEAD or a
  hash (the ETag is opaque here: under SSE-KMS it is no MD5, but it still changes when the object
  is replaced).

The file lists local paths, so it is written 0600 inside a 0700 folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path
from typing import Any

Sig = tuple[int, int, int, int]  # (size, mtime_ns, ctime_ns, inode) of a local file


class HashCache:
    """ctime cannot be set by a user, so a file rewritten with a faked mtime still misses the cache."""

    VERSION = 2
    MAX_ENTRIES = 200_000

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._data: dict[str, list[Any]] = {}
        self._sent: dict[str, list[Any]] = {}
        self._dirty = False
        if path is not None:
            try:
                raw = json.loads(path.read_text("utf-8"))
                if raw.get("version") == self.VERSION:
                    entries, sent = raw.get("entries", {}), raw.get("sent", {})
                    if isinstance(entries, dict) and isinstance(sent, dict):
                        self._data, self._sent = entries, sent
            except (OSError, ValueError, AttributeError):
                self._data, self._sent = {}, {}

    @classmethod
    def default(cls) -> HashCache:
        from services.journal import default_path

        return cls(default_path().parent / "hash-cache.json")

    def get(self, path: str, sig: Sig, scheme: str) -> str | None:
        with self._lock:
            entry = self._data.get(path)
        if not isinstance(entry, list) or len(entry) != 2 or tuple(entry[0]) != sig:
            return None
        value = entry[1].get(scheme) if isinstance(entry[1], dict) else None
        return value if isinstance(value, str) else None  # read back from disk: trust no shape

    def put(self, path: str, sig: Sig, scheme: str, value: str) -> None:
        with self._lock:
            entry = self._data.get(path)
            if not isinstance(entry, list) or len(entry) != 2 or tuple(entry[0]) != sig:
                entry = [list(sig), {}]
                self._data[path] = entry
            entry[1][scheme] = value
            self._dirty = True

    def sent(self, dest: str, source: str) -> str | None:
        """The ETag S3 answered when `source` (see `source_id`) was sent to `dest`, if that is the
        last thing sent there."""
        with self._lock:
            rec = self._sent.get(dest)
        if isinstance(rec, list) and len(rec) == 2 and rec[0] == source and isinstance(rec[1], str):
            return rec[1]
        return None

    def record_sent(self, dest: str, source: str, etag: str) -> None:
        with self._lock:
            self._sent[dest] = [source, etag]
            self._dirty = True

    def save(self) -> None:
        if self.path is None or not self._dirty:
            return
        with self._lock:
            entries, sent = self._data, self._sent
            if len(entries) > self.MAX_ENTRIES:
                entries = dict(list(entries.items())[-self.MAX_ENTRIES :])
            if len(sent) > self.MAX_ENTRIES:
                sent = dict(list(sent.items())[-self.MAX_ENTRIES :])
            text = json.dumps(
                {"version": self.VERSION, "entries": entries, "sent": sent}, separators=(",", ":")
            )
            self._dirty = False
        with contextlib.suppress(OSError):  # a cache that cannot be written only costs speed next time
            write_private(self.path, text)


def write_private(path: Path, text: str) -> None:
    """Write a state file readable by its owner only: 0600 in a 0700 folder, replaced atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkdir's mode is masked by umask, and the folder may be older; if it is not ours to change,
    # the file itself is still 0600
    with contextlib.suppress(OSError):
        os.chmod(path.parent, 0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def local_source_id(path: str, sig: Sig) -> str:
    return f"file:{path}:{sig[0]}:{sig[1]}:{sig[2]}:{sig[3]}"


def s3_source_id(bucket: str, key: str, etag: str) -> str:
    return f"s3:{bucket}/{key}:{etag}"


def dest_id(bucket: str, key: str) -> str:
    return f"{bucket}/{key}"
