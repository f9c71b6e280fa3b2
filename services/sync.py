"""The sync engine: a local folder or an s3:// prefix into an s3:// prefix, fast, resumable, cancellable.

- S3 to S3 is a server-side copy (CopyObject; UploadPartCopy above 5 GiB): no bytes pass through here.
- Local files are read once, hashed while read (MD5, the hash S3 puts in a single-part ETag) and sent
  as bytes (no `Expect: 100-continue` round trip); files above the multipart threshold go up in parts
  in parallel, every part checked against the ETag S3 returns.
- A file is skipped when the destination has the same size and the same ETag: the MD5 for single-part
  objects, the multipart scheme (MD5 of the part MD5s, `-N`) for multipart ones. Local hashes are cached
  by (path, size, mtime, ctime, inode), so an unchanged rerun reads no file contents.
- A multipart upload only becomes an object when completed, and a single PUT is atomic, so an
  interrupted copy never leaves a partial object under its final key. On cancel, open multipart uploads
  are aborted; after a crash they are picked up again (parts already sent are checked and reused).
- Progress is reported as files, bytes, rate and time left; cancel with a threading.Event.

A no-op rerun should cost one LIST request: `quick_check` lists with a small hand-written SigV4
signer (stdlib only) so the command line can answer "nothing to copy" without loading botocore.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat as stat_mod
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from services.denied import DeniedCall
from services.errors import (
    AccessDeniedError,
    NotFoundError,
    SagewizError,
    ValidationError,
    translate,
)
from services.s3uri import S3Uri, is_s3_uri, parse_s3_uri

MiB = 1024 * 1024
# Multipart from 100 MiB (AWS's guidance; rclone's cutoff is 200 MiB): below it one PUT is one
# request and no server-side reassembly, which measured fastest. Up to 8 MiB a file is read into
# memory and sent as bytes; above, it is streamed from disk.
MULTIPART_THRESHOLD = 100 * MiB
IN_MEMORY_MAX = 8 * MiB
STREAM_CHUNK = 1 * MiB
MIN_PART = 16 * MiB
MAX_PART = 32 * MiB
MAX_PARTS = 10_000
MAX_COPY_OBJECT = 5 * 1024 * MiB  # CopyObject's limit; above it, UploadPartCopy
COPY_PART = 512 * MiB
DEFAULT_WORKERS = 10

ProgressCallback = Callable[["SyncProgress"], None]


# -- locations --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    """A sync source: a local folder or an S3 prefix."""

    kind: str  # "local" | "s3"
    text: str
    path: Path | None = None
    s3: S3Uri | None = None

    @property
    def is_local(self) -> bool:
        return self.kind == "local"


def parse_source(text: str) -> Location:
    """Validate the source without any AWS call."""
    raw = text.strip()
    if not raw:
        raise ValidationError("source", "It is empty.", "Give a folder or an s3:// prefix.")
    if is_s3_uri(raw) or raw.lower().startswith(("s3:", "http://", "https://", "arn:")):
        return Location("s3", raw, s3=parse_s3_uri(raw, "source").as_prefix())
    path = Path(raw).expanduser()
    if not path.exists():
        raise ValidationError(
            "source",
            f"The folder {raw} does not exist.",
            "Check the path (relative paths start from the current folder).",
        )
    if not path.is_dir():
        raise ValidationError(
            "source", f"{raw} is a file, not a folder.", "Give the folder that holds the files."
        )
    if not os.access(path, os.R_OK | os.X_OK):
        raise ValidationError(
            "source",
            f"The folder {raw} is not readable by you.",
            "Fix its permissions (chmod u+rx) or run as its owner.",
        )
    return Location("local", raw, path=path.resolve())


def parse_destination(text: str) -> S3Uri:
    raw = text.strip()
    if raw and not is_s3_uri(raw) and not raw.lower().startswith(("http://", "https://", "arn:")):
        raise ValidationError(
            "destination",
            f"'{raw}' is not an s3:// prefix.",
            "The destination must be S3, e.g. s3://my-sagemaker-bucket/data/",
        )
    return parse_s3_uri(raw, "destination").as_prefix()


# -- data passed around -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceFile:
    rel: str  # the key below the prefix, with "/" separators
    size: int
    path: str | None = None  # local file
    key: str | None = None  # source S3 key
    etag: str | None = None  # source S3 ETag (without quotes)
    sig: tuple[int, int, int, int] | None = None  # (size, mtime_ns, ctime_ns, inode) of a local file


@dataclass(frozen=True)
class RemoteObject:
    key: str
    size: int
    etag: str


@dataclass(frozen=True)
class FileFailure:
    rel: str
    reason: str
    code: str = ""


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


@dataclass(frozen=True)
class SyncProgress:
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    elapsed: float
    rate: float  # bytes a second, recent
    eta: float | None  # seconds left, None until a rate is known
    failed: int = 0
    current: str = ""

    @property
    def fraction(self) -> float:
        if self.bytes_total:
            return min(1.0, self.bytes_done / self.bytes_total)
        return 1.0 if not self.files_total else self.files_done / self.files_total


@dataclass(frozen=True)
class SyncResult:
    plan: SyncPlan
    copied: int
    bytes_copied: int
    failed: tuple[FileFailure, ...]
    cancelled: bool
    elapsed: float
    denied: DeniedCall | None = None
    aborted_uploads: int = 0
    resumed_parts: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled

    @property
    def skipped(self) -> int:
        return len(self.plan.skipped)


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def human_seconds(s: float | None) -> str:
    if s is None:
        return "--:--"
    s = max(0, int(round(s)))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


# -- part sizes and ETags ---------------------------------------------------------------------------


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


def _candidate_part_sizes(size: int, parts: int) -> list[int]:
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


def _is_md5_etag(etag: str) -> bool:
    head = etag.split("-", 1)[0]
    return len(head) == 32 and all(ch in "0123456789abcdef" for ch in head)


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


def unchanged(f: SourceFile, remote: RemoteObject, cache: HashCache | None) -> bool:
    """Same size and same content by ETag. An ETag that is not an MD5 (SSE-KMS) cannot be compared:
    the file is copied again rather than guessed."""
    if f.size != remote.size:
        return False
    etag = remote.etag.strip('"').lower()
    if f.path is None:  # S3 source: compare the two ETags S3 computed
        return f.etag is not None and f.etag != "" and f.etag.strip('"').lower() == etag
    if not _is_md5_etag(etag):
        return False
    try:
        if "-" in etag:
            parts = int(etag.split("-", 1)[1])
            return any(
                local_etag(f, f"mp:{ps}", cache) == etag for ps in _candidate_part_sizes(f.size, parts)
            )
        return local_etag(f, "md5", cache) == etag
    except (OSError, ValueError):
        return False


# -- listing ----------------------------------------------------------------------------------------


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


# -- the transfer client ---------------------------------------------------------------------------


def transfer_client(factory: Any, workers: int) -> Any:
    """An S3 client sized for `workers` parallel requests, from the factory's session and config.
    Checksums are only sent when S3 requires them: the MD5 we compute is checked against the ETag."""
    key = ("sync-s3", workers)
    cache = factory.__dict__.setdefault("_sync_clients", {})
    if key in cache:
        return cache[key]
    cfg = factory.config(
        max_pool_connections=workers + 4,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        tcp_keepalive=True,
    )
    kwargs: dict[str, Any] = {"region_name": factory.region, "config": cfg}
    if factory.target.endpoint_url:
        kwargs["endpoint_url"] = factory.target.endpoint_url
    try:
        client = factory.session.client("s3", **kwargs)
    except Exception as exc:
        raise translate(exc, "create s3 client") from exc
    cache[key] = client
    return client


# -- preflight and planning -----------------------------------------------------------------------


def check_destination(factory: Any, dest: S3Uri, account: str | None = None) -> str:
    """The destination bucket must exist, be reachable and be in the session's region. Returns its region."""
    import botocore.exceptions as bx

    s3 = factory.client("s3")
    kwargs: dict[str, Any] = {"Bucket": dest.bucket}
    if account:
        kwargs["ExpectedBucketOwner"] = account
    try:
        head = s3.head_bucket(**kwargs)
        region: str | None = head.get("BucketRegion") or head["ResponseMetadata"]["HTTPHeaders"].get(
            "x-amz-bucket-region"
        )
    except bx.ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        region = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")
        if status == 404:
            raise NotFoundError(
                "The destination bucket does not exist",
                f"There is no bucket named {dest.bucket}.",
                "Create it first (the Bucket step, or check the name for a typo).",
                code="NoSuchBucket",
                operation="s3:HeadBucket",
            ) from exc
        if status == 403:
            # HEAD carries no reason. A GET-type call needing the same s3:ListBucket tells more (AWS
            # then names the denying policy), and some emulators authorize HEAD differently.
            try:
                listed = s3.list_objects_v2(
                    Bucket=dest.bucket,
                    Prefix=dest.prefix,
                    MaxKeys=1,
                    **({"ExpectedBucketOwner": account} if account else {}),
                )
            except bx.ClientError as exc2:
                raise _denied_error(exc2, "s3:ListBucket", dest.bucket, None, "ListObjectsV2") from exc2
            region = listed["ResponseMetadata"]["HTTPHeaders"].get("x-amz-bucket-region")
        elif status not in (301, 400) or not region:
            raise translate(exc, "s3:HeadBucket") from exc
    except Exception as exc:
        raise translate(exc, "s3:HeadBucket") from exc
    mine: str = factory.region
    if region and mine and region != mine:
        raise ValidationError(
            "destination",
            f"The bucket {dest.bucket} is in {region}, but this session is in {mine}.",
            f"Use a bucket in {mine}, or run with --region {region}. SageMaker jobs read data from their own region.",
        )
    return region or mine


