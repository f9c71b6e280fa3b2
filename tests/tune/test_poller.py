"""The dashboard poller against the sandbox: paging, incremental polls, the 2-a-second list quota."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from services.errors import SagewizError
from services.sandbox.extensions import tuning as ext
from services.tuning.config import TrainingBase
from services.tuning.dashboard import RateLimiter, TuningPoller, TuningSnapshot, best_child
from services.tuning.request import build_request
from tests.support import eventually_blocking
from tests.tune.test_sandbox_tuning import tuning_config, wait_first_child


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.now += seconds
        return False


def summaries(world: Any, name: str, n: int) -> list[dict[str, Any]]:
    t0 = datetime(2026, 1, 1)
    out = []
    for i in range(1, n + 1):
        ok = i % 9 != 0
        s = {
            "TrainingJobName": f"{name}-{i:03d}-{i:08x}",
            "TrainingJobArn": f"arn:aws:sagemaker:{world.region}:{world.account}:training-job/{name}-{i:03d}-{i:08x}",
            "TuningJobName": name,
            "CreationTime": t0 + timedelta(seconds=i),
            "TrainingStartTime": t0 + timedelta(seconds=i + 1),
            "TrainingEndTime": t0 + timedelta(seconds=i + 30),
            "TrainingJobStatus": "Completed" if ok else "Failed",
            "TunedHyperParameters": {"eta": f"{0.1 + (i % 40) / 100:.2f}", "max_depth": str(i % 10)},
            "ObjectiveStatus": "Succeeded" if ok else "Failed",
        }
        if ok:
            s["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": "Minimize", "MetricName": "validation:mlogloss", "Value": 0.2 + ((i * 53) % 97) / 100,
            }  # fmt: skip
        out.append(s)
    return out


def test_500_children_paged_within_the_list_quota(factory: Any, world: Any, base: TrainingBase) -> None:
    sm = factory.client("sagemaker")
    sm.create_hyper_parameter_tuning_job(
        **build_request(tuning_config(base, name="wide", max_jobs=1, max_parallel=1))
    )
    wait_first_child(sm, "wide")
    ext.inject_children(world.account, world.region, "wide", summaries(world, "wide", 500))
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, wait=clock.wait)
    poller = TuningPoller(factory, "wide", limiter=limiter)

    snap = poller.poll()
    assert len(snap.children) == 501 == snap.counters.total
    assert snap.list_calls == 6  # pages of 100
    # oldest first: the injected children of January, then the one real child, created now
    assert [c.name for c in snap.children[:2]] == ["wide-001-00000001", "wide-002-00000002"]
    gaps = [b - a for a, b in zip(limiter.calls, limiter.calls[1:], strict=False)]
    assert min(gaps) >= 0.5 - 1e-9  # never more than 2 list calls a second

    best = best_child(snap.children, "Minimize")
    assert best is not None and best.objective == min(
        c.objective for c in snap.children if c.objective is not None
    )

    # later polls are incremental: the newest page and the running ones, not 6 pages again
    def incremental_poll() -> TuningSnapshot | None:
        polled = poller.poll()
        assert polled.list_calls <= 3
        return polled if polled.done else None

    # the one real child trains in the background
    snap = eventually_blocking(incremental_poll, 40, what="the tuning job to end", every=0.1)
    assert snap.status == "Completed"
    assert all(c.terminal for c in snap.children), [c for c in snap.children if not c.terminal]
    assert len(snap.children) == 501
    real = snap.children[-1]
    assert real.name.startswith("wide-001-") and real.name != "wide-001-00000001"
    assert real.status == "Completed" and real.objective is not None  # read by a batched describe
    assert poller.total_list_calls < 6 + 3 * 40


def test_poll_of_missing_job_is_a_clear_error(factory: Any) -> None:
    poller = TuningPoller(factory, "no-such-tuning-job")
    with pytest.raises(SagewizError) as err:
        poller.poll()
    assert err.value.kind == "not-found", (err.value.kind, err.value.title, err.value.message)


def test_rate_limiter_spaces_calls_and_aborts() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2.0, clock=clock, wait=clock.wait)
    for _ in range(5):
        assert limiter.acquire()
    assert limiter.calls == [1000.0, 1000.5, 1001.0, 1001.5, 1002.0]
    cancelled = RateLimiter(rate=2.0, clock=clock, wait=lambda s: True)
    assert cancelled.acquire()  # the first call never waits
    assert not cancelled.acquire()  # the second would wait; the cancel event says stop
