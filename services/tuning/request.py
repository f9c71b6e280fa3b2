"""The CreateHyperParameterTuningJob request, checked against botocore's own model, and its plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.errors import SagewizError, ValidationError, translate
from services.journal_events import JobStarted
from services.model_check import Constraint, check_request
from services.plan import Action, Plan, tags_list
from services.pricing import cost_for, training_price
from services.remedy import Remedy, RemedyKind
from services.resource_kinds import ResourceKind
from services.sagemaker_model import sagemaker_model
from services.tuning.config import TrainingBase, TuningConfig, validate_config
from services.tuning.ranges import CATEGORICAL, CONTINUOUS, INTEGER, Problem

OPERATION = "CreateHyperParameterTuningJob"


def build_request(cfg: TuningConfig) -> dict[str, Any]:
    """The exact parameters sent to CreateHyperParameterTuningJob (and shown in the plan)."""
    tuned = {r.name for r in cfg.ranges}
    ranges: dict[str, list[dict[str, Any]]] = {
        "IntegerParameterRanges": [r.to_api() for r in cfg.ranges if r.kind == INTEGER],
        "ContinuousParameterRanges": [r.to_api() for r in cfg.ranges if r.kind == CONTINUOUS],
        "CategoricalParameterRanges": [r.to_api() for r in cfg.ranges if r.kind == CATEGORICAL],
    }
    limits: dict[str, int] = {"MaxParallelTrainingJobs": cfg.max_parallel}
    if cfg.strategy != "Grid" or cfg.max_jobs:
        limits["MaxNumberOfTrainingJobs"] = int(cfg.max_jobs or 0)
    if cfg.max_runtime_s:
        limits["MaxRuntimeInSeconds"] = cfg.max_runtime_s
    job_config: dict[str, Any] = {
        "Strategy": cfg.strategy,
        "HyperParameterTuningJobObjective": {"Type": cfg.objective_type, "MetricName": cfg.objective_metric},
        "ResourceLimits": limits,
        "ParameterRanges": {k: v for k, v in ranges.items() if v},
        "TrainingJobEarlyStoppingType": "Auto" if cfg.early_stopping else "Off",
    }
    if cfg.strategy == "Hyperband":
        hb: dict[str, int] = {}
        if cfg.hyperband_min_resource is not None:
            hb["MinResource"] = cfg.hyperband_min_resource
        if cfg.hyperband_max_resource is not None:
            hb["MaxResource"] = cfg.hyperband_max_resource
        job_config["StrategyConfig"] = {"HyperbandStrategyConfig": hb}
    if cfg.random_seed is not None:
        job_config["RandomSeed"] = cfg.random_seed
    request: dict[str, Any] = {
        "HyperParameterTuningJobName": cfg.name,
        "HyperParameterTuningJobConfig": job_config,
        "TrainingJobDefinition": training_definition(cfg.base, tuned),
        "Tags": tags_list(),
    }
    if cfg.warm_start_parents:
        request["WarmStartConfig"] = {
            "ParentHyperParameterTuningJobs": [
                {"HyperParameterTuningJobName": p} for p in cfg.warm_start_parents
            ],
            "WarmStartType": cfg.warm_start_type,
        }
    return request


def training_definition(base: TrainingBase, tuned: set[str]) -> dict[str, Any]:
    # Built-in algorithms get no MetricDefinitions: SageMaker supplies them. A tuned hyperparameter
    # that is also static is refused by validate_config before this is built, never dropped here.
    static = {k: str(v) for k, v in base.static_hyperparameters.items()}
    static.pop("_tuning_objective_metric", None)
    definition: dict[str, Any] = {
        "StaticHyperParameters": static,
        "AlgorithmSpecification": {"TrainingImage": base.image, "TrainingInputMode": base.input_mode},
        "RoleArn": base.role_arn,
        "InputDataConfig": [dict(c) for c in base.input_channels],
        "OutputDataConfig": {"S3OutputPath": base.output_path},
        "ResourceConfig": {
            "InstanceType": base.instance_type,
            "InstanceCount": base.instance_count,
            "VolumeSizeInGB": base.volume_gb,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": base.max_runtime_s},
    }
    if base.spot:
        definition["EnableManagedSpotTraining"] = True
        definition["StoppingCondition"]["MaxWaitTimeInSeconds"] = base.max_wait_s
    return definition


def model_problems(request: dict[str, Any], operation: str = OPERATION) -> list[Problem]:
    """What botocore's model of the operation says is wrong with `request`, as Problems.

    botocore's ParamValidator checks types, required members and minimums; it does not check
    enums, maximums or patterns (it accepts InstanceType="ml.bogus"), which the service would
    refuse only after the call. Those come from the model's own constraints (`check_request`)."""
    from botocore.validate import ParamValidator

    report = ParamValidator().validate(request, sagemaker_model().operation_model(operation).input_shape)
    out: list[Problem] = []
    if report.has_errors():
        lines = (line.strip() for line in report.generate_report().splitlines())
        out = [Problem("request", line) for line in lines if line]
    out += [
        Problem("request", p.plain())
        for p in check_request(operation, request)
        if p.constraint in _LEFT_BY_BOTOCORE
    ]
    return out


_LEFT_BY_BOTOCORE = (Constraint.ENUM, Constraint.MAXIMUM, Constraint.PATTERN)


