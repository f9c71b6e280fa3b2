"""Running a sync plan: copies, uploads and multipart uploads in parallel, resumable and cancellable.

- S3 to S3 is a server-side copy (CopyObject; UploadPartCopy above 5 GiB): no bytes pass through here.
- Local files are read once, hashed while read and sent as bytes; files above the multipart threshold
  go up in parts in parallel, every part checked against the ETag S3 returns.
- A multipart upload only becomes an object when completed, and a single PUT is atomic, so an
  interrupted copy never leaves a partial object under its final key. On cancel, open multipart uploads
  are aborted; after a crash they are picked up again (parts already sent are checked and reused).

One concern, about 450 lines: the run state, the small-file path and the multipart path share the
worker pool, the memory budget and the failure bookkeeping of one run.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from services.denied import DeniedCall
from services.errors import AccessDeniedError
from services.s3uri import S3Uri
from services.sync.errors import as_error, copy_action
from services.sync.files import FileFailure, SourceFile
from services.sync.hash_cache import HashCache
from services.sync.parts import MiB, is_md5_etag, multipart_etag, part_size_for, uses_multipart
from services.sync.plan import SyncPlan
from services.sync.progress import ProgressCallback, ProgressTracker, SyncResult
from services.sync.quick_client import FileChanged, LightPut, QuickTarget
from services.sync.transfer_client import DEFAULT_WORKERS, transfer_client

# Up to 8 MiB a file is read into memory and sent as bytes; above, it is streamed from disk.
IN_MEMORY_MAX = 8 * MiB
MAX_COPY_OBJECT = 5 * 1024 * MiB  # CopyObject's limit; above it, UploadPartCopy
COPY_PART = 512 * MiB


@dataclass
class _Run:
    make_client: Callable[[], Any]  # botocore is only loaded when something needs it
    plan: SyncPlan
    cancel: threading.Event
    tracker: ProgressTracker
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
        err = as_error(exc, action, bucket, key, operation, self.principal_arn)
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
    tracker = ProgressTracker(plan, on_progress, clock, interval)
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
            run.fail(f, exc, copy_action(exc), "CopyObject")
            return
        run.tracker.add_bytes(f.size)
        run.tracker.file_done(f.rel, ok=True)
        return
    if f.size > IN_MEMORY_MAX and run.light is not None and run.light.streams:
        try:
            got = run.light.put_file(
                run.plan.dest.bucket, key, f.path, f.size, _content_type(f.rel), run.account
            )
        except FileChanged:
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
    if is_md5_etag(etag) and etag != md5:
        run.note_failure(f, f"S3 stored different bytes (ETag {etag}, local MD5 {md5}); run again")
        return
    if run.cache is not None and f.sig is not None and f.path is not None:
        run.cache.put(f.path, f.sig, "md5", md5)
    run.tracker.add_bytes(f.size)
    run.tracker.file_done(f.rel, ok=True)


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
                if is_md5_etag(etag) and etag != digest.hex():
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
                run.fail(f, exc, "s3:PutObject" if local else copy_action(exc), "UploadPart")
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
        if is_md5_etag(got) and got != expected:
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
