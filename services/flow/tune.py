"""The Tune step: a hyperparameter tuning job that starts from a training job's settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.errors import ValidationError
from services.flow.context import FlowContext
from services.flow.outcome import StepPlan, Verdict
from services.flow.reads import JobKind, job_status
from services.flow.train import DEFAULT_ALGORITHM
from services.state import WizardState
from services.tuning import request as tuning
from services.tuning import warm_start
from services.tuning.algorithm_rules import algorithm_of
from services.tuning.catalog import catalog_for
from services.tuning.config import (
    DEFAULT_MAX_JOBS,
    DEFAULT_MAX_PARALLEL,
    DEFAULT_STRATEGY,
    STRATEGIES,
    WARM_START_TYPES,
    TrainingBase,
    TuningConfig,
    without_tuned,
)
from services.tuning.ranges import ParameterRange

__all__ = ["DEFAULT_MAX_JOBS", "DEFAULT_MAX_PARALLEL", "DEFAULT_STRATEGY", "STRATEGIES", "WARM_START_TYPES"]

NAME_MAX = 32


@dataclass(frozen=True)
class RangeChoice:
    name: str
    kind: str = ""  # "" : the algorithm's documented kind
    min_value: str = ""
    max_value: str = ""
    scaling: str = "Auto"
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class TuneChoices:
    name: str = ""  # "" : tune-<training job>
    training_job: str = ""  # the job whose settings are tuned
    algorithm: str = DEFAULT_ALGORITHM
    strategy: str = DEFAULT_STRATEGY
    max_jobs: int | None = DEFAULT_MAX_JOBS  # None (Grid only): inferred from the search space
    max_parallel: int = DEFAULT_MAX_PARALLEL
    objective: str = ""  # "" : the algorithm's first objective metric
    objective_type: str = ""  # "" : the metric's direction
    ranges: tuple[RangeChoice, ...] | None = None  # None: the algorithm's suggested ranges
    early_stopping: bool = False
    # None: the training job's settings as AWS describes them; the Tune screen passes what its form
    # shows (loaded from that job, then possibly edited).
    base: TrainingBase | None = None
    hyperband_min_resource: int | None = None
    hyperband_max_resource: int | None = None
    max_runtime_s: int | None = None  # the whole tuning job
    warm_start_parents: tuple[str, ...] = ()
    warm_start_type: str = WARM_START_TYPES[0]


@dataclass(frozen=True, kw_only=True)
class TunePlan(StepPlan):
    config: TuningConfig | None = None


# Short, so the tuning job's name leaves room for the child job suffix (32 characters in all).
NAME_PREFIXES = {"xgboost": "xgb", "image-classification": "ic"}


def name_prefix(algorithm: str) -> str:
    return NAME_PREFIXES.get(algorithm, "tune")


def default_name(training_job: str, algorithm: str = DEFAULT_ALGORITHM) -> str:
    """tune-<training job>, or <algorithm>-tune when no training job names it."""
    if training_job:
        return f"tune-{training_job}"[:NAME_MAX].rstrip("-")
    return f"{name_prefix(algorithm)}-tune"


def choices_from_state(state: WizardState) -> TuneChoices | None:
    """The [tuning] table as choices; None when no tuning job is chosen."""
    raw = state.extra.get("tuning")
    s: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if not state.tuning_job and not s:
        return None
    trained = state.extra.get("training")
    algorithm = (
        trained.get("algorithm", DEFAULT_ALGORITHM) if isinstance(trained, dict) else DEFAULT_ALGORITHM
    )
    ranges: Mapping[str, Mapping[str, Any]] | None = s.get("ranges") or None
    raw_warm = s.get("warm_start")
    warm: dict[str, Any] = raw_warm if isinstance(raw_warm, dict) else {}
    return TuneChoices(
        name=state.tuning_job,
        training_job=state.training_job,
        algorithm=str(algorithm),
        strategy=str(s.get("strategy", DEFAULT_STRATEGY)),
        max_jobs=int(s.get("max_jobs", DEFAULT_MAX_JOBS)),
        max_parallel=int(s.get("max_parallel_jobs", DEFAULT_MAX_PARALLEL)),
        objective=str(s.get("objective") or ""),
        objective_type=str(s.get("objective_type") or ""),
        ranges=None
        if ranges is None
        else tuple(
            RangeChoice(
                str(name),
                str(r.get("kind") or ""),
                str(r.get("min", "")),
                str(r.get("max", "")),
                str(r.get("scaling", "Auto")),
                tuple(str(v) for v in r.get("values", ())),
            )
            for name, r in ranges.items()
        ),  # fmt: skip
        early_stopping=bool(s.get("early_stopping", False)),
        warm_start_parents=tuple(str(p) for p in warm.get("parents", ())),
        warm_start_type=str(warm.get("type") or WARM_START_TYPES[0]),
    )


def plan(ctx: FlowContext, state: WizardState, choices: TuneChoices) -> TunePlan:
    if choices.name:
        status = job_status(ctx, JobKind.TUNING, choices.name)
        if status:
            return TunePlan(verdict=Verdict.UNCHANGED, message=f"tuning job {choices.name} exists ({status})")
    base = choices.base
    if base is None:
        if not choices.training_job:
            return TunePlan(
                verdict=Verdict.SKIPPED, message="tuning starts from a training job; none is chosen"
            )
        if not job_status(ctx, JobKind.TRAINING, choices.training_job):
            return TunePlan(
                verdict=Verdict.WAITING,
                message=f"waits for training job {choices.training_job}; run apply again once it exists",
                preview=f"tuning job {choices.name} planned after training starts",
            )
        base = tuning.load_base(ctx.factory, choices.training_job)
        cfg = build_config(choices, base)
        # The training job's values of what is tuned give way to the ranges (as the Tune form fills it).
        cfg = cfg.with_(base=without_tuned(cfg.base, {r.name for r in cfg.ranges}))
    else:
        cfg = build_config(choices, base)
    if cfg.warm_start_parents:
        refused = warm_start_refusal(ctx, cfg)
        if refused is not None:
            return refused
    return plan_config(ctx, cfg)


@dataclass(frozen=True)
class WarmStartOffer:
    """A parent the tuning job can start from, and the type that fits it (with why)."""

    parent: warm_start.ParentJob
    advice: warm_start.WarmStartAdvice


def warm_start_offers(ctx: FlowContext, choices: TuneChoices) -> list[WarmStartOffer]:
    """Finished tuning jobs of the base job's algorithm, each with the type that fits the tuning
    job these choices make (what `--plain` offers; the Tune form works the same out live)."""
    base = choices.base
    if base is None:
        if not choices.training_job or not job_status(ctx, JobKind.TRAINING, choices.training_job):
            return []
        base = tuning.load_base(ctx.factory, choices.training_job)
    cfg = build_config(choices, base)
    cfg = cfg.with_(base=without_tuned(cfg.base, {r.name for r in cfg.ranges}))
    if not cfg.base.image:
        return []
    parents = warm_start.find_parents(ctx.factory, cfg.base.image)
    return [WarmStartOffer(p, warm_start.advise(cfg, [p])) for p in parents]


def warm_start_refusal(ctx: FlowContext, cfg: TuningConfig) -> TunePlan | None:
    """The parents as AWS describes them now, checked against the rules AWS applies on create:
    a warm start it would refuse is refused here, before CreateHyperParameterTuningJob."""
    parents = [warm_start.describe_parent(ctx.factory, name) for name in cfg.warm_start_parents]
    problems = warm_start.warm_start_problems(cfg, parents)
    if not problems:
        return None
    first = problems[0]
    return TunePlan(
        verdict=Verdict.CANNOT,
        message=f"warm start refused: {first.message}",
        problem=ValidationError(first.field, first.message, first.hint),
        config=cfg,
    )


def build_config(choices: TuneChoices, base: TrainingBase) -> TuningConfig:
    """The tuning job the choices describe over `base` (unchecked: validate_config says what is
    wrong). The one place a choice left empty becomes its default, for every face."""
    # The base job's image says which algorithm is tuned; the choice is only a fallback for a
    # custom image (an image classification base never gets XGBoost ranges).
    algo = algorithm_of(base.image)
    algorithm = algo.id if algo is not None else choices.algorithm
    catalog = catalog_for(algorithm, base.static_hyperparameters)
    ranges = []
    for r in choices.ranges or ():
        spec = catalog.spec(r.name)
        kind = r.kind or (spec.kind if spec else ("Categorical" if r.values else "Continuous"))
        ranges.append(
            ParameterRange(
                r.name, kind, r.min_value, r.max_value, r.scaling, r.values, spec.bounds if spec else None
            )
        )
    if choices.ranges is None:
        ranges = [t.default_range() for t in catalog.tunable if t.suggested]
    objective = choices.objective or (catalog.objectives[0].metric if catalog.objectives else "")
    obj = catalog.objective(objective)
    hyperband = choices.strategy == "Hyperband"
    return TuningConfig(
        name=choices.name or default_name(choices.training_job, algorithm),
        base=base,
        ranges=tuple(ranges),
        objective_metric=objective,
        objective_type=choices.objective_type or (obj.direction if obj else "Minimize"),
        strategy=choices.strategy,
        max_jobs=choices.max_jobs,
        max_parallel=choices.max_parallel,
        early_stopping=choices.early_stopping,
        hyperband_min_resource=choices.hyperband_min_resource if hyperband else None,
        hyperband_max_resource=choices.hyperband_max_resource if hyperband else None,
        max_runtime_s=choices.max_runtime_s,
        warm_start_parents=choices.warm_start_parents,
        warm_start_type=choices.warm_start_type,
    )


def plan_config(ctx: FlowContext, cfg: TuningConfig) -> TunePlan:
    """The plan for a configuration `build_config` made."""
    return TunePlan(
        verdict=Verdict.SEND,
        message=f"Start tuning job {cfg.name}",
        requests=tuning.build_plan(cfg, ctx.region),
        config=cfg,
    )


def _range_dict(r: ParameterRange) -> dict[str, Any]:
    if r.values:
        return {"kind": r.kind, "values": list(r.values)}
    return {"kind": r.kind, "min": r.min_value, "max": r.max_value, "scaling": r.scaling}


def record(state: WizardState, plan: TunePlan) -> None:
    cfg = plan.config
    if cfg is None:
        return
    kept = state.extra.setdefault("tuning", {})
    kept.update(
        strategy=cfg.strategy, max_jobs=cfg.max_jobs, max_parallel_jobs=cfg.max_parallel,
        objective=cfg.objective_metric, ranges={r.name: _range_dict(r) for r in cfg.ranges},
    )  # fmt: skip
    if cfg.warm_start_parents:
        kept["warm_start"] = {"parents": list(cfg.warm_start_parents), "type": cfg.warm_start_type}
    else:
        kept.pop("warm_start", None)
    state.update(tuning_job=cfg.name)


def apply(ctx: FlowContext, state: WizardState, plan: TunePlan) -> str:
    assert plan.config is not None and plan.requests is not None
    tuning.create(plan.requests, ctx.factory, ctx.journal)  # the very request the plan showed
    record(state, plan)
    return f"tuning job {plan.config.name} started"
