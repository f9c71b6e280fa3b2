"""The hyperparameter rules table and the training configuration checks (no AWS calls)."""

from __future__ import annotations

import pytest

from services.algorithms import get, validate
from services.training import ChannelInput, TrainingConfig, build_request, validate_config

SEED = {"max_depth": "5", "eta": "0.2", "gamma": "4", "min_child_weight": "6", "subsample": "0.8",
        "objective": "multi:softmax", "num_class": "5", "num_round": "100"}  # fmt: skip


@pytest.mark.parametrize(
    ("values", "field", "fragment"),
    [
        ({**SEED, "eta": "2"}, "eta", "[0, 1]"),
        ({**SEED, "num_round": "0"}, "num_round", ">= 1"),
        ({k: v for k, v in SEED.items() if k != "num_round"}, "num_round", "required"),
        (
            {k: v for k, v in SEED.items() if k != "num_class"},
            "num_class",
            "required with objective multi:softmax",
        ),
        ({**SEED, "objective": "reg:squarederror"}, "num_class", "only applies"),
        ({**SEED, "subsample": "0"}, "subsample", "(0, 1]"),
        ({**SEED, "max_depth": "2.5"}, "max_depth", "whole number"),
        ({**SEED, "booster": "forest"}, "booster", "one of gbtree, gblinear, dart"),
        (
            {**SEED, "objective": "reg:squarederror", "num_class": "", "eval_metric": "auc"},
            "eval_metric",
            "binary:, rank: or multi:",
        ),
        ({**SEED, "eval_metric": "aucpr"}, "eval_metric", "aucpr needs a binary: or rank:"),
        ({**SEED, "max_depth": "0"}, "max_depth", "needs grow_policy lossguide"),
        ({**SEED, "eval_metric": "bogus"}, "eval_metric", "unknown metric"),
        ({**SEED, "grow_policy": "lossguide"}, "grow_policy", "tree_method hist"),
        ({**SEED, "learning_rate": "0.1"}, "eta", "same parameter"),
        ({**SEED, "tweedie_variance_power": "2"}, "tweedie_variance_power", "(1, 2)"),
        ({**SEED, "colour": "red"}, "colour", "not a hyperparameter"),
        ({"num_round": "10", "objective": "binary:logistic", "base_score": "1.5"}, "base_score", "(0, 1)"),
    ],
)
def test_xgboost_rules(values, field, fragment):
    errors = validate("xgboost", values)
    assert field in errors, errors
    assert fragment in errors[field]


def test_seed_hyperparameters_are_valid_and_complete():
    assert validate("xgboost", SEED) == {}
    algo = get("xgboost")
    names = {h.name for h in algo.hyperparameters}
    assert set(SEED) <= names and len(names) >= 40
    tunable = {h.name: h.recommended_range for h in algo.tunable()}
    assert (
        tunable["eta"] == (0.1, 0.5) and tunable["num_round"] == (1, 4000) and tunable["alpha"] == (0, 1000)
    )
    assert all(h.description for h in algo.hyperparameters)


def test_multiclass_auc_is_allowed_on_the_selected_container():
    # XGBoost >= 1.4 computes AUC for multi:softprob; the 1.7-1 container is the one selected.
    from services.algorithms.xgboost import VERSION, supports_multiclass_auc

    assert VERSION == "1.7-1" and supports_multiclass_auc(VERSION)
    assert not supports_multiclass_auc("1.2-2")
    assert validate("xgboost", {**SEED, "objective": "multi:softprob", "eval_metric": "auc"}) == {}


def test_max_depth_zero_is_allowed_with_lossguide():
    values = {**SEED, "max_depth": "0", "grow_policy": "lossguide", "tree_method": "hist"}
    assert validate("xgboost", values) == {}


def test_early_stopping_needs_validation_channel():
    errors = validate("xgboost", {**SEED, "early_stopping_rounds": "5"}, ["train"])
    assert "validation channel" in errors["early_stopping_rounds"]


def test_image_classification_rules():
    ok = {"num_classes": "5", "num_training_samples": "40", "mini_batch_size": "8", "epochs": "10"}
    assert validate("image-classification", ok, ["train", "validation"]) == {}
    errors = validate("image-classification", {**ok, "mini_batch_size": "64", "image_shape": "224,224"})
    assert (
        "larger than num_training_samples" in errors["mini_batch_size"]
        and "channels,height,width" in errors["image_shape"]
    )


def _cfg(**kw):
    base = dict(job_name="good-job", algorithm_id="xgboost", role_arn="arn:aws:iam::123456789012:role/service-role/R",
                channels=(ChannelInput("train", "s3://b-bucket/t/"), ChannelInput("validation", "s3://b-bucket/v/")),
                hyperparameters=SEED, output_path="s3://b-bucket/out", image_uri="img")  # fmt: skip
    return TrainingConfig(**{**base, **kw})


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"job_name": "bad_name!"}, "job_name"),
        ({"job_name": "x" * 64}, "job_name"),
        ({"role_arn": "MyRole"}, "role_arn"),
        ({"output_path": "b-bucket/out"}, "output_path"),
        ({"instance_type": "m5.xlarge"}, "instance_type"),
        ({"instance_count": 0}, "instance_count"),
        ({"spot": True, "max_wait_s": 60}, "max_wait_s"),
        ({"channels": ()}, "channel:train"),
        ({"channels": (ChannelInput("train", "s3://Bad_Bucket/x"),)}, "channel:train"),
    ],
)
def test_config_problems_are_reported_per_field(changes, field):
    assert field in validate_config(_cfg(**changes))


def test_request_shape():
    req = build_request(_cfg(spot=True, max_wait_s=7200, instance_count=2))
    assert req["EnableManagedSpotTraining"] is True
    assert req["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    assert req["ResourceConfig"]["InstanceCount"] == 2
    assert "MetricDefinitions" not in req["AlgorithmSpecification"]  # built-in: SageMaker supplies them
    assert {"Key": "sagewiz:created-by", "Value": "sagewiz"} in req["Tags"]
    manifest = ChannelInput("train", "s3://b/m.manifest", "application/x-recordio", "AugmentedManifestFile",
                            ("source-ref", "my-job"), "Pipe", "RecordIO").as_api()  # fmt: skip
    assert manifest["DataSource"]["S3DataSource"]["AttributeNames"] == ["source-ref", "my-job"]
    assert manifest["RecordWrapperType"] == "RecordIO" and manifest["InputMode"] == "Pipe"


def test_image_uri_from_the_sdk():
    from services.training import image_uri

    assert (
        image_uri("xgboost", "eu-north-1")
        == "662702820516.dkr.ecr.eu-north-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    )
