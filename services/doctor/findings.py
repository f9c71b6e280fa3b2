"""Building the findings, in the order causes are looked for: the bucket itself, what the error
message names that sagewiz cannot read, what the evaluation found, what else makes S3 say 403
when the policies allow, and the context that is not the cause."""

from __future__ import annotations

from services.doctor import fixes as fx
from services.doctor.case import Case
from services.doctor.choose_fix import identity_fix
from services.doctor.explicit_denies import MESSAGE_CAUSES, deny_finding, message_finding
from services.doctor.layer_refusals import kms_finding, layer_refusal
from services.doctor.missing_allows import missing_allow_findings
from services.doctor.model import Finding, Fix
from services.doctor.notes import context_notes
from services.policy import RequestContext
from services.policy.arns import s3_arn
from services.policy.evaluate import (
    BOUNDARY,
    IDENTITY,
    KEY_POLICY,
    RCP,
    RESOURCE,
    SCP,
    SESSION,
    VPCE,
)
from services.policy.s3 import evaluate_s3

# The policy kind of a deciding Deny -> its cause.
_KIND_CAUSE_DENY = {
    IDENTITY: "identity-explicit-deny",
    RESOURCE: "bucket-policy-explicit-deny",
    BOUNDARY: "permissions-boundary",
    SESSION: "session-policy",
    SCP: "organizations-policy",
    RCP: "organizations-policy",
    VPCE: "vpc-endpoint-policy",
    KEY_POLICY: "kms-key-access",
}


def build_findings(case: Case) -> list[Finding]:
    if case.bucket and case.ev.bucket_exists is False:
        return [_bucket_missing(case)]  # nothing else can be said about a bucket that is not there
    out = _other_owner(case)
    out += _named_by_message(case)
    out += _from_decision(case)
    out += _missing_object(case)
    out += context_notes(case, out)
    return out


def _bucket_missing(case: Case) -> Finding:
    bucket = case.bucket
    return Finding(
        "bucket-missing",
        True,
        f"There is no bucket named {bucket}.",
        (f"s3:HeadBucket / GetBucketPolicy answered NoSuchBucket / 404 for {bucket}",),
        fx.create_bucket_fix(bucket or "", case.region) if case.region else None,
        rank=0,
    )


def _other_owner(case: Case) -> list[Finding]:
    """The bucket exists and another account owns it; blocking when the name was squatted."""
    if not case.ev.bucket_owned_by_other:
        return []
    bucket, account = case.bucket, case.info.account
    squatted = bool(bucket) and account in (bucket or "")
    evidence = [
        f"s3:HeadBucket with ExpectedBucketOwner={account} was refused although the bucket exists "
        "(a plain HeadBucket, GetBucketPolicy's 405 or another read worked): another account owns it"
    ]
    if squatted:
        evidence.append(
            f"{bucket} carries your account id ({account}) in its name: another account registered the name first (bucket squatting)"
        )
        summary = f"The bucket {bucket} is named for your account but another account owns it: never put data there."
        fix = fx.admin_fix(
            "Use a bucket your account owns: pick another name (for the SageMaker SDK pass default_bucket=...), "
            f"and stop using {bucket}. Nothing can be fixed in a bucket someone else owns."
        )
    else:
        summary = (
            f"The bucket {bucket} belongs to another account: its bucket policy (which sagewiz cannot read) "
            "and your identity policy must both allow the request."
        )
        fix = fx.admin_fix(
            f"Ask the bucket's owner to allow {case.who} {case.ctx.action} on {case.ctx.resource} in the bucket policy."
        )
    return [Finding("bucket-owned-by-other-account", squatted, summary, tuple(evidence), fix, rank=1)]


def _named_by_message(case: Case) -> list[Finding]:
    """A policy type the error names, unless the user supplied that policy (then it is evaluated)."""
    parsed, pset = case.parsed, case.pset
    if not parsed or parsed.policy_type not in MESSAGE_CAUSES:
        return []
    cause = MESSAGE_CAUSES[parsed.policy_type]
    readable = {
        "permissions-boundary": case.ev.boundary is not None,
        "session-policy": pset.session is not None,
        "organizations-policy": bool(pset.scps or pset.rcps),
        "vpc-endpoint-policy": pset.vpce is not None,
    }.get(cause, False)
    return [] if readable else [message_finding(cause, parsed, case.ctx)]


def _from_decision(case: Case) -> list[Finding]:
    d = case.d
    denies = [(n, t) for n, t in d.deciding if t.effect == "Deny"]
    if d.kind == "explicit-deny" and denies:
        out = []
        for name, t in denies:
            result = next((r for r in d.results if r.name == name), None)
            cause = _KIND_CAUSE_DENY.get(result.kind if result else IDENTITY, "identity-explicit-deny")
            out.append(deny_finding(case, cause, name, t))
        return out
    if d.allowed:
        return []
    if d.context is not None and d.context.action.lower().startswith("kms:"):
        return [kms_finding(case)]
    if d.denied_by in (IDENTITY, RESOURCE):
        return missing_allow_findings(case)
    refusal = layer_refusal(case)
    return [refusal] if refusal else []


def _missing_object(case: Case) -> list[Finding]:
    """GetObject allowed on a key that does not exist: S3 says 403 unless the caller may list."""
    ctx, bucket = case.ctx, case.bucket
    if not (
        case.d.allowed and bucket and ctx.action.lower() == "s3:getobject" and case.ev.object_exists is False
    ):
        return []
    list_ctx = RequestContext.build(
        "s3:ListBucket",
        s3_arn(bucket),
        ctx.principal_arn,
        role_arn=ctx.role_arn,
        resource_account=ctx.resource_account,
        secure_transport=True,
    )
    if evaluate_s3(list_ctx, case.pset, case.facts).allowed:
        summary = (
            "The key does not exist (the caller can list the bucket, so S3 says 404 NoSuchKey, not 403)."
        )
        return [Finding("object-missing-no-list", False, summary, ("s3:HeadObject: 404 Not Found",), None)]
    list_fix: Fix | None = None
    if case.is_role and case.role_name:
        why = f"The key {case.req.key or bucket} does not exist; with s3:ListBucket S3 answers 404 NoSuchKey instead of 403."
        list_fix = identity_fix(case, why, "s3:ListBucket", s3_arn(bucket))
    summary = f"The key {ctx.resource.split(':::', 1)[-1]} does not exist, and without s3:ListBucket S3 answers 403 instead of 404."
    evidence = (
        "s3:HeadObject as the caller: 404 Not Found",
        f"{ctx.principal_arn} is not allowed s3:ListBucket on arn:aws:s3:::{bucket}",
    )
    return [Finding("object-missing-no-list", True, summary, evidence, list_fix, rank=3)]
