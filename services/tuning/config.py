"""A tuning job as the user configured it, and every rule it must meet before any AWS call."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

from services.sagemaker_model import EnumShape, NameShape, enum_problem, enum_values, name_rule
from services.tuning.ranges import CATEGORICAL, ParameterRange, Problem, validate_range

# The order the form offers them in; what is accepted is the API model's enum (a test keeps them equal).
STRATEGIES = ("Bayesian", "Random", "Hyperband", "Grid")
# The defaults every face starts from (the Tune screen's form, `--plain`, `apply`): defined once here.
DEFAULT_STRATEGY = "Bayesian"
DEFAULT_MAX_JOBS = 10
DEFAULT_MAX_PARALLEL = 2
WARM_START_TYPES = ("IdenticalDataAndAlgorithm", "TransferLearning")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@/-]+$")

# Service limits (SageMaker "Resource Limits for Automatic Model Tuning").
MAX_SEARCHED_HYPERPARAMETERS = 30
MAX_TRAINING_JOBS = 750  # Bayesian, Hyperband, Grid; Random can be raised to 10000 by request
MAX_TRAINING_JOBS_RANDOM_RAISED = 10000
DEFAULT_PARALLEL_QUOTA = 10  # default; can be raised to 100
MAX_PARALLEL_JOBS = 100
MAX_WARM_START_PARENTS = 5
TUNING_RUNTIME_MIN, TUNING_RUNTIME_MAX = 120, 15768000
HYPERBAND_EPOCH_KEYS = ("epochs", "numepochs", "n-epochs", "n_epochs", "num_epochs")


@dataclass(frozen=True)
class TrainingBase:
    """What every child training job shares: the Train step's algorithm, data, role and resources."""

    image: str
    role_arn: str
    input_channels: tuple[dict[str, Any], ...]
    output_path: str
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    volume_gb: int = 10
    max_runtime_s: int = 3600
    static_hyperparameters: dict[str, str] = field(default_factory=dict)
    input_mode: str = "File"
    spot: bool = False
    max_wait_s: int | None = None
    source: str = ""  # where these settings came from (a training job name, the Train step)

    def with_(self, **changes: Any) -> TrainingBase:
        return replace(self, **changes)


@dataclass(frozen=True)
class TuningConfig:
    name: str
    base: TrainingBase
    ranges: tuple[ParameterRange, ...]
    objective_metric: str
    objective_type: str  # Maximize | Minimize
    strategy: str = DEFAULT_STRATEGY
    max_jobs: int | None = DEFAULT_MAX_JOBS  # None for Grid: inferred from the search space
    max_parallel: int = DEFAULT_MAX_PARALLEL
    early_stopping: bool = False
    hyperband_min_resource: int | None = None
    hyperband_max_resource: int | None = None
    max_runtime_s: int | None = None  # whole tuning job
    warm_start_parents: tuple[str, ...] = ()
    warm_start_type: str = WARM_START_TYPES[0]
    random_seed: int | None = None

    def with_(self, **changes: Any) -> TuningConfig:
        return replace(self, **changes)

    def grid_size(self) -> int:
        """Distinct combinations of the categorical ranges (what a grid search runs)."""
        return math.prod(len(r.values) for r in self.ranges) if self.ranges else 0

    def planned_jobs(self) -> int:
        if self.strategy == "Grid":
            n = self.grid_size()
            return min(n, self.max_jobs) if self.max_jobs else n
        return self.max_jobs or 0


