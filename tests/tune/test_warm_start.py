"""Warm start over real boto3 calls to the sandbox: parents found and described with their best,
the type that fits (and why), refusals before any call, and WarmStartConfig sent and echoed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from services.errors import ValidationError
from services.flow import tune as flow_tune
from services.flow.context import FlowContext
from services.flow.outcome import Verdict
from services.state import WizardState
from services.tuning.config import TrainingBase
from services.tuning.request import build_request
from services.tuning.warm_start import (
    IDENTICAL,
    TRANSFER,
    advise,
    describe_parent,
    find_parents,
    same_algorithm,
    warm_start_problems,
)
from tests.tune.data import channel
from tests.tune.test_algorithm_ranges import IC_IMAGE
from tests.tune.test_sandbox_tuning import tuning_config, wait_done


@pytest.fixture
def parent(factory: Any, base: TrainingBase) -> str:
    sm = factory.client("sagemaker")
    sm.create_hyper_parameter_tuning_job(**build_request(tuning_config(base, name="parent", max_jobs=2)))
    wait_done(sm, "parent")
    return "parent"


def test_finished_parents_of_the_same_algorithm_are_offered_with_their_best(
    factory: Any, base: TrainingBase, parent: str
) -> None:
    sm = factory.client("sagemaker")
    # Still running: not a parent yet.
    sm.create_hyper_parameter_tuning_job(
        **build_request(tuning_config(base, name="running", max_jobs=50, max_parallel=1))
    )
    found = find_parents(factory, base.image)
    assert [p.name for p in found] == ["parent"]
    p = found[0]
    best = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="parent")["BestTrainingJob"]
    assert p.best_job == best["TrainingJobName"]
    assert p.best_value == best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    assert p.label() == f"parent (best validation:mlogloss = {p.best_value:.4g})"
    assert p.tuned == ("eta", "max_depth") and p.static_hyperparameters["num_round"] == "6"
    # Another algorithm's tuning job is never offered.
    assert find_parents(factory, IC_IMAGE) == []
    assert same_algorithm(base.image, base.image.replace(":1.7-1", ":1.5-1"))
    assert not same_algorithm(base.image, IC_IMAGE)
    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="running")


def test_the_type_follows_what_changed_and_refusals_say_why(
    factory: Any, base: TrainingBase, parent: str, world: Any
) -> None:
    p = describe_parent(factory, parent)
    same = tuning_config(base, name="child", warm_start_parents=(parent,))
    assert advise(same, [p]).type == IDENTICAL
    assert warm_start_problems(same, [p]) == []
    # Other validation data and another num_round: transfer learning, each difference said.
    moved = base.with_(
        input_channels=(base.input_channels[0], channel(world.default_bucket, "validation2") | {"ChannelName": "validation"}),
        static_hyperparameters={**base.static_hyperparameters, "num_round": "9"},
    )  # fmt: skip
    changed = tuning_config(moved, name="child", warm_start_parents=(parent,))
    advice = advise(changed, [p])
    assert advice.type == TRANSFER
    assert "the data differ from parent's (validation:" in advice.text()
    assert "num_round=9 vs 6" in advice.text()
    problems = [q.message for q in warm_start_problems(changed, [p])]
    assert any(m.startswith(f"{IDENTICAL} needs the parent's data") for m in problems)
    assert warm_start_problems(changed.with_(warm_start_type=TRANSFER), [p]) == []
    # Another objective: refused whatever the type.
    other = same.with_(objective_metric="validation:merror", warm_start_type=TRANSFER)
    (problem,) = warm_start_problems(other, [p])
    assert "validation:merror is not parent's (validation:mlogloss)" in problem.message


def test_flow_refuses_before_any_call_and_sends_what_the_plan_shows(
    factory: Any, world: Any, journal: Any, base: TrainingBase, parent: str
) -> None:
    ctx = FlowContext(factory, world.account, world.region, journal, world.admin_arn, sandbox=True)
    state = WizardState()
    sm = factory.client("sagemaker")
    before = sm.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    bad = flow_tune.TuneChoices(
        name="warm-bad", base=base, objective="validation:merror",
        ranges=(flow_tune.RangeChoice("eta", min_value="0.1", max_value="0.5"),
                flow_tune.RangeChoice("max_depth", min_value="1", max_value="10")),
        warm_start_parents=(parent,), warm_start_type=TRANSFER,
    )  # fmt: skip
    refused = flow_tune.plan(ctx, state, bad)
    assert refused.verdict is Verdict.CANNOT and refused.requests is None
    assert isinstance(refused.problem, ValidationError)
    assert "validation:merror is not parent's (validation:mlogloss)" in refused.problem.message
    assert sm.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"] == before
    good = flow_tune.plan(ctx, state, replace(bad, name="warm-good", objective=""))
    assert good.requests is not None
    request = good.requests.actions[0].request.params
    assert request["WarmStartConfig"] == {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": parent}],
        "WarmStartType": TRANSFER,
    }
    flow_tune.apply(ctx, state, good)
    echoed = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="warm-good")
    assert echoed["WarmStartConfig"] == request["WarmStartConfig"]
    assert state.extra["tuning"]["warm_start"] == {"parents": [parent], "type": TRANSFER}
    again = flow_tune.choices_from_state(state)
    assert again is not None and again.warm_start_parents == (parent,)
    assert again.warm_start_type == TRANSFER
    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="warm-good")


def test_sandbox_refuses_a_parent_that_is_missing_or_has_another_objective(
    factory: Any, base: TrainingBase, parent: str
) -> None:
    import botocore.exceptions

    sm = factory.client("sagemaker")
    missing = build_request(tuning_config(base, name="w1", warm_start_parents=("nope",)))
    with pytest.raises(botocore.exceptions.ClientError, match="Parent tuning job nope does not exist"):
        sm.create_hyper_parameter_tuning_job(**missing)
    other = tuning_config(base, name="w2", objective_metric="validation:merror", warm_start_parents=(parent,))
    with pytest.raises(botocore.exceptions.ClientError, match="differs from parent parent's objective"):
        sm.create_hyper_parameter_tuning_job(**build_request(other))
