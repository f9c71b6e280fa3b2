"""Search strategies and the early-stopping rule, over the API's ParameterRanges.

The sandbox uses these to choose each child's hyperparameters the way a tuning service does:
Random samples each range on its scale; Grid walks every categorical combination; Bayesian is
approximated by sampling around the best result so far after a random start (a local search,
not a Gaussian process: said plainly in the sandbox notes); Hyperband here samples at random and
relies on its resource-based stopping. Early stopping uses the median rule SageMaker documents.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Trial:
    values: dict[str, str]
    objective: float | None  # None while running / when the child gave no objective


def _scale(kind: str, scaling: str, lo: float, hi: float) -> str:
    if scaling == "Auto":
        # Auto: log when the range spans orders of magnitude and is positive, like the service's heuristic.
        return "Logarithmic" if lo > 0 and hi / lo >= 100 else "Linear"
    return scaling


def _to_unit(value: float, lo: float, hi: float, scaling: str) -> float:
    if scaling == "Logarithmic":
        return (math.log(value) - math.log(lo)) / (math.log(hi) - math.log(lo))
    if scaling == "ReverseLogarithmic":
        return 1 - (math.log(1 - value) - math.log(1 - hi)) / (math.log(1 - lo) - math.log(1 - hi))
    return (value - lo) / (hi - lo)


def _from_unit(u: float, lo: float, hi: float, scaling: str) -> float:
    u = min(1.0, max(0.0, u))
    if scaling == "Logarithmic":
        return math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
    if scaling == "ReverseLogarithmic":
        return 1 - math.exp(math.log(1 - hi) + (1 - u) * (math.log(1 - lo) - math.log(1 - hi)))
    return lo + u * (hi - lo)


@dataclass(frozen=True)
class _Dim:
    name: str
    kind: str  # Integer | Continuous | Categorical
    lo: float = 0.0
    hi: float = 0.0
    scaling: str = "Linear"
    values: tuple[str, ...] = ()

    def from_unit(self, u: float) -> str:
        if self.kind == "Categorical":
            return self.values[min(len(self.values) - 1, int(u * len(self.values)))]
        v = _from_unit(u, self.lo, self.hi, self.scaling)
        if self.kind == "Integer":
            return str(int(round(min(self.hi, max(self.lo, v)))))
        return f"{v:.6g}"

    def to_unit(self, text: str) -> float:
        if self.kind == "Categorical":
            i = self.values.index(text) if text in self.values else 0
            return (i + 0.5) / len(self.values)
        return _to_unit(float(text), self.lo, self.hi, self.scaling)


def dimensions(parameter_ranges: dict[str, Any]) -> list[_Dim]:
    dims: list[_Dim] = []
    for key, kind in (("IntegerParameterRanges", "Integer"), ("ContinuousParameterRanges", "Continuous")):
        for r in parameter_ranges.get(key) or []:
            lo, hi = float(r["MinValue"]), float(r["MaxValue"])
            dims.append(_Dim(r["Name"], kind, lo, hi, _scale(kind, r.get("ScalingType", "Auto"), lo, hi)))
    for r in parameter_ranges.get("CategoricalParameterRanges") or []:
        dims.append(_Dim(r["Name"], "Categorical", values=tuple(r["Values"])))
    return dims


class SearchStrategy:
    """next_values(trials) -> the next child's tuned hyperparameters, or None when the space is done."""

    def __init__(self, parameter_ranges: dict[str, Any], seed: int | None = None) -> None:
        self.dims = dimensions(parameter_ranges)
        self.rng = random.Random(seed)

    def next_values(self, trials: Sequence[Trial], direction: str) -> dict[str, str] | None:
        raise NotImplementedError

    def _random(self) -> dict[str, str]:
        return {d.name: d.from_unit(self.rng.random()) for d in self.dims}


class RandomSearch(SearchStrategy):
    def next_values(self, trials: Sequence[Trial], direction: str) -> dict[str, str] | None:
        seen = {tuple(sorted(t.values.items())) for t in trials}
        for _ in range(20):  # avoid exact repeats (small integer or categorical spaces)
            values = self._random()
            if tuple(sorted(values.items())) not in seen:
                return values
        return self._random()


class GridSearch(SearchStrategy):
    """Every combination of the categorical values, in order; numeric ranges are not allowed."""

    def __init__(self, parameter_ranges: dict[str, Any], seed: int | None = None) -> None:
        super().__init__(parameter_ranges, seed)
        if any(d.kind != "Categorical" for d in self.dims):
            raise ValueError("grid search needs categorical ranges only")
        self._grid = [
            dict(zip([d.name for d in self.dims], combo, strict=True))
            for combo in itertools.product(*[d.values for d in self.dims])
        ]

    @property
    def size(self) -> int:
        return len(self._grid)

    def next_values(self, trials: Sequence[Trial], direction: str) -> dict[str, str] | None:
        return self._grid[len(trials)] if len(trials) < len(self._grid) else None


class LocalBayesSearch(SearchStrategy):
    """Random for the first few, then mostly samples near the best so far with a shrinking radius."""

    def __init__(self, parameter_ranges: dict[str, Any], seed: int | None = None, warmup: int = 4) -> None:
        super().__init__(parameter_ranges, seed)
        self.warmup = warmup

    def next_values(self, trials: Sequence[Trial], direction: str) -> dict[str, str] | None:
        scored = [t for t in trials if t.objective is not None]
        if len(scored) < self.warmup or self.rng.random() < 0.25:
            return self._random()
        best = best_trial(scored, direction)
        assert best is not None
        radius = max(0.05, 0.3 / math.sqrt(len(scored)))
        out = {}
        for d in self.dims:
            u = d.to_unit(best.values.get(d.name, d.from_unit(0.5)))
            out[d.name] = d.from_unit(u + self.rng.gauss(0, radius))
        return out


def strategy_for(name: str, parameter_ranges: dict[str, Any], seed: int | None = None) -> SearchStrategy:
    if name == "Grid":
        return GridSearch(parameter_ranges, seed)
    if name == "Bayesian":
        return LocalBayesSearch(parameter_ranges, seed)
    return RandomSearch(parameter_ranges, seed)  # Random, Hyperband


def better(a: float, b: float, direction: str) -> bool:
    return a > b if direction == "Maximize" else a < b


def best_trial(trials: Sequence[Trial], direction: str) -> Trial | None:
    best: Trial | None = None
    for t in trials:
        if t.objective is None:
            continue
        if best is None or better(t.objective, best.objective, direction):  # type: ignore[arg-type]
            best = t
    return best


def should_stop_median(
    current: Sequence[float], finished: Sequence[Sequence[float]], direction: str, min_history: int = 3
) -> bool:
    """SageMaker's documented rule: stop a job when its best objective so far, at iteration k, is
    worse than the median of the running averages of earlier jobs' objective up to k."""
    k = len(current)
    if k < 2:
        return False
    peers = [h for h in finished if len(h) >= k]
    if len(peers) < min_history:
        return False
    averages = sorted(sum(h[:k]) / k for h in peers)
    mid = len(averages) // 2
    median = averages[mid] if len(averages) % 2 else (averages[mid - 1] + averages[mid]) / 2
    best_so_far = max(current) if direction == "Maximize" else min(current)
    return better(median, best_so_far, direction)
