"""What a running sync reports: progress while it runs (counted across worker threads, called back at
a bounded rate) and its result."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from services.denied import DeniedCall
from services.sync.files import FileFailure
from services.sync.plan import SyncPlan

ProgressCallback = Callable[["SyncProgress"], None]


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
    aborted_uploads: int = 0  # multipart uploads left open by an earlier run, aborted
    reclaimed_bytes: int = 0  # the bytes their parts held
    unaborted_uploads: int = 0  # ... that could not be aborted (refused): still stored and billed
    resumed_uploads: int = 0  # ... and resumed instead
    not_copied: tuple[str, ...] = ()  # files neither copied nor failed (stopped before their turn)
    in_flight: tuple[str, ...] = ()  # still on the wire when a stopped run returned: not confirmed

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_copied and not self.in_flight

    @property
    def skipped(self) -> int:
        return len(self.plan.skipped)


class ProgressTracker:
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


def with_principal(result: SyncResult, principal_arn: str | None) -> SyncResult:
    if result.denied is None or not principal_arn or result.denied.principal_arn:
        return result
    return replace(result, denied=replace(result.denied, principal_arn=principal_arn))
