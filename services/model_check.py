"""Check a request against the botocore service model, the way the SageMaker API does.

botocore's own parameter validation checks types, required members and minimums but not maximum
lengths, patterns or enums; the service checks all of them and answers
"Value 'x' at 'labelingJobName' failed to satisfy constraint: ...". This walks the model and
reports every constraint failure in that same wording, so the builder can refuse bad input before
any call and the sandbox can answer like the real API.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from services.sagemaker_model import one_of, sagemaker_model


class Constraint(Enum):
    """Which of the model's constraints failed; botocore's ParamValidator checks only the first four."""

    TYPE = "type"
    REQUIRED = "required"
    UNKNOWN_MEMBER = "unknown member"
    MINIMUM = "minimum"
    MAXIMUM = "maximum"
    ENUM = "enum"
    PATTERN = "pattern"


@dataclass(frozen=True)
class ModelProblem:
    path: str  # AWS-style member path, e.g. humanTaskConfig.taskDescription
    message: str  # the constraint that failed, in the API's words
    constraint: Constraint = Constraint.TYPE
    value: str = ""  # the value refused (enum and pattern failures)
    allowed: tuple[str, ...] = ()  # the enum's values (enum failures)

    def __str__(self) -> str:
        return self.message

    def plain(self) -> str:
        """The same failure for a person: an enum names the value and what is accepted instead."""
        if self.constraint is Constraint.ENUM:
            return f"{self.path}: {self.value!r} is not a value SageMaker accepts ({one_of(self.allowed)})."
        return self.message


@functools.lru_cache(maxsize=256)
def _compile(pattern: str) -> Any:
    # The model's patterns are Java regexes; some use \p{L}-style classes that only `regex` knows.
    if "\\p{" in pattern:
        try:
            import regex

            return regex.compile(pattern)
        except ImportError:  # pragma: no cover - regex ships with our dependencies
            return None
    return re.compile(pattern)


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def check_request(operation: str, params: dict[str, Any]) -> list[ModelProblem]:
    """Every constraint of the operation's input shape that `params` breaks (empty when valid):
    types, required and unknown members, minimums and maximums, enums and patterns."""
    shape = sagemaker_model().operation_model(operation).input_shape
    problems: list[ModelProblem] = []
    _walk(shape, params, "", problems)
    return problems


def format_problems(problems: list[ModelProblem]) -> str:
    """The API's wording: '2 validation errors detected: ...; ...'."""
    n = len(problems)
    noun = "error" if n == 1 else "errors"
    return f"{n} validation {noun} detected: " + "; ".join(p.message for p in problems)


def _walk(shape: Any, value: Any, path: str, out: list[ModelProblem]) -> None:
    t = shape.type_name
    meta = shape.metadata
    if t == "structure":
        if not isinstance(value, dict):
            out.append(
                ModelProblem(
                    path, f"Value at '{path}' failed to satisfy constraint: Member must be a structure"
                )
            )
            return
        for req in shape.required_members:
            if value.get(req) is None:
                p = _join(path, req)
                out.append(
                    ModelProblem(
                        p,
                        f"Value null at '{p}' failed to satisfy constraint: Member must not be null",
                        Constraint.REQUIRED,
                    )
                )
        for key, member_value in value.items():
            if key not in shape.members:
                p = _join(path, key)
                out.append(ModelProblem(p, f"Unknown parameter '{p}'", Constraint.UNKNOWN_MEMBER))
                continue
            if member_value is None:
                continue
            _walk(shape.members[key], member_value, _join(path, key), out)
        return
    if t == "list":
        if not isinstance(value, list):
            out.append(
                ModelProblem(path, f"Value at '{path}' failed to satisfy constraint: Member must be a list")
            )
            return
        _bounds(len(value), meta, path, value, out, "length")
        for i, item in enumerate(value, 1):
            _walk(shape.member, item, f"{path}.{i}.member" if path else str(i), out)
        return
    if t == "string":
        if not isinstance(value, str):
            out.append(
                ModelProblem(path, f"Value at '{path}' failed to satisfy constraint: Member must be a string")
            )
            return
        _bounds(len(value), meta, path, value, out, "length")
        enum = meta.get("enum")
        if enum and value not in enum:
            message = (
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(enum)}]"
            )
            out.append(ModelProblem(path, message, Constraint.ENUM, value, tuple(enum)))
        pattern = meta.get("pattern")
        if pattern:
            rx = _compile(pattern)
            if rx is not None and rx.fullmatch(value) is None:
                message = (
                    f"Value '{value}' at '{path}' failed to satisfy constraint: "
                    f"Member must satisfy regular expression pattern: {pattern}"
                )
                out.append(ModelProblem(path, message, Constraint.PATTERN, value))
        return
    if t in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            out.append(
                ModelProblem(
                    path,
                    f"Value '{value}' at '{path}' failed to satisfy constraint: Member must be an integer",
                )
            )
            return
        _bounds(value, meta, path, value, out, "value")
        return
    if t == "boolean" and not isinstance(value, bool):
        out.append(
            ModelProblem(
                path, f"Value '{value}' at '{path}' failed to satisfy constraint: Member must be a boolean"
            )
        )


def _bounds(n: int, meta: dict[str, Any], path: str, value: Any, out: list[ModelProblem], what: str) -> None:
    shown = value if not isinstance(value, (list, dict)) else "[...]"
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and n < lo:
        rel = (
            "have value greater than or equal to"
            if what == "value"
            else "have length greater than or equal to"
        )
        out.append(
            ModelProblem(
                path,
                f"Value '{shown}' at '{path}' failed to satisfy constraint: Member must {rel} {lo}",
                Constraint.MINIMUM,
            )
        )
    if hi is not None and n > hi:
        rel = "have value less than or equal to" if what == "value" else "have length less than or equal to"
        out.append(
            ModelProblem(
                path,
                f"Value '{shown}' at '{path}' failed to satisfy constraint: Member must {rel} {hi}",
                Constraint.MAXIMUM,
            )
        )


def _join(path: str, member: str) -> str:
    return f"{path}.{_camel(member)}" if path else _camel(member)
