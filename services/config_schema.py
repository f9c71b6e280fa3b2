"""What each table of a sagewiz configuration may hold: every key, its type, its range or allowed
values, and the rules across tables. `sagewiz apply` checks a whole file with these before any AWS
call; the ranges and allowed values are the ones the steps' own services define (the same the
screens and --plain check), imported here, never copied.

A check returns the first problem as (dotted key, what is wrong, how to fix it); None when the
file is fine.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from services.terminal_text import echo

Problem = tuple[str, str, str]  # (dotted key, message, hint)
Check = Callable[[Any], str | None]  # a value's problem in words, None when fine


@dataclass(frozen=True)
class Key:
    """One key: its TOML type and, optionally, the rule on its value."""

    kind: type | tuple[type, ...]
    check: Check | None = None
    low: int | None = None
    high: int | None = None
    table: dict[str, Key] | None = None  # a sub-table with fixed keys
    each: Key | None = None  # a sub-table whose keys are free (hyperparameter names), each value like this


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string in quotes", int: "a whole number", bool: "true or false", dict: "a table",
             list: "a list", float: "a number"}  # fmt: skip
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _one_of(allowed: tuple[str, ...] | list[str]) -> Check:
    from services.sagemaker_model import one_of

    def check(value: Any) -> str | None:
        if value in allowed:
            return None
        close = difflib.get_close_matches(str(value), list(allowed), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        if len(allowed) <= 8:
            return f"{echo(value)} is not one of {', '.join(allowed)}{hint}"
        return f"{echo(value)} is not a value SageMaker accepts ({one_of(tuple(allowed))}){hint}"

    return check


def _lazy(make: Callable[[], Check]) -> Check:
    """A check built on first use: the allowed values come from the API model, loaded only then."""
    built: list[Check] = []

    def check(value: Any) -> str | None:
        if not built:
            built.append(make())
        return built[0](value)

    return check


def _s3_uri(value: Any) -> str | None:
    from services.errors import ValidationError
    from services.s3uri import parse_s3_uri

    try:
        parse_s3_uri(str(value), "value")
    except ValidationError as exc:
        return exc.message
    return None


def _validation_fraction(value: Any) -> str | None:
    from services.data_split import fraction_problem

    return fraction_problem(float(value))


def _arn(service: str) -> Check:
    def check(value: Any) -> str | None:
        text = str(value)
        if not text:
            return None
        parts = text.split(":", 5)
        if len(parts) < 6 or parts[0] != "arn" or parts[2] != service or len(text) > 2048:
            return f"{echo(text)} is not an {service} ARN (arn:aws:{service}:<region>:<account>:...)"
        return None

    return check


def _training_instance_type() -> Check:
    from services.sagemaker_model import EnumShape, enum_values

    return _one_of(enum_values(EnumShape.TRAINING_INSTANCE_TYPE))


def _notebook_instance_type() -> Check:
    from services.notebooks import notebook_instance_types

    return _one_of(notebook_instance_types())


def _enum(shape_name: str) -> Callable[[], Check]:
    def make() -> Check:
        from services.sagemaker_model import EnumShape, enum_values

        return _one_of(enum_values(EnumShape[shape_name]))

    return make


def _platform() -> Check:
    from services.notebooks import PLATFORMS

    return _one_of([p.id for p in PLATFORMS])


def _idle_minutes(value: Any) -> str | None:
    from services.notebook_autostop import idle_minutes_problem

    return idle_minutes_problem(int(value))


# A key mapped to the session's own fields (names, ARNs, S3 prefixes): config_file checks it with
# the rule of the field, e.g. the API's name pattern.
MAPPED = Key(object)


def _schema() -> dict[str, dict[str, Key]]:
    from services import notebooks, training
    from services.labeling.request import PRIVATE, PUBLIC
    from services.tuning import config as tuning
    from services.tuning.ranges import KINDS, SCALINGS

    scalar = (str, int, float, bool)
    range_table = {
        "kind": Key(str, _one_of(KINDS)),
        "min": Key((str, int, float)),
        "max": Key((str, int, float)),
        "scaling": Key(str, _one_of(SCALINGS)),
        "values": Key(list),
    }
    return {
        "notebook": {
            "name": MAPPED,
            "instance_type": Key(str, _lazy(_notebook_instance_type)),
            "volume_gb": Key(int, low=notebooks.VOLUME_MIN_GB, high=notebooks.VOLUME_MAX_GB),
            "platform": Key(str, _lazy(_platform)),
            "idle_minutes": Key(int, _idle_minutes),
        },
        "bucket": {"name": MAPPED},
        "role": {"arn": MAPPED},
        "data": {"prefix": MAPPED, "source": Key(str)},
        "labels": {
            "categories": MAPPED,
            "job": MAPPED,
            "output_manifest": MAPPED,
            "workforce": Key(str, _one_of((PUBLIC, PRIVATE))),
            "price_mills": Key(int, low=1, high=100_000),
            "free_of_pii": Key(bool),
            "free_of_adult_content": Key(bool),
            "acknowledged": Key(bool),
            "team_arn": Key(str, _arn("sagemaker")),
            "label_attribute": Key(str),
            "pre_annotation_lambda": Key(str, _arn("lambda")),
            "consolidation_lambda": Key(str, _arn("lambda")),
        },
        "training": {
            "job": MAPPED,
            "model": MAPPED,
            "algorithm": Key(str),  # checked against the algorithms sagewiz trains, with the hyperparameters
            "instance_type": Key(str, _lazy(_training_instance_type)),
            "instance_count": Key(int, low=1, high=training.MAX_INSTANCE_COUNT),
            "volume_gb": Key(int, low=1, high=training.MAX_VOLUME_GB),
            "max_runtime_seconds": Key(int, low=1, high=training.MAX_RUNTIME_S),
            "hyperparameters": Key(dict, each=Key(scalar)),
            "channels": Key(dict, each=Key(str, _s3_uri)),
            "output_path": Key(str, _s3_uri),
            "spot": Key(bool),
            "validation_fraction": Key((float, int), _validation_fraction),
            "split_seed": Key(int),
            "request": Key(dict),  # a saved CreateTrainingJob request: AWS's own shape, checked by AWS
        },
        "tuning": {
            "job": MAPPED,
            "strategy": Key(str, _one_of(tuning.STRATEGIES)),
            "max_jobs": Key(int, low=1, high=tuning.MAX_TRAINING_JOBS_RANDOM_RAISED),
            "max_parallel_jobs": Key(int, low=1, high=tuning.MAX_PARALLEL_JOBS),
            "objective": Key(str),
            "objective_type": Key(str, _lazy(_enum("OBJECTIVE_TYPE"))),
            "ranges": Key(dict, each=Key(dict, table=range_table)),
            "early_stopping": Key(bool),
            "warm_start": Key(
                dict,
                table={"parents": Key(list), "type": Key(str, _one_of(tuning.WARM_START_TYPES))},
            ),
        },
    }


_SCHEMA: dict[str, dict[str, Key]] = {}


def schema() -> dict[str, dict[str, Key]]:
    if not _SCHEMA:
        _SCHEMA.update(_schema())
    return _SCHEMA


def unknown_key(key: str, known: Collection[str], where: str) -> tuple[str, str]:
    """(message, hint) for a key not in `known`, with the closest known key when one is near."""
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    hint = f"Did you mean {close[0]}?" if close else f"Known keys in {where}: {', '.join(sorted(known))}."
    return f"unknown key {echo(key)} in {where}", hint


def _within(value: int, spec: Key) -> bool:
    return (spec.low is None or value >= spec.low) and (spec.high is None or value <= spec.high)


def check_value(dotted: str, value: Any, spec: Key) -> Problem | None:
    """The first problem with `value` under `spec` (its type, range, allowed values, sub-keys)."""
    kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
    ok_type = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if not ok_type:
        shown = echo(value, 40) if not isinstance(value, (dict, list)) else type(value).__name__
        return dotted, f"{dotted} must be {_type_name(spec.kind)}, not {shown}", ""
    if isinstance(value, int) and not isinstance(value, bool) and not _within(value, spec):
        return dotted, f"{dotted} must be from {spec.low} to {spec.high:,}, not {value:,}", ""
    if spec.check is not None:
        problem = spec.check(value)
        if problem:
            return dotted, problem, ""
    if spec.table is not None and isinstance(value, dict):
        for k, v in value.items():
            sub = spec.table.get(k)
            if sub is None:
                message, hint = unknown_key(k, spec.table.keys(), f"[{dotted}]")
                return f"{dotted}.{k}", message, hint
            found = check_value(f"{dotted}.{k}", v, sub)
            if found:
                return found
    if spec.each is not None and isinstance(value, dict):
        for k, v in value.items():
            found = check_value(f"{dotted}.{k}", v, spec.each)
            if found:
                return found
    return None


def check_table(table: str, body: dict[str, Any]) -> Problem | None:
    """The first problem in one step table: unknown keys (with a "did you mean"), types, ranges."""
    keys = schema()[table]
    for key, value in body.items():
        spec = keys.get(key)
        if spec is None:
            message, hint = unknown_key(key, keys.keys(), f"[{table}]")
            return f"{table}.{key}", message, hint
        found = check_value(f"{table}.{key}", value, spec)
        if found:
            return found
    return None


def check_across(doc: dict[str, Any]) -> Problem | None:
    """Rules that join tables: tuning starts from a training job, ranges name the algorithm's
    hyperparameters, image classification learns from the labels."""
    from services.algorithms import algorithms
    from services.tuning.ranges import CATEGORICAL, Bounds, ParameterRange, validate_range

    training = doc.get("training") or {}
    tuning = doc.get("tuning") or {}
    labels = doc.get("labels") or {}
    if tuning and not training.get("job"):
        return (
            "tuning",
            "[tuning] starts from a training job, and [training] names none",
            'Add job = "..." to [training] (the job tuning copies its setup from).',
        )
    algorithm_id = training.get("algorithm", "xgboost")
    algo = algorithms().get(str(algorithm_id))
    if algo is None:
        return None  # reported with the training table
    known = {p.name for p in algo.hyperparameters}
    specs = {p.name: p for p in algo.hyperparameters}
    for name, r in (tuning.get("ranges") or {}).items():
        dotted = f"tuning.ranges.{name}"
        if name not in known:
            message, hint = unknown_key(name, known, f"{algo.id}'s hyperparameters")
            return dotted, message, hint
        kind = str(r.get("kind") or "")
        if not kind:
            return dotted, f"{dotted} needs a kind", 'Add kind = "continuous", "integer" or "categorical".'
        rng = ParameterRange(
            name,
            kind,
            str(r.get("min", "")),
            str(r.get("max", "")),
            str(r.get("scaling", "Auto")),
            tuple(str(v) for v in r.get("values", ())),
            None
            if kind == CATEGORICAL
            else Bounds(
                specs[name].min, specs[name].max, specs[name].min_exclusive, specs[name].max_exclusive
            ),
        )
        problems = validate_range(rng)
        if problems:
            p = problems[0]
            return dotted, f"{dotted}: {p.message}", p.hint
    if algorithm_id == "image-classification" and not (labels.get("output_manifest") or labels.get("job")):
        return (
            "training.algorithm",
            "image-classification learns from labeled images, and [labels] names no job or output_manifest",
            'Add [labels] with the labeling job, or use algorithm = "xgboost".',
        )
    return None
