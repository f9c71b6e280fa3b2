"""A training job really running in the sandbox: its cost in the header, clean-up stops it, and
resume re-attaches to it (the Train step's live panel opens)."""

from __future__ import annotations

import pytest

from services import cleanup, costs
from services.journal import Journal
from services.journal_events import SessionStarted
from services.training import build_request
from tests.cleanup.helpers import SCREEN_WAIT, append_legacy
from tests.support import eventually
from tests.train.conftest import grant_bucket, upload_csv, wait_done, xgb_config


@pytest.fixture
def running_job(world, factory, journal):
    from services.sandbox import trainer

    old = trainer.set_pace(1.0)  # slow enough to be seen running
    grant_bucket(factory, world)
    upload_csv(factory, world)
    earlier = Journal(journal.path)
    earlier.bind(world.account, world.region, True)
    earlier.append(SessionStarted(caller=world.admin_arn, sandbox=True))
    factory.client("sagemaker").create_training_job(**build_request(xgb_config(world, name="hk-running")))
    append_legacy(
        earlier, "job-started", type="training", name="hk-running", algorithm="xgboost"
    )  # an old journal
    yield "hk-running"
    trainer.set_pace(old)


def test_cost_and_stop_of_a_running_training_job(running_job, factory, journal, world):
    snap = costs.running_costs(factory)
    item = next(i for i in snap.items if i.id == running_job)
    assert item.type == "training-job" and item.hourly and item.hourly > 0
    journal.bind(world.account, world.region, True)
    inv = cleanup.inventory(factory, journal)
    res = inv.find("training-job", running_job)
    assert res is not None and res.state == "InProgress" and res.running
    plan = cleanup.plan_stop([res])
    assert [a.operation for a in plan.plan.actions] == ["stop_training_job"]
    cleanup.apply_cleanup(plan, factory, journal)
    d = wait_done(factory.client("sagemaker"), running_job, timeout=30)
    assert d["TrainingJobStatus"] == "Stopped"
    assert not cleanup.inventory(factory, journal).running


async def test_resume_reattaches_to_the_running_training_job(running_job, make_app):
    app = make_app(background_work=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await eventually(
            pilot,
            lambda: (
                app.screen.__class__.__name__ == "ResumeOfferScreen" and bool(app.screen.query("#resume"))
            ),
            SCREEN_WAIT,
        )
        assert app.screen.offer.attach_to.name == running_job
        await pilot.press("r")
        await eventually(pilot, lambda: app.current_step == "train", SCREEN_WAIT)
        await eventually(pilot, lambda: app.screen.__class__.__name__ == "JobPanelScreen", SCREEN_WAIT)
        assert app.state.training_job == running_job


def test_what_keeps_billing_names_commands_for_this_session(running_job, factory):
    """The commands printed on quitting point at this session's profile, region and endpoint,
    quoted for pasting: without them they would act on the default profile's region."""
    import shlex

    snap = costs.running_costs(factory)
    aws = costs.CommandContext("eu-west-3", profile="team dev", endpoint_url="https://vpce.example:443")
    [line] = [line for line in snap.still_billing(aws) if running_job in line]
    reattach, stop = line.split("re-attach with ", 1)[1].split("; stop with ")
    assert shlex.split(reattach) == [
        "sagewiz", "--profile", "team dev", "--region", "eu-west-3",
        "--endpoint-url", "https://vpce.example:443", "status", running_job,
    ]  # fmt: skip
    assert shlex.split(stop) == [
        "aws", "sagemaker", "stop-training-job", "--training-job-name", running_job,
        "--region", "eu-west-3", "--profile", "team dev", "--endpoint-url", "https://vpce.example:443",
    ]  # fmt: skip
    # The AWS CLI has no keys for the sandbox: there the step that stops it is named instead.
    [sandboxed] = [
        line
        for line in snap.still_billing(costs.CommandContext("eu-north-1", sandbox=True))
        if running_job in line
    ]
    assert "sagewiz --sandbox status hk-running" in sandboxed
    assert sandboxed.endswith("stop with sagewiz --sandbox --step cleanup")
    assert "aws sagemaker" not in sandboxed
