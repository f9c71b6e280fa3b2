"""Findings for a refusal by a layer other than the identity and bucket policies: the
permissions boundary, the KMS key, Block Public Access (never turned off), a session policy, an
SCP or RCP, a VPC endpoint policy, object ownership and Requester Pays."""

from __future__ import annotations

from services.doctor import fixes as fx
from services.doctor.case import Case, stmt_text
from services.doctor.model import Finding, Fix
from services.policy.evaluate import BOUNDARY, IDENTITY, KEY_POLICY, RCP, SCP, SESSION, VPCE


def layer_refusal(case: Case) -> Finding | None:
    """The finding for the layer that refused (None for the identity and bucket policies)."""
    d, ctx, ev, bucket = case.d, case.ctx, case.ev, case.bucket
    by = d.denied_by
    if by == BOUNDARY:
        return _boundary(case)
    if by == SESSION:
        fix = fx.admin_fix(
            "Re-assume the role without the restrictive session policy, or add the action to it."
        )
        summary = f"The session policy does not allow {ctx.action}."
        return Finding("session-policy", True, summary, (d.reason,), fix, rank=5)
    if by in (SCP, RCP):
        fix = fx.admin_fix("Ask the organization's administrator to allow the action in the SCP/RCP.")
        return Finding(
            "organizations-policy",
            True,
            f"The supplied {by} does not allow {ctx.action}.",
            (d.reason,),
            fix,
            rank=2,
        )
    if by == VPCE:
        fix = fx.admin_fix(
            f"Add an Allow for {ctx.action} on arn:aws:s3:::{bucket} and arn:aws:s3:::{bucket}/* to the endpoint policy."
        )
        summary = f"The supplied VPC endpoint policy does not allow {ctx.action}."
        return Finding("vpc-endpoint-policy", True, summary, (d.reason,), fix, rank=2)
    if by == "block-public-access":
        return _bpa(case)
    if by == "object-ownership":
        summary = "The object belongs to another account and its ACL does not grant you; bucket-policy Allows do not apply to it."
        evidence = (d.reason, f"Object Ownership: {ev.object_ownership or '(none)'}")
        return Finding(
            "object-ownership",
            True,
            summary,
            evidence,
            fx.ownership_fix(bucket or "", ev.object_ownership),
            rank=4,
        )
    if by == "requester-pays":
        fix = fx.client_fix(
            "Send the request with RequestPayer='requester' (boto3) or --request-payer requester (AWS CLI).",
            request_payer_sent=True,
        )
        summary = f"{bucket} is a Requester Pays bucket and the request did not agree to pay."
        return Finding(
            "requester-pays", True, summary, ("s3:GetBucketRequestPayment: Payer = Requester",), fix, rank=3
        )
    return None


def _boundary(case: Case) -> Finding:
    ctx, ev = case.ctx, case.ev
    b = case.d.result(BOUNDARY)
    evidence = [f"permissions boundary {ev.boundary_arn}"] + (
        [stmt_text(b[0].name, t) for t in b[0].traces] if b else []
    )
    stmt = {"Effect": "Allow", "Action": ctx.action, "Resource": ctx.resource}
    fix = fx.admin_fix(
        f"Ask the boundary's owner to add {ctx.action} on {ctx.resource} to {ev.boundary_arn} "
        "(a new default version of that managed policy); the role's own policies cannot exceed it.",
        [{"target": ev.boundary_arn, "call": "iam:CreatePolicyVersion", "document": {"add_statement": stmt}}],
    )
    summary = f"The role's permissions boundary does not allow {ctx.action} on {ctx.resource}."
    return Finding("permissions-boundary", True, summary, tuple(evidence), fix, rank=6)


def kms_finding(case: Case) -> Finding:
    """The S3 request needs the KMS key, and the key's use was refused."""
    d, ctx, facts = case.d, case.ctx, case.facts
    kctx = d.context
    assert kctx is not None
    evidence = [f"SSE-KMS with key {facts.kms_key_arn}", d.reason]
    for r in d.results:
        if r.kind == KEY_POLICY:
            evidence.extend(stmt_text("the key policy", t) for t in r.traces)
    fix: Fix
    if d.denied_by == IDENTITY and case.is_role and case.role_name:
        fix = fx.grant_fix(
            case.scope,
            case.inline,
            kctx.action,
            facts.kms_key_arn or "",
            "The key policy delegates to IAM: allow the key's use in the role's policy.",
            sid="SagewizKmsForS3",
        )
    elif facts.kms_key_managed_by_aws:
        fix = fx.admin_fix(
            "The AWS managed aws/s3 key cannot be used across accounts: encrypt with a customer managed key."
        )
    else:
        grant = {"Effect": "Allow", "Principal": {"AWS": case.who}, "Action": kctx.action, "Resource": "*"}
        fix = fx.admin_fix(
            f"Ask the key's owner to allow {case.who} {kctx.action} in the key policy.",
            [{"target": facts.kms_key_arn, "call": "kms:PutKeyPolicy", "document": {"add_statement": grant}}],
        )
    summary = f"The SSE-KMS key does not let {case.who} use {kctx.action}, which {ctx.action} needs."
    return Finding("kms-key-access", True, summary, tuple(evidence), fix, rank=8)


def _bpa(case: Case) -> Finding:
    d, pset = case.d, case.pset
    evidence = [d.reason]
    if pset.resource:
        from services.policy.s3 import public_statements

        public = [s.label for s in public_statements(pset.resource.policy)]
        if public:
            evidence.append(f"public statements in the bucket policy: {', '.join(public)}")
    if "BlockPublicAcls" in d.reason:
        fix = fx.client_fix(
            "Upload without the public ACL (drop ACL='public-read' / x-amz-acl); share data with "
            "named principals in the bucket policy instead. Block Public Access stays on.",
            request_acl=None,
        )
        summary = (
            "Block Public Access (BlockPublicAcls) refuses this upload because it asks for a public ACL."
        )
        return Finding("block-public-access", True, summary, tuple(evidence), fix, rank=3)
    fix = fx.admin_fix(
        f"Ask the bucket's owner to name {case.who} (or its account) in the bucket policy instead of '*'. "
        "Block Public Access stays on."
    )
    summary = (
        "Block Public Access refuses this request because the access depends on a public grant (a Principal '*' "
        "policy or a public ACL) and the caller is outside the bucket owner's account."
    )
    return Finding("block-public-access", True, summary, tuple(evidence), fix, rank=3)
