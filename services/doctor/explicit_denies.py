"""Findings for a refusal somebody wrote down: a Deny statement the evaluation matched, or a
policy type the error message names that sagewiz cannot read (SCP, RCP, VPC endpoint, session,
boundary). A Deny is never deleted or disabled: the fix is a narrow exception or the owner's call.
"""

from __future__ import annotations

from services.doctor import fixes as fx
from services.doctor.case import Case, stmt_text
from services.doctor.model import Finding, Fix
from services.doctor.parse import ParsedError
from services.policy import RequestContext
from services.policy.evaluate import StatementTrace

# The policy type an error message names -> the cause it is.
MESSAGE_CAUSES = {
    "service control": "organizations-policy",
    "resource control": "organizations-policy",
    "VPC endpoint": "vpc-endpoint-policy",
    "session": "session-policy",
    "permissions boundary": "permissions-boundary",
    "bpa-acls": "block-public-access",
    "bpa-policy": "block-public-access",
}


def message_finding(cause: str, parsed: ParsedError, ctx: RequestContext) -> Finding:
    """What the error message says denied it, for a policy sagewiz could not read itself."""
    deny = "explicitly denies" if parsed.explicit else "does not allow"
    arn = f" ({parsed.policy_arn})" if parsed.policy_arn else ""
    what = {
        "organizations-policy": f"An AWS Organizations policy{arn} {deny} {ctx.action}",
        "vpc-endpoint-policy": f"The VPC endpoint policy on the network path {deny} {ctx.action}"
        + (" (through a service control policy)" if parsed.via else ""),
        "session-policy": f"The session policy of these credentials {deny} {ctx.action}",
        "permissions-boundary": f"The permissions boundary{arn} {deny} {ctx.action}",
        "block-public-access": "Block Public Access rejected a request that would make data public",
    }[cause]
    return Finding(
        cause,
        True,
        what + ".",
        (f"the error message says: {parsed.reason}",) if parsed.reason else (),
        _message_fix(cause, ctx, arn),
        rank=2,
    )


def _message_fix(cause: str, ctx: RequestContext, arn: str) -> Fix:
    if cause == "organizations-policy":
        return fx.admin_fix(
            "SCPs and RCPs cannot be read or changed from a member account: send the report to your organization's "
            f"administrator, naming the action {ctx.action}, the resource {ctx.resource} and the policy{arn}."
        )
    if cause == "vpc-endpoint-policy":
        return fx.admin_fix(
            f"Ask the network owner to allow {ctx.action} on the bucket ARN and bucket/* in the S3 VPC endpoint policy "
            "(or route the caller through an endpoint that allows it)."
        )
    if cause == "session-policy":
        return fx.admin_fix(
            "Re-assume the role without the restrictive session policy (or with one that includes the action)."
        )
    if cause == "permissions-boundary":
        return fx.admin_fix(
            f"Ask the boundary's owner to allow {ctx.action} on {ctx.resource} in the boundary policy{arn}; "
            "an identity policy cannot exceed it."
        )
    return fx.client_fix(
        "Do not make the data public: drop the public ACL (x-amz-acl public-read) from the request, or write a "
        "bucket policy that names principals instead of '*'. Block Public Access stays on.",
        request_acl=None,
    )


def deny_finding(case: Case, cause: str, name: str, t: StatementTrace) -> Finding:
    """A Deny statement in a readable policy decided the request."""
    ctx = case.ctx
    evidence = (stmt_text(name, t),)
    if cause == "bucket-policy-explicit-deny":
        return _bucket_deny(case, t, evidence)
    if cause == "identity-explicit-deny":
        summary = f"An identity policy ({name}) explicitly denies {ctx.action} on {ctx.resource} (statement {t.label})."
        fix = fx.admin_fix(
            f"The Deny {t.label} in {name} must be narrowed (never deleted) so it no longer covers "
            f"{ctx.resource}, for example by tightening its Resource; ask whoever owns that policy."
        )
        return Finding(cause, True, summary, evidence, fix, rank=2)
    if cause == "permissions-boundary":
        summary = f"The permissions boundary explicitly denies {ctx.action} (statement {t.label})."
        return Finding(
            cause,
            True,
            summary,
            evidence,
            fx.admin_fix("Ask the boundary's owner to narrow that Deny."),
            rank=2,
        )
    if cause == "kms-key-access":
        summary = f"The KMS key policy denies {ctx.action}."
        return Finding(
            cause, True, summary, evidence, fx.admin_fix("Ask the key's owner to narrow that Deny."), rank=3
        )
    summary = f"A {cause.replace('-', ' ')} explicitly denies {ctx.action} (statement {t.label})."
    return Finding(
        cause, True, summary, evidence, fx.admin_fix("Ask the policy's owner to narrow that Deny."), rank=2
    )


def _bucket_deny(case: Case, t: StatementTrace, evidence: tuple[str, ...]) -> Finding:
    """A bucket policy Deny: HTTPS and VPC endpoint guards are kept (the request changes);
    any other Deny gets an exception for exactly this request, if one can be prepared."""
    ctx, ev = case.ctx, case.ev
    conds = {c.clause.key.lower() for c in t.conditions}
    cause = "bucket-policy-explicit-deny"
    if "aws:securetransport" in conds:
        fix = fx.client_fix(
            "Send the request over HTTPS (boto3's default; remove use_ssl=False / http:// endpoints). "
            "The Deny protects the bucket and stays.",
            secure_transport=True,
        )
        summary = f"The bucket policy denies requests not sent over HTTPS (statement {t.label})."
        return Finding(cause, True, summary, evidence, fix, rank=2)
    if conds & {"aws:sourcevpce", "aws:sourcevpc"}:
        fix = fx.admin_fix(
            "Route the caller through the VPC endpoint the statement names (notebook/training VPC settings); "
            "do not weaken the Deny."
        )
        summary = f"The bucket policy denies requests that do not come through a specific VPC endpoint (statement {t.label})."
        return Finding(cause, True, summary, evidence, fix, rank=2)
    summary = f"The bucket policy explicitly denies {ctx.action} to this principal (statement {t.label})."
    text = ev.bucket_policy.text if ev.bucket_policy else None
    exception: Fix | None = None
    if text and ev.bucket:
        try:
            exception = fx.deny_exception_fix(
                ev.bucket, case.who, text, t.index, ctx.action, ctx.resource, ev.role_id, case.scope.identity
            )
        except Exception as exc:
            exception = fx.admin_fix(
                f"An exception to the Deny {t.label} for {case.who} could not be prepared ({exc}); the Deny stays."
            )
    return Finding(cause, True, summary, evidence, exception, rank=2)
