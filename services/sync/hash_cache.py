"""Local content hashes (the ETag S3 would give a file), cached so an unchanged rerun reads no file."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from services.sync.files import SourceFile
from services.sync.parts import MiB, multipart_etag


class HashCache:
    """Local content hashes keyed by (size, mtime, ctime, inode), so unchanged files are not re-read.
    ctime cannot be set by a user, so a file rewritten with a faked mtime still misses the cache."""

    VERSION = 1
    MAX_ENTRIES = 200_000

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._data: dict[str, list[Any]] = {}
        self._dirty = False
        if path is not None:
            try:
                raw = json.loads(path.read_text("utf-8"))
                if raw.get("version") == self.VERSION:
                    self._data = raw.get("entries", {})
            except (OSError, ValueError, AttributeError):
                self._data = {}

    @classmethod
    def default(cls) -> HashCache:
        from services.journal import default_path

        return cls(default_path().parent / "hash-cache.json")

    def get(self, path: str, sig: tuple[int, int, int, int], scheme: str) -> str | None:
        with self._lock:
            entry = self._data.get(path)
        if not entry or tuple(entry[0]) != sig:
            return None
        value = entry[1].get(scheme)
        return value if isinstance(value, str) else None  # read back from disk: trust no shape

    def put(self, path: str, sig: tuple[int, int, int, int], scheme: str, value: str) -> None:
        with self._lock:
            entry = self._data.get(path)
            if not entry or tuple(entry[0]) != sig:
                entry = [list(sig), {}]
                self._data[path] = entry
            entry[1][scheme] = value
            self._dirty = True

    def save(self) -> None:
        if self.path is None or not self._dirty:
            return
        with self._lock:
            entries = self._data
            if len(entries) > self.MAX_ENTRIES:
                entries = dict(list(entries.items())[-self.MAX_ENTRIES :])
            text = json.dumps({"version": self.VERSION, "entries": entries}, separators=(",", ":"))
            self._dirty = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(text, "utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # a cache that cannot be written only costs speed next time


def local_etag(f: SourceFile, scheme: str, cache: HashCache | None) -> str:
    """The ETag S3 would give this file: scheme "md5" (single part) or "mp:<part size>"."""
    assert f.path is not None and f.sig is not None
    if cache is not None:
        hit = cache.get(f.path, f.sig, scheme)
        if hit:
            return hit
    if scheme == "md5":
        h = hashlib.md5()
        with open(f.path, "rb") as fh:
            for chunk in iter(lambda: fh.read(4 * MiB), b""):
                h.update(chunk)
        value = h.hexdigest()
    else:
        psize = int(scheme.split(":", 1)[1])
        digests = []
        with open(f.path, "rb") as fh:
            while True:
                part = fh.read(psize)
                if not part:
                    break
                digests.append(hashlib.md5(part).digest())
        value = multipart_etag(digests) if digests else hashlib.md5(b"").hexdigest()
    if cache is not None:
        cache.put(f.path, f.sig, scheme, value)
    return value