@dataclass(frozen=True)
class CostEstimate:
    jobs: int
    instance_type: str
    instance_count: int
    max_runtime_s: int
    usd_per_hour: float | None
    upper_bound_usd: float | None
    price_label: str

    def text(self) -> str:
        if self.upper_bound_usd is None:
            return (
                f"Cost: unknown for {self.instance_type} (no price listed); "
                f"at most {self.jobs} jobs x {self.instance_count} x {self.max_runtime_s} s"
            )
        return (
            f"Upper bound ~${self.upper_bound_usd:,.2f}: {self.jobs} jobs x {self.instance_count} x "
            f"{self.instance_type} {self.price_label} x max {self.max_runtime_s} s each"
        )


def estimate_cost(cfg: TuningConfig, region: str) -> CostEstimate:
    """jobs x instances x price x maximum runtime: what the tuning job can cost at most on demand."""
    jobs = cfg.planned_jobs()
    price = training_price(cfg.base.instance_type, region)
    total = cost_for(cfg.base.max_runtime_s, price, count=cfg.base.instance_count)
    return CostEstimate(
        jobs=jobs,
        instance_type=cfg.base.instance_type,
        instance_count=cfg.base.instance_count,
        max_runtime_s=cfg.base.max_runtime_s,
        usd_per_hour=price.usd_per_hour,
        upper_bound_usd=None if total is None else round(total * jobs, 2),
        price_label=price.label(),
    )


def check(cfg: TuningConfig) -> list[Problem]:
    """Our rules first; the model check only when they pass (its messages are less friendly)."""
    problems = validate_config(cfg)
    if problems:
        return problems
    return model_problems(build_request(cfg))


def build_plan(cfg: TuningConfig, region: str) -> Plan:
    problems = check(cfg)
    if problems:
        first = problems[0]
        raise ValidationError(first.field, first.message, first.hint)
    request = build_request(cfg)
    cost = estimate_cost(cfg, region)
    ranges = "; ".join(r.describe() for r in cfg.ranges)
    if cfg.warm_start_parents:
        ranges += f"; warm start ({cfg.warm_start_type}) from " + ", ".join(cfg.warm_start_parents)
    action = Action(
        service="sagemaker",
        operation="create_hyper_parameter_tuning_job",
        params=request,
        description=(
            f"Start tuning job {cfg.name}: {cfg.strategy}, {cfg.planned_jobs()} training jobs "
            f"({cfg.max_parallel} at once), {cfg.objective_type.lower()} {cfg.objective_metric}; {ranges}"
        ),
        undo_remedy=Remedy(RemedyKind.STOP_TUNING_JOB, cfg.name),
        resource=cfg.name,
        journal=JobStarted(
            ResourceKind.TUNING_JOB,
            cfg.name,
            attributes={
                "strategy": cfg.strategy,
                "max_jobs": cfg.planned_jobs(),
                "objective": cfg.objective_metric,
            },
        ),
    )
    warnings = [cost.text()]
    if cfg.max_parallel > 10:
        warnings.append(
            f"{cfg.max_parallel} parallel jobs is above the default quota of 10; it needs a quota increase"
        )
    return Plan(
        title=f"Create hyperparameter tuning job {cfg.name}", actions=(action,), warnings=tuple(warnings)
    )


def base_from_description(desc: dict[str, Any]) -> TrainingBase:
    """The settings of an existing training job (what the Train step ran) as a tuning base."""
    algo = desc.get("AlgorithmSpecification") or {}
    res = desc.get("ResourceConfig") or {}
    stop = desc.get("StoppingCondition") or {}
    hps = {
        k: str(v)
        for k, v in (desc.get("HyperParameters") or {}).items()
        if not k.startswith("sagemaker_") and k != "_tuning_objective_metric"
    }
    return TrainingBase(
        image=algo.get("TrainingImage", ""),
        role_arn=desc.get("RoleArn", ""),
        input_channels=tuple(desc.get("InputDataConfig") or ()),
        output_path=(desc.get("OutputDataConfig") or {}).get("S3OutputPath", ""),
        instance_type=res.get("InstanceType", "ml.m5.large"),
        instance_count=int(res.get("InstanceCount", 1)),
        volume_gb=int(res.get("VolumeSizeInGB", 10)),
        max_runtime_s=int(stop.get("MaxRuntimeInSeconds", 3600)),
        static_hyperparameters=hps,
        input_mode=algo.get("TrainingInputMode", "File"),
        spot=bool(desc.get("EnableManagedSpotTraining", False)),
        max_wait_s=stop.get("MaxWaitTimeInSeconds"),
        source=f"training job {desc.get('TrainingJobName', '')}",
    )


def load_base(factory: Any, training_job: str) -> TrainingBase:
    """DescribeTrainingJob of the Train step's job -> TrainingBase."""
    try:
        desc = factory.client("sagemaker").describe_training_job(TrainingJobName=training_job)
    except Exception as exc:
        raise translate(exc, "sagemaker:DescribeTrainingJob") from exc
    return base_from_description(desc)


def base_from_state(extra: dict[str, Any]) -> TrainingBase | None:
    """The Train step's saved request (state.extra['training']), when it stored one."""
    training = extra.get("training")
    if not isinstance(training, dict):
        return None
    nested = training.get("request")
    request: dict[str, Any] = nested if isinstance(nested, dict) else training
    if "AlgorithmSpecification" not in request:
        return None
    try:
        base = base_from_description(request)
    except (TypeError, ValueError):
        return None
    return base.with_(source="the Train step")


def create(plan: Plan, factory: Any, journal: Any) -> str:
    """Send the plan's request (`build_plan`); returns the tuning job ARN."""
    from services.plan import apply_plan

    try:
        done = apply_plan(plan, factory, journal)
    except SagewizError:
        raise
    return str((done[-1].result or {}).get("HyperParameterTuningJobArn", ""))
