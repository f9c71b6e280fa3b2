"""What a built-in algorithm is made of: hyperparameter specs, metric definitions, channels.

Hyperparameter values travel as strings (the CreateTrainingJob API takes a string map), so every
check here reads strings and says, in words, which rule failed and how to fix it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["int", "float", "categorical", "str", "bool"]
Scaling = Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"]

# The number pattern SageMaker's own metric definitions use for built-in algorithms.
NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"


@dataclass(frozen=True)
class HyperParameter:
    name: str
    kind: Kind
    default: str | None = None  # as the service would take it; None = no default (the algorithm decides)
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    choices: tuple[str, ...] = ()
    description: str = ""
    required: bool = False
    tunable: bool = False
    recommended_range: tuple[float, float] | tuple[str, ...] | None = None  # numbers, or choices
    scaling: Scaling = "Auto"
    aliases: tuple[str, ...] = ()
    advanced: bool = False  # hidden behind "show all" in forms

    def range_text(self) -> str:
        """'[0, 1]', '(0, 1]', '>= 1', 'one of a, b', '' for free text."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.min is not None and self.max is not None:
            lo = "(" if self.min_exclusive else "["
            hi = ")" if self.max_exclusive else "]"
            return f"{lo}{_num(self.min)}, {_num(self.max)}{hi}"
        if self.min is not None:
            return f"{'>' if self.min_exclusive else '>='} {_num(self.min)}"
        if self.max is not None:
            return f"{'<' if self.max_exclusive else '<='} {_num(self.max)}"
        return ""

    def check(self, raw: str) -> str | None:
        """The message for a bad value, or None when it is acceptable on its own."""
        value = raw.strip()
        if value == "":
            return f"{self.name} is required." if self.required else None
        if self.kind == "bool":
            if value.lower() not in ("true", "false", "0", "1"):
                return f"{self.name} must be true or false (got {value!r})."
            return None
        if self.kind == "categorical":
            if value not in self.choices:
                return f"{self.name} must be {self.range_text()} (got {value!r})."
            return None
        if self.kind == "str":
            return None
        try:
            num = float(value)
        except ValueError:
            what = "a whole number" if self.kind == "int" else "a number"
            return f"{self.name} must be {what} (got {value!r})."
        if num != num or num in (float("inf"), float("-inf")):
            return f"{self.name} must be a finite number (got {value!r})."
        if self.kind == "int" and not re.fullmatch(r"[-+]?\d+", value):
            return f"{self.name} must be a whole number (got {value!r})."
        if self.choices and value not in self.choices:
            return f"{self.name} must be {self.range_text()} (got {value!r})."
        if not self._in_range(num):
            rng = self.range_text()
            return f"{self.name} must be {'in ' if rng[0] in '[(' else ''}{rng} (got {value})."
        return None

    def _in_range(self, num: float) -> bool:
        if self.min is not None and (num < self.min or (self.min_exclusive and num == self.min)):
            return False
        return not (self.max is not None and (num > self.max or (self.max_exclusive and num == self.max)))


@dataclass(frozen=True)
class MetricDefinition:
    """A metric the algorithm prints, with the regex that reads it from a log line."""

    name: str  # e.g. "validation:rmse"
    regex: str

    def as_api(self) -> dict[str, str]:
        return {"Name": self.name, "Regex": self.regex}


@dataclass(frozen=True)
class ObjectiveMetric:
    name: str  # e.g. "validation:rmse"
    direction: Literal["Maximize", "Minimize"]
    description: str = ""


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    required: bool
    content_types: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class Algorithm:
    id: str  # "xgboost", "image-classification"
    title: str
    framework: str  # the key for sagemaker.core.image_uris.retrieve
    version: str
    input_modes: tuple[str, ...]
    channels: tuple[ChannelSpec, ...]
    hyperparameters: tuple[HyperParameter, ...]
    metrics: tuple[MetricDefinition, ...]
    objectives: tuple[ObjectiveMetric, ...]
    validate: Callable[..., dict[str, str]]
    default_instance_type: str = "ml.m5.xlarge"
    supports_distributed: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)

    def param(self, name: str) -> HyperParameter | None:
        for hp in self.hyperparameters:
            if hp.name == name or name in hp.aliases:
                return hp
        return None

    def tunable(self) -> tuple[HyperParameter, ...]:
        return tuple(hp for hp in self.hyperparameters if hp.tunable)

    def objective(self, name: str) -> ObjectiveMetric | None:
        return next((o for o in self.objectives if o.name == name), None)


def check_each(specs: tuple[HyperParameter, ...], values: Mapping[str, str]) -> dict[str, str]:
    """Per-field checks (type, range, required) plus unknown names; keys are canonical names."""
    by_name: dict[str, HyperParameter] = {}
    for spec in specs:
        by_name[spec.name] = spec
        for alias in spec.aliases:
            by_name[alias] = spec
    errors: dict[str, str] = {}
    seen: dict[str, str] = {}
    for key, raw in values.items():
        hp = by_name.get(key)
        if hp is None:
            if not key.startswith("_"):  # _tuning_objective_metric and friends are the service's own
                errors[key] = f"{key} is not a hyperparameter of this algorithm."
            continue
        if raw is None or str(raw).strip() == "":
            continue
        if hp.name in seen and seen[hp.name] != key:
            errors[hp.name] = f"{seen[hp.name]} and {key} are the same parameter; set only one."
            continue
        seen[hp.name] = key
        msg = hp.check(str(raw))
        if msg:
            errors[hp.name] = msg
    for hp in specs:
        if hp.required and not any(str(values.get(n) or "").strip() for n in (hp.name, *hp.aliases)):
            errors.setdefault(hp.name, f"{hp.name} is required.")
    return errors


def effective(values: Mapping[str, str], name: str, aliases: tuple[str, ...] = ()) -> str:
    for key in (name, *aliases):
        v = values.get(key)
        if v is not None and str(v).strip() != "":
            return str(v).strip()
    return ""


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(v)
