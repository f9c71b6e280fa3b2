"""Findings for an implicit deny on the identity or bucket-policy side: no statement allows the
request, or one means to and misses (a wrong Resource, a different principal form). The grant
the user meant comes first: an identity statement that nearly matches, else a bucket-policy one.
"""

from __future__ import annotations

import re
from dataclasses import replace

from services.doctor import fixes as fx
from services.doctor.case import Case, near_miss_text, stmt_text
from services.doctor.choose_fix import identity_fix, refused_resource
from services.doctor.model import Finding, Fix
from services.policy.arns import parse_principal
from services.policy.evaluate import IDENTITY, RESOURCE, PolicyResult, StatementTrace
from services.policy.verdict import IDENTITY_RECOMMENDED, judge

_RAW_ID = re.compile(r"^(AROA|AIDA)[A-Z0-9]+$")
_IDENTITY_CAUSES = ("identity-no-allow", "identity-wrong-resource", "default-bucket-name")


def missing_allow_findings(case: Case) -> list[Finding]:
    id_results = case.d.result(IDENTITY)
    near = [(r.name, t) for r in id_results for t in r.traces if t.effect == "Allow" and t.near_miss]
    out: list[Finding] = []
    if not any(r.decision == "allow" for r in id_results):
        out.append(_identity_near_miss(case, near) if near else _identity_no_allow(case, id_results))
    if not case.ev.identity_complete:
        out = [_with_unread_note(case, f) if f.cause in _IDENTITY_CAUSES else f for f in out]
    out += _bucket_policy_findings(case, bucket_rank=20 if near else 9)
    if (
        not case.ctx.same_account
        and case.d.denied_by == RESOURCE
        and not any(f.cause.startswith("bucket") for f in out)
    ):
        out.append(
            Finding(
                "bucket-owned-by-other-account",
                True,
                "The bucket belongs to another account and its bucket policy does not allow this principal.",
                (case.d.reason,),
                fx.admin_fix(
                    f"Ask the bucket's owner to allow {case.who} {case.ctx.action} on {case.ctx.resource}."
                ),
                rank=1,
            )
        )
    if judge(case.d, bucket_side=bool(case.bucket)).either:
        if not any(f.cause.startswith("bucket") for f in out):
            out.append(_bucket_no_allow(case))
        out = _one_cause(out)
    return out


def _bucket_no_allow(case: Case) -> Finding:
    """The other way to grant a same-account request: a bucket policy statement naming the role."""
    ctx = case.ctx
    fix: Fix | None = None
    if _can_change_bucket_policy(case) and case.ev.bucket and case.role_arn:
        text = case.ev.bucket_policy.text if case.ev.bucket_policy else None
        why = "Grant exactly the refused request in the bucket policy:"
        try:
            fix = fx.bucket_grant_fix(
                case.ev.bucket,
                case.role_arn,
                text,
                ctx.action,
                refused_resource(case),
                why,
                case.scope.identity,
            )
        except Exception as exc:
            fix = fx.admin_fix(f"{why} (could not prepare it: {exc}).")
    summary = f"No bucket policy statement grants {case.who} {ctx.action} on {ctx.resource}."
    return Finding("bucket-policy-no-allow", True, summary, (case.d.reason,), fix, rank=30)


def _one_cause(found: list[Finding]) -> list[Finding]:
    """In one account either grant is enough: the identity and bucket-policy findings are one
    cause, the first-ranked kept as blocking and the others as its alternatives."""
    grants = [
        f for f in found if f.blocking and (f.cause in _IDENTITY_CAUSES or f.cause.startswith("bucket"))
    ]
    if len(grants) < 2:
        return found
    first = min(grants, key=lambda f: f.rank)
    why = (
        IDENTITY_RECOMMENDED
        if first.cause in _IDENTITY_CAUSES
        else "a bucket policy statement already means to grant it, so fixing it is the smaller change"
    )
    rest = tuple(f for f in grants if f is not first)
    merged = replace(first, alternatives=rest, recommended=why)
    return [merged if f is first else f for f in found if f not in rest]


def _identity_near_miss(case: Case, near: list[tuple[str, StatementTrace]]) -> Finding:
    ctx = case.ctx
    kinds = {t.near_miss for _, t in near}
    cause = "default-bucket-name" if kinds == {"bucket-name"} else "identity-wrong-resource"
    evidence = tuple(f"{stmt_text(n, t)} — it {near_miss_text(t)}" for n, t in near)
    if cause == "identity-wrong-resource":
        summary = f"An identity statement means to allow {ctx.action} but its Resource does not match {ctx.resource}."
    else:
        summary = f"The role's policy only covers buckets named *sagemaker*; {case.bucket} is not one."
    return Finding(cause, True, summary, evidence, identity_fix(case, "Fix the Resource:"), rank=10)


def _identity_no_allow(case: Case, id_results: tuple[PolicyResult, ...]) -> Finding:
    ctx = case.ctx
    names = ", ".join(r.name for r in id_results) or "none readable"
    evidence = [f"identity policies checked: {names}"]
    evidence += [
        stmt_text(r.name, t)
        for r in id_results
        for t in r.traces
        if t.effect == "Allow" and t.action_ok and t.resource_ok and not t.conditions_ok
    ]
    if not case.ev.identity_policies:
        evidence.append("the principal has no identity policies sagewiz could read")
    summary = f"No identity policy of {case.who} allows {ctx.action} on {ctx.resource}."
    return Finding(
        "identity-no-allow", True, summary, tuple(evidence), identity_fix(case, "Grant it:"), rank=11
    )


