from __future__ import annotations

from pathlib import Path

import pytest

from services.sync.hash_cache import HashCache


@pytest.fixture
def cache(tmp_path: Path) -> HashCache:
    return HashCache(tmp_path / "hash-cache.json")


@pytest.fixture
def small_multipart(monkeypatch: pytest.MonkeyPatch) -> int:
    """Shrink the multipart threshold so a test file of ~11 MB goes up in 5 MiB parts (S3's minimum)."""
    import services.sync.parts as parts

    mib = 1024 * 1024
    monkeypatch.setattr(parts, "MULTIPART_THRESHOLD", 6 * mib)
    monkeypatch.setattr(parts, "PART_SIZE", 5 * mib)
    return 5 * mib


def make_tree(root: Path) -> dict[str, bytes]:
    """Nested folders and unusual file names."""
    files = {
        "top.txt": b"top level\n",
        "a b/with space.jpg": b"\xff\xd8jpeg-ish" * 50,
        "a b/ünïcödé ✓.png": b"png" * 300,
        "deep/1/2/3/4/leaf.csv": b"x,y\n1,2\n",
        "odd/hash#and%percent+plus=eq&amp.txt": b"odd",
        "odd/quote'and(paren).txt": b"q",
        "empty/zero.bin": b"",
    }
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return files
