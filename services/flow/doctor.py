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


def apply(ctx: FlowContext, plan: DoctorPlan) -> list[Any]:
    """Apply the fix, old documents saved to the journal first; what was applied, in order."""
    if plan.fix is None or plan.requests is None:
        return []
    return apply_fix(ctx.factory, ctx.journal, plan.fix)
