"""Deciding what to copy: list both sides, compare sizes and ETags, and say it as a plan.

`plan_sync` lists through botocore; `quick_plan` lists through the stdlib client in `quick_client`,
so a no-op rerun of the command line never loads botocore."""

from __future__ import annotations

import os
import stat as stat_mod
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.s3uri import S3Uri
from services.sync.errors import as_error
from services.sync.files import FileFailure, RemoteObject, SourceFile
from services.sync.formatting import human_bytes
from services.sync.hash_cache import HashCache, local_etag
from services.sync.locations import Location, check_overlap
from services.sync.parts import candidate_part_sizes, is_md5_etag, part_size_for
from services.sync.quick_client import QuickTarget, quick_list
from services.sync.transfer_client import DEFAULT_WORKERS, transfer_client


@dataclass(frozen=True)
class SyncPlan:
    source: Location
    dest: S3Uri
    to_copy: tuple[SourceFile, ...]
    skipped: tuple[SourceFile, ...]
    problems: tuple[FileFailure, ...] = ()  # files that cannot be copied at all (bad name, unreadable)

    @property
    def bytes_to_copy(self) -> int:
        return sum(f.size for f in self.to_copy)

    @property
    def nothing_to_do(self) -> bool:
        return not self.to_copy and not self.problems

    def render_text(self, limit: int = 20) -> str:
        how = "server-side copy" if not self.source.is_local else "upload"
        lines = [
            f"Sync {self.source.text} -> {self.dest.uri} ({how})",
            f"  to copy: {len(self.to_copy)} file(s), {human_bytes(self.bytes_to_copy)}",
            f"  unchanged (skipped): {len(self.skipped)} file(s)",
        ]
        for f in self.to_copy[:limit]:
            lines.append(f"  copy  {f.rel}  ({human_bytes(f.size)})")
        if len(self.to_copy) > limit:
            lines.append(f"  ... and {len(self.to_copy) - limit} more")
        for p in self.problems:
            lines.append(f"  cannot copy {p.rel}: {p.reason}")
        return "\n".join(lines)


def unchanged(f: SourceFile, remote: RemoteObject, cache: HashCache | None) -> bool:
    """Same size and same content by ETag. An ETag that is not an MD5 (SSE-KMS) cannot be compared:
    the file is copied again rather than guessed."""
    if f.size != remote.size:
        return False
    etag = remote.etag.strip('"').lower()
    if f.path is None:  # S3 source: compare the two ETags S3 computed
        return f.etag is not None and f.etag != "" and f.etag.strip('"').lower() == etag
    if not is_md5_etag(etag):
        return False
    try:
        if "-" in etag:
            parts = int(etag.split("-", 1)[1])
            return any(local_etag(f, f"mp:{ps}", cache) == etag for ps in candidate_part_sizes(f.size, parts))
        return local_etag(f, "md5", cache) == etag
    except (OSError, ValueError):
        return False


def scan_local(root: Path) -> tuple[list[SourceFile], list[FileFailure]]:
    """Every regular file under root (following file symlinks, not folder symlinks), sorted."""
    files: list[SourceFile] = []
    problems: list[FileFailure] = []
    stack = [(str(root), "")]
    while stack:
        folder, rel_prefix = stack.pop()
        try:
            it = os.scandir(folder)
        except OSError as exc:
            problems.append(FileFailure(rel_prefix or ".", f"folder not readable: {exc.strerror}"))
            continue
        with it:
            for entry in it:
                rel = rel_prefix + entry.name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((entry.path, rel + "/"))
                        continue
                    if not entry.is_file():
                        continue
                    st = entry.stat()
                except OSError as exc:
                    problems.append(FileFailure(rel, f"cannot read its details: {exc.strerror}"))
                    continue
                if not stat_mod.S_ISREG(st.st_mode):
                    continue
                try:
                    rel.encode("utf-8")
                except UnicodeEncodeError:
                    problems.append(
                        FileFailure(
                            rel.encode("utf-8", "replace").decode(),
                            "the file name is not valid UTF-8, which S3 keys require",
                        )
                    )
                    continue
                files.append(
                    SourceFile(
                        rel,
                        st.st_size,
                        path=entry.path,
                        sig=(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino),
                    )
                )
    files.sort(key=lambda f: f.rel)
    return files, problems


