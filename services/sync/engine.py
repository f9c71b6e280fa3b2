"""Running a sync plan: uploads and server-side copies through s3transfer, cancellable and resumable.

- Bytes move through s3transfer on the botocore client of `transfer_client`: every PutObject and
  UploadPart carries a CRC32 that S3 checks before it stores anything, so a body damaged on the way
  is refused and the object already there stays as it was.
- S3 to S3 is a server-side copy (CopyObject, or UploadPartCopy for big objects).
- A multipart upload only becomes an object when completed and a single PUT is atomic, so an
  interrupted copy never leaves a partial object under its final key. Uploads left open by a killed
  run are resumed or aborted first (`uploads`).
- Cancelling stops new work at once; files whose bytes are all sent are let finish (a multipart
  upload only needs its completion), the rest are cancelled, and the run returns within `grace`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.denied import DeniedCall
from services.errors import AccessDeniedError
from services.sync import parts
from services.sync.compare import source_id
from services.sync.errors import as_error, copy_action
from services.sync.files import FileFailure, SourceFile
from services.sync.hash_cache import HashCache, dest_id
from services.sync.parts import MiB
from services.sync.plan import SyncPlan
from services.sync.progress import ProgressCallback, ProgressTracker, SyncResult
from services.sync.transfer_client import DEFAULT_WORKERS, TransferClient, transfer_client
from services.sync.uploads import Resumable, resume, tidy

GRACE = 1.5  # seconds a cancelled run waits for what is in flight before it returns


@dataclass
class _Item:
    f: SourceFile
    key: str
    sent: int = 0
    future: Any = None
    finished: bool = False


@dataclass
class _Run:
    tc: TransferClient
    plan: SyncPlan
    cancel: threading.Event
    tracker: ProgressTracker
    account: str | None
    principal_arn: str | None
    cache: HashCache | None
    failures: list[FileFailure] = field(default_factory=list)
    copied: set[str] = field(default_factory=set)
    denied: DeniedCall | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    left: int = 0
    all_done: threading.Event = field(default_factory=threading.Event)

    def stop_requested(self) -> bool:
        return self.cancel.is_set() or self.denied is not None

    def owner(self) -> dict[str, str]:
        return {"ExpectedBucketOwner": self.account} if self.account else {}

    def finished(self, item: _Item) -> None:
        with self.lock:
            if item.finished:
                return
            item.finished = True
            self.left -= 1
            if self.left <= 0:
                self.all_done.set()

    def succeeded(self, item: _Item, etag: str | None) -> None:
        f = item.f
        answered = self.tc.answers.take(self.plan.dest.bucket, item.key)
        etag = etag or answered
        src = self.plan.source.s3
        sid = source_id(f, src.bucket if src is not None else None)
        if self.cache is not None and etag and sid is not None:
            self.cache.record_sent(dest_id(self.plan.dest.bucket, item.key), sid, etag)
        with self.lock:
            self.copied.add(f.rel)
        self.tracker.file_done(f.rel, ok=True)
        self.finished(item)

    def note_failure(self, item: _Item, reason: str) -> None:
        with self.lock:
            self.failures.append(FileFailure(item.f.rel, reason))
        self.tracker.file_done(item.f.rel, ok=False)
        self.finished(item)

    def fail(self, item: _Item, exc: BaseException, action: str, operation: str) -> None:
        f = item.f
        bucket, key = self.plan.dest.bucket, item.key
        if action == "s3:GetObject" and self.plan.source.s3 is not None and f.key is not None:
            bucket, key = self.plan.source.s3.bucket, f.key  # the source side was refused
        err = as_error(exc, action, bucket, key, operation, self.principal_arn)
        reason = f"{err.title}: {err.message}".strip(": ")
        if err.code in ("BadDigest", "InvalidDigest", "XAmzContentChecksumMismatch", "InvalidRequest") and (
            "checksum" in str(exc).lower() or "digest" in str(exc).lower()
        ):
            reason = (
                "S3 refused the bytes it received (their checksum did not match the file's), "
                "so the object already there was kept; run again"
            )
        with self.lock:
            self.failures.append(FileFailure(f.rel, reason, err.code or ""))
            if isinstance(err, AccessDeniedError) and self.denied is None:
                # every other file would meet the same wall: stop and hand it to the doctor
                self.denied = err.details.get("denied")
        self.tracker.file_done(f.rel, ok=False)
        self.finished(item)


def _manager(client: Any, workers: int) -> Any:
    from s3transfer.manager import TransferConfig, TransferManager

    config = TransferConfig(
        multipart_threshold=parts.MULTIPART_THRESHOLD,  # read here: tests shrink them
        multipart_chunksize=parts.PART_SIZE,
        max_request_concurrency=workers,
        max_submission_concurrency=max(2, workers // 2),
        max_io_queue_size=1000,
        io_chunksize=1 * MiB,
        max_in_memory_upload_chunks=max(10, workers),
    )
    return TransferManager(client, config)


def _subscriber(run: _Run, item: _Item, copy: bool) -> Any:
    from s3transfer.subscribers import BaseSubscriber

    class Watch(BaseSubscriber):  # type: ignore[misc]
        def on_queued(self, future: Any, **_: Any) -> None:
            if copy:  # s3transfer would HEAD the source for its size and ETag: the listing gave them
                future.meta.provide_transfer_size(item.f.size)
                if item.f.etag:
                    # That HEAD would carry the destination's ExpectedBucketOwner, which a source in
                    # another account (AWS's public sample bucket) refuses with 403.
                    future.meta.provide_object_etag(f'"{item.f.etag}"')

        def on_progress(self, future: Any, bytes_transferred: int, **_: Any) -> None:
            with run.lock:
                item.sent += bytes_transferred
            run.tracker.add_bytes(bytes_transferred)

        def on_done(self, future: Any, **_: Any) -> None:
            _settle(run, item, future, copy)

    return Watch()


def _settle(run: _Run, item: _Item, future: Any, copy: bool) -> None:
    from s3transfer.exceptions import CancelledError

    try:
        future.result()
    except CancelledError:
        # Cancelled while its request was already on the wire: S3 may have stored it all the same,
        # and then it answered (the client noted the ETag). The result says exactly which.
        etag = run.tc.answers.take(run.plan.dest.bucket, item.key)
        if etag:
            run.succeeded(item, etag)
        else:
            run.finished(item)
        return
    except OSError as exc:
        if not hasattr(exc, "response") and not type(exc).__module__.startswith(("botocore", "urllib3")):
            run.note_failure(item, f"cannot read the file: {exc.strerror or exc}")
            return
        run.fail(item, exc, "s3:PutObject", "PutObject")
        return
    except Exception as exc:
        run.fail(
            item, exc, copy_action(exc) if copy else "s3:PutObject", "CopyObject" if copy else "PutObject"
        )
        return
    run.succeeded(item, None)


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
    grace: float = GRACE,
) -> SyncResult:
    """Copy what the plan says. Never raises for a single file: failures are listed in the result."""
    cancel = cancel or threading.Event()
    tracker = ProgressTracker(plan, on_progress, clock, interval)
    tc = transfer_client(factory, workers)
    run = _Run(tc, plan, cancel, tracker, account, principal_arn, cache)
    bucket = plan.dest.bucket
    items = [_Item(f, plan.dest.prefix + f.rel) for f in plan.to_copy]
    run.left = len(items)
    if not items:
        run.all_done.set()
    tidied = tidy(
        tc.s3,
        bucket,
        plan.open_uploads,
        {f.rel: f for f in plan.to_copy} if plan.source.is_local else {},
        plan.dest.prefix,
        run.owner(),
    )
    resumers = [
        threading.Thread(target=_resume, args=(run, it, tidied.resumable[it.f.rel], workers), daemon=True)
        for it in items
        if it.f.rel in tidied.resumable
    ]
    for t in resumers:
        t.start()
    manager = _manager(tc.s3, workers) if len(resumers) < len(items) else None
    if manager is not None:
        _submit(run, manager, [it for it in items if it.f.rel not in tidied.resumable])
    _wait(run, items, clock, grace)
    if manager is not None:
        # In flight after a cancel: s3transfer's threads finish (or abort) it; the run does not wait.
        # _wait already cancelled what must not finish; shutdown(cancel=True) would also cancel the
        # uploads let finish, and s3transfer (0.19) passes its arguments shifted (TypeError in
        # this thread: nothing cancelled, the pools never shut down).
        threading.Thread(target=manager.shutdown, daemon=True).start()
    tracker.emit(force=True)
    if cache is not None:
        cache.save()
    with run.lock:
        failures = sorted(run.failures, key=lambda x: x.rel)
        failed = {x.rel for x in failures}
        not_copied = tuple(
            it.f.rel for it in items if it.finished and it.f.rel not in run.copied and it.f.rel not in failed
        )
        in_flight = tuple(it.f.rel for it in items if not it.finished)
        copied = len(run.copied)
    return SyncResult(
        plan,
        copied,
        tracker.bytes_done,
        tuple(failures),
        cancelled=cancel.is_set() and bool(not_copied or in_flight),
        elapsed=clock() - tracker.start,
        denied=run.denied,
        aborted_uploads=tidied.aborted,
        reclaimed_bytes=tidied.reclaimed,
        unaborted_uploads=tidied.failed_aborts,
        resumed_uploads=len(tidied.resumable),
        not_copied=not_copied,
        in_flight=in_flight,
    )


def _submit(run: _Run, manager: Any, items: list[_Item]) -> None:
    from services.sync.mime import content_type

    src = run.plan.source.s3
    bucket = run.plan.dest.bucket
    for it in items:
        if run.stop_requested():
            return
        extra: dict[str, Any] = dict(run.owner())
        if it.f.path is not None:
            extra["ChecksumAlgorithm"] = "CRC32"
            if ctype := content_type(it.f.rel):
                extra["ContentType"] = ctype
            it.future = manager.upload(
                it.f.path, bucket, it.key, extra_args=extra, subscribers=[_subscriber(run, it, False)]
            )
        else:
            assert src is not None and it.f.key is not None
            it.future = manager.copy(
                {"Bucket": src.bucket, "Key": it.f.key},
                bucket,
                it.key,
                extra_args=extra,
                subscribers=[_subscriber(run, it, True)],
            )


def _wait(run: _Run, items: list[_Item], clock: Callable[[], float], grace: float) -> None:
    while not run.all_done.wait(0.05):
        if run.stop_requested():
            break
    if run.all_done.is_set():
        return
    # Stopped (Ctrl-C, or a denial every other file would meet): files whose bytes are all sent are
    # let finish; everything else is cancelled (s3transfer aborts the multipart uploads it started).
    with run.lock:
        pending = [it for it in items if not it.finished]
    for it in pending:
        if it.future is None:
            run.finished(it)  # never submitted
        elif not _let_finish(it):
            it.future.cancel()
    deadline = clock() + grace
    while not run.all_done.is_set() and clock() < deadline:
        run.all_done.wait(0.02)


def _let_finish(it: _Item) -> bool:
    """Whether a file in flight is let finish after a stop: all its bytes are sent (a multipart
    upload then only needs its completion), or it is a single PUT already sending."""
    if it.f.size > 0 and it.sent >= it.f.size:
        return True
    return it.sent > 0 and it.f.path is not None and not parts.uses_multipart(it.f.size)


def _resume(run: _Run, item: _Item, r: Resumable, workers: int) -> None:
    def on_bytes(n: int) -> None:
        with run.lock:
            item.sent += n
        run.tracker.add_bytes(n)

    try:
        etag = resume(
            run.tc.s3,
            run.plan.dest.bucket,
            item.f,
            r,
            owner=run.owner(),
            workers=workers,
            stopped=run.stop_requested,
            on_bytes=on_bytes,
        )
    except OSError as exc:
        if hasattr(exc, "response") or type(exc).__module__.startswith(("botocore", "urllib3")):
            run.fail(item, exc, "s3:PutObject", "UploadPart")
        else:
            run.note_failure(item, exc.strerror or str(exc))
        return
    except Exception as exc:
        run.fail(item, exc, "s3:PutObject", "UploadPart")
        return
    if etag is None:
        run.finished(item)  # stopped: the upload stays open and the next run resumes it
        return
    run.succeeded(item, etag)
