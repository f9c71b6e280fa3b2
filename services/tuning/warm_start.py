"""Warm start: earlier tuning jobs a new one can start from, and the rules AWS sets for them.

Rules, from "Run a Warm Start Hyperparameter Tuning Job"
(https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning-warm-start.html) and
HyperParameterTuningJobWarmStartConfig
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_HyperParameterTuningJobWarmStartConfig.html):
at most 5 parents, each finished; the objective metric must be the parents'; the total number of
static plus tuned hyperparameters must stay the same; IdenticalDataAndAlgorithm keeps the parents'
input data and training image (only ranges and limits change), TransferLearning may change data,
ranges and static hyperparameters, and the image only to another version of the same algorithm.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.errors import translate
from services.tuning.algorithm_rules import algorithm_of
from services.tuning.config import WARM_START_TYPES, TuningConfig
from services.tuning.ranges import Problem

IDENTICAL, TRANSFER = WARM_START_TYPES
# A parent must have finished. A stopped one keeps the results of the children that ran; a failed
# one has nothing reliable to start from, so sagewiz offers only these two.
PARENT_STATUSES = ("Completed", "Stopped")
# How many of the newest tuning jobs are described when looking for parents: each is one call.
SCAN_LIMIT = 30
# SageMaker's own static hyperparameter naming the objective; never the user's choice.
_INTERNAL = ("_tuning_objective_metric",)


@dataclass(frozen=True)
class ParentJob:
    """An earlier tuning job as a warm start parent: what must match, and its best result."""

    name: str
    status: str
    image: str
    objective_metric: str
    objective_type: str
    data: tuple[tuple[str, str], ...]  # (channel name, S3 URI), sorted by channel
    static_hyperparameters: Mapping[str, str] = field(default_factory=dict)
    tuned: tuple[str, ...] = ()
    best_job: str = ""
    best_value: float | None = None

    def label(self) -> str:
        """`name (best validation:mlogloss = 0.2345)`, as the form offers it."""
        if self.best_value is None:
            return f"{self.name} ({self.status.lower()}, no best job)"
        return f"{self.name} (best {self.objective_metric} = {self.best_value:.4g})"


@dataclass(frozen=True)
class WarmStartAdvice:
    """The type that fits, and why IdenticalDataAndAlgorithm does not when it does not."""

    type: str
    reasons: tuple[str, ...] = ()

    def text(self) -> str:
        if not self.reasons:
            return f"{IDENTICAL}: same data, training image, static hyperparameters and objective."
        return f"{TRANSFER}: " + "; ".join(self.reasons) + "."


def _data_of(channels: Iterable[Mapping[str, Any]]) -> tuple[tuple[str, str], ...]:
    out = []
    for c in channels:
        uri = ((c.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri", "")
        out.append((str(c.get("ChannelName", "")), str(uri)))
    return tuple(sorted(out))


def _static(hps: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in hps.items() if k not in _INTERNAL}


def parent_from_description(desc: Mapping[str, Any]) -> ParentJob:
    """DescribeHyperParameterTuningJob -> ParentJob."""
    config = desc.get("HyperParameterTuningJobConfig") or {}
    objective = config.get("HyperParameterTuningJobObjective") or {}
    ranges = config.get("ParameterRanges") or {}
    definition = desc.get("TrainingJobDefinition") or {}
    best = desc.get("BestTrainingJob") or {}
    metric = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    value = metric.get("Value")
    return ParentJob(
        name=str(desc.get("HyperParameterTuningJobName", "")),
        status=str(desc.get("HyperParameterTuningJobStatus", "")),
        image=str((definition.get("AlgorithmSpecification") or {}).get("TrainingImage", "")),
        objective_metric=str(objective.get("MetricName", "")),
        objective_type=str(objective.get("Type", "")),
        data=_data_of(definition.get("InputDataConfig") or ()),
        static_hyperparameters=_static(definition.get("StaticHyperParameters") or {}),
        tuned=tuple(sorted(str(r.get("Name", "")) for rs in ranges.values() for r in rs or ())),
        best_job=str(best.get("TrainingJobName", "")),
        best_value=float(value) if value is not None else None,
    )


def same_algorithm(image: str, other: str) -> bool:
    """Both images run the same algorithm: the same built-in one, or the same repository of a
    custom image (another tag is another version of it)."""
    a, b = algorithm_of(image), algorithm_of(other)
    if a is not None or b is not None:
        return a is not None and b is not None and a.id == b.id
    return _repository(image) == _repository(other)


def _repository(image: str) -> str:
    return image.split("@", 1)[0].rsplit(":", 1)[0] if "/" in image else image


def describe_parent(factory: Any, name: str) -> ParentJob:
    try:
        desc = factory.client("sagemaker").describe_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name
        )
    except Exception as exc:
        raise translate(exc, "sagemaker:DescribeHyperParameterTuningJob") from exc
    return parent_from_description(desc)


def find_parents(factory: Any, image: str, limit: int = SCAN_LIMIT) -> list[ParentJob]:
    """The account's finished tuning jobs (newest first) whose children ran `image`'s algorithm."""
    sm = factory.client("sagemaker")
    found: list[tuple[Any, str]] = []  # (creation time, name)
    try:
        for status in PARENT_STATUSES:
            resp = sm.list_hyper_parameter_tuning_jobs(
                StatusEquals=status, SortBy="CreationTime", SortOrder="Descending", MaxResults=limit
            )
            found += [
                (s["CreationTime"], str(s["HyperParameterTuningJobName"]))
                for s in resp.get("HyperParameterTuningJobSummaries", [])
            ]
    except Exception as exc:
        raise translate(exc, "sagemaker:ListHyperParameterTuningJobs") from exc
    newest = [n for _t, n in sorted(found, key=lambda f: f[0], reverse=True)[:limit]]
    out = [describe_parent(factory, n) for n in newest]
    return [p for p in out if p.status in PARENT_STATUSES and same_algorithm(p.image, image)]


def _hyperparameters(cfg: TuningConfig) -> set[str]:
    return set(_static(cfg.base.static_hyperparameters)) | {r.name for r in cfg.ranges}


def differences(cfg: TuningConfig, parent: ParentJob) -> list[str]:
    """What IdenticalDataAndAlgorithm would need to be the parent's and is not, said for people."""
    out: list[str] = []
    data = _data_of(cfg.base.input_channels)
    if data != parent.data:
        mine, theirs = dict(data), dict(parent.data)
        changed = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
        out.append(
            "the data differ from "
            + parent.name
            + "'s ("
            + ", ".join(f"{k}: {mine.get(k) or 'none'} vs {theirs.get(k) or 'none'}" for k in changed)
            + ")"
        )
    if cfg.base.image != parent.image:
        out.append(f"the training image differs ({cfg.base.image} vs {parent.image})")
    # A hyperparameter may move between static and tuned; a static one kept static must keep its value.
    tuned = {r.name for r in cfg.ranges} | set(parent.tuned)
    mine_s = {k: v for k, v in _static(cfg.base.static_hyperparameters).items() if k not in tuned}
    theirs_s = {k: v for k, v in parent.static_hyperparameters.items() if k not in tuned}
    if mine_s != theirs_s:
        changed = sorted(k for k in set(mine_s) | set(theirs_s) if mine_s.get(k) != theirs_s.get(k))
        out.append(
            "static hyperparameters differ ("
            + ", ".join(f"{k}={mine_s.get(k, 'unset')} vs {theirs_s.get(k, 'unset')}" for k in changed)
            + ")"
        )
    if cfg.objective_metric != parent.objective_metric:
        out.append(f"the objective differs ({cfg.objective_metric} vs {parent.objective_metric})")
    return out


