"""The range and configuration rules: every rule, with the message a person sees."""

from __future__ import annotations

import pytest

from services.tuning.catalog import catalog_for
from services.tuning.config import TrainingBase, TuningConfig, validate_config
from services.tuning.ranges import CATEGORICAL, CONTINUOUS, INTEGER, Bounds, ParameterRange, validate_range

BASE = TrainingBase(
    image="662702820516.dkr.ecr.eu-north-1.amazonaws.com/sagemaker-xgboost:1.7-1",
    role_arn="arn:aws:iam::123456789012:role/service-role/SageMaker-tt",
    input_channels=(
        {"ChannelName": "train", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/t/"}}},
        {"ChannelName": "validation", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/v/"}}},
    ),
    output_path="s3://b/out/",
    static_hyperparameters={"objective": "multi:softmax", "num_class": "5", "num_round": "50"},
)  # fmt: skip


def cont(lo: str, hi: str, scaling: str = "Auto", bounds: Bounds | None = None) -> ParameterRange:
    return ParameterRange("eta", CONTINUOUS, lo, hi, scaling, bounds=bounds)


def integer(lo: str, hi: str, scaling: str = "Auto") -> ParameterRange:
    return ParameterRange("max_depth", INTEGER, lo, hi, scaling)


def cat(*values: str) -> ParameterRange:
    return ParameterRange("booster", CATEGORICAL, values=values)


# (range, expected fragment of the first message or None when valid)
RANGE_TABLE = [
    (cont("0.1", "0.5"), None),
    (cont("0.5", "0.5"), "is not below maximum"),
    (cont("0.9", "0.1"), "minimum 0.9 is not below maximum 0.1"),
    (cont("abc", "1"), "minimum abc is not a number"),
    (cont("", "1"), "minimum (empty) is not a number"),
    (cont("0", "inf"), "maximum inf is not a number"),
    (integer("1", "10"), None),
    (integer("1.5", "10"), "is not a whole number"),
    (integer("2", "1"), "is not below maximum"),
    (cont("0.001", "1", "Logarithmic"), None),
    (cont("0", "1", "Logarithmic"), "logarithmic scaling needs both bounds above 0"),
    (cont("-1", "1", "Logarithmic"), "logarithmic scaling needs both bounds above 0"),
    (integer("1", "100", "Logarithmic"), None),
    (cont("0", "0.99", "ReverseLogarithmic"), None),
    (cont("0.5", "1", "ReverseLogarithmic"), "within 0 <= x < 1"),
    (cont("-0.1", "0.5", "ReverseLogarithmic"), "within 0 <= x < 1"),
    (integer("0", "1", "ReverseLogarithmic"), "only for continuous ranges"),
    (cont("0.1", "0.5", "Quadratic"), "unknown scaling"),
    (cont("0.1", "2", bounds=Bounds(0, 1)), "maximum 2 is outside what the algorithm accepts [0, 1]"),
    (
        cont("0", "1", bounds=Bounds(0, 1, low_open=True)),
        "minimum 0 is outside what the algorithm accepts (0, 1]",
    ),
    (cat("gbtree", "dart"), None),
    (cat(), "needs at least one value"),
    (cat("gbtree", ""), "a categorical value is empty"),
    (cat("gbtree", "gbtree"), "duplicate values: gbtree"),
    (cat(*[f"v{i}" for i in range(31)]), "31 values; at most 30"),
    (ParameterRange("", CONTINUOUS, "0", "1"), "needs a hyperparameter name"),
    (ParameterRange("x", "fuzzy", "0", "1"), "unknown range type"),
]


@pytest.mark.parametrize(("rng", "expected"), RANGE_TABLE, ids=[str(i) for i in range(len(RANGE_TABLE))])
def test_range_rules(rng: ParameterRange, expected: str | None) -> None:
    problems = validate_range(rng)
    if expected is None:
        assert problems == []
    else:
        assert problems, f"expected a problem containing {expected!r}"
        assert expected in problems[0].message, problems[0].text()


def config(**changes: object) -> TuningConfig:
    cfg = TuningConfig(
        name="xgb-tune",
        base=BASE,
        ranges=(cont("0.1", "0.5"), integer("1", "10")),
        objective_metric="validation:merror",
        objective_type="Minimize",
        strategy="Bayesian",
        max_jobs=10,
        max_parallel=2,
    )
    return cfg.with_(**changes)


CONFIG_TABLE = [
    ({}, None),
    ({"name": ""}, "the name is empty"),
    ({"name": "has_underscore"}, "is not a valid tuning job name"),
    ({"name": "x" * 33}, "is not a valid tuning job name"),
    ({"ranges": ()}, "no hyperparameter is being tuned"),
    ({"ranges": (cont("0.1", "0.5"), cont("0.2", "0.3"))}, "more than one range"),
    (
        {"ranges": tuple(ParameterRange(f"p{i}", CONTINUOUS, "0", "1") for i in range(31))},
        "at most 30 can be searched",
    ),
    ({"objective_metric": ""}, "no objective metric chosen"),
    ({"objective_type": "Biggest"}, "must be Maximize or Minimize"),
    (
        {"base": BASE.with_(input_channels=BASE.input_channels[:1])},
        "is computed on the validation channel, and there is none",
    ),
    ({"strategy": "Genetic"}, "unknown strategy"),
    ({"strategy": "Grid"}, "grid search works only with categorical ranges; numeric: eta, max_depth"),
    ({"strategy": "Grid", "ranges": (cat("gbtree", "dart"),), "max_jobs": None}, None),
    (
        {
            "strategy": "Grid",
            "max_jobs": None,
            "ranges": tuple(
                ParameterRange(f"c{i}", CATEGORICAL, values=tuple(f"v{j}" for j in range(10)))
                for i in range(3)
            ),
        },
        "the grid has 1000 combinations",
    ),
    (
        {"strategy": "Hyperband", "early_stopping": True, "hyperband_max_resource": 50},
        "Hyperband has its own early stopping",
    ),
    (
        {"strategy": "Hyperband", "hyperband_min_resource": 10, "hyperband_max_resource": 5},
        "minimum resource 10 is not below maximum resource 5",
    ),
    (
        {"strategy": "Hyperband", "hyperband_min_resource": 0, "hyperband_max_resource": 5},
        "must be at least 1",
    ),
    ({"strategy": "Hyperband"}, "Hyperband needs a maximum resource"),
    ({"strategy": "Hyperband", "hyperband_min_resource": 1, "hyperband_max_resource": 50}, None),
    ({"max_jobs": 0}, "must be at least 1"),
    ({"max_jobs": 751, "max_parallel": 2}, "above the service limit of 750"),
    ({"strategy": "Random", "max_jobs": 5000}, None),
    ({"strategy": "Random", "max_jobs": 10001}, "above the service limit of 10000"),
    ({"max_parallel": 0}, "must be at least 1"),
    ({"max_parallel": 101, "max_jobs": 500}, "above the service limit of 100"),
    ({"max_parallel": 20, "max_jobs": 10}, "20 parallel jobs but only 10 jobs in total"),
    ({"max_runtime_s": 60}, "outside 120..15768000"),
    ({"warm_start_parents": ("a", "b", "c", "d", "e", "f")}, "at most 5 parent tuning jobs"),
    ({"warm_start_parents": ("bad_name",)}, "is not a valid tuning job name"),
    ({"warm_start_parents": ("xgb-tune",)}, "cannot warm start from itself"),
    ({"base": BASE.with_(role_arn="SageMaker-tt")}, "is not an IAM role ARN"),
    ({"base": BASE.with_(output_path="bucket/out")}, "is not an s3:// URI"),
    ({"base": BASE.with_(input_channels=())}, "no train channel"),
    ({"base": BASE.with_(instance_type="m5.large")}, "is not an ml.* instance type"),
    ({"base": BASE.with_(image="")}, "no container image"),
    ({"base": BASE.with_(spot=True)}, "spot training needs a max wait time"),
]


@pytest.mark.parametrize(
    ("changes", "expected"), CONFIG_TABLE, ids=[str(i) for i in range(len(CONFIG_TABLE))]
)
def test_config_rules(changes: dict, expected: str | None) -> None:
    problems = validate_config(config(**changes))
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p.message for p in problems), [p.text() for p in problems]


def test_kind_spelling_is_normalised() -> None:
    assert ParameterRange("eta", "Continuous", "0.1", "0.5").kind == CONTINUOUS
    assert validate_range(ParameterRange("b", "Categorical", values=("a", "b"))) == []


def test_grid_size_and_planned_jobs() -> None:
    cfg = config(
        strategy="Grid",
        max_jobs=None,
        ranges=(
            cat("gbtree", "dart"),
            ParameterRange("tree_method", CATEGORICAL, values=("auto", "hist", "exact")),
        ),
    )
    assert cfg.grid_size() == 6
    assert cfg.planned_jobs() == 6
    assert config(max_jobs=7).planned_jobs() == 7


def test_catalog_prefills_documented_recommended_ranges() -> None:
    cat_ = catalog_for("xgboost", {"objective": "multi:softmax", "num_class": "5"})
    eta = cat_.spec("eta")
    assert eta is not None and (eta.recommended_min, eta.recommended_max) == ("0.1", "0.5")
    assert cat_.spec("num_round").kind == INTEGER
    assert (cat_.spec("num_round").recommended_min, cat_.spec("num_round").recommended_max) == ("1", "4000")
    assert cat_.spec("eta").suggested and cat_.spec("subsample").suggested
    assert not cat_.spec("alpha").suggested  # its 0-1000 range stops every split on tiny data
    assert cat_.spec("booster").kind == CATEGORICAL
    assert "gpu_hist" not in cat_.spec("tree_method").values
    # multiclass objective: the metrics it prints, the default eval metric first
    assert [o.metric for o in cat_.objectives][0] == "validation:mlogloss"
    assert {o.metric for o in cat_.objectives} == {
        "validation:mlogloss",
        "validation:merror",
        "validation:accuracy",
        "validation:auc",  # multi-class AUC: XGBoost >= 1.4, and the container is 1.7-1
    }
    assert cat_.objective("validation:accuracy").direction == "Maximize"
    # every documented default range is itself valid
    for spec in cat_.tunable:
        assert validate_range(spec.default_range()) == [], spec.name
