"""A stratified, seeded train/validation split: each class keeps the validation share asked for,
and the same records, share and seed always give the same split (a rerun trains on the same data).

Used for both built-in algorithms: the labeled manifest's lines for image classification and the
derived CSV rows for XGBoost."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_VALIDATION_FRACTION = 0.2
DEFAULT_SEED = 0
# A rule of thumb, not an AWS limit: below this a class has one or two validation examples, so its
# share of the validation accuracy says little, and the model sees few of it.
FEW_EXAMPLES = 10


@dataclass(frozen=True)
class LabeledRecord:
    key: str  # what orders records inside a class before the seeded shuffle (the image's S3 URI)
    label: str  # the class name
    payload: str  # what is written: a manifest line or a CSV row


@dataclass(frozen=True)
class ClassCount:
    label: str
    train: int
    validation: int

    @property
    def total(self) -> int:
        return self.train + self.validation


@dataclass(frozen=True)
class Split:
    train: tuple[LabeledRecord, ...]
    validation: tuple[LabeledRecord, ...]
    fraction: float
    seed: int
    counts: tuple[ClassCount, ...]

    def summary(self) -> str:
        """One line for the plan: sizes, how it was split, and the count of each class."""
        per_class = ", ".join(f"{c.label} {c.train}/{c.validation}" for c in self.counts)
        return (
            f"{len(self.train)} training and {len(self.validation)} validation examples "
            f"(stratified {self.fraction:.0%} validation, seed {self.seed}); train/validation per class: {per_class}"
        )

    def warnings(self) -> tuple[str, ...]:
        out = []
        for c in self.counts:
            if c.validation == 0:
                out.append(
                    f"class {c.label} has {c.total} example(s): none is left for validation; label more of it"
                )
            elif c.total < FEW_EXAMPLES:
                out.append(
                    f"class {c.label} has only {c.total} examples (fewer than {FEW_EXAMPLES}): "
                    "its validation accuracy says little; label more of it"
                )
        return tuple(out)


def fraction_problem(fraction: float) -> str | None:
    """Why a validation share cannot be used, or None."""
    if not 0 < fraction < 1:
        return f"the validation share must be above 0% and below 100% (got {fraction:.0%}); 20% is usual"
    return None


def parse_fraction(text: str) -> float | None:
    """'20', '20%' or '0.2' -> 0.2; None when it is not a number."""
    raw = text.strip().rstrip("%").strip()
    try:
        value = float(raw)
    except ValueError:
        return None
    if value != value:  # NaN
        return None
    return value / 100 if value >= 1 or text.strip().endswith("%") else value


def stratified_split(
    records: Sequence[LabeledRecord],
    fraction: float = DEFAULT_VALIDATION_FRACTION,
    seed: int = DEFAULT_SEED,
) -> Split:
    """Per class: sort by key, shuffle with a generator seeded by (seed, class), put round(n *
    fraction) records in validation (at least 1 and at most n - 1 when the class has 2 or more)."""
    if problem := fraction_problem(fraction):
        raise ValueError(problem)
    by_label: dict[str, list[LabeledRecord]] = {}
    for r in records:
        by_label.setdefault(r.label, []).append(r)
    train: list[LabeledRecord] = []
    validation: list[LabeledRecord] = []
    counts = []
    for label in sorted(by_label):
        group = sorted(by_label[label], key=lambda r: (r.key, r.payload))
        # A str seed is hashed with SHA-512 by random.seed: the same on every run and machine.
        random.Random(f"{seed}:{label}").shuffle(group)
        n = len(group)
        n_val = min(max(round(n * fraction), 1), n - 1) if n >= 2 else 0
        validation += group[:n_val]
        train += group[n_val:]
        counts.append(ClassCount(label, n - n_val, n_val))
    # Written in key order, not class by class: a learner reading in order sees every class.
    train.sort(key=lambda r: (r.key, r.payload))
    validation.sort(key=lambda r: (r.key, r.payload))
    return Split(tuple(train), tuple(validation), fraction, seed, tuple(counts))
