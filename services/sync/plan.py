"""Deciding what to copy: list both sides (one paginated listing each), decide copy or skip for each
file (see `compare`), and say it as a plan, with the multipart uploads left open at the destination."""

from __future__ import annotations

import os
import stat as stat_mod
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.s3uri import S3Uri
from services.sync.compare import recorded, unchanged
from services.sync.errors import as_error
from services.sync.files import FileFailure, OpenUpload, RemoteObject, SourceFile
from services.sync.formatting import human_bytes, shown_name
from services.sync.hash_cache import HashCache
from services.sync.locations import Location, check_overlap
from services.sync.transfer_client import DEFAULT_WORKERS, transfer_client

MAX_KEY_BYTES = 1024


@dataclass(frozen=True)
class SyncPlan:
    source: Location
    dest: S3Uri
    to_copy: tuple[SourceFile, ...]
    skipped: tuple[SourceFile, ...]
    problems: tuple[FileFailure, ...] = ()  # files that cannot be copied at all (bad name, unreadable)
    open_uploads: tuple[OpenUpload, ...] = ()  # left open under the prefix: resumed or aborted

    @property
    def bytes_to_copy(self) -> int:
        return sum(f.size for f in self.to_copy)

    @property
    def nothing_to_do(self) -> bool:
        return not self.to_copy and not self.problems and not self.open_uploads

    def render_text(self, limit: int = 20) -> str:
        how = "server-side copy" if not self.source.is_local else "upload"
        lines = [
            f"Sync {self.source.text} -> {self.dest.uri} ({how})",
            f"  to copy: {len(self.to_copy)} file(s), {human_bytes(self.bytes_to_copy)}",
            f"  unchanged (skipped): {len(self.skipped)} file(s)",
        ]
        if self.open_uploads:
            lines.append(
                f"  open multipart uploads left by an earlier run: {len(self.open_uploads)}"
                " (resumed where they match a file to copy, otherwise aborted)"
            )
        for f in self.to_copy[:limit]:
            lines.append(f"  copy  {shown_name(f.rel)}  ({human_bytes(f.size)})")
        if len(self.to_copy) > limit:
            lines.append(f"  ... and {len(self.to_copy) - limit} more")
        for p in self.problems:
            lines.append(f"  cannot copy {shown_name(p.rel)}: {p.reason}")
        return "\n".join(lines)


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
    """Every object under the prefix (ListObjectsV2, 1,000 a page). botocore asks for
    encoding-type=url and decodes the keys, so CR, LF and other control characters survive the XML."""
    kwargs: dict[str, Any] = {"Bucket": uri.bucket, "Prefix": uri.prefix}
    if account:
        kwargs["ExpectedBucketOwner"] = account
    for page in client.get_paginator("list_objects_v2").paginate(**kwargs):
        for obj in page.get("Contents", []):
            yield RemoteObject(
                obj["Key"],
                int(obj["Size"]),
                str(obj.get("ETag", "")).strip('"'),
                tuple(str(a) for a in obj.get("ChecksumAlgorithm", ())),
            )


def list_open_uploads(client: Any, dest: S3Uri, *, account: str | None = None) -> tuple[OpenUpload, ...]:
    """Multipart uploads left open under the prefix (keys url-encoded on the wire, as for the listing)."""
    from urllib.parse import unquote

    kwargs: dict[str, Any] = {"Bucket": dest.bucket, "Prefix": dest.prefix, "EncodingType": "url"}
    if account:
        kwargs["ExpectedBucketOwner"] = account
    out = []
    for page in client.get_paginator("list_multipart_uploads").paginate(**kwargs):
        encoded = page.get("EncodingType") == "url"
        for up in page.get("Uploads", []):
            key = unquote(up["Key"]) if encoded else up["Key"]
            out.append(
                OpenUpload(
                    key,
                    str(up["UploadId"]),
                    str(up.get("Initiated", "")),
                    str(up.get("ChecksumAlgorithm") or ""),
                )
            )
    return tuple(out)


def build_plan(
    client: Any,
    source: Location,
    dest: S3Uri,
    files: list[SourceFile],
    existing: dict[str, RemoteObject],
    cache: HashCache | None,
    problems: list[FileFailure] | None = None,
    workers: int = 4,
    account: str | None = None,
    open_uploads: tuple[OpenUpload, ...] = (),
) -> SyncPlan:
    """Decide copy or skip for each file. Files the cache's record answers cost nothing; the others
    (a HEAD, a hash) run in threads: hashlib and zlib release the GIL on large buffers."""
    problems = list(problems or [])
    src_bucket = source.s3.bucket if source.s3 is not None else None
    candidates: list[tuple[SourceFile, RemoteObject]] = []
    ok_files = []
    same: set[str] = set()
    for f in files:
        key = dest.prefix + f.rel
        if len(key.encode("utf-8")) > MAX_KEY_BYTES:
            problems.append(FileFailure(f.rel, "the S3 key would be longer than 1,024 bytes"))
            continue
        ok_files.append(f)
        remote = existing.get(key)
        if remote is None or remote.size != f.size:
            continue
        if recorded(f, remote, dest.bucket, src_bucket, cache):
            same.add(f.rel)
        else:
            candidates.append((f, remote))

    def check(c: tuple[SourceFile, RemoteObject]) -> bool:
        return unchanged(client, c[0], c[1], dest.bucket, src_bucket, cache, account)

    if len(candidates) > 8:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            verdicts = list(pool.map(check, candidates))
    else:
        verdicts = [check(c) for c in candidates]
    same |= {f.rel for (f, _), v in zip(candidates, verdicts, strict=True) if v}
    skipped = [f for f in ok_files if f.rel in same]
    to_copy = [f for f in ok_files if f.rel not in same]
    return SyncPlan(source, dest, tuple(to_copy), tuple(skipped), tuple(problems), open_uploads)


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
    client = transfer_client(factory, workers).s3
    if existing is None:
        try:
            existing = {o.key: o for o in list_s3(client, dest, account=account)}
        except Exception as exc:
            raise as_error(exc, "s3:ListBucket", dest.bucket, None, "ListObjectsV2") from exc
    try:
        uploads = list_open_uploads(client, dest, account=account)
    except Exception:
        # s3:ListBucketMultipartUploads is often not granted to a job role; without it the copy still
        # works, only the clean-up of an earlier killed run is left to the bucket's lifecycle rule.
        uploads = ()
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
    return build_plan(
        client, source, dest, files, existing, cache, problems, account=account, open_uploads=uploads
    )
