"""SageMaker's name patterns, enums and limits come from botocore's model, once, and every check uses them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from botocore.validate import ParamValidator

from services import notebooks, training
from services.config_file import ConfigError, loads
from services.errors import ValidationError
from services.labeling import rules
from services.notebook_autostop import autostop_config_name
from services.sagemaker_model import EnumShape, NameShape, enum_values, name_rule, sagemaker_model
from services.tuning.config import STRATEGIES, WARM_START_TYPES
from services.tuning.request import build_plan, build_request, check, model_problems
from tests.tune.test_validation import config

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for d in ("services", "screens", "tui") for p in (ROOT / d).rglob("*.py")]


@pytest.mark.parametrize(
    ("shape", "longest"),
    [(NameShape.TRAINING_JOB, 63), (NameShape.TUNING_JOB, 32), (NameShape.LABELING_JOB, 63),
     (NameShape.LABEL_ATTRIBUTE, 127), (NameShape.NOTEBOOK_INSTANCE, 63), (NameShape.MODEL, 63)],
)  # fmt: skip
def test_name_rules_are_the_model_shapes(shape: NameShape, longest: int) -> None:
    meta = sagemaker_model().shape_for(shape.value).metadata
    rule = name_rule(shape)
    assert (rule.pattern, rule.max_length) == (meta["pattern"], meta["max"]) == (rule.pattern, longest)
    assert rule.matches("a" * longest) and rule.matches("my-job-1")
    for bad in ("a" * (longest + 1), "", "-job", "job-", "my_job", "my.job", "my job"):
        assert not rule.matches(bad), bad


def test_the_name_pattern_is_written_nowhere_in_the_code() -> None:
    # The model's name pattern, written by hand, is what drifted six ways before.
    literal = re.compile(r"\(-\*\[a-zA-Z0-9\]\)")
    written = [str(p.relative_to(ROOT)) for p in SOURCES if literal.search(p.read_text())]
    assert written == []


def test_service_models_are_read_only_through_the_shared_loader() -> None:
    outside = [
        str(p.relative_to(ROOT))
        for p in SOURCES
        if "get_service_model(" in p.read_text() and p.name != "session.py"
    ]
    assert outside == []


def test_every_validator_applies_the_models_limits() -> None:
    tuning_limit = name_rule(NameShape.TUNING_JOB).max_length
    assert [p.field for p in check(config(name="t" * tuning_limit))] == []
    assert [p.field for p in check(config(name="t" * (tuning_limit + 1)))] == ["tuning job name"]
    good = _training_config(job_name="x" * 63)
    assert "job_name" not in training.validate_config(good)
    assert "63" in training.validate_config(good.with_(job_name="x" * 64))["job_name"]
    assert notebooks.name_problem("n" * 63) is None
    assert "at most 63" in (notebooks.name_problem("n" * 64) or "")
    assert rules.check_job_name("l" * 63) == "l" * 63
    with pytest.raises(ValidationError, match="limit is 127"):
        rules.check_attribute_name("a" * 128)
    with pytest.raises(ConfigError, match="at most 32"):
        loads(f'version = 1\nregion = "eu-north-1"\n[tuning]\njob = "{"t" * 33}"\n')
    assert len(autostop_config_name("n" * 63)) <= name_rule(NameShape.LIFECYCLE_CONFIG).max_length


def test_the_offered_choices_are_the_models_enums() -> None:
    assert enum_values(EnumShape.TUNING_STRATEGY) == STRATEGIES
    assert enum_values(EnumShape.WARM_START_TYPE) == WARM_START_TYPES
    assert set(training.TRAINING_INSTANCE_TYPES) <= set(enum_values(EnumShape.TRAINING_INSTANCE_TYPE))
    assert notebooks.notebook_instance_types() == enum_values(EnumShape.NOTEBOOK_INSTANCE_TYPE)


def test_a_bogus_instance_type_is_refused_before_any_call() -> None:
    bogus = config(base=config().base.with_(instance_type="ml.bogus"))
    # botocore's own validation lets it through: it checks types and required members, not enums.
    shape = sagemaker_model().operation_model("CreateHyperParameterTuningJob").input_shape
    assert not ParamValidator().validate(build_request(bogus), shape).has_errors()
    problems = check(bogus)
    assert [p.field for p in problems] == ["instance type"]
    assert "'ml.bogus' is not a training instance type SageMaker accepts" in problems[0].message
    assert "ml.m5.large" in problems[0].message or "for example" in problems[0].message
    with pytest.raises(ValidationError, match="ml.bogus"):
        build_plan(bogus, "eu-north-1")
    errors = training.validate_config(_training_config(instance_type="ml.bogus"))
    assert "is not a training instance type SageMaker accepts" in errors["instance_type"]


def test_the_model_check_catches_enums_botocore_leaves_out() -> None:
    request = build_request(config())
    request["TrainingJobDefinition"]["ResourceConfig"]["InstanceType"] = "ml.bogus"
    request["HyperParameterTuningJobConfig"]["Strategy"] = "Sideways"
    request["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]["Type"] = "Maximise"
    messages = [p.message for p in model_problems(request)]
    assert any("'ml.bogus' is not a value SageMaker accepts (for example ml." in m for m in messages)
    assert any("'Sideways' is not a value SageMaker accepts (one of Bayesian, Random" in m for m in messages)
    assert any(
        "'Maximise' is not a value SageMaker accepts (one of Maximize, Minimize)" in m for m in messages
    )


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [({"strategy": "Sideways"}, "unknown strategy 'Sideways'"),
     ({"objective_type": "Maximise"}, "must be Maximize or Minimize"),
     ({"warm_start_parents": ("old",), "warm_start_type": "Cold"}, "IdenticalDataAndAlgorithm, TransferLearning")],
)  # fmt: skip
def test_tuning_enums_are_checked_with_the_models_values(changes: dict[str, object], fragment: str) -> None:
    assert any(fragment in p.message for p in check(config(**changes)))


def _training_config(**changes: object) -> training.TrainingConfig:
    base = training.TrainingConfig(
        job_name="j",
        algorithm_id="xgboost",
        role_arn="arn:aws:iam::123456789012:role/r",
        channels=(),
        hyperparameters={},
        output_path="s3://b/out/",
    )
    return base.with_(**changes)