def _with_unread_note(case: Case, f: Finding) -> Finding:
    refused = [r for r in case.ev.reads if r.status in ("denied", "error") and r.call.startswith("iam:")]
    note = (
        f"{len(refused)} read(s) of the principal's policies were refused "
        f"({', '.join(r.call for r in refused)}): this assumes the unread policies do not allow it either"
    )
    return Finding(f.cause, f.blocking, f.summary, (*f.evidence, note), f.fix, f.rank)


def _bucket_policy_findings(case: Case, bucket_rank: int) -> list[Finding]:
    results = case.d.result(RESOURCE)
    if not results or not case.bucket:
        return []
    r = results[0]
    out: list[Finding] = []
    for t in r.traces:
        if t.effect != "Allow" or not t.action_ok:
            continue
        if t.principal_ok and t.near_miss and t.conditions_ok:
            out.append(_bucket_wrong_resource(case, r.name, t, bucket_rank))
        elif not t.principal_ok and t.resource_ok:
            mismatch = principal_mismatch(case, t)
            if mismatch:
                out.append(_bucket_principal_mismatch(case, r.name, t, mismatch, bucket_rank))
    return out


def _can_change_bucket_policy(case: Case) -> bool:
    return bool(case.is_role and case.role_arn and case.ctx.same_account)


def _bucket_wrong_resource(case: Case, doc: str, t: StatementTrace, rank: int) -> Finding:
    ctx = case.ctx
    fix: Fix | None = None
    if _can_change_bucket_policy(case):
        fix = _bucket_fix(case, t, f"Fix the Resource of statement {t.label}")
    summary = f"Bucket policy statement {t.label} means to allow {ctx.action} but its Resource does not match {ctx.resource}."
    evidence = (f"{stmt_text(doc, t)} — it {near_miss_text(t)}",)
    return Finding("bucket-policy-wrong-resource", True, summary, evidence, fix, rank=rank)


def _bucket_principal_mismatch(case: Case, doc: str, t: StatementTrace, mismatch: str, rank: int) -> Finding:
    fix: Fix | None = None
    if _can_change_bucket_policy(case):
        fix = _bucket_fix(case, t, f"Name {case.role_arn} in statement {t.label}", principal=True)
    summary = (
        f"Bucket policy statement {t.label} names a different principal form than the caller ({mismatch})."
    )
    caller = f"the caller: {case.ctx.principal_arn}" + (
        f", its role: {case.role_arn}" if case.role_arn else ""
    )
    return Finding(
        "bucket-policy-principal-mismatch", True, summary, (stmt_text(doc, t), caller), fix, rank=rank
    )


def _bucket_fix(case: Case, t: StatementTrace, fallback: str, principal: bool = False) -> Fix:
    """The bucket policy change for exactly the refused request (or why it could not be made)."""
    ev, ctx = case.ev, case.ctx
    assert ev.bucket and case.role_arn
    text = ev.bucket_policy.text if ev.bucket_policy else None
    scope = refused_resource(case)
    identity = case.scope.identity
    try:
        if principal:
            why = "Name the role by its ARN with its path, for exactly the refused request:"
            return fx.bucket_grant_fix(ev.bucket, case.role_arn, text, ctx.action, scope, why, identity)
        if t.near_miss == "bucket-arn-for-object":
            why = "Fix the bucket policy's Resource, for the refused prefix only:"
            return fx.bucket_repair_fix(ev.bucket, case.role_arn, text, ev.role_id, scope, why, identity)
        why = "Grant exactly the refused request in the bucket policy:"
        return fx.bucket_grant_fix(ev.bucket, case.role_arn, text, ctx.action, scope, why, identity)
    except Exception as exc:
        return fx.admin_fix(f"{fallback} (could not prepare it: {exc}).")


def principal_mismatch(case: Case, t: StatementTrace) -> str | None:
    """A Principal value that is a near form of the caller: session vs role, missing path, raw id, case."""
    ev, ctx = case.ev, case.ctx
    stmt = None
    if ev.bucket_policy and ev.bucket_policy.policy:
        stmts = ev.bucket_policy.policy.policy.statements
        stmt = stmts[t.index] if t.index < len(stmts) else None
    if stmt is None or stmt.principal is None:
        return None
    role = ctx.role_arn
    for ptype, value in stmt.principal.entries:
        if ptype != "AWS":
            continue
        found = _raw_id_mismatch(value, ev.role_id) or _arn_mismatch(value, role, ctx.principal_arn)
        if found:
            return found
    return None


def _raw_id_mismatch(value: str, role_id: str | None) -> str | None:
    if not _RAW_ID.match(value):
        return None
    if role_id and value != role_id:
        return f"{value} is the unique id of a deleted role; the current role's id is {role_id}"
    if not role_id:
        return f"{value} is a raw unique id: the role it named was deleted"
    return None


def _arn_mismatch(value: str, role: str | None, principal_arn: str) -> str | None:
    v = parse_principal(value)
    role_info = parse_principal(role) if role else None
    if v is None or role_info is None:
        return None
    if v.kind == "assumed-role" and v.name == role_info.name and value != principal_arn:
        return f"{value} names one session; this request comes from session {principal_arn}. Name the role instead"
    if v.kind == "role" and v.name == role_info.name and value != role and v.path != role_info.path:
        return f"{value} lacks the role's path {role_info.path}; the role is {role}"
    if v.kind in ("role", "assumed-role") and value.lower() in (role or "").lower() and value != role:
        return f"{value} differs from {role} in letter case"
    if v.kind == "role" and v.name.lower() == role_info.name.lower() and v.name != role_info.name:
        return f"{value} differs from {role} in letter case"
    return None