def check_overlap(source: Location, dest: S3Uri) -> None:
    src = source.s3
    if (
        src is not None
        and src.bucket == dest.bucket
        and (dest.prefix.startswith(src.prefix) or src.prefix.startswith(dest.prefix))
    ):
        raise ValidationError(
            "destination",
            "The source and destination prefixes overlap.",
            "Copy into a prefix that is not inside the source (and vice versa).",
        )


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
            raise _as_error(exc, "s3:ListBucket", dest.bucket, None, "ListObjectsV2") from exc
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
            raise _as_error(exc, "s3:ListBucket", src.bucket, None, "ListObjectsV2") from exc
    return build_plan(source, dest, files, existing, cache, problems)


# -- running ---------------------------------------------------------------------------------------


class _Tracker:
    """Counts progress from worker threads and calls back at most every `interval` seconds."""

    def __init__(
        self, plan: SyncPlan, cb: ProgressCallback | None, clock: Callable[[], float], interval: float
    ) -> None:
        self.files_total = len(plan.to_copy)
        self.bytes_total = plan.bytes_to_copy
        self.files_done = 0
        self.bytes_done = 0
        self.failed = 0
        self.cb = cb
        self.clock = clock
        self.interval = interval
        self.start = clock()
        self.last_emit = -1e9
        self.samples: list[tuple[float, int]] = [(self.start, 0)]
        self.lock = threading.Lock()
        self.current = ""

    def add_bytes(self, n: int) -> None:
        with self.lock:
            self.bytes_done += n
        self.emit()

    def file_done(self, rel: str, ok: bool) -> None:
        with self.lock:
            if ok:
                self.files_done += 1
            else:
                self.failed += 1
            self.current = rel
        self.emit()

    def snapshot(self) -> SyncProgress:
        now = self.clock()
        with self.lock:
            self.samples.append((now, self.bytes_done))
            cutoff = now - 5.0  # the rate over the last five seconds follows speed changes
            while len(self.samples) > 2 and self.samples[1][0] < cutoff:
                self.samples.pop(0)
            t0, b0 = self.samples[0]
            rate = (self.bytes_done - b0) / (now - t0) if now > t0 else 0.0
            left = self.bytes_total - self.bytes_done
            eta = left / rate if rate > 0 else (0.0 if left <= 0 else None)
            return SyncProgress(
                self.files_done,
                self.files_total,
                self.bytes_done,
                self.bytes_total,
                now - self.start,
                rate,
                eta,
                self.failed,
                self.current,
            )

    def emit(self, force: bool = False) -> None:
        if self.cb is None:
            return
        now = self.clock()
        if not force and now - self.last_emit < self.interval:
            return
        self.last_emit = now
        self.cb(self.snapshot())


