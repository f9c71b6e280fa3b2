"""Plans to stop or delete what the inventory found, each call shown before it is made.

A plan refuses a resource sagewiz did not create unless the person named it (`lookup`). Deleting
a bucket empties it first and needs a second confirmation naming it (see `apply`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from services.errors import SagewizError, ValidationError, translate
from services.journal_events import ResourceDeleted
from services.plan import Action, Plan
from services.resource_kinds import ResourceKind
from services.resources import Resource, handler_for


@dataclass(frozen=True)
class CleanupPlan:
    plan: Plan
    buckets: tuple[str, ...] = ()  # each needs its own second confirmation before apply
    skipped: tuple[str, ...] = ()  # "training job x: completed jobs cannot be deleted; it costs nothing"

    @property
    def empty(self) -> bool:
        return self.plan.empty

    def render_text(self) -> str:
        text = self.plan.render_text()
        if self.skipped:
            text += "\n" + "\n".join(f"  skipped: {s}" for s in self.skipped)
        if self.buckets:
            text += "\n" + "\n".join(
                f"  bucket {b} will be emptied (every object version) and deleted: this needs a second "
                "confirmation"
                for b in self.buckets
            )
        return text


def can_stop(r: Resource) -> bool:
    """Stopping is offered only in a state it means something in (not for a Completed job)."""
    return not r.gone and handler_for(r.type).stop(r) is not None


def can_delete(r: Resource) -> bool:
    """Deleting is offered for kinds AWS can delete (a job's record stays for good) and for a
    gone resource (forgetting it in the journal)."""
    return r.gone or handler_for(r.type).deletable


def plan_stop(resources: Iterable[Resource]) -> CleanupPlan:
    """Stop what runs (notebooks, training, tuning, labeling jobs); nothing is deleted."""
    actions: list[Action] = []
    skipped: list[str] = []
    chosen = _guard(resources)
    for r in chosen:
        action = handler_for(r.type).stop(r)
        if action is None:
            skipped.append(f"{r.title}: nothing to stop ({r.state or 'state unknown'})")
        else:
            actions.append(action)
    title = "Stop what sagewiz started" if all(r.ours for r in chosen) else "Stop the selected resources"
    return CleanupPlan(Plan(title, tuple(actions), tuple(_unowned_warnings(chosen))), (), tuple(skipped))


def plan_delete(factory: Any, resources: Iterable[Resource], journal_only_gone: bool = True) -> CleanupPlan:
    """Stop, then delete. Reads what each deletion must undo first (role attachments, policy
    versions, bucket versions) so the plan shows every call it will make."""
    actions: list[Action] = []
    skipped: list[str] = []
    buckets: list[str] = []
    chosen = _guard(resources)
    for r in chosen:
        if r.gone:
            if journal_only_gone:
                actions.append(_forget_action(r))
            continue
        handler = handler_for(r.type)
        stop = handler.stop(r)
        if stop is not None:
            actions.append(stop)
        if not handler.deletable:
            skipped.append(
                f"{r.title}: SageMaker keeps job records (they cannot be deleted); "
                + ("it will be stopped" if stop else "it costs nothing now")
            )
            continue
        try:
            actions.extend(handler.delete(factory, r))
        except SagewizError:
            raise
        except Exception as exc:
            raise translate(exc, f"plan deletion of {r.title}") from exc
        if r.type is ResourceKind.BUCKET:
            buckets.append(r.id)
    seen: set[tuple[str, str]] = set()
    unique = []
    for a in actions:  # a lifecycle configuration chosen itself and offered with its notebook
        key = (a.operation, repr(sorted(a.params.items())))
        if key not in seen:
            seen.add(key)
            unique.append(a)
    actions = unique
    warnings = _unowned_warnings(chosen)
    if buckets:
        warnings.append("Deleting a bucket deletes every object and version in it; this cannot be undone.")
    title = "Delete what sagewiz created" if all(r.ours for r in chosen) else "Delete the selected resources"
    return CleanupPlan(Plan(title, tuple(actions), tuple(warnings)), tuple(buckets), tuple(skipped))


def _guard(resources: Iterable[Resource]) -> list[Resource]:
    out = list(resources)
    for r in out:
        if not r.ours and not r.selected_explicitly:
            raise ValidationError(
                "selection",
                f"{r.title} was not created by sagewiz",
                "Clean-up only touches what sagewiz created; name it explicitly to include it.",
            )
    return sorted(out, key=lambda r: r.type.order)


def _unowned_warnings(chosen: list[Resource]) -> list[str]:
    return [
        f"{r.title} was not created by sagewiz; it is included only because you selected it by name."
        for r in chosen
        if not r.ours
    ]


def _forget_action(r: Resource) -> Action:
    return Action(
        "journal", "forget", {"type": r.type.value, "id": r.id},
        f"Forget {r.title}: it no longer exists in AWS (journal only)", resource=r.id,
        journal=ResourceDeleted(r.type, r.id, attributes={"note": "already gone when cleaned up"}),
    )  # fmt: skip
