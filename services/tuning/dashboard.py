"""Watching a tuning job: frozen snapshots of the job and its children, polled within the quotas.

ListTrainingJobsForHyperParameterTuningJob shares the ListTrainingJobs-style quota (2 requests a
second per account), so every list call goes through one limiter. The first poll lists all
children (pages of 100). Later polls are incremental: the newest page(s) to find new children,
the InProgress ones to refresh running children, and batched DescribeTrainingJob calls for
children that left InProgress (their final status and objective). A full relisting happens only
when the tuning job's counters disagree with what we hold.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from services.errors import translate

TERMINAL = ("Completed", "Failed", "Stopped")
PAGE_SIZE = 100
LIST_CALLS_PER_SECOND = 2.0


@dataclass(frozen=True)
class JobCounters:
    completed: int = 0
    in_progress: int = 0
    retryable_error: int = 0
    non_retryable_error: int = 0
    stopped: int = 0

    @property
    def failed(self) -> int:
        return self.retryable_error + self.non_retryable_error

    @property
    def total(self) -> int:
        return self.completed + self.in_progress + self.failed + self.stopped

    @classmethod
    def of(cls, raw: dict[str, Any] | None) -> JobCounters:
        raw = raw or {}
        return cls(
            int(raw.get("Completed", 0)),
            int(raw.get("InProgress", 0)),
            int(raw.get("RetryableError", 0)),
            int(raw.get("NonRetryableError", 0)),
            int(raw.get("Stopped", 0)),
        )


@dataclass(frozen=True)
class ObjectiveCounters:
    succeeded: int = 0
    pending: int = 0
    failed: int = 0

    @classmethod
    def of(cls, raw: dict[str, Any] | None) -> ObjectiveCounters:
        raw = raw or {}
        return cls(int(raw.get("Succeeded", 0)), int(raw.get("Pending", 0)), int(raw.get("Failed", 0)))


@dataclass(frozen=True)
class ChildJob:
    name: str
    status: str
    tuned: tuple[tuple[str, str], ...]
    objective: float | None
    objective_status: str  # Succeeded | Pending | Failed | ""
    created: datetime
    started: datetime | None = None
    ended: datetime | None = None
    failure_reason: str = ""
    secondary_status: str = ""

    def duration_s(self, now: datetime) -> float | None:
        if self.started is None:
            return None
        end = self.ended or now
        return max(0.0, (end - self.started).total_seconds())

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


@dataclass(frozen=True)
class TuningSnapshot:
    name: str
    arn: str
    status: str
    strategy: str
    objective_metric: str
    objective_type: str
    counters: JobCounters
    objective_counters: ObjectiveCounters
    best_name: str | None
    best_value: float | None
    children: tuple[ChildJob, ...]
    max_jobs: int
    max_parallel: int
    created: datetime | None
    ended: datetime | None
    failure_reason: str
    polled_at: datetime
    list_calls: int = 0  # in this poll
    describe_calls: int = 0
    tuned_names: tuple[str, ...] = ()
    training_definition: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.status in ("Completed", "Failed", "Stopped")

    def child(self, name: str) -> ChildJob | None:
        return next((c for c in self.children if c.name == name), None)


def child_from_summary(s: dict[str, Any]) -> ChildJob:
    metric = s.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    value = metric.get("Value")
    return ChildJob(
        name=s["TrainingJobName"],
        status=s.get("TrainingJobStatus", ""),
        tuned=tuple(sorted((k, str(v)) for k, v in (s.get("TunedHyperParameters") or {}).items())),
        objective=float(value) if value is not None else None,
        objective_status=s.get("ObjectiveStatus", ""),
        created=s.get("CreationTime") or datetime.min,
        started=s.get("TrainingStartTime"),
        ended=s.get("TrainingEndTime"),
        failure_reason=s.get("FailureReason", "") or "",
    )


class RateLimiter:
    """At most `rate` calls a second (spaced, no bursts). `wait(seconds)` returns True to abort
    (the worker's cancel event), so a leaving screen never sits in a sleep."""

    def __init__(
        self,
        rate: float = LIST_CALLS_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self._wait = wait or (lambda s: threading.Event().wait(s))
        self._next = 0.0
        self._lock = threading.Lock()
        self.calls: list[float] = []  # when each call was let through (for tests and the bench)

    def acquire(self) -> bool:
        """Block until a call may go; False when aborted."""
        with self._lock:
            now = self.clock()
            delay = self._next - now
            if delay > 0:
                if self._wait(delay):
                    return False
                now = self.clock()
            self._next = max(now, self._next) + self.interval
            self.calls.append(now)
            return True


class PollCancelled(Exception):
    """The screen went away while a poll waited for the rate limiter."""


class TuningPoller:
    """One per watched tuning job; `poll()` returns a fresh TuningSnapshot. Not thread-safe: one
    worker polls."""

    def __init__(
        self,
        factory: Any,
        name: str,
        *,
        limiter: RateLimiter | None = None,
        describe_batch: int = 10,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.factory = factory
        self.name = name
        self.limiter = limiter or RateLimiter()
        self.describe_batch = describe_batch
        self._now = now or (lambda: datetime.now().astimezone())
        self._children: dict[str, ChildJob] = {}
        self._order: list[str] = []
        self._full_needed = True
        self._to_describe: list[str] = []
        self.total_list_calls = 0
        self.total_describe_calls = 0
        self._metric = ""
        self._running_cursor = 0
        self._calls_list = 0
        self._calls_describe = 0

    @property
    def _sm(self) -> Any:
        return self.factory.client("sagemaker")

    # -- AWS calls ----------------------------------------------------------------------------
    def _list(self, **kw: Any) -> dict[str, Any]:
        if not self.limiter.acquire():
            raise PollCancelled()
        self.total_list_calls += 1
        self._calls_list += 1
        try:
            page: dict[str, Any] = self._sm.list_training_jobs_for_hyper_parameter_tuning_job(
                HyperParameterTuningJobName=self.name, MaxResults=PAGE_SIZE, **kw
            )
        except Exception as exc:
            raise translate(exc, "sagemaker:ListTrainingJobsForHyperParameterTuningJob") from exc
        return page

    def _pages(
        self, stop: Callable[[list[dict[str, Any]]], bool] | None = None, **kw: Any
    ) -> Iterable[dict[str, Any]]:
        token = None
        while True:
            args = dict(kw)
            if token:
                args["NextToken"] = token
            page = self._list(**args)
            items = page.get("TrainingJobSummaries") or []
            yield from items
            token = page.get("NextToken")
            if not token or (stop is not None and stop(items)):
                return

    # -- polling ------------------------------------------------------------------------------
    def poll(self) -> TuningSnapshot:
        self._calls_list = 0
        self._calls_describe = 0
        try:
            desc = self._sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=self.name)
        except Exception as exc:
            raise translate(exc, "sagemaker:DescribeHyperParameterTuningJob") from exc
        counters = JobCounters.of(desc.get("TrainingJobStatusCounters"))
        config = desc.get("HyperParameterTuningJobConfig") or {}
        objective = config.get("HyperParameterTuningJobObjective") or {}
        metric = objective.get("MetricName", "")
        self._metric = metric
        if self._full_needed:
            self._full_list()
        else:
            self._incremental()
        # The counters are the service's truth; when ours disagree, relist everything next time.
        ours = len(self._children)
        if ours != counters.total:
            self._full_needed = True
        best = desc.get("BestTrainingJob") or {}
        best_metric = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
        ranges = config.get("ParameterRanges") or {}
        tuned_names = tuple(
            r["Name"]
            for key in ("IntegerParameterRanges", "ContinuousParameterRanges", "CategoricalParameterRanges")
            for r in ranges.get(key) or []
        )
        limits = config.get("ResourceLimits") or {}
        return TuningSnapshot(
            name=self.name,
            arn=desc.get("HyperParameterTuningJobArn", ""),
            status=desc.get("HyperParameterTuningJobStatus", ""),
            strategy=config.get("Strategy", ""),
            objective_metric=metric,
            objective_type=objective.get("Type", ""),
            counters=counters,
            objective_counters=ObjectiveCounters.of(desc.get("ObjectiveStatusCounters")),
            best_name=best.get("TrainingJobName"),
            best_value=best_metric.get("Value"),
            children=tuple(self._children[n] for n in self._order),
            max_jobs=int(limits.get("MaxNumberOfTrainingJobs") or 0),
            max_parallel=int(limits.get("MaxParallelTrainingJobs") or 0),
            created=desc.get("CreationTime"),
            ended=desc.get("HyperParameterTuningEndTime"),
            failure_reason=desc.get("FailureReason", "") or "",
            polled_at=self._now(),
            list_calls=self._calls_list,
            describe_calls=self._calls_describe,
            tuned_names=tuned_names,
            training_definition=desc.get("TrainingJobDefinition") or {},
        )

    def _merge(self, summary: dict[str, Any]) -> bool:
        child = child_from_summary(summary)
        old = self._children.get(child.name)
        if old is None:
            self._order.append(child.name)
        elif old.secondary_status and not child.terminal:
            child = replace(child, secondary_status=old.secondary_status)
        self._children[child.name] = child
        return old is None

    def _full_list(self) -> None:
        for s in self._pages(SortBy="CreationTime", SortOrder="Ascending"):
            self._merge(s)
        self._order.sort(key=lambda n: (self._children[n].created, n))
        self._full_needed = False
        self._to_describe = []

    def _incremental(self) -> None:
        # 1. new children: newest first, until a page holds a child we already know.
        known = set(self._children)

        def seen_known(items: list[dict[str, Any]]) -> bool:
            return any(i["TrainingJobName"] in known for i in items)

        added = False
        for s in self._pages(stop=seen_known, SortBy="CreationTime", SortOrder="Descending"):
            added |= self._merge(s)
        if added:
            self._order.sort(key=lambda n: (self._children[n].created, n))
        # 2. running children, all of them (at most the parallel limit, usually one page).
        running = set()
        for s in self._pages(StatusEquals="InProgress"):
            running.add(s["TrainingJobName"])
            self._merge(s)
        # 3. the running ones' secondary status (Starting, Downloading, Training...): a batch of
        #    describes per poll, in turn, so a wide job never floods DescribeTrainingJob.
        self._describe_running(sorted(running))
        # 4. children we last saw running that are no longer: describe them (batched).
        for name, c in self._children.items():
            if not c.terminal and name not in running and name not in self._to_describe:
                self._to_describe.append(name)
        batch, self._to_describe = (
            self._to_describe[: self.describe_batch],
            self._to_describe[self.describe_batch :],
        )
        for name in batch:
            self._describe_child(name)

    def _describe_running(self, running: list[str]) -> None:
        if not running:
            return
        start = self._running_cursor % len(running)
        batch = (running[start:] + running[:start])[: self.describe_batch]
        self._running_cursor = start + len(batch)
        for name in batch:
            try:
                d = self._sm.describe_training_job(TrainingJobName=name)
            except Exception as exc:
                raise translate(exc, "sagemaker:DescribeTrainingJob") from exc
            self.total_describe_calls += 1
            self._calls_describe += 1
            old = self._children.get(name)
            if old is not None and not old.terminal:
                self._children[name] = replace(old, secondary_status=d.get("SecondaryStatus", ""))

    def _describe_child(self, name: str) -> None:
        try:
            d = self._sm.describe_training_job(TrainingJobName=name)
        except Exception as exc:
            raise translate(exc, "sagemaker:DescribeTrainingJob") from exc
        self.total_describe_calls += 1
        self._calls_describe += 1
        old = self._children[name]
        metric = self._metric
        value = None
        for m in d.get("FinalMetricDataList") or []:
            if m.get("MetricName") == metric:
                value = float(m["Value"])
        status = d.get("TrainingJobStatus", old.status)
        if status in TERMINAL:
            obj_status = "Succeeded" if value is not None else "Failed"
        else:
            obj_status = "Pending"
            self._to_describe.append(name)  # still moving (Stopping): look again next time
        self._children[name] = replace(
            old,
            status=status,
            secondary_status=d.get("SecondaryStatus", ""),
            objective=value if value is not None else old.objective,
            objective_status=obj_status,
            started=d.get("TrainingStartTime") or old.started,
            ended=d.get("TrainingEndTime") or old.ended,
            failure_reason=d.get("FailureReason", "") or "",
        )


def best_child(children: Iterable[ChildJob], objective_type: str) -> ChildJob | None:
    best: ChildJob | None = None
    for c in children:
        if c.objective is None or c.objective_status == "Failed":
            continue
        if best is None or (
            c.objective > best.objective  # type: ignore[operator]
            if objective_type == "Maximize"
            else c.objective < best.objective  # type: ignore[operator]
        ):
            best = c
    return best
