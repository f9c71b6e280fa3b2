"""The Clean-up step: what sagewiz created here (`inspect`), the requests that stop or delete the
chosen part of it (`plan`), and running them (`apply`).

The Clean-up screen and `--plain` both build `CleanupChoices` from what the person selected and
show this module's plan, so the same selection sends the same requests from either face. The
listing, plans and waiting themselves are in `services/cleanup/`; what each kind of resource can
do is in `services/resources/`.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from services.cleanup import apply_cleanup, inventory, lookup, plan_delete, plan_stop
from services.cleanup.listing import Inventory
from services.cleanup.plans import CleanupPlan
from services.flow.context import FlowContext
from services.flow.outcome import StepPlan, Verdict
from services.plan import Action, AppliedAction
from services.resources import Resource
from services.state import WizardState

__all__ = [
    "CleanupAction",
    "CleanupChoices",
    "CleanupStepPlan",
    "Inventory",
    "Resource",
    "apply",
    "inspect",
    "lookup_named",
    "plan",
]

SANDBOX_POLL = 0.2  # seconds between notebook status reads: the sandbox's notebooks settle in seconds
AWS_POLL = 5.0


class CleanupAction(enum.Enum):
    STOP = "stop"  # stop what runs; nothing is deleted
    DELETE = "delete"  # stop, then delete (a bucket needs a second confirmation)


@dataclass(frozen=True)
class CleanupChoices:
    action: CleanupAction
    resources: tuple[Resource, ...]  # from the inventory, or named by the person (`lookup_named`)


@dataclass(frozen=True, kw_only=True)
class CleanupStepPlan(StepPlan):
    action: CleanupAction
    cleanup: CleanupPlan

    @property
    def buckets(self) -> tuple[str, ...]:
        """Buckets that each need their own second confirmation before `apply`."""
        return self.cleanup.buckets

    @property
    def skipped(self) -> tuple[str, ...]:
        return self.cleanup.skipped

    def render_text(self) -> str:
        return self.cleanup.render_text()


def inspect(ctx: FlowContext, state: WizardState) -> Inventory:
    """Everything sagewiz created in this account and region (journal + tag), with state and cost."""
    return inventory(ctx.factory, ctx.journal, ctx.region)


def lookup_named(ctx: FlowContext, kind: str, name: str) -> Resource:
    """A resource the person names (`type:name`), maybe not sagewiz's; raises a person's error."""
    return lookup(ctx.factory, kind, name, ctx.region, account=ctx.account)


def plan(ctx: FlowContext, state: WizardState, choices: CleanupChoices) -> CleanupStepPlan:
    """The requests for the chosen resources. Deleting reads what each deletion must undo first, so
    every call is shown; a resource sagewiz did not create is refused unless it was named."""
    if choices.action is CleanupAction.STOP:
        cplan = plan_stop(choices.resources)
    else:
        cplan = plan_delete(ctx.factory, choices.resources)
    verb = choices.action.value
    if cplan.empty:
        reason = "; ".join(cplan.skipped) or "nothing selected needs it"
        return CleanupStepPlan(
            verdict=Verdict.UNCHANGED,
            message=f"Nothing to {verb}: {reason}",
            action=choices.action,
            cleanup=cplan,
        )
    return CleanupStepPlan(
        verdict=Verdict.SEND,
        message=cplan.plan.title,
        requests=cplan.plan,
        action=choices.action,
        cleanup=cplan,
    )


def apply(
    ctx: FlowContext,
    plan: CleanupStepPlan,
    *,
    confirmed_buckets: Iterable[str] = (),
    on_progress: Callable[[int, Action], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[AppliedAction]:
    """Run the plan in order into the journal; the first failure raises (what was done is journaled).
    Buckets not in `confirmed_buckets` are refused before any call."""
    return apply_cleanup(
        plan.cleanup,
        ctx.factory,
        ctx.journal,
        confirmed_buckets=confirmed_buckets,
        on_progress=on_progress,
        cancel=cancel,
        poll=SANDBOX_POLL if ctx.sandbox else AWS_POLL,
    )
