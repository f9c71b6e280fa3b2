"""Evaluating the request against every policy layer: the request context (with the values it
had to assume), the policy set (identity, bucket, boundary, and the SCP / RCP / session / VPC
endpoint policies the user supplied), the S3 facts (Block Public Access, ownership, KMS) and the
decision from services.policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.doctor.evidence import Evidence
from services.doctor.model import Assumption, AssumptionReason
from services.doctor.request_facts import RequestFacts
from services.policy import NamedPolicy, PolicyError, PolicySet, RequestContext, parse_policy
from services.policy.arns import PrincipalInfo, s3_arn
from services.policy.evaluate import RCP, RESOURCE, SCP, SESSION, VPCE, Decision
from services.policy.s3 import BlockPublicAccess, S3Facts, evaluate_s3, is_bucket_action

OTHER_ACCOUNT = "(another account)"  # the owner of a bucket we may not read the owner of


@dataclass(frozen=True)
class Evaluation:
    """The request as evaluated: its context, the policies, the S3 facts and the decision."""

    ctx: RequestContext
    pset: PolicySet
    facts: S3Facts
    decision: Decision
    role_arn: str | None
    resource: str
    notes: tuple[str, ...]  # policies that could not be read, said next to what was understood


def evaluate(
    facts: RequestFacts,
    info: PrincipalInfo,
    ev: Evidence,
    region: str | None,
    now: datetime | None,
) -> Evaluation:
    """Every layer's verdict on the request; what had to be assumed is added to `facts`."""
    assert facts.principal and facts.action
    role_arn = ev.role_arn if info.kind in ("role", "assumed-role") else None
    if info.kind == "assumed-role" and not ev.role_path_known:
        facts.assume(
            AssumptionReason.ROLE_PATH_UNREAD, f"the role's path could not be read; assumed {role_arn}"
        )
    resource = _resource(facts, info)
    account = _resource_account(facts, info, ev)
    ctx = _context(facts, resource, role_arn, account, region, now)
    pset, problems, assumed = policy_set(ev, facts, role_arn or facts.principal)
    facts.assumptions.extend(assumed)
    s3 = s3_facts(ev, facts, account)
    decision = evaluate_s3(ctx, pset, s3) if facts.s3_request else _evaluate_plain(ctx, pset)
    notes = problems + [f"{d.owner} {d.name}: {d.problem}" for d in ev.identity_policies if d.problem]
    return Evaluation(ctx, pset, s3, decision, role_arn, resource, tuple(notes))


def _resource(facts: RequestFacts, info: PrincipalInfo) -> str:
    action = facts.action or ""
    if facts.s3_request and facts.bucket:
        return s3_arn(facts.bucket, None if is_bucket_action(action) else facts.key, info.partition)
    parsed = facts.parsed
    resource = facts.req.resource or (parsed.resource if parsed and parsed.resource else None) or "*"
    if resource == "*":
        facts.assume(AssumptionReason.RESOURCE_UNKNOWN, "the resource is unknown; evaluated for Resource '*'")
    return resource


def _resource_account(facts: RequestFacts, info: PrincipalInfo, ev: Evidence) -> str | None:
    if ev.bucket_owned_by_other:
        return OTHER_ACCOUNT
    if ev.bucket_owner:
        return ev.bucket_owner
    return None if facts.s3_request else info.account


def _context(
    facts: RequestFacts,
    resource: str,
    role_arn: str | None,
    account: str | None,
    region: str | None,
    now: datetime | None,
) -> RequestContext:
    assert facts.principal and facts.action
    action = facts.action.lower()
    extra: dict[str, str | list[str] | tuple[str, ...]] = {}
    if action == "iam:passrole":
        extra["iam:PassedToService"] = "sagemaker.amazonaws.com"
        facts.assume(
            AssumptionReason.PASSED_TO_SAGEMAKER,
            "the role is passed to SageMaker (iam:PassedToService = sagemaker.amazonaws.com)",
        )
    if facts.s3_request and action == "s3:listbucket" and facts.key and facts.key != "*":
        extra["s3:prefix"] = facts.key
    ctx = RequestContext.build(
        facts.action,
        resource,
        facts.principal,
        role_arn=role_arn,
        resource_account=account,
        region=region,
        secure_transport=facts.req.secure_transport,
        extra=extra,
        now=now,
    )
    for text in ctx.assumptions:
        facts.assume(AssumptionReason.REQUEST_CONTEXT, text)
    return ctx


