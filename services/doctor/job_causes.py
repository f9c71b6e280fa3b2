"""Causes a job's FailureReason states that are not an S3 refusal: the service could not assume
the execution role (`role-trust`, `role-missing`), and an input prefix with no objects although
the role may list it (`input-missing`). And, for a refusal whose text names the deciding policy
type but no resource, that policy type as the blocking cause (AWS has said it; asking for
--bucket first would only delay the answer).

Each reads AWS (IAM GetRole, S3 ListObjectsV2) through the same factory the engine uses.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from services.doctor import fixes as fx
from services.doctor.model import Diagnosis, Finding, Fix, Need
from services.doctor.request_facts import RequestFacts

SERVICE = "sagemaker.amazonaws.com"

# How AWS names the policy type -> the cause ID, for an implicit (no allow) and an explicit deny.
_STATED: dict[str, tuple[str, str]] = {
    "identity-based": ("identity-no-allow", "identity-explicit-deny"),
    "resource-based": ("bucket-policy-principal-mismatch", "bucket-policy-explicit-deny"),
    "service control": ("organizations-policy", "organizations-policy"),
    "resource control": ("organizations-policy", "organizations-policy"),
    "VPC endpoint": ("vpc-endpoint-policy", "vpc-endpoint-policy"),
    "permissions boundary": ("permissions-boundary", "permissions-boundary"),
    "session": ("session-policy", "session-policy"),
}
_WHO_FIXES = {
    "organizations-policy": "your organization's administrator (the SCP or RCP lives in the management account)",
    "vpc-endpoint-policy": "whoever owns the VPC endpoint (its policy must allow the action)",
    "permissions-boundary": "whoever set the role's permissions boundary",
    "session-policy": "whoever creates the session (the policy passed to AssumeRole or GetFederationToken)",
}


def stated_cause(facts: RequestFacts) -> Diagnosis | None:
    """The blocking cause AWS's text names when the text names no resource; else None."""
    p = facts.parsed
    if p is None or p.policy_type not in _STATED or p.explicit is None:
        return None
    if facts.req.bucket or facts.req.resource or p.bucket or p.resource or not p.principal:
        return None  # a resource is known: the ordinary diagnosis reads and names the statement
    implicit, explicit = _STATED[p.policy_type]
    cause = explicit if p.explicit else implicit
    what = f"{'an explicit deny in' if p.explicit else 'no allow in'} a {p.policy_type} policy"
    summary = f"AWS says {what} decides it: {p.action} is refused for {p.principal}"
    who = _WHO_FIXES.get(cause)
    fix = (
        fx.admin_fix(f"Ask {who} to allow {p.action} for {p.principal}.")
        if who
        else fx.admin_fix(
            f"Allow {p.action} for {p.principal} on the resource it needs; give --bucket (and --key) for the "
            "exact least-privilege statement."
        )
    )
    finding = Finding(
        cause, True, summary, (f"the error text: {p.reason}" if p.reason else "the error text",), fix
    )
    return Diagnosis(
        "denied", facts.principal, facts.action, None, (finding,), f"Denied: {summary}",
        tuple(facts.understood), (Need(f"the {'bucket' if p.service == 's3' else 'resource'} (for the exact least-privilege fix; the cause is known)"),),
        (), request=facts.req,
    )  # fmt: skip


def role_cause(facts: RequestFacts, factory: Any, account: str | None) -> Diagnosis | None:
    """For "SageMaker was unable to assume the role ...": does the role exist, and does its trust
    policy let SageMaker assume it from this account?"""
    p = facts.parsed
    if p is None or p.form != "role-assume":
        return None
    # Unnamed in the text: the role given with --principal, else the wizard's (an assumption, said).
    role_arn = p.resource or facts.principal
    if not role_arn or ":role/" not in role_arn:
        return None
    name = role_arn.rsplit("/", 1)[-1]
    iam = factory.client("iam")
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
            raise
        return _diagnosis(facts, role_arn, Finding(
            "role-missing", True, f"the role {role_arn} does not exist",
            (f"iam:GetRole {name}: NoSuchEntity",),
            fx.client_fix("Pass the ARN of an existing execution role (the Role step lists them), or create this one."),
        ), calls=1)  # fmt: skip
    if role["Arn"] != role_arn:
        return _diagnosis(facts, role_arn, Finding(
            "role-missing", True, f"no role has the ARN {role_arn}; the role named {name} is {role['Arn']}",
            (f"iam:GetRole {name}: Arn {role['Arn']}",),
            fx.client_fix(f"Pass the role's full ARN with its path: {role['Arn']}."),
        ), calls=1)  # fmt: skip
    doc = role.get("AssumeRolePolicyDocument") or {}
    if isinstance(doc, str):
        doc = json.loads(unquote(doc))
    problem = trust_problem(doc, account or role_arn.split(":")[4])
    if problem is None:
        return Diagnosis(
            "allowed", SERVICE, "sts:AssumeRole", role_arn, (),
            f"Allowed: {role_arn} exists and its trust policy lets {SERVICE} assume it from this account",
            tuple(facts.understood), (), _assumed(facts), calls=1, request=facts.req, role_arn=role_arn,
        )  # fmt: skip
    fixed = trusted_policy(doc, account or role_arn.split(":")[4])
    fix = Fix(
        description=f"Let {SERVICE} assume the role from this account (iam:UpdateAssumeRolePolicy on {name}).",
        changes=({"target": role_arn, "call": "iam:UpdateAssumeRolePolicy", "document": fixed},),
    )
    return _diagnosis(facts, role_arn, Finding(
        "role-trust", True, f"the trust policy of {role_arn} does not let SageMaker assume it: {problem}",
        (f"iam:GetRole {name}: AssumeRolePolicyDocument",), fix,
    ), calls=1)  # fmt: skip