@dataclass
class _Run:
    make_client: Callable[[], Any]  # botocore is only loaded when something needs it
    plan: SyncPlan
    cancel: threading.Event
    tracker: _Tracker
    pool: ThreadPoolExecutor
    account: str | None
    principal_arn: str | None
    cache: HashCache | None
    failures: list[FileFailure] = field(default_factory=list)
    denied: DeniedCall | None = None
    aborted: int = 0
    resumed_parts: int = 0
    light: LightPut | None = None
    open_uploads: dict[str, tuple[str, str]] = field(default_factory=dict)  # rel -> (key, upload id)
    leftovers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # key -> open uploads
    lock: threading.Lock = field(default_factory=threading.Lock)

    _client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            with self.lock:
                if self._client is None:
                    self._client = self.make_client()
        return self._client

    def stop_requested(self) -> bool:
        return self.cancel.is_set() or self.denied is not None

    def note_failure(self, f: SourceFile, reason: str) -> None:
        with self.lock:
            self.failures.append(FileFailure(f.rel, reason))
        self.tracker.file_done(f.rel, ok=False)

    def fail(self, f: SourceFile, exc: BaseException, action: str, operation: str) -> None:
        bucket, key = self.plan.dest.bucket, self.plan.dest.prefix + f.rel
        if action == "s3:GetObject" and self.plan.source.s3 is not None and f.key is not None:
            bucket, key = self.plan.source.s3.bucket, f.key  # the source side was refused
        err = _as_error(exc, action, bucket, key, operation, self.principal_arn)
        with self.lock:
            self.failures.append(
                FileFailure(f.rel, f"{err.title}: {err.message}".strip(": "), err.code or "")
            )
            if isinstance(err, AccessDeniedError) and self.denied is None:
                # every other file would meet the same wall: stop and hand it to the doctor
                self.denied = err.details.get("denied")
        self.tracker.file_done(f.rel, ok=False)

    def owner(self) -> dict[str, str]:
        return {"ExpectedBucketOwner": self.account} if self.account else {}


