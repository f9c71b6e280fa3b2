"""The three kinds of SageMaker job sagewiz starts (training, tuning, labeling): which kind a name
is, and the recent jobs of every kind, for `sagewiz status` and `sagewiz logs`.

A name is checked against SageMaker's own pattern before any call, so a typo or a hostile value
(100,000 characters, control characters) is refused with one line instead of being sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from services.errors import NotFoundError, SagewizError, ValidationError, is_gone, translate
from services.sagemaker_model import NameShape, name_rule
from services.terminal_text import echo


class JobKind(Enum):
    TRAINING = "training"
    TUNING = "tuning"
    LABELING = "labeling"


_SHAPES = {
    JobKind.TRAINING: NameShape.TRAINING_JOB,
    JobKind.TUNING: NameShape.TUNING_JOB,
    JobKind.LABELING: NameShape.LABELING_JOB,
}


def check_job_name(name: str) -> None:
    """A ValidationError unless `name` can name a SageMaker job of some kind (the API's pattern)."""
    if any(name_rule(shape).matches(name) for shape in _SHAPES.values()):
        return
    longest = max(name_rule(s).max_length for s in _SHAPES.values())
    raise ValidationError(
        "job name",
        f"{echo(name)} is not a SageMaker job name",
        f"Job names are letters, digits and hyphens, at most {longest} characters, starting and ending "
        "with a letter or digit; `sagewiz status` lists the jobs.",
    )


def describe(sm: Any, kind: JobKind, name: str) -> dict[str, Any] | None:
    """The job's description, or None when there is no job of that kind by that name."""
    if not name_rule(_SHAPES[kind]).matches(name):
        return None  # a tuning job name is at most 32 characters: a longer one is no tuning job
    calls = {
        JobKind.TRAINING: ("describe_training_job", "TrainingJobName", "DescribeTrainingJob"),
        JobKind.TUNING: (
            "describe_hyper_parameter_tuning_job",
            "HyperParameterTuningJobName",
            "DescribeHyperParameterTuningJob",
        ),
        JobKind.LABELING: ("describe_labeling_job", "LabelingJobName", "DescribeLabelingJob"),
    }
    method, param, operation = calls[kind]
    try:
        return dict(getattr(sm, method)(**{param: name}))
    except Exception as exc:
        if is_gone(exc):
            return None
        raise translate(exc, operation) from exc


def kind_of(sm: Any, name: str, region: str, prefer: JobKind | None = None) -> tuple[JobKind, dict[str, Any]]:
    """Which kind of job `name` is (training first, unless `prefer` says otherwise) and its
    description; a NotFoundError naming every kind looked at when there is none."""
    check_job_name(name)
    order = [JobKind.TRAINING, JobKind.TUNING, JobKind.LABELING]
    if prefer is not None:
        order.remove(prefer)
        order.insert(0, prefer)
    for kind in order:
        found = describe(sm, kind, name)
        if found is not None:
            return kind, found
    raise NotFoundError(
        f"No job named {echo(name)}",
        f"There is no training, tuning or labeling job by that name in {region}.",
        "Check the name and the region; `sagewiz status` lists the recent jobs of every kind.",
    )


@dataclass(frozen=True)
class JobRow:
    kind: JobKind
    name: str
    status: str
    created: datetime | None


def list_all(sm: Any, limit: int = 20) -> tuple[dict[JobKind, list[JobRow]], list[str]]:
    """The recent jobs of every kind, newest first, and a note for each kind that could not be
    listed (the others are still shown)."""
    calls = {
        JobKind.TRAINING: ("list_training_jobs", "TrainingJobSummaries", "TrainingJobName", "TrainingJobStatus"),
        JobKind.TUNING: (
            "list_hyper_parameter_tuning_jobs",
            "HyperParameterTuningJobSummaries",
            "HyperParameterTuningJobName",
            "HyperParameterTuningJobStatus",
        ),
        JobKind.LABELING: ("list_labeling_jobs", "LabelingJobSummaryList", "LabelingJobName", "LabelingJobStatus"),
    }  # fmt: skip
    out: dict[JobKind, list[JobRow]] = {}
    notes: list[str] = []
    for kind, (method, key, name_key, status_key) in calls.items():
        try:
            resp = getattr(sm, method)(
                MaxResults=min(limit, 100), SortBy="CreationTime", SortOrder="Descending"
            )
        except Exception as exc:
            err: SagewizError = translate(exc, method)
            notes.append(f"the {kind.value} jobs could not be listed: {err.title}: {err.message}")
            continue
        rows = [
            JobRow(kind, str(s.get(name_key, "")), str(s.get(status_key, "")), s.get("CreationTime"))
            for s in resp.get(key, [])
        ]
        rows.sort(key=lambda r: _aware(r.created), reverse=True)
        out[kind] = rows[:limit]
    return out, notes


def _aware(d: datetime | None) -> datetime:
    if d is None:
        return datetime.min.replace(tzinfo=UTC)
    return d if d.tzinfo else d.replace(tzinfo=UTC)
