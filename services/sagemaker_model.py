"""What SageMaker's API says about its own parameters, read from the service model botocore ships.

Name patterns and lengths, enums (instance types, strategies, objective types) and limits are
facts of the API. They are read here, once, through the shared loader (`services.session`), so
every validator uses the same definition and it moves with botocore instead of drifting from it.
The model is loaded on first use, never on the path to the first screen.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class NameShape(StrEnum):
    """The model's shapes for the names sagewiz checks (each has its own pattern and length)."""

    TRAINING_JOB = "TrainingJobName"
    TUNING_JOB = "HyperParameterTuningJobName"
    LABELING_JOB = "LabelingJobName"
    LABEL_ATTRIBUTE = "LabelAttributeName"
    NOTEBOOK_INSTANCE = "NotebookInstanceName"
    LIFECYCLE_CONFIG = "NotebookInstanceLifecycleConfigName"
    MODEL = "ModelName"


class EnumShape(StrEnum):
    """The model's enum shapes the front ends offer or check."""

    TRAINING_INSTANCE_TYPE = "TrainingInstanceType"
    NOTEBOOK_INSTANCE_TYPE = "InstanceType"
    TUNING_STRATEGY = "HyperParameterTuningJobStrategyType"
    OBJECTIVE_TYPE = "HyperParameterTuningJobObjectiveType"
    WARM_START_TYPE = "HyperParameterTuningJobWarmStartType"


@functools.cache
def sagemaker_model() -> Any:
    """botocore's SageMaker service model (parsed once per process, by the shared loader)."""
    from services.session import service_model

    return service_model("sagemaker")


@dataclass(frozen=True)
class NameRule:
    """A name's constraints as the API states them: the pattern (a full match) and the length."""

    shape: str
    pattern: str
    min_length: int
    max_length: int

    def matches(self, name: str) -> bool:
        if not self.min_length <= len(name) <= self.max_length:
            return False
        return _compiled(self.pattern).fullmatch(name) is not None


@functools.cache
def name_rule(shape: NameShape) -> NameRule:
    meta = sagemaker_model().shape_for(shape.value).metadata
    return NameRule(shape.value, str(meta["pattern"]), max(1, int(meta.get("min", 1))), int(meta["max"]))


@functools.cache
def enum_values(shape: EnumShape) -> tuple[str, ...]:
    """Every value the API accepts for `shape`, in the model's order."""
    return tuple(sagemaker_model().shape_for(shape.value).enum)


def enum_problem(value: str, shape: EnumShape, what: str) -> str | None:
    """None when `value` is one the API accepts; else a sentence saying so, with examples."""
    allowed = enum_values(shape)
    if value in allowed:
        return None
    return f"{value!r} is not {what} SageMaker accepts ({one_of(allowed)})."


def one_of(allowed: tuple[str, ...], shown: int = 6) -> str:
    """'one of A, B, C' for a short list; 'for example A, B, … (N values)' for a long one."""
    if len(allowed) <= shown:
        return "one of " + ", ".join(allowed)
    return "for example " + ", ".join(allowed[:shown]) + f", … ({len(allowed)} values)"


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
