"""Tune offers the base job's algorithm only: its ranges, its objectives, its rules, its names."""

from __future__ import annotations

import pytest

from services.algorithms import get
from services.flow import tune as flow_tune
from services.training import ChannelInput, TrainingConfig, build_request
from services.tuning.config import validate_config, without_tuned
from services.tuning.ranges import CATEGORICAL, INTEGER
from services.tuning.request import base_from_description, check
from services.tuning.request import build_request as tuning_request

ROLE = "arn:aws:iam::123456789012:role/service-role/SageMaker-tt"
XGB_IMAGE = "662702820516.dkr.ecr.eu-north-1.amazonaws.com/sagemaker-xgboost:1.7-1"
IC_IMAGE = "669576153137.dkr.ecr.eu-north-1.amazonaws.com/image-classification:1"
XGB_ONLY = {"eta", "max_depth", "subsample", "colsample_bytree", "num_round", "alpha", "lambda"}


def described(algorithm: str) -> dict:
    """A training job as DescribeTrainingJob returns it: the Train step's request."""
    if algorithm == "image-classification":
        hp = {"num_classes": "5", "num_training_samples": "40", "epochs": "10", "mini_batch_size": "8",
              "learning_rate": "0.1"}  # fmt: skip
        channels = tuple(
            ChannelInput(n, f"s3://b/sagewiz/image-classification/{n}.manifest", "application/x-recordio",
                         "AugmentedManifestFile", ("source-ref", "label"), "Pipe", "RecordIO")
            for n in ("train", "validation")
        )  # fmt: skip
        image, itype, mode = IC_IMAGE, "ml.p3.2xlarge", "Pipe"
    else:
        hp = {
            "objective": "multi:softmax",
            "num_class": "5",
            "num_round": "100",
            "eta": "0.2",
            "max_depth": "5",
        }
        channels = tuple(ChannelInput(n, f"s3://b/sagewiz/xgboost/{n}/") for n in ("train", "validation"))
        image, itype, mode = XGB_IMAGE, "ml.m5.xlarge", "File"
    cfg = TrainingConfig(
        "base-job", algorithm, ROLE, channels, hp, "s3://b/out", image, itype, input_mode=mode
    )
    return build_request(cfg)


@pytest.mark.parametrize("algorithm", ["xgboost", "image-classification"])
def test_a_tuning_request_from_a_base_job_has_only_its_algorithms_ranges_and_objectives(
    algorithm: str,
) -> None:
    base = base_from_description(described(algorithm))
    # The choices say xgboost (the default) whatever the base: the base's image decides.
    cfg = flow_tune.build_config(flow_tune.TuneChoices(training_job="base-job"), base)
    cfg = cfg.with_(base=without_tuned(cfg.base, {r.name for r in cfg.ranges}))
    assert check(cfg) == []
    request = tuning_request(cfg)
    ranges = request["HyperParameterTuningJobConfig"]["ParameterRanges"]
    tuned = {r["Name"] for kind in ranges.values() for r in kind}
    algo = get(algorithm)
    assert tuned and all(algo.param(name) is not None for name in tuned)
    objective = request["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
    assert algo.objective(objective["MetricName"]) is not None
    static = request["TrainingJobDefinition"]["StaticHyperParameters"]
    assert static == {k: v for k, v in base.static_hyperparameters.items() if k not in tuned}
    if algorithm == "image-classification":
        assert tuned == {"learning_rate", "mini_batch_size", "optimizer"} and not tuned & XGB_ONLY
        assert objective == {"Type": "Maximize", "MetricName": "validation:accuracy"}
        # the batch range stops at the training set's size
        assert {r["Name"]: r["MaxValue"] for r in ranges["IntegerParameterRanges"]} == {
            "mini_batch_size": "40"
        }
        assert "num_classes" in static and "learning_rate" not in static
        assert cfg.name == "tune-base-job" and flow_tune.default_name("", algorithm) == "ic-tune"
    else:
        assert tuned == {"eta", "max_depth", "subsample", "colsample_bytree"}
        assert objective["MetricName"] == "validation:mlogloss"
        assert flow_tune.default_name("", algorithm) == "xgb-tune"


def test_xgboost_ranges_and_objective_on_an_image_classification_base_are_refused() -> None:
    base = base_from_description(described("image-classification"))
    choices = flow_tune.TuneChoices(
        training_job="base-job",
        ranges=(flow_tune.RangeChoice("eta", min_value="0.1", max_value="0.5"),),
        objective="validation:rmse",
        objective_type="Minimize",
    )
    problems = validate_config(flow_tune.build_config(choices, base))
    texts = [p.text() for p in problems]
    assert any(t.startswith("eta: eta is not a hyperparameter of Image classification") for t in texts), texts
    assert any("validation:rmse is not a metric Image classification" in t for t in texts), texts
    assert any("pick one of validation:accuracy" in t for t in texts)


@pytest.mark.parametrize(
    ("rng", "static", "refused"),
    [
        (flow_tune.RangeChoice("max_depth", min_value="0", max_value="10"), {}, True),
        (flow_tune.RangeChoice("max_depth", min_value="1", max_value="10"), {}, False),
        (flow_tune.RangeChoice("max_depth", CATEGORICAL, values=("0", "4")), {}, True),
        (
            flow_tune.RangeChoice("max_depth", min_value="0", max_value="10"),
            {"grow_policy": "lossguide", "tree_method": "hist"},
            False,
        ),
    ],
    ids=["typed-from-0", "from-1", "categorical-0", "lossguide-from-0"],
)
def test_max_depth_range_must_not_reach_0_unless_lossguide(rng, static, refused) -> None:
    base = base_from_description(described("xgboost"))
    base = base.with_(static_hyperparameters={**base.static_hyperparameters, **static})
    cfg = flow_tune.build_config(flow_tune.TuneChoices(training_job="base-job", ranges=(rng,)), base)
    cfg = cfg.with_(base=without_tuned(cfg.base, {"max_depth"}))
    problems = [p for p in validate_config(cfg) if p.field == "max_depth"]
    assert bool(problems) is refused, problems
    if refused:
        assert "max_depth 0 (no limit), which only grow_policy lossguide accepts" in problems[0].message
        assert problems[0].hint == "start the range at 1"


def test_the_offered_max_depth_range_starts_at_1_and_at_0_with_lossguide() -> None:
    from services.tuning.catalog import catalog_for

    depth = catalog_for("xgboost", {"objective": "multi:softmax"}).spec("max_depth")
    assert depth is not None and (depth.kind, depth.recommended_min, depth.recommended_max) == (
        INTEGER,
        "1",
        "10",
    )
    loose = catalog_for("xgboost", {"grow_policy": "lossguide"}).spec("max_depth")
    assert loose is not None and loose.recommended_min == "0"


def test_a_batch_range_above_the_training_samples_is_refused() -> None:
    base = base_from_description(described("image-classification"))
    rng = flow_tune.RangeChoice("mini_batch_size", min_value="8", max_value="512")
    cfg = flow_tune.build_config(flow_tune.TuneChoices(training_job="base-job", ranges=(rng,)), base)
    cfg = cfg.with_(base=without_tuned(cfg.base, {"mini_batch_size"}))
    problems = [p for p in validate_config(cfg) if p.field == "mini_batch_size"]
    assert problems and "more than the 40 training samples" in problems[0].message
