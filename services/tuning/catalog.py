"""What can be tuned for an algorithm: its tunable hyperparameters with the documented recommended
ranges, and the objective metrics with their direction. The source is the Train step's algorithm
specs (`services.algorithms`); this module only shapes them into range rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from services.algorithms import Algorithm, HyperParameter, get
from services.tuning.ranges import CATEGORICAL, CONTINUOUS, INTEGER, Bounds, ParameterRange

# Ticked at the start. The tuning page names alpha, min_child_weight, subsample, eta and num_round
# as the most influential; alpha (0-1000) and min_child_weight (0-120) are left for the user to
# tick because on a few dozen rows (the sample data) most of those ranges suppress every split,
# and num_round up to 4000 makes each child long. The form says so.
_SUGGESTED = {
    "xgboost": ("eta", "max_depth", "subsample", "colsample_bytree"),
    # "The hyperparameters that have the greatest impact on image classification objective metrics
    # are: mini_batch_size, learning_rate, and optimizer." (docs.aws.amazon.com/sagemaker/latest/dg/IC-tuning.html)
    "image-classification": ("learning_rate", "mini_batch_size", "optimizer"),
}
# Categorical hyperparameters that are safe to search (a grid needs categorical ranges); the
# objective itself, data layout and GPU-only switches are not.
_SEARCHABLE_CATEGORICAL = {"xgboost": ("booster", "tree_method")}


@dataclass(frozen=True)
class TunableSpec:
    name: str
    kind: str  # CONTINUOUS | INTEGER | CATEGORICAL
    recommended_min: str = ""
    recommended_max: str = ""
    values: tuple[str, ...] = ()
    scaling: str = "Auto"
    bounds: Bounds | None = None
    default: str = ""
    description: str = ""
    suggested: bool = False
    documented: bool = True  # a documented tunable one (not an extra categorical)

    def default_range(self) -> ParameterRange:
        return ParameterRange(
            name=self.name,
            kind=self.kind,
            min_value=self.recommended_min,
            max_value=self.recommended_max,
            scaling=self.scaling,
            values=self.values,
            bounds=self.bounds,
        )


@dataclass(frozen=True)
class ObjectiveSpec:
    metric: str  # e.g. validation:merror
    direction: str  # Maximize | Minimize
    description: str = ""


@dataclass(frozen=True)
class AlgorithmCatalog:
    algorithm: str
    tunable: tuple[TunableSpec, ...]
    objectives: tuple[ObjectiveSpec, ...]
    title: str = ""

    def spec(self, name: str) -> TunableSpec | None:
        return next((s for s in self.tunable if s.name == name), None)

    def objective(self, metric: str) -> ObjectiveSpec | None:
        return next((o for o in self.objectives if o.metric == metric), None)


def catalog_for(algorithm_id: str = "xgboost", static: Mapping[str, str] | None = None) -> AlgorithmCatalog:
    """Tunable specs and the objectives that fit the static hyperparameters (e.g. a multiclass
    objective offers merror, mlogloss, accuracy)."""
    algo = get(algorithm_id)
    suggested = _SUGGESTED.get(algorithm_id, ())
    specs = [_fit(_spec(hp, hp.name in suggested), static or {}) for hp in algo.tunable()]
    for name in _SEARCHABLE_CATEGORICAL.get(algorithm_id, ()):
        hp = algo.param(name)
        if hp is not None and hp.choices and not hp.tunable:
            specs.append(_spec(hp, False, documented=False))
    return AlgorithmCatalog(algorithm_id, tuple(specs), _objectives(algo, static or {}), algo.title)


def _objectives(algo: Algorithm, static: Mapping[str, str]) -> tuple[ObjectiveSpec, ...]:
    objectives = algo.objectives
    if algo.id == "xgboost" and static:
        from services.algorithms.xgboost import tuning_objectives_for

        objectives = tuning_objectives_for(static) or objectives
    # The metric the job evaluates first is the natural default: put it first.
    out = [ObjectiveSpec(o.name, o.direction, o.description) for o in objectives]
    if algo.id == "xgboost" and static:
        from services.algorithms.xgboost import eval_metrics

        first = f"validation:{eval_metrics(dict(static))[0]}"
        out.sort(key=lambda o: o.metric != first)
    return tuple(out)


def _fit(spec: TunableSpec, static: Mapping[str, str]) -> TunableSpec:
    """The documented range narrowed to what every child it produces can run with."""
    if spec.name == "max_depth" and static.get("grow_policy") != "lossguide":
        # The doc's [0, 10] includes 0, "no limit", which only grow_policy lossguide accepts.
        return replace(spec, recommended_min="1")
    if spec.name == "mini_batch_size" and (n := static.get("num_training_samples", "")).isdigit():
        # A batch larger than the training set fails the image classification job.
        high = min(int(spec.recommended_max or n), int(n))
        low = min(int(spec.recommended_min or "1"), high)
        # Too few samples for a range: leave it unticked (the fixed batch size stays).
        return replace(
            spec, recommended_min=str(low), recommended_max=str(high), suggested=spec.suggested and low < high
        )
    return spec


def _spec(hp: HyperParameter, suggested: bool, documented: bool = True) -> TunableSpec:
    kind = {"int": INTEGER, "float": CONTINUOUS}.get(hp.kind, CATEGORICAL)
    lo = hi = ""
    values: tuple[str, ...] = ()
    rec = hp.recommended_range
    if kind == CATEGORICAL:
        # GPU-only choices would fail on the CPU instances tuning defaults to.
        values = tuple(str(v) for v in (rec or hp.choices) if "gpu" not in str(v))
    elif rec is not None and len(rec) == 2:
        lo, hi = _s(rec[0]), _s(rec[1])
    bounds = None
    if kind != CATEGORICAL and (hp.min is not None or hp.max is not None):
        bounds = Bounds(hp.min, hp.max, hp.min_exclusive, hp.max_exclusive)
    return TunableSpec(
        name=hp.name,
        kind=kind,
        recommended_min=lo,
        recommended_max=hi,
        values=values,
        scaling=hp.scaling if kind != CATEGORICAL else "Auto",
        bounds=bounds,
        default=hp.default or "",
        description=hp.description,
        suggested=suggested,
        documented=documented,
    )


def _s(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