def run_sync(
    factory: Any,
    plan: SyncPlan,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    workers: int = DEFAULT_WORKERS,
    account: str | None = None,
    principal_arn: str | None = None,
    cache: HashCache | None = None,
    clock: Callable[[], float] = time.monotonic,
    interval: float = 0.1,
    light: bool = True,
    quick: QuickTarget | None = None,
) -> SyncResult:
    """Copy what the plan says. Never raises for a single file: failures are listed in the result.
    With `quick` (static keys from the environment) small uploads are signed here and botocore is
    only loaded if something needs it (a multipart upload, a copy, an error to report)."""
    cancel = cancel or threading.Event()
    tracker = _Tracker(plan, on_progress, clock, interval)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sagewiz-sync") as pool:
        run = _Run(
            lambda: transfer_client(factory, workers),
            plan,
            cancel,
            tracker,
            pool,
            account,
            principal_arn,
            cache,
        )
        if plan.source.is_local and light:
            run.light = LightPut.for_quick(quick) if quick is not None else LightPut.for_factory(factory)
        if plan.source.is_local and any(uses_multipart(f.size) for f in plan.to_copy):
            run.leftovers = _open_uploads(run.client, plan.dest)
        small = [f for f in plan.to_copy if not _is_big(plan, f)]
        big = [f for f in plan.to_copy if _is_big(plan, f)]
        futures: list[Future[None]] = []
        # Big files first: their parts keep every worker busy while the small ones fill the gaps.
        coordinators = ThreadPoolExecutor(
            max_workers=max(1, min(4, len(big))), thread_name_prefix="sagewiz-mpu"
        )
        with coordinators:
            for f in big:
                futures.append(coordinators.submit(_big_file, run, f))
            for f in small:
                futures.append(pool.submit(_small_file, run, f))
            for fut in futures:
                fut.result()
    tracker.emit(force=True)
    if cache is not None:
        cache.save()
    failures = list(run.failures)
    return SyncResult(
        plan,
        tracker.files_done,
        tracker.bytes_done,
        tuple(sorted(failures, key=lambda x: x.rel)),
        cancelled=cancel.is_set(),
        elapsed=clock() - tracker.start,
        denied=run.denied,
        aborted_uploads=run.aborted,
        resumed_parts=run.resumed_parts,
    )


def _is_big(plan: SyncPlan, f: SourceFile) -> bool:
    return f.size > MAX_COPY_OBJECT if not plan.source.is_local else uses_multipart(f.size)


def _content_type(rel: str) -> str | None:
    import mimetypes

    return mimetypes.guess_type(rel, strict=False)[0]


def _small_file(run: _Run, f: SourceFile) -> None:
    if run.stop_requested():
        return
    key = run.plan.dest.prefix + f.rel
    if f.path is None:  # S3 to S3: server-side copy, nothing passes through here
        src = run.plan.source.s3
        assert src is not None and f.key is not None
        try:
            run.client.copy_object(
                Bucket=run.plan.dest.bucket,
                Key=key,
                CopySource={"Bucket": src.bucket, "Key": f.key},
                **run.owner(),
            )
        except Exception as exc:
            run.fail(f, exc, _copy_action(exc), "CopyObject")
            return
        run.tracker.add_bytes(f.size)
        run.tracker.file_done(f.rel, ok=True)
        return
    if f.size > IN_MEMORY_MAX and run.light is not None and run.light.streams:
        try:
            got = run.light.put_file(
                run.plan.dest.bucket, key, f.path, f.size, _content_type(f.rel), run.account
            )
        except _FileChanged:
            run.note_failure(f, "the file changed while it was being copied; run again")
            return
        except OSError as exc:
            run.note_failure(f, f"cannot read the file: {exc.strerror}")
            return
        if got is not None:
            _finish_put(run, f, *got)
            return
    held = 0
    try:
        if f.size <= IN_MEMORY_MAX or (run.light is not None and _MEMORY.try_take(f.size)):
            # Into memory: hashed and sent in one piece. Above 8 MiB only within a shared budget.
            held = f.size if f.size > IN_MEMORY_MAX else 0
            with open(f.path, "rb") as fh:
                data: bytes | None = fh.read()
            assert data is not None
            if len(data) != f.size:
                _MEMORY.give_back(held)
                run.note_failure(f, "the file changed while it was being copied; run again")
                return
            md5 = hashlib.md5(data).hexdigest()
        else:
            data = None  # streamed from the file: memory stays flat however many workers run
            md5 = _md5_of(f.path)
    except OSError as exc:
        _MEMORY.give_back(held)
        run.note_failure(f, f"cannot read the file: {exc.strerror}")
        return
    try:
        _put_file(run, f, key, data, md5)
    finally:
        _MEMORY.give_back(held)


def _put_file(run: _Run, f: SourceFile, key: str, data: bytes | None, md5: str) -> None:
    assert f.path is not None
    ctype = _content_type(f.rel)
    etag = None
    if data is not None and run.light is not None:
        etag = run.light.put(run.plan.dest.bucket, key, data, ctype, run.account)
    if etag is None:  # the botocore path: retries, and every error said properly
        extra: dict[str, Any] = dict(run.owner())
        if ctype:
            extra["ContentType"] = ctype
        try:
            if data is not None:
                resp = run.client.put_object(Bucket=run.plan.dest.bucket, Key=key, Body=data, **extra)
            else:
                with open(f.path, "rb") as fh:
                    resp = run.client.put_object(Bucket=run.plan.dest.bucket, Key=key, Body=fh, **extra)
        except Exception as exc:
            run.fail(f, exc, "s3:PutObject", "PutObject")
            return
        etag = str(resp.get("ETag", "")).strip('"')
    _finish_put(run, f, etag, md5)


def _finish_put(run: _Run, f: SourceFile, etag: str, md5: str) -> None:
    """Check what S3 stored against the local MD5, remember the hash, count the file."""
    if _is_md5_etag(etag) and etag != md5:
        run.note_failure(f, f"S3 stored different bytes (ETag {etag}, local MD5 {md5}); run again")
        return
    if run.cache is not None and f.sig is not None and f.path is not None:
        run.cache.put(f.path, f.sig, "md5", md5)
    run.tracker.add_bytes(f.size)
    run.tracker.file_done(f.rel, ok=True)