def validate_config(cfg: TuningConfig) -> list[Problem]:
    """Every rule the configuration breaks, in form order. Empty means it may be submitted."""
    out: list[Problem] = []
    name_ok = name_rule(NameShape.TUNING_JOB)
    if not name_ok.matches(cfg.name or ""):
        out.append(
            Problem(
                "tuning job name",
                f"{cfg.name!r} is not a valid tuning job name" if cfg.name else "the name is empty",
                f"1 to {name_ok.max_length} letters, digits and hyphens, starting and ending with a letter or digit",
            )
        )
    # ranges
    if not cfg.ranges:
        out.append(Problem("ranges", "no hyperparameter is being tuned", "tick at least one range"))
    names = [r.name for r in cfg.ranges]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        out.append(Problem(dup, "this hyperparameter has more than one range", "keep one"))
    if len(cfg.ranges) > MAX_SEARCHED_HYPERPARAMETERS:
        out.append(
            Problem(
                "ranges", f"{len(cfg.ranges)} ranges; at most {MAX_SEARCHED_HYPERPARAMETERS} can be searched"
            )
        )
    for r in cfg.ranges:
        out.extend(validate_range(r))
    for name in sorted(set(names) & set(cfg.base.static_hyperparameters)):
        value = cfg.base.static_hyperparameters[name]
        out.append(
            Problem(
                name,
                f"{name} is both static ({name}={value}) and tuned; AWS refuses a hyperparameter that is both",
                f"remove {name}={value} from Static, or untick its range",
            )
        )
    # objective
    if not cfg.objective_metric.strip():
        out.append(Problem("objective", "no objective metric chosen", "pick the metric to optimize"))
    channels = {c.get("ChannelName") for c in cfg.base.input_channels}
    if (
        cfg.objective_metric.startswith("validation:")
        and cfg.base.input_channels
        and "validation" not in channels
    ):
        out.append(
            Problem(
                "objective",
                f"{cfg.objective_metric} is computed on the validation channel, and there is none",
                "add the validation data, or pick a train:* metric",
            )
        )
    if cfg.objective_type not in (directions := enum_values(EnumShape.OBJECTIVE_TYPE)):
        out.append(
            Problem("objective", f"direction {cfg.objective_type!r} must be " + " or ".join(directions))
        )
    # strategy
    if cfg.strategy not in (strategies := enum_values(EnumShape.TUNING_STRATEGY)):
        out.append(Problem("strategy", f"unknown strategy {cfg.strategy!r}", "use " + ", ".join(strategies)))
    if cfg.strategy == "Grid":
        numeric = [r.name for r in cfg.ranges if r.kind != CATEGORICAL]
        if numeric:
            out.append(
                Problem(
                    "strategy",
                    "grid search works only with categorical ranges; numeric: " + ", ".join(numeric),
                    "untick the numeric ranges, or pick Random or Bayesian",
                )
            )
        elif cfg.ranges and cfg.grid_size() > MAX_TRAINING_JOBS:
            out.append(
                Problem(
                    "strategy",
                    f"the grid has {cfg.grid_size()} combinations; at most {MAX_TRAINING_JOBS} training jobs are allowed",
                    "use fewer categorical values",
                )
            )
    if cfg.strategy == "Hyperband":
        if cfg.early_stopping:
            out.append(
                Problem(
                    "early stopping",
                    "Hyperband has its own early stopping; training job early stopping must be Off",
                    "switch early stopping off",
                )
            )
        lo, hi = cfg.hyperband_min_resource, cfg.hyperband_max_resource
        if lo is not None and lo < 1:
            out.append(Problem("hyperband min resource", "must be at least 1"))
        if hi is not None and hi < 1:
            out.append(Problem("hyperband max resource", "must be at least 1"))
        if lo is not None and hi is not None and lo >= 1 and hi >= 1 and lo >= hi:
            out.append(
                Problem("hyperband min resource", f"minimum resource {lo} is not below maximum resource {hi}")
            )
        if hi is None and not any(k in cfg.base.static_hyperparameters for k in HYPERBAND_EPOCH_KEYS):
            out.append(
                Problem(
                    "hyperband max resource",
                    "Hyperband needs a maximum resource: none given and no epochs hyperparameter to infer it from",
                    "enter the maximum resource (for XGBoost, the number of rounds)",
                )
            )
    # limits
    if cfg.strategy != "Grid" or cfg.max_jobs is not None:
        limit = MAX_TRAINING_JOBS_RANDOM_RAISED if cfg.strategy == "Random" else MAX_TRAINING_JOBS
        if cfg.max_jobs is None or cfg.max_jobs < 1:
            out.append(Problem("max training jobs", "must be at least 1"))
        elif cfg.max_jobs > limit:
            out.append(Problem("max training jobs", f"{cfg.max_jobs} is above the service limit of {limit}"))
    if cfg.max_parallel < 1:
        out.append(Problem("parallel jobs", "must be at least 1"))
    elif cfg.max_parallel > MAX_PARALLEL_JOBS:
        out.append(
            Problem("parallel jobs", f"{cfg.max_parallel} is above the service limit of {MAX_PARALLEL_JOBS}")
        )
    elif cfg.max_jobs and cfg.max_parallel > cfg.max_jobs:
        out.append(
            Problem(
                "parallel jobs",
                f"{cfg.max_parallel} parallel jobs but only {cfg.max_jobs} jobs in total",
                "lower parallel jobs to at most the total",
            )
        )
    if cfg.max_runtime_s is not None and not TUNING_RUNTIME_MIN <= cfg.max_runtime_s <= TUNING_RUNTIME_MAX:
        out.append(
            Problem(
                "tuning max runtime",
                f"{cfg.max_runtime_s} s is outside {TUNING_RUNTIME_MIN}..{TUNING_RUNTIME_MAX} s",
            )
        )
    # warm start
    if cfg.warm_start_parents:
        if len(cfg.warm_start_parents) > MAX_WARM_START_PARENTS:
            out.append(Problem("warm start", f"at most {MAX_WARM_START_PARENTS} parent tuning jobs"))
        for parent in cfg.warm_start_parents:
            if not name_ok.matches(parent):
                out.append(Problem("warm start", f"{parent!r} is not a valid tuning job name"))
            elif parent == cfg.name:
                out.append(Problem("warm start", "a tuning job cannot warm start from itself"))
        if cfg.warm_start_type not in (kinds := enum_values(EnumShape.WARM_START_TYPE)):
            out.append(Problem("warm start", f"type must be one of {', '.join(kinds)}"))
    from services.tuning.algorithm_rules import algorithm_problems

    statics = {k: v for k, v in cfg.base.static_hyperparameters.items() if k not in set(names)}
    out.extend(algorithm_problems(cfg.base.image, cfg.ranges, cfg.objective_metric, statics))
    out.extend(validate_base(cfg.base, tuned={r.name for r in cfg.ranges}))
    return out