def _diagnosis(facts: RequestFacts, role_arn: str, finding: Finding, calls: int) -> Diagnosis:
    return Diagnosis(
        "denied", SERVICE, "sts:AssumeRole", role_arn, (finding,), f"Denied: {finding.summary}",
        tuple(facts.understood), (), _assumed(facts), calls=calls, request=facts.req, role_arn=role_arn,
    )  # fmt: skip


def _assumed(facts: RequestFacts) -> tuple[Any, ...]:
    """The wizard's role stood in only when the text named no role."""
    named = facts.parsed is not None and facts.parsed.resource
    return () if named else tuple(facts.assumptions)


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def trust_problem(doc: dict[str, Any], account: str) -> str | None:
    """Why SageMaker (calling for `account`) cannot assume a role with this trust policy, or None.
    An explicit Deny naming the service, no Allow naming it, or source conditions that do not
    match the account are each enough."""
    allows = False
    for st in _as_list(doc.get("Statement", [])):
        if not isinstance(st, dict):
            continue
        services = (
            _as_list((st.get("Principal") or {}).get("Service", []))
            if isinstance(st.get("Principal"), dict)
            else []
        )
        star = st.get("Principal") == "*"
        actions = [a.lower() for a in _as_list(st.get("Action", []))]
        if not (SERVICE in services or star) or not any(
            a in ("sts:assumerole", "sts:*", "*") for a in actions
        ):
            continue
        if st.get("Effect") == "Deny" and not st.get("Condition"):
            return f"a Deny statement names {SERVICE}"
        if st.get("Effect") != "Allow":
            continue
        mismatch = _condition_mismatch(st.get("Condition") or {}, account)
        if mismatch:
            return mismatch
        allows = True
    return None if allows else f"no Allow statement names the service principal {SERVICE} for sts:AssumeRole"


def _condition_mismatch(cond: dict[str, Any], account: str) -> str | None:
    for op, pairs in cond.items():
        if not isinstance(pairs, dict):
            continue
        for key, values in pairs.items():
            k = key.lower()
            vals = [str(v) for v in _as_list(values)]
            if k == "aws:sourceaccount" and op.startswith("String") and account not in vals:
                return f"its aws:SourceAccount condition names {', '.join(vals)}, not {account}"
            if k == "aws:sourcearn" and not any(f":{account}:" in v or v == "*" for v in vals):
                return (
                    f"its aws:SourceArn condition names {', '.join(vals)}, not a SageMaker ARN of {account}"
                )
    return None


def trusted_policy(doc: dict[str, Any], account: str) -> dict[str, Any]:
    """The trust policy with its SageMaker statements replaced by one that works: the service
    principal, sts:AssumeRole, and aws:SourceAccount pinned to this account (least privilege: the
    confused-deputy guard stays, with the right value). Other statements are kept as they are."""
    kept = []
    for st in _as_list(doc.get("Statement", [])):
        principal = st.get("Principal") if isinstance(st, dict) else None
        names_service = isinstance(principal, dict) and SERVICE in _as_list(principal.get("Service", []))
        if not names_service:
            kept.append(st)
    kept.append({
        "Effect": "Allow", "Principal": {"Service": SERVICE}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account}},
    })  # fmt: skip
    return {"Version": "2012-10-17", "Statement": kept}


def input_cause(facts: RequestFacts, factory: Any, allowed: Diagnosis) -> Diagnosis | None:
    """For "No S3 objects found under S3 URL": when the role may list the bucket (the ordinary
    diagnosis said allowed), list the prefix for real; none there is the cause."""
    p = facts.parsed
    if p is None or p.form != "no-objects" or allowed.verdict == "denied" or not facts.bucket:
        return None
    prefix = facts.key or ""
    try:
        out = factory.client("s3").list_objects_v2(Bucket=facts.bucket, Prefix=prefix, MaxKeys=1)
    except ClientError:
        return None  # the caller cannot list it: the ordinary diagnosis stands
    if out.get("KeyCount", 0):
        return None
    where = f"s3://{facts.bucket}/{prefix}"
    finding = Finding(
        "input-missing", True,
        f"no objects exist under {where}; the role may list the bucket, so the input is missing, not a permission",
        (f"s3:ListObjectsV2 {where}: 0 keys", "the role's s3:ListBucket on the bucket is allowed"),
        fx.client_fix(f"Upload the training data under {where}, or point the channel's S3 URI at where it is."),
    )  # fmt: skip
    return Diagnosis(
        "denied", allowed.principal, allowed.action, allowed.resource, (finding, *allowed.findings),
        f"Denied: {finding.summary}", allowed.understood, (), allowed.assumptions, allowed.trace, allowed.reads,
        allowed.calls + 1, allowed.cross_check, allowed.request, allowed.role_arn, allowed.bucket, allowed.key,
        allowed.decision, allowed.evidence,
    )  # fmt: skip
