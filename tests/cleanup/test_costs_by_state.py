"""Costs only for billable states: a stopped notebook bills its volume, a finished job nothing."""

from __future__ import annotations

from services.pricing import notebook_price
from services.resource_kinds import ResourceKind
from services.resources.record import Resource
from services.resources.registry import describe
from tests.cleanup.helpers import fast_notebooks, make_notebook
from tests.support import eventually_blocking


def test_a_stopped_notebook_bills_only_its_volume(factory, world, journal) -> None:
    fast_notebooks()
    make_notebook(factory, world, None, name="cost-nb")
    sm = factory.client("sagemaker")
    res = Resource(ResourceKind.NOTEBOOK, "cost-nb")

    def in_state(state: str) -> Resource | None:
        read = describe(factory, res, world.region)
        return read if read.state == state else None

    running = eventually_blocking(lambda: in_state("InService"), 20)
    assert running.hourly == notebook_price("ml.t3.medium", world.region).usd_per_hour
    sm.stop_notebook_instance(NotebookInstanceName="cost-nb")
    stopped = eventually_blocking(lambda: in_state("Stopped"), 20)
    assert stopped.volume_gb == 5 and stopped.hourly is not None
    assert 0 < stopped.hourly < 0.01  # 5 GB of ML storage, not the instance's rate
    assert stopped.hourly_label().endswith("/h (storage only (5 GB volume))")


def test_finished_jobs_show_no_rate() -> None:
    done = Resource(ResourceKind.LABELING_JOB, "lj", state="Completed", hourly=0.0)
    assert done.hourly_label() == "not billing"
    assert (
        Resource(ResourceKind.TRAINING_JOB, "tj", state="Failed", hourly=0.0).hourly_label() == "not billing"
    )