def policy_set(
    ev: Evidence, facts: RequestFacts, grantee: str
) -> tuple[PolicySet, list[str], list[Assumption]]:
    """The policies to evaluate, the supplied ones that could not be read, and what was assumed."""
    problems: list[str] = []
    assumed: list[Assumption] = []
    resource = ev.bucket_policy.policy if ev.bucket_policy and ev.bucket_policy.policy else None
    if resource is None and ev.bucket_owned_by_other:
        # Another account's bucket policy cannot be read from here: evaluate as if it allowed the
        # caller (stated as an assumption), so the other layers can still be checked.
        resource = _assumed_allow(grantee)
        assumed.append(
            Assumption(
                AssumptionReason.OTHER_ACCOUNT_POLICY,
                "the other account's bucket policy could not be read; it was assumed to allow you",
            )
        )

    def supplied(text: str | None, name: str, kind: str) -> NamedPolicy | None:
        if not text or not text.strip():
            return None
        try:
            return NamedPolicy(name, parse_policy(text), kind, f"{name} (supplied)")
        except PolicyError as exc:
            problems.append(f"the supplied {name} could not be read: {exc.message}")
            return None

    req = facts.req
    scp = supplied(req.scp_text, "SCP", SCP)
    rcp = supplied(req.rcp_text, "RCP", RCP)
    pset = PolicySet(
        identity=tuple(d.policy for d in ev.identity_policies if d.policy is not None),
        resource=resource,
        boundary=ev.boundary.policy if ev.boundary and ev.boundary.policy else None,
        session=supplied(req.session_policy_text, "session policy", SESSION),
        scps=(scp,) if scp else None,
        rcps=(rcp,) if rcp else None,
        vpce=supplied(req.vpce_policy_text, "VPC endpoint policy", VPCE),
    )
    return pset, problems, assumed


def _assumed_allow(grantee: str) -> NamedPolicy:
    statement = {
        "Sid": "AssumedByTheDoctor",
        "Effect": "Allow",
        "Principal": {"AWS": grantee},
        "Action": "*",
        "Resource": "*",
    }
    return NamedPolicy(
        "bucket policy (not readable: assumed to allow you)",
        parse_policy({"Statement": [statement]}),
        RESOURCE,
    )


def s3_facts(ev: Evidence, facts: RequestFacts, resource_account: str | None) -> S3Facts:
    bpa = (ev.bpa_bucket or BlockPublicAccess()).combine(ev.bpa_account or BlockPublicAccess())
    key_policy = ev.kms_key_policy.policy.policy if ev.kms_key_policy and ev.kms_key_policy.policy else None
    kms = ev.kms_key if (ev.encryption or "").startswith("aws:kms") else None
    return S3Facts(
        bucket_owner_account=resource_account,
        bpa=bpa,
        object_ownership=ev.object_ownership,
        object_owner_account=OTHER_ACCOUNT + " (object owner)" if ev.object_owner_differs else None,
        object_acl_grants_caller=ev.object_acl_grants_owner and resource_account not in (None, OTHER_ACCOUNT),
        requester_pays=bool(ev.requester_pays),
        request_payer_sent=facts.req.request_payer_sent,
        kms_key_arn=kms,
        kms_key_policy=key_policy,
        kms_key_managed_by_aws=ev.kms_key_aws_managed,
        request_acl=facts.req.request_acl,
    )


def _evaluate_plain(ctx: RequestContext, pset: PolicySet) -> Decision:
    """A non-S3 request: no bucket policy, VPC endpoint or S3 settings take part."""
    from services.policy.evaluate import evaluate_request

    return evaluate_request(
        ctx,
        PolicySet(
            identity=pset.identity,
            boundary=pset.boundary,
            session=pset.session,
            scps=pset.scps,
            rcps=pset.rcps,
        ),
    )
