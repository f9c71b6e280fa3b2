"""The Permissions step: what keeps the role from using the bucket, and the next policy change that
fixes it. Each change is planned from a fresh read, so a later fix sees the earlier one."""

from __future__ import annotations

from dataclasses import dataclass, replace

from services.errors import AccessDeniedError, NotFoundError
from services.flow.context import FlowContext
from services.flow.outcome import StepPlan, Verdict
from services.permissions.apply import apply_change, to_plan
from services.permissions.findings import Finding, Proposal, check, proposed_changes
from services.permissions.fixes.change import PolicyChange
from services.permissions.state import PermissionsState, read_state
from services.roles.naming import parse_role, resolve_role
from services.state import WizardState

ROUNDS = 4  # fixes applied one after the other, each planned from a fresh read


@dataclass(frozen=True)
class PermissionsChoices:
    bucket: str = ""
    role_arn: str = ""  # the role's ARN, with or without its path, or its name
    prefix: str | None = None  # None: the whole bucket (labeling and training write beside the images)


@dataclass(frozen=True)
class PermissionsFindings:
    state: PermissionsState
    findings: tuple[Finding, ...]
    proposals: tuple[Proposal, ...]


@dataclass(frozen=True, kw_only=True)
class PermissionsPlan(StepPlan):
    change: PolicyChange | None = None
    refused: tuple[str, ...] = ()  # wanted changes that cannot be offered, and why


def choices_from_state(state: WizardState) -> PermissionsChoices:
    return PermissionsChoices(bucket=state.bucket, role_arn=state.role_arn)


def inspect(ctx: FlowContext, choices: PermissionsChoices) -> PermissionsFindings:
    """Block Public Access, the policies, encryption and ownership; what is wrong; what would fix it."""
    role_arn, given = resolved_role(ctx, choices.role_arn)
    pstate = read_state(
        ctx.factory,
        account=ctx.account,
        region=ctx.region,
        bucket=choices.bucket,
        role_arn=role_arn,
        prefix=choices.prefix,
        role_given=given,
    )
    found = check(pstate)
    return PermissionsFindings(
        pstate, tuple(found), tuple(proposed_changes(pstate, found, sandbox=ctx.sandbox))
    )


def resolved_role(ctx: FlowContext, role: str) -> tuple[str, str | None]:
    """The role's real ARN for a name or an ARN with or without its path, and the ARN as given
    when it is not the real one. A role that cannot be looked up keeps the ARN given: reading the
    state then reports it missing or unreadable, as a finding."""
    ref = parse_role(role)
    try:
        resolved = resolve_role(ctx.factory, ref, account=ctx.account)
    except (NotFoundError, AccessDeniedError):
        return ref.arn_in(ctx.account), None
    return resolved.arn, ref.given if resolved.differs else None


def plan_for(proposal: Proposal) -> PermissionsPlan:
    """One proposed change as the plan every face shows (apply it with `apply`, which checks that
    nobody edited the policy since it was read)."""
    assert proposal.change is not None
    return PermissionsPlan(
        verdict=Verdict.SEND,
        message=proposal.title,
        requests=to_plan(proposal.change),
        change=proposal.change,
    )


def plan(ctx: FlowContext, state: WizardState, choices: PermissionsChoices) -> PermissionsPlan:
    if not (choices.bucket and choices.role_arn):
        return PermissionsPlan(verdict=Verdict.SKIPPED, message="needs a bucket and an execution role")
    found = inspect(ctx, choices)
    if found.state.bucket_exists is False:
        return PermissionsPlan(
            verdict=Verdict.AFTER_EARLIER,
            message="checked after the bucket exists",
            problem=NotFoundError(
                "The bucket does not exist", f"There is no bucket named {choices.bucket}.", "Create it first."
            ),
        )
    refused = tuple(f"not proposed: {p.title}: {p.refused}" for p in found.proposals if p.refused)
    offered = [p for p in found.proposals if p.change is not None]
    if not offered:
        return PermissionsPlan(
            verdict=Verdict.UNCHANGED,
            message="the role can use the bucket; no change needed",
            refused=refused,
        )
    return replace(plan_for(offered[0]), refused=refused)


def apply(ctx: FlowContext, state: WizardState, plan: PermissionsPlan) -> str:
    """Back up the current document in the journal, then apply the change."""
    assert plan.change is not None
    apply_change(ctx.factory, ctx.journal, plan.change)
    return f"applied: {plan.message}"


def applied_message(applied: int) -> str:
    return f"{applied} policy changes applied (backed up in the journal)"