def list_s3(client: Any, uri: S3Uri, *, account: str | None = None) -> Iterator[RemoteObject]:
    """Every object under the prefix (ListObjectsV2, 1,000 a page)."""
    kwargs: dict[str, Any] = {"Bucket": uri.bucket, "Prefix": uri.prefix}
    if account:
        kwargs["ExpectedBucketOwner"] = account
    for page in client.get_paginator("list_objects_v2").paginate(**kwargs):
        for obj in page.get("Contents", []):
            yield RemoteObject(obj["Key"], int(obj["Size"]), str(obj.get("ETag", "")).strip('"'))


def build_plan(
    source: Location,
    dest: S3Uri,
    files: list[SourceFile],
    existing: dict[str, RemoteObject],
    cache: HashCache | None,
    problems: list[FileFailure] | None = None,
    workers: int = 4,
) -> SyncPlan:
    """Decide copy or skip for each file. Hashing (only for same-size candidates) runs in threads:
    hashlib releases the GIL on large buffers."""
    problems = list(problems or [])
    candidates: list[tuple[SourceFile, RemoteObject]] = []
    to_copy: list[SourceFile] = []
    ok_files = []
    for f in files:
        key = dest.prefix + f.rel
        if len(key.encode("utf-8")) > 1024:
            problems.append(FileFailure(f.rel, "the S3 key would be longer than 1,024 bytes"))
            continue
        ok_files.append(f)
        remote = existing.get(key)
        if remote is not None and remote.size == f.size:
            candidates.append((f, remote))
    same: set[str] = set()
    if candidates:
        needs_io = [c for c in candidates if c[0].path is not None and not _cached(c, cache)]
        if len(needs_io) > 8:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                verdicts = list(pool.map(lambda c: unchanged(c[0], c[1], cache), candidates))
        else:
            verdicts = [unchanged(f, r, cache) for f, r in candidates]
        same = {f.rel for (f, _), v in zip(candidates, verdicts, strict=True) if v}
    skipped = [f for f in ok_files if f.rel in same]
    to_copy = [f for f in ok_files if f.rel not in same]
    return SyncPlan(source, dest, tuple(to_copy), tuple(skipped), tuple(problems))


def _cached(c: tuple[SourceFile, RemoteObject], cache: HashCache | None) -> bool:
    f, remote = c
    if cache is None or f.path is None or f.sig is None:
        return False
    etag = remote.etag.strip('"')
    scheme = "md5" if "-" not in etag else f"mp:{part_size_for(f.size)}"
    return cache.get(f.path, f.sig, scheme) is not None


def plan_sync(
    factory: Any,
    source: Location,
    dest: S3Uri,
    *,
    cache: HashCache | None = None,
    account: str | None = None,
    existing: dict[str, RemoteObject] | None = None,
    workers: int = DEFAULT_WORKERS,
) -> SyncPlan:
    """List both sides and decide what to copy. Raises AccessDeniedError (with details["denied"])."""
    check_overlap(source, dest)
    client = transfer_client(factory, workers)
    if existing is None:
        try:
            existing = {o.key: o for o in list_s3(client, dest, account=account)}
        except Exception as exc:
            raise as_error(exc, "s3:ListBucket", dest.bucket, None, "ListObjectsV2") from exc
    problems: list[FileFailure] = []
    if source.is_local:
        assert source.path is not None
        files, problems = scan_local(source.path)
    else:
        assert source.s3 is not None
        src = source.s3
        try:
            files = [
                SourceFile(o.key[len(src.prefix) :], o.size, key=o.key, etag=o.etag)
                for o in list_s3(client, src)
                if not o.key.endswith("/")  # "folder" placeholder objects
            ]
        except Exception as exc:
            raise as_error(exc, "s3:ListBucket", src.bucket, None, "ListObjectsV2") from exc
    return build_plan(source, dest, files, existing, cache, problems)


def quick_plan(
    t: QuickTarget, source: Location, dest: S3Uri, cache: HashCache | None
) -> tuple[SyncPlan, dict[str, RemoteObject]]:
    """The whole plan without botocore. Returns it with the destination listing for reuse."""
    check_overlap(source, dest)
    existing = quick_list(t, dest)
    problems: list[FileFailure] = []
    if source.is_local:
        assert source.path is not None
        files, problems = scan_local(source.path)
    else:
        assert source.s3 is not None
        src = source.s3
        files = [
            SourceFile(o.key[len(src.prefix) :], o.size, key=o.key, etag=o.etag)
            for o in quick_list(t, src).values()
            if not o.key.endswith("/")
        ]
        files.sort(key=lambda f: f.rel)
    return build_plan(source, dest, files, existing, cache, problems), existing
