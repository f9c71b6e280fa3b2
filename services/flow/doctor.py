"""The Doctor step: why a request is refused (`inspect`, the diagnosis), the requests of the fix it
recommends (`plan`) and applying them (`apply`).

The Doctor screen and `sagewiz doctor` both diagnose through `inspect`, so a missing principal is
filled with the caller, and said to be, the same way in both. The diagnosis itself is
`services/doctor/` (its README-level map is in `services/doctor/__init__.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from services.doctor.engine import diagnose
from services.doctor.fixes import apply_fix, fix_plan
from services.doctor.job import JobDiagnosis, diagnose_job
from services.doctor.model import Assumption, AssumptionReason, Diagnosis, DoctorRequest, Fix
from services.doctor.probe import ProbeResult, principal_factory, probe
from services.errors import SagewizError
from services.flow.context import FlowContext
from services.flow.outcome import StepPlan, Verdict
from services.remedy import Face
from services.state import WizardState


@dataclass(frozen=True)
class DoctorChoices:
    request: DoctorRequest  # the error text and what the person filled in; defaults for the rest


@dataclass(frozen=True, kw_only=True)
class DoctorPlan(StepPlan):
    diagnosis: Diagnosis
    fix: Fix | None  # the recommended fix; with no requests, it changes only how the request is made


def inspect(ctx: FlowContext, state: WizardState, choices: DoctorChoices) -> Diagnosis:
    """The diagnosis (read-only). Without a principal, the caller is the one diagnosed, and the
    diagnosis says it assumed so."""
    req = choices.request
    if not req.principal and not req.default_principal and ctx.caller_arn:
        req = req.with_(default_principal=ctx.caller_arn)
    d = diagnose(
        req,
        ctx.factory,
        caller_account=ctx.account,
        region=ctx.region,
        sandbox=ctx.sandbox or ctx.world is not None,
    )
    if not req.principal and ctx.caller_arn and req.default_principal == ctx.caller_arn:
        # Said only when the caller really filled the gap (the error text named no principal), and
        # in place of the engine's "the wizard's execution role", which it is not.
        made = [a for a in d.assumptions if a.reason is AssumptionReason.PRINCIPAL_FROM_WIZARD]
        if made and d.principal == ctx.caller_arn:
            caller = Assumption(
                AssumptionReason.PRINCIPAL_IS_CALLER, f"the principal is you, the caller ({ctx.caller_arn})"
            )
            rest = tuple(a for a in d.assumptions if a.reason is not AssumptionReason.PRINCIPAL_FROM_WIZARD)
            d = replace(d, assumptions=(caller, *rest))
    return d


def inspect_job(ctx: FlowContext, name: str, *, notebook: bool = False) -> JobDiagnosis:
    """The diagnosis of a failed training, tuning or labeling job (or notebook instance) by name.
    Raises NotFoundError / ValidationError for a name that is no job, or one held by two kinds."""
    return diagnose_job(
        ctx.factory,
        name,
        notebook=notebook,
        caller_account=ctx.account,
        region=ctx.region,
        sandbox=ctx.sandbox or ctx.world is not None,
    )


def recommended_fix(diagnosis: Diagnosis) -> Fix | None:
    """The first blocking finding's fix, when sagewiz can apply it or re-check the request with it."""
    finding = diagnosis.first_blocking
    fix = finding.fix if finding is not None else None
    if fix is None or not (fix.applicable or fix.request_changes):
        return None
    return fix


def decide(diagnosis: Diagnosis, face: Face) -> DoctorPlan:
    """The plan for a diagnosis a face already holds (no AWS call); undo is said as `face` can do it."""
    fix = recommended_fix(diagnosis)
    if fix is None:
        if diagnosis.first_blocking is None:
            return DoctorPlan(
                verdict=Verdict.UNCHANGED, message=diagnosis.headline, diagnosis=diagnosis, fix=None
            )
        problem = SagewizError("No fix sagewiz can apply", diagnosis.headline)
        return DoctorPlan(
            verdict=Verdict.CANNOT, message=problem.title, problem=problem, diagnosis=diagnosis, fix=None
        )
    if not fix.applicable:
        return DoctorPlan(
            verdict=Verdict.UNCHANGED,
            message=f"Nothing in AWS changes; re-check with the request changed: {fix.description}",
            diagnosis=diagnosis,
            fix=fix,
        )
    requests = fix_plan(fix, face)
    return DoctorPlan(
        verdict=Verdict.SEND, message=requests.title, requests=requests, diagnosis=diagnosis, fix=fix
    )


