"""Terminal labels merged with the manifest Train already reads: never a silent replacement.

Objects a job labeled keep their labels and confidences as the job wrote them; an image labeled in
the terminal adds its object or replaces that image's object. The same merged manifest tells a new
session (even in another run of sagewiz) which images still need a label.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from services.errors import SagewizError
from services.labeling import manifest as mf


@dataclass(frozen=True)
class ExistingLabels:
    """The manifest the terminal's labels merge into (empty when there is none yet)."""

    uri: str  # "" when no manifest exists
    objects: tuple[mf.LabeledObject, ...]

    @property
    def labeled_refs(self) -> frozenset[str]:
        return frozenset(o.source_ref for o in self.objects)


NONE = ExistingLabels("", ())


def merge(
    existing: tuple[mf.LabeledObject, ...], terminal: list[mf.LabeledObject], labels: tuple[str, ...]
) -> list[mf.LabeledObject]:
    """Existing objects in their order (the terminal's answer replacing an image's), then new ones.

    A kept object's label indices are renumbered to the terminal's label list by class name, so one
    manifest has one numbering; a class the list lacks keeps its index."""
    by_ref = {o.source_ref: o for o in terminal}
    out: list[mf.LabeledObject] = []
    for obj in existing:
        mine = by_ref.pop(obj.source_ref, None)
        out.append(mine if mine is not None else _renumber(obj, labels))
    out.extend(o for o in terminal if o.source_ref in by_ref)
    return out


def _renumber(obj: mf.LabeledObject, labels: tuple[str, ...]) -> mf.LabeledObject:
    idx = tuple(
        labels.index(n) if n in labels else i for i, n in zip(obj.label_indices, obj.class_names, strict=True)
    )
    return replace(obj, label_indices=idx)


def read_existing(factory: object, candidates: list[str]) -> ExistingLabels:
    """The first of `candidates` (Train's manifest, then the terminal's own) that exists in S3."""
    from services.labeling.jobs import read_output
    from services.labeling.terminal import exists

    for uri in dict.fromkeys(u for u in candidates if u):
        if not exists(factory, uri):
            continue
        parsed = read_output(factory, uri)
        if parsed.problems and not parsed.objects:
            raise SagewizError(
                "Labels cannot be merged",
                f"{uri} has no readable labeled object ({len(parsed.problems)} bad lines).",
                "Open it from Labels → Import to see each bad line, or move it aside and label again.",
            )
        return ExistingLabels(uri, parsed.objects)
    return NONE


def first_unlabeled(sources: list[str], labeled: frozenset[str]) -> int:
    """Where a session resumes: the first image without a label (0 when all have one)."""
    return next((i for i, s in enumerate(sources) if s not in labeled), 0)