def without_tuned(base: TrainingBase, tuned: set[str]) -> TrainingBase:
    """The base with the tuned hyperparameters' fixed values taken out: a training job's value of
    a hyperparameter gives way to its range when tuning starts from that job."""
    static = {k: v for k, v in base.static_hyperparameters.items() if k not in tuned}
    return base if static == base.static_hyperparameters else base.with_(static_hyperparameters=static)


def validate_base(base: TrainingBase, tuned: set[str] | None = None) -> list[Problem]:
    out: list[Problem] = []
    if not base.image.strip():
        out.append(
            Problem("training image", "no container image", "run the Train step or load a training job")
        )
    if not ROLE_ARN_RE.match(base.role_arn or ""):
        out.append(
            Problem(
                "execution role",
                f"{base.role_arn!r} is not an IAM role ARN" if base.role_arn else "no execution role",
                "arn:aws:iam::<account>:role/<name>",
            )
        )
    if not base.output_path.startswith("s3://") or len(base.output_path) <= 5:
        out.append(Problem("output path", f"{base.output_path!r} is not an s3:// URI", "s3://bucket/prefix/"))
    channels = [c.get("ChannelName") for c in base.input_channels]
    if "train" not in channels:
        out.append(Problem("input data", "no train channel", "load the settings of the Train step's job"))
    if not base.instance_type.startswith("ml."):
        out.append(Problem("instance type", f"{base.instance_type!r} is not an ml.* instance type"))
    elif problem := enum_problem(
        base.instance_type, EnumShape.TRAINING_INSTANCE_TYPE, "a training instance type"
    ):
        out.append(Problem("instance type", problem))
    if base.instance_count < 1:
        out.append(Problem("instance count", "must be at least 1"))
    if base.volume_gb < 1:
        out.append(Problem("volume size", "must be at least 1 GB"))
    if base.max_runtime_s < 1:
        out.append(Problem("max runtime", "must be at least 1 second"))
    if base.spot and (base.max_wait_s is None or base.max_wait_s < base.max_runtime_s):
        out.append(Problem("max wait", "spot training needs a max wait time at least the max runtime"))
    statics = {k: v for k, v in base.static_hyperparameters.items() if k not in (tuned or set())}
    if len(statics) > 100:
        out.append(Problem("hyperparameters", "at most 100 static hyperparameters"))
    for k, v in statics.items():
        if len(k) > 256 or len(str(v)) > 2500:
            out.append(Problem(k, "hyperparameter name or value too long (256 / 2500 characters)"))
    return out
