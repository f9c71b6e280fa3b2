"""The diagnosis: read the request, gather evidence, evaluate every layer, build findings, give
the verdict. Each step lives in its own module (see the package docstring); this one runs them in
order and decides when to stop early.

One engine for the screen and the `sagewiz doctor` command. It never raises for bad input: a
request it cannot diagnose comes back with verdict "unknown", what was understood and what is
missing. Input is validated before any AWS call.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from services.doctor import job_causes
from services.doctor.case import make_case
from services.doctor.evidence import Evidence, gather
from services.doctor.findings import build_findings
from services.doctor.layers import Evaluation, evaluate
from services.doctor.model import AssumptionReason, CrossCheck, Diagnosis, DoctorRequest, Need, order_findings
from services.doctor.request_facts import (
    RequestFacts,
    canonical_action,
    credentials_refused,
    needs,
    read_request,
    undiagnosable_text,
    unknown,
    validate_request,
)
from services.doctor.verdict import trace_lines, verdict
from services.policy.arns import parse_principal
from services.policy.s3 import is_bucket_action

_PRECHECK_PRINCIPAL = "arn:aws:iam::000000000000:user/precheck"


def precheck(req: DoctorRequest, *, principal_from_caller: bool = True) -> Diagnosis | None:
    """The input checks that need no AWS call: an "unknown" Diagnosis when the request cannot be
    diagnosed as given, else None. With principal_from_caller, a missing principal is fine (the
    caller's own identity fills it after connecting)."""
    probe = req
    if principal_from_caller and not req.principal and not req.default_principal:
        probe = req.with_(default_principal=_PRECHECK_PRINCIPAL)
    facts = read_request(probe)
    early = _early(facts)
    if early is None:
        return None
    shown = req.principal or (
        early.principal if early.principal and "precheck" not in early.principal else None
    )
    # The placeholder only lets the checks run: it is no assumption the user should read.
    said = tuple(a for a in early.assumptions if _PRECHECK_PRINCIPAL not in a.text)
    return replace(early, principal=shown, assumptions=said)


def diagnose(
    req: DoctorRequest,
    factory: Any,
    *,
    caller_account: str | None = None,
    region: str | None = None,
    cross_check: bool = True,
    sandbox: bool = False,
    now: datetime | None = None,
) -> Diagnosis:
    try:
        facts = read_request(req)
        role = job_causes.role_cause(facts, factory, caller_account) if factory else None
        early = role or _early(facts)
        if early is not None:
            return early
        d = _diagnose(facts, factory, caller_account, region, cross_check, sandbox, now)
        return job_causes.input_cause(facts, factory, d) or d
    except Exception as exc:  # a diagnosis must never crash the screen or the command
        from services.errors import SagewizError, translate

        err = exc if isinstance(exc, SagewizError) else translate(exc, "diagnose")
        return Diagnosis(
            verdict="unknown",
            principal=req.principal,
            action=req.action,
            resource=None,
            headline=f"The diagnosis could not finish: {err.title}",
            needs=(Need(f"{err.title}: {err.message}".strip(": ")),),
            request=req,
        )


def _early(facts: RequestFacts) -> Diagnosis | None:
    """The diagnosis decided before any AWS call (refused credentials, too little to go on)."""
    if facts.parsed and facts.parsed.is_credentials:
        return credentials_refused(facts)
    stated = job_causes.stated_cause(facts)
    if stated is not None:
        return stated
    if undiagnosable_text(facts):
        return unknown(facts, [Need(p) for p in facts.problems])
    gaps = [Need(p) for p in facts.problems] + needs(facts)
    return unknown(facts, gaps) if gaps else None


def _diagnose(
    facts: RequestFacts,
    factory: Any,
    caller_account: str | None,
    region: str | None,
    cross_check: bool,
    sandbox: bool,
    now: datetime | None,
) -> Diagnosis:
    assert facts.principal and facts.action
    info = parse_principal(facts.principal)
    assert info is not None  # validated by read_request
    if facts.s3_request and facts.bucket and not is_bucket_action(facts.action) and facts.key is None:
        facts.key = "*"
        facts.assume(AssumptionReason.ANY_KEY, "no object key given: any key in the bucket (a key named '*')")
    ev = gather(
        factory,
        facts.principal,
        facts.bucket if facts.s3_request else None,
        None if facts.key == "*" else facts.key,
        facts.action,
        caller_account=caller_account,
        notebook_name=facts.req.notebook_name,
    )
    evaluation = evaluate(facts, info, ev, region, now)
    case = make_case(ev, evaluation, facts.parsed, facts.req, info, region or "")
    findings = order_findings(build_findings(case))
    facts.understood += [f"note: {p}" for p in evaluation.notes]
    if not ev.identity_complete:
        facts.assume(
            AssumptionReason.IDENTITY_INCOMPLETE,
            "some identity policies could not be read; the identity side may be incomplete",
        )
    check = _cross_check(factory, ev, evaluation, sandbox) if cross_check else None
    verdict_, headline = verdict(evaluation.decision, findings, facts.parsed)
    return Diagnosis(
        verdict=verdict_,
        principal=facts.principal,
        action=facts.action,
        resource=evaluation.resource,
        findings=findings,
        headline=headline,
        understood=tuple(facts.understood),
        assumptions=tuple(dict.fromkeys(facts.assumptions)),
        trace=trace_lines(evaluation.decision),
        reads=ev.reads,
        calls=ev.calls + (check.calls if check else 0),
        cross_check=check,
        request=facts.req,
        role_arn=evaluation.role_arn,
        bucket=facts.bucket,
        key=facts.key,
        decision=evaluation.decision,
        evidence=ev,
    )


def _cross_check(factory: Any, ev: Evidence, evaluation: Evaluation, sandbox: bool) -> CrossCheck:
    from services.doctor.crosscheck import simulate

    return simulate(factory, ev, evaluation.ctx, evaluation.decision, sandbox=sandbox)


__all__ = ["diagnose", "precheck", "validate_request", "canonical_action"]