class _FileChanged(Exception):
    pass


class _MemoryBudget:
    """Bytes of file bodies held in memory at once by medium-size PUTs, across all workers."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.lock = threading.Lock()

    def try_take(self, n: int) -> bool:
        with self.lock:
            if self.used + n > self.limit:
                return False
            self.used += n
            return True

    def give_back(self, n: int) -> None:
        if n:
            with self.lock:
                self.used -= n


_MEMORY = _MemoryBudget(384 * MiB)


def _md5_of(path: str) -> str:
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(4 * MiB), b""):
            h.update(chunk)
    return h.hexdigest()


def _copy_action(exc: BaseException) -> str:
    """Which side of a server-side copy was refused: the enhanced 403 text names the action."""
    text = str(exc)
    if "s3:GetObject" in text or "source" in text.lower():
        return "s3:GetObject"
    return "s3:PutObject"


def _open_uploads(client: Any, dest: S3Uri) -> dict[str, list[dict[str, Any]]]:
    """Multipart uploads left open under the prefix (a crash or a kill); their parts can be reused."""
    out: dict[str, list[dict[str, Any]]] = {}
    try:
        for page in client.get_paginator("list_multipart_uploads").paginate(
            Bucket=dest.bucket, Prefix=dest.prefix
        ):
            for up in page.get("Uploads", []):
                out.setdefault(up["Key"], []).append(up)
    except Exception:
        return {}  # listing is an optimisation; without it every part is sent again
    return out


def _big_file(run: _Run, f: SourceFile) -> None:
    """Multipart: create (or resume), send parts in parallel on the shared pool, complete or abort."""
    if run.stop_requested():
        return
    bucket, key = run.plan.dest.bucket, run.plan.dest.prefix + f.rel
    local = f.path is not None
    psize = part_size_for(f.size) if local else COPY_PART
    nparts = max(1, math.ceil(f.size / psize))
    upload_id, reuse = _resume_or_create(run, f, key, psize)
    if upload_id is None:
        return
    with run.lock:
        run.open_uploads[f.rel] = (key, upload_id)
    results: dict[int, tuple[bytes | None, str]] = {}
    errors: list[BaseException] = []

    def send(n: int) -> None:
        if run.stop_requested() or errors:
            return
        start = (n - 1) * psize
        length = min(psize, f.size - start)
        try:
            if local:
                assert f.path is not None
                with open(f.path, "rb") as fh:
                    fh.seek(start)
                    data = fh.read(length)
                if len(data) != length:
                    raise OSError(0, "the file changed while it was being copied; run again")
                digest = hashlib.md5(data).digest()
                if n in reuse and reuse[n] == digest.hex():
                    results[n] = (digest, digest.hex())
                    with run.lock:
                        run.resumed_parts += 1
                    run.tracker.add_bytes(length)
                    return
                resp = run.client.upload_part(
                    Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=data, **run.owner()
                )
                etag = str(resp["ETag"]).strip('"')
                if _is_md5_etag(etag) and etag != digest.hex():
                    raise OSError(0, f"part {n} arrived damaged (ETag {etag}); run again")
                results[n] = (digest, etag)
            else:
                src = run.plan.source.s3
                assert src is not None and f.key is not None
                resp = run.client.upload_part_copy(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=n,
                    CopySource={"Bucket": src.bucket, "Key": f.key},
                    CopySourceRange=f"bytes={start}-{start + length - 1}",
                    **run.owner(),
                )
                results[n] = (None, str(resp["CopyPartResult"]["ETag"]).strip('"'))
            run.tracker.add_bytes(length)
        except BaseException as exc:  # collected; the coordinator decides
            errors.append(exc)

    futures = [run.pool.submit(send, n) for n in range(1, nparts + 1)]
    for fut in futures:
        fut.result()
    if errors or run.stop_requested() or len(results) != nparts:
        _abort(run, key, upload_id)
        with run.lock:
            run.open_uploads.pop(f.rel, None)
        if errors:
            exc = errors[0]
            if isinstance(exc, OSError) and not hasattr(exc, "response"):
                run.note_failure(f, exc.strerror or str(exc))
            else:
                run.fail(f, exc, "s3:PutObject" if local else _copy_action(exc), "UploadPart")
        return
    parts = [{"PartNumber": n, "ETag": f'"{results[n][1]}"'} for n in range(1, nparts + 1)]
    try:
        resp = run.client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}, **run.owner()
        )
    except Exception as exc:
        _abort(run, key, upload_id)
        run.fail(f, exc, "s3:PutObject", "CompleteMultipartUpload")
        return
    finally:
        with run.lock:
            run.open_uploads.pop(f.rel, None)
    if local:
        expected = multipart_etag([d for d, _ in (results[n] for n in range(1, nparts + 1)) if d is not None])
        got = str(resp.get("ETag", "")).strip('"')
        if _is_md5_etag(got) and got != expected:
            run.note_failure(f, f"S3 reports ETag {got}, expected {expected}; run again")
            return
        if run.cache is not None and f.sig is not None and f.path is not None:
            run.cache.put(f.path, f.sig, f"mp:{psize}", expected)
    run.tracker.file_done(f.rel, ok=True)


def _resume_or_create(run: _Run, f: SourceFile, key: str, psize: int) -> tuple[str | None, dict[int, str]]:
    """Reuse an open upload of this key whose parts have our part size; else start a new one."""
    bucket = run.plan.dest.bucket
    for up in sorted(run.leftovers.get(key, []), key=lambda u: str(u.get("Initiated", "")), reverse=True):
        try:
            parts: dict[int, str] = {}
            for page in run.client.get_paginator("list_parts").paginate(
                Bucket=bucket, Key=key, UploadId=up["UploadId"]
            ):
                for p in page.get("Parts", []):
                    n, size = int(p["PartNumber"]), int(p["Size"])
                    if size == min(psize, f.size - (n - 1) * psize):
                        parts[n] = str(p["ETag"]).strip('"')
        except Exception:
            continue
        if parts:
            return str(up["UploadId"]), parts
    extra: dict[str, Any] = dict(run.owner())
    ctype = _content_type(f.rel)
    if ctype:
        extra["ContentType"] = ctype
    try:
        out = run.client.create_multipart_upload(Bucket=bucket, Key=key, **extra)
    except Exception as exc:
        run.fail(f, exc, "s3:PutObject", "CreateMultipartUpload")
        return None, {}
    return str(out["UploadId"]), {}


def _abort(run: _Run, key: str, upload_id: str) -> None:
    try:
        run.client.abort_multipart_upload(
            Bucket=run.plan.dest.bucket, Key=key, UploadId=upload_id, **run.owner()
        )
        with run.lock:
            run.aborted += 1
    except Exception:
        pass  # an upload left open is invisible and is resumed or aborted by the next run


# -- errors --------------------------------------------------------------------------------------


def _denied_error(
    exc: BaseException,
    action: str,
    bucket: str,
    key: str | None,
    operation: str,
    principal: str | None = None,
) -> AccessDeniedError:
    err = translate(exc, operation)
    raw = err.details.get("raw") if isinstance(err, SagewizError) else None
    text = str(raw or err.message or "Access Denied")
    # AWS's enhanced same-account 403 names the principal, action and resource; trust it over our guess.
    import re

    m = re.search(
        r"User: (\S+) is not authorized to perform: (s3:\w+) on resource: \"?(arn:aws:s3:::[^\" ]+)", text
    )
    if m:
        principal, action = m.group(1), m.group(2)
        path = m.group(3)[len("arn:aws:s3:::") :]
        bucket, _, rest = path.partition("/")
        key = rest or None
    resource = f"arn:aws:s3:::{bucket}/{key}" if key else f"arn:aws:s3:::{bucket}"
    who = principal or "your caller"
    denied = DeniedCall(
        error_text=text,
        principal_arn=principal,
        action=action,
        bucket=bucket,
        key=key,
        operation=operation,
        source_step="data",
    )
    out = AccessDeniedError(
        "Access denied",
        f"{who} may not {action} on {resource} (AWS said: {text}).",
        "Open the permissions doctor to see which policy denies it and the smallest fix.",
        code=err.code or "AccessDenied",
        operation=operation,
        details={"raw": text, "denied": denied, "action": action, "resource": resource},
    )
    return out


def _as_error(
    exc: BaseException,
    action: str,
    bucket: str,
    key: str | None,
    operation: str,
    principal: str | None = None,
) -> SagewizError:
    err = translate(exc, operation)
    if isinstance(err, AccessDeniedError):
        return _denied_error(exc, action, bucket, key, operation, principal)
    return err


def with_principal(result: SyncResult, principal_arn: str | None) -> SyncResult:
    if result.denied is None or not principal_arn or result.denied.principal_arn:
        return result
    return replace(result, denied=replace(result.denied, principal_arn=principal_arn))


# -- the quick check: list without botocore --------------------------------------------------------


class QuickUnavailable(Exception):
    """The quick path cannot answer (no static keys, a redirect, an error): use the full engine."""


@dataclass(frozen=True)
class QuickTarget:
    region: str
    access_key: str
    secret_key: str
    token: str | None
    endpoint: str | None  # None: the real S3 endpoint of the region

    def __repr__(self) -> str:
        return f"QuickTarget(region={self.region}, endpoint={self.endpoint})"


def quick_target(profile: str | None, region: str | None, endpoint: str | None) -> QuickTarget | None:
    """Static keys from the environment only; anything else (profiles, SSO, roles) needs botocore."""
    env = os.environ
    if profile or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE"):
        return None
    key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not (key and secret and region):
        return None
    endpoint = endpoint or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    return QuickTarget(region, key, secret, env.get("AWS_SESSION_TOKEN") or None, endpoint or None)


def _sigv4_headers(
    t: QuickTarget, host: str, path: str, query: list[tuple[str, str]], method: str = "GET"
) -> dict[str, str]:
    """AWS Signature Version 4 for a GET with an empty body (the S3 flavour: path encoded once)."""
    import hmac
    from datetime import UTC, datetime
    from urllib.parse import quote

    now = datetime.now(UTC)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    empty = hashlib.sha256(b"").hexdigest()
    headers = {"host": host, "x-amz-content-sha256": empty, "x-amz-date": amz_date}
    if t.token:
        headers["x-amz-security-token"] = t.token
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query))
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        [
            method,
            quote(path, safe="/-_.~"),
            canonical_query,
            "".join(f"{k}:{headers[k].strip()}\n" for k in sorted(headers)),
            signed,
            empty,
        ]
    )
    scope = f"{day}/{t.region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])

    def h(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    k = h(h(h(h(("AWS4" + t.secret_key).encode(), day), t.region), "s3"), "aws4_request")
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={t.access_key}/{scope}, SignedHeaders={signed}, Signature={sig}"
    )
    return headers


def quick_list(t: QuickTarget, uri: S3Uri) -> dict[str, RemoteObject]:
    """ListObjectsV2 over one kept-alive connection. Raises QuickUnavailable on anything unusual."""
    import http.client
    import xml.etree.ElementTree as ET
    from urllib.parse import quote

    scheme, host, path = _quick_location(t, uri.bucket)
    conn_cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(host, timeout=30)
    ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
    out: dict[str, RemoteObject] = {}
    token: str | None = None
    try:
        while True:
            query = [("list-type", "2"), ("prefix", uri.prefix)]
            if token:
                query.append(("continuation-token", token))
            headers = _sigv4_headers(t, host, path, query)
            qs = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in query)
            conn.request("GET", f"{quote(path, safe='/-_.~')}?{qs}", headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise QuickUnavailable(f"HTTP {resp.status}")
            bucket_region = resp.getheader("x-amz-bucket-region")
            if bucket_region and bucket_region != t.region:
                raise QuickUnavailable("bucket in another region")
            root = ET.fromstring(body)
            for c in root.iter(f"{ns}Contents"):
                key = c.findtext(f"{ns}Key") or ""
                out[key] = RemoteObject(
                    key, int(c.findtext(f"{ns}Size") or 0), (c.findtext(f"{ns}ETag") or "").strip('"')
                )
            if (root.findtext(f"{ns}IsTruncated") or "false").lower() != "true":
                return out
            token = root.findtext(f"{ns}NextContinuationToken")
            if not token:
                raise QuickUnavailable("truncated listing without a continuation token")
    except (OSError, http.client.HTTPException, ET.ParseError, ValueError) as exc:
        raise QuickUnavailable(str(exc)) from exc
    finally:
        conn.close()


def _quick_location(t: QuickTarget, bucket: str) -> tuple[str, str, str]:
    from urllib.parse import urlsplit

    if t.endpoint:
        parts = urlsplit(t.endpoint)
        return parts.scheme, parts.netloc, f"{parts.path.rstrip('/')}/{bucket}"
    if "." in bucket:
        return "https", f"s3.{t.region}.amazonaws.com", f"/{bucket}"
    return "https", f"{bucket}.s3.{t.region}.amazonaws.com", "/"


def quick_bucket_region(t: QuickTarget, bucket: str) -> str | None:
    """HeadBucket signed here: the bucket's region, or QuickUnavailable (missing, refused, redirect)."""
    import http.client
    from urllib.parse import quote

    scheme, host, path = _quick_location(t, bucket)
    conn_cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(host, timeout=30)
    try:
        conn.request("HEAD", quote(path, safe="/-_.~"), headers=_sigv4_headers(t, host, path, [], "HEAD"))
        resp = conn.getresponse()
        resp.read()
    except (OSError, http.client.HTTPException) as exc:
        raise QuickUnavailable(str(exc)) from exc
    finally:
        conn.close()
    if resp.status != 200:
        raise QuickUnavailable(f"HTTP {resp.status}")
    return resp.getheader("x-amz-bucket-region")


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