def advise(cfg: TuningConfig, parents: Iterable[ParentJob]) -> WarmStartAdvice:
    """IdenticalDataAndAlgorithm when nothing but ranges and limits changed; else TransferLearning."""
    reasons = tuple(r for p in parents for r in differences(cfg, p))
    return WarmStartAdvice(TRANSFER if reasons else IDENTICAL, reasons)


def warm_start_problems(cfg: TuningConfig, parents: Iterable[ParentJob]) -> list[Problem]:
    """Why AWS would refuse this warm start (said before any call); empty when it may be sent."""
    out: list[Problem] = []
    for p in parents:
        if p.status not in PARENT_STATUSES:
            out.append(
                Problem(
                    "warm start",
                    f"parent {p.name} is {p.status}; a parent must have finished",
                    "wait for it to finish, or pick another",
                )
            )
        if not same_algorithm(cfg.base.image, p.image):
            out.append(
                Problem(
                    "warm start",
                    f"{p.name} tuned another algorithm ({p.image}); warm start needs the same one",
                    "pick a parent that tuned this algorithm",
                )
            )
        if p.objective_metric != cfg.objective_metric:
            out.append(
                Problem(
                    "warm start",
                    f"the objective {cfg.objective_metric} is not {p.name}'s ({p.objective_metric}); "
                    "AWS needs the parents' objective",
                    f"pick {p.objective_metric} as the objective, or start without warm start",
                )
            )
        total = len(set(p.static_hyperparameters) | set(p.tuned))
        if p.objective_metric == cfg.objective_metric and len(_hyperparameters(cfg)) != total:
            out.append(
                Problem(
                    "warm start",
                    f"{len(_hyperparameters(cfg))} static plus tuned hyperparameters, {p.name} had {total}; "
                    "AWS needs the same number",
                    "tune or fix the same hyperparameters as the parent",
                )
            )
        if cfg.warm_start_type == IDENTICAL:
            for reason in differences(cfg, p):
                if not reason.startswith("the objective"):
                    out.append(
                        Problem(
                            "warm start",
                            f"{IDENTICAL} needs the parent's data, image and static hyperparameters: {reason}",
                            f"choose {TRANSFER}",
                        )
                    )
    return out
