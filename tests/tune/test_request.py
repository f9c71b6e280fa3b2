"""The CreateHyperParameterTuningJob request: built from the form, valid for botocore's model."""

from __future__ import annotations

import math

import pytest

from services.errors import ValidationError
from services.journal_events import JobStarted
from services.resource_kinds import ResourceKind
from services.tuning.config import without_tuned
from services.tuning.ranges import CATEGORICAL, ParameterRange
from services.tuning.request import build_plan, build_request, check, estimate_cost, model_problems
from tests.tune.test_validation import cat, config, cont, integer


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"strategy": "Random", "early_stopping": True, "random_seed": 7},
        {"strategy": "Hyperband", "hyperband_min_resource": 2, "hyperband_max_resource": 40},
        {"strategy": "Grid", "max_jobs": None, "ranges": (cat("gbtree", "dart"),)},
        {"warm_start_parents": ("old-tune",), "warm_start_type": "TransferLearning", "max_runtime_s": 7200},
        {"ranges": (cont("0.001", "0.9", "ReverseLogarithmic"), integer("1", "64", "Logarithmic"))},
    ],
    ids=["bayesian", "random", "hyperband", "grid", "warm-start", "scalings"],
)
def test_request_validates_against_botocore_model(changes: dict) -> None:
    cfg = config(**changes)
    assert check(cfg) == []
    request = build_request(cfg)
    assert model_problems(request) == []
    job = request["HyperParameterTuningJobConfig"]
    assert job["Strategy"] == cfg.strategy
    assert job["HyperParameterTuningJobObjective"] == {"Type": "Minimize", "MetricName": "validation:merror"}
    assert {"Key": "sagewiz:created-by", "Value": "sagewiz"} in request["Tags"]


def test_static_and_tuned_never_overlap() -> None:
    """eta both static and tuned: AWS refuses it, so the plan does, before any call, saying which."""
    cfg = config(
        base=config().base.with_(static_hyperparameters={"objective": "multi:softmax", "num_class": "5", "eta": "0.3", "num_round": "50"}),
    )  # fmt: skip
    problems = check(cfg)
    assert [p.field for p in problems] == ["eta"]
    assert "eta is both static (eta=0.3) and tuned" in problems[0].message
    assert problems[0].hint == "remove eta=0.3 from Static, or untick its range"
    with pytest.raises(ValidationError, match="both static"):
        build_plan(cfg, "eu-north-1")
    # A training job's value gives way to the range when tuning starts from it: nothing is both.
    fixed = cfg.with_(base=without_tuned(cfg.base, {r.name for r in cfg.ranges}))
    assert (
        check(fixed) == []
        and "eta" not in build_request(fixed)["TrainingJobDefinition"]["StaticHyperParameters"]
    )


def test_request_shape() -> None:
    cfg = config(
        base=config().base.with_(static_hyperparameters={"objective": "multi:softmax", "num_class": "5", "num_round": "50", "_tuning_objective_metric": "x"}),
    )  # fmt: skip
    request = build_request(cfg)
    definition = request["TrainingJobDefinition"]
    # the service's own key is never sent
    assert definition["StaticHyperParameters"] == {
        "objective": "multi:softmax",
        "num_class": "5",
        "num_round": "50",
    }
    assert "MetricDefinitions" not in definition["AlgorithmSpecification"]  # built-in algorithm
    ranges = request["HyperParameterTuningJobConfig"]["ParameterRanges"]
    assert ranges["ContinuousParameterRanges"] == [
        {"Name": "eta", "MinValue": "0.1", "MaxValue": "0.5", "ScalingType": "Auto"}
    ]
    assert ranges["IntegerParameterRanges"] == [
        {"Name": "max_depth", "MinValue": "1", "MaxValue": "10", "ScalingType": "Auto"}
    ]
    assert "CategoricalParameterRanges" not in ranges
    limits = request["HyperParameterTuningJobConfig"]["ResourceLimits"]
    assert limits == {"MaxParallelTrainingJobs": 2, "MaxNumberOfTrainingJobs": 10}
    assert request["HyperParameterTuningJobConfig"]["TrainingJobEarlyStoppingType"] == "Off"


def test_grid_omits_max_jobs_and_hyperband_has_settings() -> None:
    grid = build_request(config(strategy="Grid", max_jobs=None, ranges=(cat("gbtree", "dart"),)))
    assert "MaxNumberOfTrainingJobs" not in grid["HyperParameterTuningJobConfig"]["ResourceLimits"]
    assert grid["HyperParameterTuningJobConfig"]["ParameterRanges"]["CategoricalParameterRanges"] == [
        {"Name": "booster", "Values": ["gbtree", "dart"]}
    ]
    hb = build_request(config(strategy="Hyperband", hyperband_min_resource=2, hyperband_max_resource=40))
    assert hb["HyperParameterTuningJobConfig"]["StrategyConfig"] == {
        "HyperbandStrategyConfig": {"MinResource": 2, "MaxResource": 40}
    }


def test_model_problems_reports_botocore_rules() -> None:
    request = build_request(config())
    request["HyperParameterTuningJobConfig"]["Strategy"] = 3
    request["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxParallelTrainingJobs"] = 0
    del request["TrainingJobDefinition"]["RoleArn"]
    messages = " | ".join(p.message for p in model_problems(request))
    assert "Invalid type for parameter HyperParameterTuningJobConfig.Strategy" in messages
    assert "MaxParallelTrainingJobs, value: 0, valid min value: 1" in messages
    assert 'Missing required parameter in TrainingJobDefinition: "RoleArn"' in messages


def test_cost_upper_bound() -> None:
    cfg = config(
        max_jobs=20,
        base=config().base.with_(instance_type="ml.m5.xlarge", instance_count=2, max_runtime_s=1800),
    )
    cost = estimate_cost(cfg, "us-east-1")
    # 20 jobs x 2 instances x $0.23/h x 0.5 h
    assert math.isclose(cost.upper_bound_usd or 0, 20 * 2 * 0.23 * 0.5)
    assert "Upper bound ~$4.60: 20 jobs x 2 x ml.m5.xlarge" in cost.text()
    unknown = estimate_cost(config(base=config().base.with_(instance_type="ml.zz.huge")), "us-east-1")
    assert unknown.upper_bound_usd is None and "unknown" in unknown.text()
    grid = estimate_cost(
        config(
            strategy="Grid", max_jobs=None, ranges=(ParameterRange("b", CATEGORICAL, values=("a", "b", "c")),)
        ),
        "us-east-1",
    )
    assert grid.jobs == 3


def test_plan_names_the_call_the_cost_and_refuses_bad_input() -> None:
    plan = build_plan(config(), "eu-north-1")
    action = plan.actions[0]
    assert action.api_call() == "sagemaker:CreateHyperParameterTuningJob"
    assert action.journal == JobStarted(
        ResourceKind.TUNING_JOB,
        "xgb-tune",
        attributes={"strategy": "Bayesian", "max_jobs": 10, "objective": "validation:merror"},
    )
    assert any(w.startswith("Upper bound") for w in plan.warnings)
    assert "Bayesian, 10 training jobs (2 at once), minimize validation:merror" in action.description
    with pytest.raises(ValidationError) as err:
        build_plan(config(ranges=(cont("0.9", "0.1"),)), "eu-north-1")
    assert "minimum 0.9 is not below maximum 0.1" in err.value.message
    busy = build_plan(config(max_parallel=20, max_jobs=40), "eu-north-1")
    assert any("default quota of 10" in w for w in busy.warnings)
