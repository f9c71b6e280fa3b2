"""Built-in SageMaker XGBoost: its documented hyperparameters, the rules between them, its metrics.

Sources: the SageMaker developer guide's XGBoost hyperparameter and tuning tables and the
container's own validation (aws/sagemaker-xgboost-container `algorithm_mode/`), summarised in
the shared reference (aws-facts.md §7). Ranges are the container's (what actually fails a job).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from services.algorithms.spec import (
    NUMBER,
    Algorithm,
    ChannelSpec,
    HyperParameter,
    MetricDefinition,
    ObjectiveMetric,
    check_each,
    effective,
)

VERSION = "1.7-1"
# XGBoost 1.4.0 added multi-class AUC (release notes: "AUC for multi-class classification");
# the 1.x-y container tag carries the XGBoost version it runs.
MULTICLASS_AUC_SINCE = (1, 4)


def xgboost_version(container_version: str = VERSION) -> tuple[int, int]:
    """(major, minor) of the XGBoost library in a container tag like 1.7-1; (0, 0) when unreadable."""
    head = container_version.split("-", 1)[0].split(".")
    try:
        return int(head[0]), int(head[1]) if len(head) > 1 else 0
    except ValueError:
        return (0, 0)


def supports_multiclass_auc(container_version: str = VERSION) -> bool:
    return xgboost_version(container_version) >= MULTICLASS_AUC_SINCE


OBJECTIVES = (
    "reg:squarederror", "reg:squaredlogerror", "reg:logistic", "reg:pseudohubererror", "reg:absoluteerror",
    "reg:gamma", "reg:tweedie", "reg:linear", "binary:logistic", "binary:logitraw", "binary:hinge",
    "count:poisson", "survival:cox", "survival:aft", "multi:softmax", "multi:softprob", "rank:pairwise",
    "rank:ndcg", "rank:map",
)  # fmt: skip
MULTI_OBJECTIVES = ("multi:softmax", "multi:softprob")

# Metric names the container accepts for eval_metric / tuning, with their direction.
MAXIMIZE = (
    "accuracy", "auc", "aucpr", "balanced_accuracy", "f1", "f1_binary", "f1_macro", "map", "ndcg",
    "precision", "r2", "recall", "precision_macro", "precision_micro", "recall_macro", "recall_micro",
)  # fmt: skip
MINIMIZE = (
    "aft-nloglik", "cox-nloglik", "error", "gamma-deviance", "gamma-nloglik", "interval-regression-accuracy",
    "logloss", "mae", "mape", "merror", "mlogloss", "mphe", "mse", "poisson-nloglik", "rmse", "rmsle",
    "tweedie-nloglik",
)  # fmt: skip
EVAL_METRICS = MAXIMIZE + MINIMIZE
UPDATERS = (
    "grow_colmaker", "distcol", "grow_histmaker", "grow_local_histmaker", "grow_skmaker", "sync", "refresh",
    "prune", "grow_quantile_histmaker", "grow_gpu_hist", "shotgun", "coord_descent",
)  # fmt: skip
_TREE_METHODS_WITH_CONSTRAINTS = ("exact", "hist", "approx", "gpu_hist")

H = HyperParameter
HYPERPARAMETERS: tuple[HyperParameter, ...] = (
    H("num_round", "int", None, min=1, required=True, tunable=True, recommended_range=(1, 4000),
      scaling="Linear", description="The number of rounds (trees) to run the training."),
    H("objective", "categorical", "reg:squarederror", choices=OBJECTIVES,
      description="The learning task and its objective, e.g. reg:squarederror, binary:logistic, multi:softmax."),
    H("num_class", "int", None, min=2,
      description="The number of classes. Required when objective is multi:softmax or multi:softprob."),
    H("eta", "float", "0.3", min=0, max=1, tunable=True, recommended_range=(0.1, 0.5), aliases=("learning_rate",),
      description="Step size shrinkage used in updates to prevent overfitting."),
    H("max_depth", "int", "6", min=0, tunable=True, recommended_range=(0, 10), scaling="Linear",
      description="Maximum depth of a tree; 0 means no limit (only with grow_policy lossguide)."),
    H("min_child_weight", "float", "1", min=0, tunable=True, recommended_range=(0, 120),
      description="Minimum sum of instance weight (hessian) needed in a child for a further partition."),
    H("subsample", "float", "1", min=0, max=1, min_exclusive=True, tunable=True, recommended_range=(0.5, 1),
      description="Fraction of the training rows sampled for each tree."),
    H("gamma", "float", "0", min=0, tunable=True, recommended_range=(0, 5), aliases=("min_split_loss",),
      description="Minimum loss reduction required to make a further partition on a leaf node."),
    H("alpha", "float", "0", min=0, tunable=True, recommended_range=(0, 1000), aliases=("reg_alpha",),
      description="L1 regularization term on weights."),
    H("lambda", "float", "1", min=0, tunable=True, recommended_range=(0, 1000), aliases=("reg_lambda",),
      description="L2 regularization term on weights."),
    H("colsample_bytree", "float", "1", min=0, max=1, min_exclusive=True, tunable=True,
      recommended_range=(0.5, 1), description="Fraction of columns sampled for each tree."),
    H("colsample_bylevel", "float", "1", min=0, max=1, min_exclusive=True, tunable=True,
      recommended_range=(0.1, 1), description="Fraction of columns sampled for each level of a tree."),
    H("colsample_bynode", "float", "1", min=0, max=1, min_exclusive=True, tunable=True,
      recommended_range=(0.1, 1), description="Fraction of columns sampled for each node (split)."),
    H("max_delta_step", "int", "0", min=0, tunable=True, recommended_range=(0, 10), scaling="Linear",
      description="Maximum delta step allowed for each tree's weight estimate; 0 means no constraint."),
    H("eval_metric", "str", None,
      description="Validation metrics, comma separated (rmse, mae, logloss, error, error@t, merror, mlogloss, "
                  "auc, aucpr, ndcg, map ...). Default according to objective."),
    H("early_stopping_rounds", "int", None, min=1,
      description="Stop when the validation metric has not improved for this many rounds (needs a validation channel)."),
    H("booster", "categorical", "gbtree", choices=("gbtree", "gblinear", "dart"),
      description="Which booster to use: tree based (gbtree, dart) or linear (gblinear)."),
    H("tree_method", "categorical", "auto", choices=("auto", "exact", "approx", "hist", "gpu_hist"),
      description="The tree construction algorithm. gpu_hist needs a GPU instance."),
    H("grow_policy", "categorical", "depthwise", choices=("depthwise", "lossguide"), advanced=True,
      description="How new nodes are added to the tree; lossguide needs tree_method hist or approx."),
    H("max_leaves", "int", "0", min=0, advanced=True,
      description="Maximum number of nodes to add (only with grow_policy lossguide)."),
    H("max_bin", "int", "256", min=0, advanced=True,
      description="Maximum number of discrete bins for continuous features (only with tree_method hist)."),
    H("sketch_eps", "float", "0.03", min=0, max=1, min_exclusive=True, max_exclusive=True, advanced=True,
      description="Approximation factor of the sketch (only with tree_method approx)."),
    H("scale_pos_weight", "float", "1", min=0, min_exclusive=True,
      description="Balance of positive and negative weights, e.g. sum(negative) / sum(positive)."),
    H("base_score", "float", "0.5", min=0, advanced=True,
      description="Initial prediction score of all instances (global bias). In (0, 1) for logistic objectives."),
    H("seed", "int", "0", min=-(2**31), max=2**31 - 1, min_exclusive=True,
      description="Random number seed."),
    H("csv_weights", "int", "0", choices=("0", "1"), min=0, max=1, advanced=True,
      description="1: the second CSV column holds instance weights (label, weight, features...)."),
    H("verbosity", "int", "1", min=0, max=3, advanced=True,
      description="Verbosity of printed messages: 0 silent, 1 warning, 2 info, 3 debug."),
    H("nthread", "int", None, min=1, advanced=True,
      description="Number of parallel threads (default: all cores)."),
    H("updater", "str", None, advanced=True,
      description="Comma-separated tree updaters, e.g. grow_colmaker,prune (advanced)."),
    H("refresh_leaf", "int", "1", choices=("0", "1"), min=0, max=1, advanced=True,
      description="With updater refresh: 1 updates leaf and node statistics, 0 only node statistics."),
    H("process_type", "categorical", "default", choices=("default", "update"), advanced=True,
      description="default builds new trees; update updates existing trees only."),
    H("lambda_bias", "float", "0", min=0, max=1, advanced=True,
      description="L2 regularization term on bias (gblinear)."),
    H("sample_type", "categorical", "uniform", choices=("uniform", "weighted"), advanced=True,
      description="dart: how dropped trees are selected."),
    H("normalize_type", "categorical", "tree", choices=("tree", "forest"), advanced=True,
      description="dart: how the weights of new trees are normalised."),
    H("rate_drop", "float", "0.0", min=0, max=1, advanced=True,
      description="dart: fraction of previous trees dropped during each round."),
    H("one_drop", "int", "0", choices=("0", "1"), min=0, max=1, advanced=True,
      description="dart: 1 always drops at least one tree."),
    H("skip_drop", "float", "0.0", min=0, max=1, advanced=True,
      description="dart: probability of skipping the dropout in a round."),
    H("tweedie_variance_power", "float", "1.5", min=1, max=2, min_exclusive=True, max_exclusive=True,
      advanced=True, description="Variance of the Tweedie distribution (objective reg:tweedie)."),
    H("interaction_constraints", "str", None, advanced=True,
      description="Allowed feature interactions as nested lists, e.g. [[0, 1], [2, 3, 4]]."),
    H("monotone_constraints", "str", None, advanced=True,
      description="Monotonicity per feature as a tuple of -1, 0, 1, e.g. (1,0,-1)."),
    H("deterministic_histogram", "bool", "true", advanced=True,
      description="Build the histogram on GPU deterministically (only with tree_method gpu_hist)."),
    H("single_precision_histogram", "bool", "false", advanced=True,
      description="Use single precision to build histograms (gpu_hist)."),
    H("num_parallel_tree", "int", "1", min=1, advanced=True,
      description="Number of parallel trees built in each round (random forests)."),
    H("sampling_method", "categorical", "uniform", choices=("uniform", "gradient_based"), advanced=True,
      description="How training rows are sampled; gradient_based only with gpu_hist."),
    H("predictor", "categorical", "auto", choices=("auto", "cpu_predictor", "gpu_predictor"), advanced=True,
      description="The predictor algorithm."),
    H("save_model_on_termination", "bool", "false", advanced=True,
      description="Save the model if the job is stopped or interrupted (spot)."),
    H("aft_loss_distribution", "categorical", "normal", choices=("normal", "logistic", "extreme"),
      advanced=True, description="survival:aft: distribution of the error term."),
    H("aft_loss_distribution_scale", "float", "1.0", min=0, min_exclusive=True, advanced=True,
      description="survival:aft: scale of the error distribution."),
)  # fmt: skip

CHANNELS = (
    ChannelSpec("train", True, ("text/csv", "text/libsvm", "application/x-parquet", "application/x-recordio-protobuf"),
                "Training rows. CSV: label in the first column, no header."),
    ChannelSpec("validation", False, ("text/csv", "text/libsvm", "application/x-parquet",
                                      "application/x-recordio-protobuf"),
                "Rows to evaluate each round (validation-* metrics; needed for early stopping and tuning)."),
)  # fmt: skip

_OBJECTIVE_DOCS = {
    "accuracy": "Classification rate, #(right)/#(all cases)",
    "auc": "Area under the curve",
    "error": "Binary classification error rate, #(wrong)/#(all cases)",
    "f1": "Harmonic mean of precision and recall",
    "logloss": "Negative log-likelihood",
    "mae": "Mean absolute error",
    "map": "Mean average precision",
    "merror": "Multiclass classification error rate, #(wrong cases)/#(all cases)",
    "mlogloss": "Negative log-likelihood for multiclass classification",
    "mse": "Mean squared error",
    "ndcg": "Normalized discounted cumulative gain",
    "rmse": "Root mean square error",
}


def metric_regex(channel: str, metric: str) -> str:
    """The regex SageMaker uses for built-in XGBoost (`[N]#011<channel>-<metric>:<value>`)."""
    return rf".*\[[0-9]+\].*#011{channel}-{metric}:{NUMBER}.*"


def _metric_definitions() -> tuple[MetricDefinition, ...]:
    names = (
        "mae", "aucpr", "merror", "gamma-nloglik", "logloss", "mlogloss", "f1", "accuracy", "mse",
        "poisson-nloglik", "tweedie-nloglik", "error", "ndcg", "map", "auc", "gamma-deviance", "rmse",
    )  # fmt: skip
    return tuple(
        MetricDefinition(f"{ch}:{m}", metric_regex(ch, m)) for ch in ("train", "validation") for m in names
    )


METRICS = _metric_definitions()
# What the tuning doc lists as XGBoost objective metrics.
OBJECTIVE_METRICS = tuple(
    ObjectiveMetric(f"validation:{m}", "Maximize" if m in MAXIMIZE else "Minimize", doc)
    for m, doc in _OBJECTIVE_DOCS.items()
)


def default_eval_metric(objective: str) -> str:
    """The metric XGBoost (>= 1.3) evaluates when eval_metric is not set."""
    if objective in MULTI_OBJECTIVES:
        return "mlogloss"
    if objective in ("binary:logistic", "binary:logitraw", "reg:logistic"):
        return "logloss" if objective != "binary:logitraw" else "logloss"
    if objective == "binary:hinge":
        return "error"
    if objective.startswith("rank:"):
        return "map" if objective == "rank:map" else "ndcg"
    if objective == "count:poisson":
        return "poisson-nloglik"
    if objective == "reg:gamma":
        return "gamma-nloglik"
    if objective == "reg:tweedie":
        return f"tweedie-nloglik@{1.5}"
    if objective == "survival:cox":
        return "cox-nloglik"
    if objective == "survival:aft":
        return "aft-nloglik"
    if objective == "reg:absoluteerror":
        return "mae"
    if objective == "reg:squaredlogerror":
        return "rmsle"
    if objective == "reg:pseudohubererror":
        return "mphe"
    return "rmse"


def eval_metrics(values: Mapping[str, str]) -> list[str]:
    """The metrics the job will print, in order (eval_metric or the objective's default)."""
    explicit = effective(values, "eval_metric")
    if explicit:
        return [m.strip() for m in explicit.split(",") if m.strip()]
    return [default_eval_metric(effective(values, "objective") or "reg:squarederror")]


def _metric_ok(name: str) -> bool:
    base, _, threshold = name.partition("@")
    if base not in EVAL_METRICS:
        return False
    if threshold:
        if base not in ("error", "ndcg", "map"):
            return False
        t = threshold.rstrip("-")
        try:
            float(t)
        except ValueError:
            return False
    return True


def lossguide(values: Mapping[str, str]) -> bool:
    """max_depth 0 means "no limit", which only the lossguide policy grows (XGBoost parameter
    docs: depthwise needs a depth; https://xgboost.readthedocs.io/en/release_1.7.0/parameter.html)."""
    return effective(values, "grow_policy") == "lossguide"


def _auc_problem(metrics: list[str], objective: str) -> str | None:
    """auc fits binary: and rank: objectives, and multi: ones from XGBoost 1.4 (the container
    selected runs 1.7); aucpr stays binary: / rank: only."""
    binary_or_rank = objective.startswith(("binary:", "rank:"))
    if "aucpr" in metrics and not binary_or_rank:
        return "aucpr needs a binary: or rank: objective."
    if "auc" in metrics and not binary_or_rank:
        if objective in MULTI_OBJECTIVES and supports_multiclass_auc():
            return None
        if objective in MULTI_OBJECTIVES:
            return f"auc with {objective} needs XGBoost 1.4 or later (container {VERSION})."
        return "auc needs a binary:, rank: or multi: objective."
    return None


def validate(values: Mapping[str, str], channels: Iterable[str] | None = None) -> dict[str, str]:
    """Every problem with these hyperparameters, as {field: message}; {} when they are fine.

    `channels` (names of the input channels) enables the rules that depend on them."""
    errors = check_each(HYPERPARAMETERS, values)
    objective = effective(values, "objective") or "reg:squarederror"
    num_class = effective(values, "num_class")
    if objective in MULTI_OBJECTIVES and not num_class:
        errors.setdefault(
            "num_class",
            f"num_class is required with objective {objective}: set it to the number of classes (>= 2).",
        )
    if num_class and objective not in MULTI_OBJECTIVES and "objective" not in errors:
        errors.setdefault(
            "num_class",
            "num_class only applies to multi:softmax and multi:softprob; clear it or change objective.",
        )
    metrics_raw = effective(values, "eval_metric")
    if metrics_raw and "eval_metric" not in errors:
        bad = [m for m in (s.strip() for s in metrics_raw.split(",")) if m and not _metric_ok(m)]
        if bad:
            errors["eval_metric"] = (
                f"unknown metric {bad[0]!r}; use names like rmse, mae, logloss, error, error@0.6, merror, "
                "mlogloss, auc, aucpr, ndcg, map, separated by commas."
            )
        elif problem := _auc_problem([m.strip() for m in metrics_raw.split(",")], objective):
            errors["eval_metric"] = problem
        elif any(m.strip() in ("merror", "mlogloss") for m in metrics_raw.split(",")) and (
            objective not in MULTI_OBJECTIVES
        ):
            errors["eval_metric"] = "merror and mlogloss need objective multi:softmax or multi:softprob."
    base_score = effective(values, "base_score")
    if base_score and "base_score" not in errors and objective in ("binary:logistic", "reg:logistic"):
        v = float(base_score)
        if not 0 < v < 1:
            errors["base_score"] = (
                f"base_score must be in (0, 1) with objective {objective} (got {base_score})."
            )
    tree_method = effective(values, "tree_method") or "auto"
    if effective(values, "max_depth") == "0" and not lossguide(values) and "max_depth" not in errors:
        errors["max_depth"] = "max_depth 0 (no limit) needs grow_policy lossguide; use 1 or more."
    if effective(values, "grow_policy") == "lossguide" and tree_method not in ("hist", "approx", "gpu_hist"):
        errors.setdefault(
            "grow_policy", "grow_policy lossguide needs tree_method hist (or approx, gpu_hist)."
        )
    for name in ("interaction_constraints", "monotone_constraints"):
        if effective(values, name) and tree_method not in _TREE_METHODS_WITH_CONSTRAINTS:
            errors.setdefault(name, f"{name} needs tree_method exact, approx or hist.")
    mono = effective(values, "monotone_constraints")
    if mono and "monotone_constraints" not in errors:
        parts = mono.strip("()[] ").split(",")
        if not all(p.strip() in ("-1", "0", "1") for p in parts if p.strip()):
            errors["monotone_constraints"] = (
                "monotone_constraints must be a tuple of -1, 0 and 1, e.g. (1,0,-1)."
            )
    inter = effective(values, "interaction_constraints")
    if inter and "interaction_constraints" not in errors:
        import json

        try:
            parsed = json.loads(inter)
            if not (isinstance(parsed, list) and all(isinstance(g, list) for g in parsed)):
                raise ValueError
        except ValueError:
            errors["interaction_constraints"] = (
                "interaction_constraints must be nested lists, e.g. [[0, 1], [2, 3]]."
            )
    updater = effective(values, "updater")
    if updater and "updater" not in errors:
        bad = [u for u in (s.strip() for s in updater.split(",")) if u and u not in UPDATERS]
        if bad:
            errors["updater"] = f"unknown updater {bad[0]!r}; known: {', '.join(UPDATERS)}."
    if effective(values, "deterministic_histogram") and tree_method not in ("gpu_hist", "auto"):
        pass  # accepted and ignored by the container on CPU methods
    if effective(values, "sampling_method") == "gradient_based" and tree_method != "gpu_hist":
        errors.setdefault("sampling_method", "sampling_method gradient_based needs tree_method gpu_hist.")
    if channels is not None:
        chans = set(channels)
        if effective(values, "early_stopping_rounds") and "validation" not in chans:
            errors.setdefault(
                "early_stopping_rounds",
                "early_stopping_rounds needs a validation channel; add one or clear it.",
            )
    return errors


def tuning_objectives_for(values: Mapping[str, str]) -> tuple[ObjectiveMetric, ...]:
    """Objective metrics that make sense for the objective set (what the job will print)."""
    objective = effective(values, "objective") or "reg:squarederror"
    ok: tuple[str, ...]
    if objective in MULTI_OBJECTIVES:
        ok = ("merror", "mlogloss", "accuracy") + (("auc",) if supports_multiclass_auc() else ())
    elif objective.startswith("binary:") or objective == "reg:logistic":
        ok = ("auc", "error", "logloss", "f1", "accuracy")
    elif objective.startswith("rank:"):
        ok = ("ndcg", "map", "auc")
    else:
        ok = ("rmse", "mae", "mse")
    return tuple(o for o in OBJECTIVE_METRICS if o.name.split(":", 1)[1] in ok)


ALGORITHM = Algorithm(
    id="xgboost",
    title="XGBoost (built-in, CSV)",
    framework="xgboost",
    version=VERSION,
    input_modes=("File", "FastFile"),
    channels=CHANNELS,
    hyperparameters=HYPERPARAMETERS,
    metrics=METRICS,
    objectives=OBJECTIVE_METRICS,
    validate=validate,
    default_instance_type="ml.m5.xlarge",
    notes=("Built-in algorithm: SageMaker supplies its metric definitions; none are sent.",),
)
