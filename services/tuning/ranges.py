"""Hyperparameter ranges as a person enters them, checked with the service's own rules.

Values are kept as the text typed, so a problem can say exactly which entry is wrong; `to_api()`
gives the strings the API wants (range values are strings on the wire).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

CONTINUOUS = "continuous"
INTEGER = "integer"
CATEGORICAL = "categorical"
KINDS = (CONTINUOUS, INTEGER, CATEGORICAL)
SCALINGS = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")

MAX_CATEGORICAL_VALUES = 30  # "Each categorical hyperparameter can have at most 30 different values."
MAX_VALUE_CHARS = 256  # botocore ParameterValue max length


@dataclass(frozen=True)
class Problem:
    """One broken rule: which input (`field`), what is wrong, how to fix it."""

    field: str
    message: str
    hint: str = ""

    def text(self) -> str:
        return f"{self.field}: {self.message}" + (f" ({self.hint})" if self.hint else "")


@dataclass(frozen=True)
class Bounds:
    """The values an algorithm accepts for a hyperparameter (None = unbounded on that side)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: the low end itself is not allowed, e.g. (0, 1]
    high_open: bool = False

    def contains(self, value: float) -> bool:
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return not (self.high is not None and (value > self.high or (self.high_open and value == self.high)))

    def text(self) -> str:
        lo = "-inf" if self.low is None else _num(self.low)
        hi = "inf" if self.high is None else _num(self.high)
        return f"{'(' if self.low_open or self.low is None else '['}{lo}, {hi}{')' if self.high_open or self.high is None else ']'}"


@dataclass(frozen=True)
class ParameterRange:
    name: str
    kind: str  # CONTINUOUS | INTEGER | CATEGORICAL
    min_value: str = ""
    max_value: str = ""
    scaling: str = "Auto"
    values: tuple[str, ...] = ()  # categorical only
    bounds: Bounds | None = None  # what the algorithm accepts, when known

    def __post_init__(self) -> None:
        # "Continuous" (the API's spelling) and "continuous" mean the same range type.
        object.__setattr__(self, "kind", self.kind.strip().lower())

    def with_(self, **changes: object) -> ParameterRange:
        return replace(self, **changes)  # type: ignore[arg-type]

    # -- the wire format ---------------------------------------------------------------------
    def to_api(self) -> dict[str, object]:
        if self.kind == CATEGORICAL:
            return {"Name": self.name, "Values": [v.strip() for v in self.values]}
        lo, hi = self.min_value.strip(), self.max_value.strip()
        if self.kind == INTEGER:
            lo, hi = str(int(float(lo))), str(int(float(hi)))
        return {"Name": self.name, "MinValue": lo, "MaxValue": hi, "ScalingType": self.scaling}

    def describe(self) -> str:
        """One line for plans and the dashboard."""
        if self.kind == CATEGORICAL:
            return f"{self.name} in {{{', '.join(self.values)}}}"
        return f"{self.name} {self.kind} [{self.min_value}, {self.max_value}] {self.scaling}"

    def combinations(self) -> int:
        return len(self.values) if self.kind == CATEGORICAL else 0


def validate_range(r: ParameterRange) -> list[Problem]:
    """Every rule the range breaks (empty when it is fine)."""
    field = r.name or "range"
    out: list[Problem] = []
    if not r.name.strip():
        return [Problem("range", "a range needs a hyperparameter name")]
    if len(r.name) > MAX_VALUE_CHARS:
        out.append(Problem(field, f"the name is longer than {MAX_VALUE_CHARS} characters"))
    if r.kind not in KINDS:
        return [
            *out,
            Problem(field, f"unknown range type {r.kind!r}", "use continuous, integer or categorical"),
        ]
    if r.kind == CATEGORICAL:
        return out + _validate_categorical(r)
    if r.scaling not in SCALINGS:
        out.append(Problem(field, f"unknown scaling {r.scaling!r}", "use " + ", ".join(SCALINGS)))
        return out
    lo = _parse(r.min_value, r.kind)
    hi = _parse(r.max_value, r.kind)
    what = "a whole number" if r.kind == INTEGER else "a number"
    if lo is None:
        out.append(
            Problem(field, f"minimum {r.min_value.strip() or '(empty)'!s} is not {what}", f"type {what}")
        )
    if hi is None:
        out.append(
            Problem(field, f"maximum {r.max_value.strip() or '(empty)'!s} is not {what}", f"type {what}")
        )
    if lo is None or hi is None:
        return out
    if not lo < hi:
        out.append(
            Problem(field, f"minimum {_num(lo)} is not below maximum {_num(hi)}", "make the minimum smaller")
        )
    if r.scaling == "Logarithmic" and lo <= 0:
        out.append(
            Problem(
                field,
                "logarithmic scaling needs both bounds above 0",
                f"raise the minimum above 0 or use Linear scaling (minimum is {_num(lo)})",
            )
        )
    if r.scaling == "ReverseLogarithmic":
        if r.kind != CONTINUOUS:
            out.append(Problem(field, "reverse logarithmic scaling works only for continuous ranges"))
        elif lo < 0 or hi >= 1:
            out.append(
                Problem(
                    field,
                    "reverse logarithmic scaling needs the range within 0 <= x < 1",
                    f"keep the bounds in [0, 1) (now [{_num(lo)}, {_num(hi)}])",
                )
            )
    if r.bounds is not None:
        for label, v in (("minimum", lo), ("maximum", hi)):
            if not r.bounds.contains(v):
                out.append(
                    Problem(
                        field,
                        f"{label} {_num(v)} is outside what the algorithm accepts {r.bounds.text()}",
                        "keep the range inside the accepted values",
                    )
                )
    return out


def _validate_categorical(r: ParameterRange) -> list[Problem]:
    field = r.name
    values = [v.strip() for v in r.values]
    out: list[Problem] = []
    if not values or all(not v for v in values):
        return [
            Problem(field, "a categorical range needs at least one value", "list values separated by commas")
        ]
    if any(not v for v in values):
        out.append(Problem(field, "a categorical value is empty", "remove the extra comma"))
    if len(values) > MAX_CATEGORICAL_VALUES:
        out.append(Problem(field, f"{len(values)} values; at most {MAX_CATEGORICAL_VALUES} are allowed"))
    dupes = sorted({v for v in values if values.count(v) > 1 and v})
    if dupes:
        out.append(Problem(field, f"duplicate values: {', '.join(dupes)}", "list each value once"))
    long = [v for v in values if len(v) > MAX_VALUE_CHARS]
    if long:
        out.append(Problem(field, f"a value is longer than {MAX_VALUE_CHARS} characters"))
    return out


def parse_values(text: str) -> tuple[str, ...]:
    """'a, b ,c' -> ('a', 'b', 'c'); keeps empties so validation can point at them."""
    if not text.strip():
        return ()
    return tuple(v.strip() for v in text.split(","))


def _parse(text: str, kind: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    if kind == INTEGER and value != int(value):
        return None
    return value


def parse_number(text: str, kind: str) -> float | None:
    """The number typed, or None when it is not one of `kind` (INTEGER: a whole number)."""
    return _parse(text, kind)


def numeric_bounds(r: ParameterRange) -> tuple[float, float]:
    """(min, max) of a validated numeric range."""
    lo, hi = _parse(r.min_value, r.kind), _parse(r.max_value, r.kind)
    if lo is None or hi is None:
        raise ValueError(f"range {r.name} is not valid")
    return lo, hi


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"
