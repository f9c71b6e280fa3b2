"""Rules a tuning job must meet for the algorithm of its base training job, checked before any call:
only that algorithm's hyperparameters and objective metrics, and ranges whose every value is one a
child job can run with."""

from __future__ import annotations

from collections.abc import Mapping

from services.algorithms import Algorithm, detect
from services.tuning.catalog import catalog_for
from services.tuning.ranges import CATEGORICAL, ParameterRange, Problem, parse_number


def algorithm_of(image: str) -> Algorithm | None:
    """The built-in algorithm a training image belongs to; None for a custom image."""
    return detect(image) if image.strip() else None


def algorithm_problems(
    image: str, ranges: tuple[ParameterRange, ...], objective: str, static: Mapping[str, str]
) -> list[Problem]:
    algo = algorithm_of(image)
    if algo is None:  # a custom container: its hyperparameters are its own business
        return []
    out: list[Problem] = []
    for r in ranges:
        if r.name.strip() and algo.param(r.name) is None:
            out.append(
                Problem(
                    r.name,
                    f"{r.name} is not a hyperparameter of {algo.title}",
                    "untick it; the base job's algorithm decides what can be tuned",
                )
            )
    catalog = catalog_for(algo.id, static)
    offered = [o.metric for o in catalog.objectives]
    if objective.strip() and objective not in offered:
        out.append(
            Problem(
                "objective",
                f"{objective} is not a metric {algo.title} reports for these settings",
                "pick one of " + ", ".join(offered),
            )
        )
    for r in ranges:
        out.extend(_range_rules(algo, r, static))
    return out


def _lowest(r: ParameterRange) -> float | None:
    if r.kind == CATEGORICAL:
        numbers = [v for v in (parse_number(x, "integer") for x in r.values) if v is not None]
        return min(numbers) if numbers else None
    return parse_number(r.min_value, r.kind)


def _highest(r: ParameterRange) -> float | None:
    if r.kind == CATEGORICAL:
        numbers = [v for v in (parse_number(x, "integer") for x in r.values) if v is not None]
        return max(numbers) if numbers else None
    return parse_number(r.max_value, r.kind)


def _range_rules(algo: Algorithm, r: ParameterRange, static: Mapping[str, str]) -> list[Problem]:
    if algo.id == "xgboost" and r.name == "max_depth" and static.get("grow_policy") != "lossguide":
        low = _lowest(r)
        if low is not None and low < 1:
            return [
                Problem(
                    "max_depth",
                    "the range reaches max_depth 0 (no limit), which only grow_policy lossguide accepts",
                    "start the range at 1",
                )
            ]
    if algo.id == "image-classification" and r.name == "mini_batch_size":
        samples = static.get("num_training_samples", "")
        high = _highest(r)
        if samples.isdigit() and high is not None and high > int(samples):
            return [
                Problem(
                    "mini_batch_size",
                    f"the range reaches {int(high)}, more than the {samples} training samples",
                    f"keep the maximum at most {samples}",
                )
            ]
    return []
