"""What a plan shows is what is sent: for every step that creates a job or a resource, the requests
boto3 is asked to send while the plan is applied equal the plan's requests, call for call.

The recording is botocore's own event system (`provide-client-params`, emitted with the parameters
a client method was called with) registered on the real clients the sandbox session hands out; no
code of ours is replaced."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from services.flow import bucket, labels, notebook, permissions, role, train, tune
from services.flow.context import FlowContext
from services.flow.outcome import StepPlan, Verdict
from services.labeling.request import PUBLIC, Workforce
from services.plan import Plan
from services.sandbox import trainer
from services.session import SessionFactory
from services.state import WizardState
from tests.labels.helpers import copy_samples, fix_role
from tests.labels.test_sandbox_jobs import LAMBDAS
from tests.train.conftest import grant_bucket, upload_csv, wait_done
from tests.tune.test_sandbox_tuning import wait_done as tune_done

READS = ("Describe", "List", "Get", "Head")


class Sent:
    """Every request the factory's clients send, as (operation name, parameters), reads left out."""

    def __init__(self, factory: SessionFactory, services: tuple[str, ...]) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        for service in services:
            factory.client(service).meta.events.register("provide-client-params", self._seen)

    def _seen(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if not model.name.startswith(READS):
            self.calls.append((model.name, copy.deepcopy(params)))

    def clear(self) -> None:
        self.calls.clear()


def planned(plan: Plan) -> list[tuple[str, dict[str, Any]]]:
    return [(a.request.name, a.request.params) for a in plan.actions]


@pytest.fixture
def ctx(world, journal) -> FlowContext:
    journal.bind(world.account, world.region, True)
    factory = SessionFactory(world.target())
    return FlowContext(factory, world.account, world.region, journal, world.admin_arn, sandbox=True)


@pytest.fixture
def sent(ctx) -> Sent:
    return Sent(ctx.factory, ("s3", "iam", "sagemaker", "s3control"))


def state_of(world, **choices: Any) -> WizardState:
    state = WizardState(region=world.region, account=world.account, caller_arn=world.admin_arn)
    state.update(**choices)
    return state


def sends_what_it_shows(sent: Sent, p: StepPlan, apply: Any) -> list[str]:
    assert p.verdict is Verdict.SEND, p.message
    assert p.requests is not None
    sent.clear()
    apply()
    assert sent.calls == planned(p.requests)
    return [name for name, _ in sent.calls]


def test_bucket_role_and_notebook(world, ctx, sent) -> None:
    state = state_of(world)
    p = bucket.plan(ctx, state, bucket.BucketChoices("flow-sent-bucket"))
    assert "CreateBucket" in sends_what_it_shows(sent, p, lambda: bucket.apply(ctx, state, p))
    arn = role.new_role_arn(ctx, "flow-sent-role")
    p = role.plan(ctx, state, role.RoleChoices(arn))
    assert "CreateRole" in sends_what_it_shows(sent, p, lambda: role.apply(ctx, state, p))
    state.update(notebook_name="flow-sent-nb", role_arn=world.role_arn)
    choices = notebook.choices_from_state(state)
    assert choices is not None
    p = notebook.plan(ctx, state, replace(choices, spec=replace(choices.spec, idle_minutes=60)))
    names = sends_what_it_shows(sent, p, lambda: notebook.apply(ctx, state, p))
    assert names == ["CreateNotebookInstanceLifecycleConfig", "CreateNotebookInstance"]


def test_permissions_policy_changes(world, ctx, sent) -> None:
    state = state_of(world, bucket=world.default_bucket, role_arn=world.role_arn)
    names: list[str] = []
    for _ in range(permissions.ROUNDS):
        p = permissions.plan(ctx, state, permissions.choices_from_state(state))
        if p.verdict is not Verdict.SEND:
            break
        names += sends_what_it_shows(sent, p, lambda p=p: permissions.apply(ctx, state, p))
    assert {"PutRolePolicy", "PutBucketPolicy"} <= set(names)


def test_training_and_tuning_jobs(world, ctx, sent) -> None:
    old = trainer.set_pace(0.0)
    try:
        grant_bucket(ctx.factory, world)
        upload_csv(ctx.factory, world)
        b = world.default_bucket
        state = state_of(world, bucket=b, role_arn=world.role_arn)
        choices = train.TrainChoices(
            job_name="flow-sent-train",
            channels={"train": f"s3://{b}/xgb/train/", "validation": f"s3://{b}/xgb/validation/"},
            hyperparameters={"num_round": "5", "num_class": "3", "subsample": "0.8"},
        )
        p = train.plan(ctx, state, choices)
        assert sends_what_it_shows(sent, p, lambda: train.apply(ctx, state, p)) == ["CreateTrainingJob"]
        wait_done(ctx.factory.client("sagemaker"), "flow-sent-train")
        # The tuning job starts from that job, subsample tuned: the plan's request is what is sent,
        # and subsample is not also static in it.
        t = tune.plan(
            ctx, state, tune.TuneChoices(name="flow-sent-tune", training_job="flow-sent-train", max_jobs=2)
        )
        assert t.requests is not None
        request = t.requests.actions[0].request.params
        tuned = {
            r["Name"]
            for kind in request["HyperParameterTuningJobConfig"]["ParameterRanges"].values()
            for r in kind
        }
        assert "subsample" in tuned
        assert not tuned & set(request["TrainingJobDefinition"]["StaticHyperParameters"])
        names = sends_what_it_shows(sent, t, lambda: tune.apply(ctx, state, t))
        assert names == ["CreateHyperParameterTuningJob"]
        # A warm start from it, once it has finished: WarmStartConfig is shown and sent as shown.
        tune_done(ctx.factory.client("sagemaker"), "flow-sent-tune")
        warm = replace(
            tune.choices_from_state(state) or tune.TuneChoices(),
            name="flow-sent-warm", training_job="flow-sent-train", max_jobs=2,
            warm_start_parents=("flow-sent-tune",), warm_start_type="IdenticalDataAndAlgorithm",
        )  # fmt: skip
        w = tune.plan(ctx, state, warm)
        assert w.requests is not None
        assert w.requests.actions[0].request.params["WarmStartConfig"]["WarmStartType"] == (
            "IdenticalDataAndAlgorithm"
        )
        assert sends_what_it_shows(sent, w, lambda: tune.apply(ctx, state, w)) == [
            "CreateHyperParameterTuningJob"
        ]
    finally:
        trainer.set_pace(old)


def test_labeling_job(world, ctx, sent) -> None:
    copy_samples(ctx.factory, world, 5)
    fix_role(ctx.factory, world)
    state = state_of(
        world, bucket=world.default_bucket, role_arn=world.role_arn, labeling_job="flow-sent-labels"
    )
    choices = labels.choices_from_state(state, world.region)
    wf = Workforce(PUBLIC, 12, free_of_pii=True, free_of_adult_content=True, acknowledged=True)
    assert choices.spec is not None
    choices = replace(choices, spec=replace(choices.spec, workforce=wf, lambdas=LAMBDAS))
    p = labels.plan(ctx, state, choices)
    names = sends_what_it_shows(sent, p, lambda: labels.apply(ctx, state, p))
    assert names[-1] == "CreateLabelingJob" and "PutObject" in names