def plan(ctx: FlowContext, state: WizardState, choices: DoctorChoices, face: Face = Face.CLI) -> DoctorPlan:
    return decide(inspect(ctx, state, choices), face)


def foreign_targets(ctx: FlowContext, plan: DoctorPlan) -> tuple[str, ...]:
    """What the fix would change that lives in another account than the caller's (a role of
    another account, a bucket another account owns): such a fix is that account's to apply."""
    fix, d = plan.fix, plan.diagnosis
    if fix is None:
        return ()
    from services.permissions.fixes.change import ROLE_INLINE_POLICY
    from services.policy.arns import parse_principal

    out: list[str] = []
    for change in fix.policy_changes:
        target = change.target
        if target.kind == ROLE_INLINE_POLICY:
            info = parse_principal(d.role_arn or d.principal or "")
            if info is not None and info.account and info.account != ctx.account:
                out.append(f"{target.describe()} (account {info.account})")
        elif target.bucket and _bucket_foreign(d, ctx.account):
            out.append(f"{target.describe()} (the bucket belongs to another account)")
    if fix.plan is not None and d.bucket and _bucket_foreign(d, ctx.account):
        out.extend(
            f"{a.description} (the bucket belongs to another account)"
            for a in fix.plan.actions
            if a.resource.startswith(f"arn:aws:s3:::{d.bucket}")
        )
    return tuple(out)


def _bucket_foreign(d: Diagnosis, account: str) -> bool:
    ev = d.evidence
    if ev is None:
        return False
    return bool(ev.bucket_owned_by_other) or bool(ev.bucket_owner and ev.bucket_owner != account)


def apply(ctx: FlowContext, plan: DoctorPlan) -> list[Any]:
    """Apply the fix, old documents saved to the journal first; what was applied, in order.
    A fix for another account's role or bucket is refused before any change."""
    if plan.fix is None or plan.requests is None:
        return []
    foreign = foreign_targets(ctx, plan)
    if foreign:
        raise SagewizError(
            "Not sagewiz's to change",
            f"The fix changes {'; '.join(foreign)}, outside account {ctx.account}: nothing was changed.",
            "Send the report to that account's administrator.",
        )
    return apply_fix(ctx.factory, ctx.journal, plan.fix)


@dataclass(frozen=True)
class FixOutcome:
    """A fix applied (or a request re-made as the fix says) and the request checked again."""

    before: Diagnosis
    after: Diagnosis
    probe: ProbeResult | None  # the live re-check as the principal, when sagewiz can sign as it
    applied: tuple[str, ...]  # the changes made, in order

    @property
    def allowed(self) -> bool:
        """The diagnosis read back allows the request, and the live retry (when one ran) was not refused."""
        return self.after.verdict == "allowed" and (self.probe is None or self.probe.allowed is not False)


def fix_and_recheck(
    ctx: FlowContext, state: WizardState, plan: DoctorPlan, *, apply_it: bool = True
) -> FixOutcome:
    """Apply the plan's fix (with `apply_it`), diagnose the request again from fresh reads and,
    when sagewiz can sign as the principal, retry it live. Raises SagewizError when applying fails."""
    from services.permissions.apply import ApplyResult
    from services.plan import AppliedAction

    before, fix = plan.diagnosis, plan.fix
    applied: list[str] = []
    if apply_it:
        for r in apply(ctx, plan):
            if isinstance(r, ApplyResult):
                applied.append(r.change.title)
            elif isinstance(r, AppliedAction):
                applied.append(r.action.description)
    req = before.recheck_request()
    if fix is not None and fix.request_changes:
        req = req.with_(**fix.request_changes)
    after = inspect(ctx, state, DoctorChoices(req))
    result = None
    if apply_it:
        pf = principal_factory(
            ctx.factory, after.principal, after.role_arn, ctx.caller_arn or None, ctx.world
        )
        result = probe(pf, after.action, after.bucket, after.key) if pf is not None else None
    return FixOutcome(before, after, result, tuple(applied))