# -- the light PUT: the hot path of small uploads without botocore's per-request cost ------------


class LightPut:
    """PutObject signed here (SigV4) over one kept-alive connection per thread.

    botocore spends about a millisecond of CPU a request on its generic machinery; for thousands of
    small files that is the client's whole cost. This path only handles success: on any other answer
    or a connection problem it returns None and the caller repeats the PUT through botocore (PUT is
    idempotent), which retries and reports errors properly. Used only for the standard partition or
    an explicit endpoint, and never through a proxy.
    """

    def __init__(self, endpoint: str | None, region: str, credentials: Callable[[], Any]) -> None:
        from urllib.parse import urlsplit

        self.region = region
        self.endpoint = endpoint
        self.credentials = credentials
        self.local = threading.local()
        self.failures = 0
        self.loopback = False
        if endpoint:
            parts = urlsplit(endpoint)
            self.scheme, self.netloc, self.base = parts.scheme, parts.netloc, parts.path.rstrip("/")
            self.loopback = (parts.hostname or "") in ("127.0.0.1", "localhost", "::1")
        else:
            self.scheme, self.netloc, self.base = "https", "", ""

    @classmethod
    def for_quick(cls, t: QuickTarget) -> LightPut | None:
        from types import SimpleNamespace

        if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")):
            return None
        if not t.endpoint and t.region.startswith(("cn-", "us-gov-", "us-iso", "eusc-")):
            return None
        frozen = SimpleNamespace(access_key=t.access_key, secret_key=t.secret_key, token=t.token)
        return cls(t.endpoint, t.region, lambda: frozen)

    @classmethod
    def for_factory(cls, factory: Any) -> LightPut | None:
        env = os.environ
        if any(env.get(v) for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")):
            return None
        region = factory.region
        endpoint = factory.target.endpoint_url
        if not endpoint and (not region or region.startswith(("cn-", "us-gov-", "us-iso", "eusc-"))):
            return None
        if not endpoint and any(env.get(v) for v in ("AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT")):
            return None
        try:
            creds = factory.session.get_credentials()
        except Exception:
            return None
        if creds is None:
            return None
        return cls(endpoint, region, creds.get_frozen_credentials)

    def _conn(self, host: str) -> Any:
        import http.client

        conns = self.local.__dict__.setdefault("conns", {})
        conn = conns.get(host)
        if conn is None:
            if self.scheme == "https":
                import ssl

                ctx = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE") or None)
                conn = http.client.HTTPSConnection(host, timeout=60, context=ctx)
            else:
                conn = http.client.HTTPConnection(host, timeout=60)
            conns[host] = conn
        return conn

    def _drop(self, host: str) -> None:
        conn = self.local.__dict__.get("conns", {}).pop(host, None)
        if conn is not None:
            conn.close()

    @property
    def streams(self) -> bool:
        """Whether a body can go out unsigned (TLS, or this machine), so it can be streamed as read."""
        return self.scheme == "https" or self.loopback

    def _target(self, bucket: str, key: str) -> tuple[str, str]:
        if self.endpoint:
            return self.netloc, f"{self.base}/{bucket}/{key}"
        if "." in bucket:
            return f"s3.{self.region}.amazonaws.com", f"/{bucket}/{key}"
        return f"{bucket}.s3.{self.region}.amazonaws.com", f"/{key}"

    def _signed(
        self, host: str, path: str, payload: str, size: int, content_type: str | None, owner: str | None
    ) -> tuple[str, dict[str, str]]:
        import hmac
        from datetime import UTC, datetime
        from urllib.parse import quote

        creds = self.credentials()
        now = datetime.now(UTC)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
        if content_type:
            headers["content-type"] = content_type
        if owner:
            headers["x-amz-expected-bucket-owner"] = owner
        if creds.token:
            headers["x-amz-security-token"] = creds.token
        names = sorted(headers)
        signed = ";".join(names)
        uri = quote(path, safe="/-_.~")
        canonical = "\n".join(
            ["PUT", uri, "", "".join(f"{k}:{headers[k].strip()}\n" for k in names), signed, payload]
        )
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        k = ("AWS4" + creds.secret_key).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={creds.access_key}/{scope}, SignedHeaders={signed}, Signature={sig}"
        )
        headers["content-length"] = str(size)
        del headers["host"]  # http.client sends it
        return uri, headers

    def _send(self, host: str, uri: str, headers: dict[str, str], body: Callable[[], Any]) -> str | None:
        """PUT with one retry on a dropped connection: the ETag on 200, else None."""
        import http.client

        for attempt in (1, 2):
            conn = self._conn(host)
            try:
                conn.request("PUT", uri, body=body(), headers=headers)
                resp = conn.getresponse()
                resp.read()
            except _FileChanged:
                self._drop(host)
                raise
            except (OSError, http.client.HTTPException):
                self._drop(host)
                if attempt == 2:
                    self.failures += 1
                    return None
                continue
            if resp.status == 200:
                return (resp.getheader("ETag") or "").strip('"')
            if resp.getheader("Connection", "").lower() == "close":
                self._drop(host)
            self.failures += 1 if resp.status not in (403, 404) else 0
            return None
        return None

    def put(
        self, bucket: str, key: str, data: bytes, content_type: str | None, owner: str | None
    ) -> str | None:
        if self.failures > 5:
            return None
        host, path = self._target(bucket, key)
        # Over a network without TLS the payload is signed. Over TLS, or to an endpoint on this machine
        # (the sandbox: no network to tamper with), S3's UNSIGNED-PAYLOAD saves hashing every byte
        # twice; the MD5 checked against the returned ETag still proves the bytes arrived intact.
        payload = "UNSIGNED-PAYLOAD" if self.streams else hashlib.sha256(data).hexdigest()
        uri, headers = self._signed(host, path, payload, len(data), content_type, owner)
        return self._send(host, uri, headers, lambda: data)

    def put_file(
        self, bucket: str, key: str, path: str, size: int, content_type: str | None, owner: str | None
    ) -> tuple[str, str] | None:
        """Stream a file (unsigned payload only), hashing it while it is sent, so reading, hashing
        and the server's receiving overlap. Returns (ETag, local MD5), or None to use botocore."""
        if self.failures > 5 or not self.streams:
            return None
        host, target = self._target(bucket, key)
        uri, headers = self._signed(host, target, "UNSIGNED-PAYLOAD", size, content_type, owner)
        md5: list[Any] = []

        def body() -> Iterator[bytes]:
            h = hashlib.md5()
            md5[:] = [h]
            left = size
            with open(path, "rb") as fh:
                while left > 0:
                    chunk = fh.read(min(STREAM_CHUNK, left))
                    if not chunk:
                        raise _FileChanged(path)  # shorter than it was: never send a short body
                    h.update(chunk)
                    left -= len(chunk)
                    yield chunk

        etag = self._send(host, uri, headers, body)
        if etag is None:
            return None
        return etag, md5[0].hexdigest()
