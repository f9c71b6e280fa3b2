"""The step bar after resuming: each restored choice's mark is what AWS says of it now (a training
job that completed with a model is ✓, one that failed is !, a notebook AWS no longer has is !),
not only what this session did."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from services.flow.marks import Mark, marks_for
from services.journal import Journal
from services.journal_events import ChoiceMade, JobStarted, ResourceCreated, SessionStarted
from services.resource_kinds import ResourceKind
from services.sandbox import trainer
from services.state import WizardState
from services.training import build_request
from tests.cleanup.helpers import SCREEN_WAIT
from tests.support import eventually
from tests.train.conftest import grant_bucket, upload_csv, wait_done, xgb_config
from tui.widgets.stepbar import StepBar


@pytest.fixture(autouse=True)
def fast_pace() -> Iterator[None]:
    old = trainer.set_pace(0.0)
    yield
    trainer.set_pace(old)


def _earlier(journal: Any, world: Any) -> Journal:
    earlier = Journal(journal.path)
    earlier.bind(world.account, world.region, True)
    earlier.append(SessionStarted(caller=world.admin_arn, sandbox=True))
    return earlier


def _train(factory: Any, world: Any, earlier: Journal, name: str, *, allowed: bool) -> str:
    if allowed:
        grant_bucket(factory, world)  # without it the role cannot read the data: the job fails
    upload_csv(factory, world)
    sm = factory.client("sagemaker")
    sm.create_training_job(**build_request(xgb_config(world, name=name)))
    earlier.append(JobStarted(ResourceKind.TRAINING_JOB, name))
    return str(wait_done(sm, name)["TrainingJobStatus"])


def _bar_line(app: Any, title: str) -> str:
    bar = app.screen.query_one(StepBar)
    return next(line for line in str(bar.render()).splitlines() if line.endswith(f" {title}"))


async def _resume(app: Any, pilot: Any) -> list[str]:
    """Accept the offer; returns the choice lines the offer showed."""
    await eventually(
        pilot,
        lambda: app.screen.__class__.__name__ == "ResumeOfferScreen" and bool(app.screen.query("#resume")),
        SCREEN_WAIT,
    )
    shown = str(app.screen.query_one("#resume-lines").render()).splitlines()[1:]
    listed = [line.strip() for line in shown if not line.strip().startswith(("running:", "policy fix"))]
    await pilot.press("r")
    await eventually(pilot, lambda: app.screen.__class__.__name__ != "ResumeOfferScreen", SCREEN_WAIT)
    return listed


async def test_a_resumed_training_job_that_completed_marks_train_done(make_app, factory, world, journal):
    earlier = _earlier(journal, world)
    earlier.append(ChoiceMade({"bucket": world.default_bucket}))
    assert _train(factory, world, earlier, "resumed-ok", allowed=True) == "Completed"
    app = make_app(background_work=True)
    async with app.run_test(size=(120, 40)) as pilot:
        listed = await _resume(app, pilot)
        assert listed == [f"bucket: {world.default_bucket}", "training job: resumed-ok"]
        assert app.state.training_job == "resumed-ok"
        # the offer listed two choices; the line counts the same two
        said = [n.message for n in app._notifications]
        assert any(m.startswith("Resumed: 2 choices restored.") for m in said), said
        await eventually(pilot, lambda: app.step_states["train"] is Mark.DONE, SCREEN_WAIT)
        await eventually(pilot, lambda: app.step_states["bucket"] is Mark.DONE, SCREEN_WAIT)
        await pilot.pause()
        assert _bar_line(app, "Train").strip().startswith("8 ✓")
        assert app.step_states["notebook"] is Mark.NOT_STARTED  # nothing chosen there


async def test_a_resumed_training_job_that_failed_marks_train_for_attention(
    make_app, factory, world, journal
):
    earlier = _earlier(journal, world)
    assert _train(factory, world, earlier, "resumed-bad", allowed=False) == "Failed"
    app = make_app(background_work=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _resume(app, pilot)
        await eventually(pilot, lambda: app.step_states["train"] is Mark.ATTENTION, SCREEN_WAIT)
        await pilot.pause()
        assert _bar_line(app, "Train").strip().startswith("8 !")


async def test_a_resumed_notebook_that_is_gone_marks_notebook_for_attention(make_app, world, journal):
    earlier = _earlier(journal, world)
    # The earlier session made it; it was deleted outside sagewiz since.
    earlier.append(ResourceCreated(ResourceKind.NOTEBOOK, "nb-deleted-elsewhere"))
    app = make_app(background_work=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _resume(app, pilot)
        assert app.state.notebook_name == ""  # a gone notebook is not restored as the choice
        await eventually(pilot, lambda: app.step_states["notebook"] is Mark.ATTENTION, SCREEN_WAIT)


def test_marks_for_reads_each_chosen_resource(factory, world, journal):
    earlier = _earlier(journal, world)
    _train(factory, world, earlier, "direct-ok", allowed=True)
    state = WizardState(account=world.account, region=world.region, sandbox=True)
    assert marks_for(factory, state) == {}
    state.update(training_job="direct-ok", bucket=world.default_bucket, notebook_name="no-such-nb")
    assert marks_for(factory, state) == {"train": Mark.DONE, "bucket": Mark.DONE, "notebook": Mark.ATTENTION}
    state.update(bucket="sagemaker-sample-files", training_job="no-such-job")
    found = marks_for(factory, state, gone=("tune",))
    # the sample bucket belongs to another account in the sandbox's world; the job is gone
    assert found["train"] is Mark.ATTENTION and found["tune"] is Mark.ATTENTION
    assert found["bucket"] is Mark.ATTENTION
