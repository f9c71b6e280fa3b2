"""The diagnosis: parse, resolve, gather evidence, evaluate, explain, propose fixes.

One engine for the screen and the `sagewiz doctor` command. It never raises for bad input: a
request it cannot diagnose comes back with verdict "unknown", what was understood and what is
missing. Input is validated before any AWS call.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from services.doctor import fixes as fx
from services.doctor.evidence import Evidence, gather
from services.doctor.model import CrossCheck, Diagnosis, DoctorRequest, Finding, Fix, order_findings
from services.doctor.parse import ParsedError, parse_error
from services.policy import NamedPolicy, PolicyError, PolicySet, RequestContext, parse_policy
from services.policy.arns import parse_principal, s3_arn
from services.policy.evaluate import (
    BOUNDARY,
    IDENTITY,
    KEY_POLICY,
    RCP,
    RESOURCE,
    SCP,
    SESSION,
    VPCE,
    Decision,
    StatementTrace,
    evaluate_policy,
)
from services.policy.s3 import (
    OPERATION_ACTIONS,
    BlockPublicAccess,
    S3Facts,
    action_for_operation,
    evaluate_s3,
    is_bucket_action,
    is_public_policy,
    kms_action,
)

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ACTION_RE = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$")
_CANONICAL = {a.lower(): a for a in OPERATION_ACTIONS.values()}
_OTHER_ACCOUNT = "(another account)"


def canonical_action(action: str) -> str:
    if action.lower() == "s3:copyobject":  # the BPA doc example names the operation
        return "s3:PutObject"
    return _CANONICAL.get(action.lower(), action)


def validate_request(req: DoctorRequest) -> list[str]:
    """Problems with the fields themselves (before any AWS call)."""
    problems = []
    if req.principal:
        info = parse_principal(req.principal)
        if info is None:
            problems.append(
                f"--principal {req.principal!r} is not a principal ARN (expected arn:aws:iam::<account>:role/<name>, "
                "…:user/<name>, or arn:aws:sts::<account>:assumed-role/<role>/<session>)"
            )
        elif info.partition != "aws":
            problems.append(
                f"the principal is in the {info.partition} partition; sagewiz diagnoses the standard aws partition only"
            )
    if req.bucket and not _BUCKET_RE.match(req.bucket):
        problems.append(
            f"--bucket {req.bucket!r} is not a valid S3 bucket name (3-63 characters: lower-case letters, digits, "
            "dots and hyphens, starting and ending with a letter or digit)"
        )
    if req.action and not _ACTION_RE.match(req.action):
        problems.append(
            f"--action {req.action!r} is not an IAM action (expected service:Action, e.g. s3:PutObject)"
        )
    return problems


def precheck(req: DoctorRequest, *, principal_from_caller: bool = True) -> Diagnosis | None:
    """The input checks that need no AWS call: an "unknown" Diagnosis when the request cannot be
    diagnosed as given, else None. With principal_from_caller, a missing principal is fine (the
    caller's own identity fills it after connecting)."""
    probe = req
    if principal_from_caller and not req.principal and not req.default_principal:
        probe = req.with_(default_principal="arn:aws:iam::000000000000:user/precheck")
    d = _diagnose(probe, None, None, None, False, False, None, stop_before_aws=True)
    if d is None:
        return None
    return Diagnosis(
        **{
            **d.__dict__,
            "principal": req.principal
            or (d.principal if d.principal and "precheck" not in d.principal else None),
        }
    )


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
        d = _diagnose(req, factory, caller_account, region, cross_check, sandbox, now)
        assert d is not None
        return d
    except Exception as exc:  # a diagnosis must never crash the screen or the command
        from services.errors import SagewizError, translate

        err = exc if isinstance(exc, SagewizError) else translate(exc, "diagnose")
        return Diagnosis(
            verdict="unknown",
            principal=req.principal,
            action=req.action,
            resource=None,
            headline=f"The diagnosis could not finish: {err.title}",
            missing=(f"{err.title}: {err.message}".strip(": "),),
            request=req,
        )


def _diagnose(
    req: DoctorRequest,
    factory: Any,
    caller_account: str | None,
    region: str | None,
    cross_check: bool,
    sandbox: bool,
    now: datetime | None,
    stop_before_aws: bool = False,
) -> Diagnosis | None:
    parsed = parse_error(req.error_text) if req.error_text.strip() else None
    understood = list(parsed.understood) if parsed else []
    assumptions: list[str] = []
    problems = validate_request(req) + (list(parsed.problems) if parsed else [])

    # -- what the request was ---------------------------------------------------------------------
    principal = req.principal or (parsed.principal if parsed else None)
    if not principal and req.default_principal:
        principal = req.default_principal
        assumptions.append(f"the caller is {principal} (not in the error text; the wizard's execution role)")
    bucket = req.bucket or (parsed.bucket if parsed else None)
    if not bucket and req.default_bucket:
        bucket = req.default_bucket
        assumptions.append(f"the bucket is {bucket} (not in the error text; the wizard's bucket)")
    key = req.key if req.key is not None else (parsed.key if parsed else None)
    operation = req.operation or (parsed.operation if parsed else None)
    action = (
        req.action
        or (parsed.action if parsed else None)
        or (action_for_operation(operation) if operation else None)
    )
    if action:
        action = canonical_action(action)
    if req.action is None and parsed and parsed.action is None and operation and action:
        understood.append(f"{operation} is authorised as {action}")

    if parsed and parsed.is_credentials:
        finding = Finding(
            "invalid-credentials",
            True,
            "The credentials were refused: this is not a permissions problem. "
            + (parsed.understood[-1] if parsed.understood else ""),
            (f"error code {parsed.code}" if parsed.code else "the error text names a credentials failure",),
            fx.client_fix(
                "Refresh or fix the credentials: `aws sso login --profile NAME` for SSO, new temporary keys for "
                "expired sessions, or `aws configure` for wrong keys; check the clock for RequestExpired.",
            ),
            rank=0,
        )
        return Diagnosis("denied", principal, action, _resource(bucket, key, action), (finding,),
                         "The credentials were refused (not a permissions problem)", tuple(understood), (),
                         tuple(assumptions), request=req, bucket=bucket, key=key)  # fmt: skip

    if (
        parsed
        and parsed.form in ("empty", "unrecognised", "not-access-denied")
        and not (req.principal or req.bucket or req.action)
    ):
        if parsed.form == "not-access-denied" and parsed.code in ("NoSuchBucket", "NoSuchKey"):
            pass  # still worth a diagnosis when we know the bucket
        else:
            return _unknown(req, parsed, principal, action, bucket, key, understood, problems, assumptions)

    missing = []
    if not principal:
        missing.append("the principal (who made the request): paste the full error or give --principal")
    if not action:
        missing.append(
            "the action: paste the full error (with 'when calling the X operation') or give --action"
        )
    s3_request = bool(action and action.lower().startswith("s3:"))
    if s3_request and not bucket and action and action.lower() != "s3:listallmybuckets":
        missing.append("the bucket: give --bucket")
    if problems or missing:
        return _unknown(
            req, parsed, principal, action, bucket, key, understood, problems + missing, assumptions
        )
    if stop_before_aws:
        return None
    assert principal and action
    info = parse_principal(principal)
    assert info is not None

    if s3_request and bucket and not is_bucket_action(action) and key is None:
        key = "*"
        assumptions.append("no object key given: any key in the bucket (a key named '*')")

    # -- evidence -------------------------------------------------------------------------------------
    ev = gather(
        factory,
        principal,
        bucket if s3_request else None,
        None if key == "*" else key,
        action,
        caller_account=caller_account,
        notebook_name=req.notebook_name,
    )
    role_arn = ev.role_arn if info.kind in ("role", "assumed-role") else None
    if info.kind == "assumed-role" and not ev.role_path_known:
        assumptions.append(f"the role's path could not be read; assumed {role_arn}")
    if s3_request and bucket:
        resource = s3_arn(bucket, None if is_bucket_action(action) else key, info.partition)
    else:
        resource = req.resource or (parsed.resource if parsed and parsed.resource else None) or "*"
        if resource == "*":
            assumptions.append("the resource is unknown; evaluated for Resource '*'")

    resource_account: str | None = None
    if ev.bucket_owned_by_other:
        resource_account = _OTHER_ACCOUNT
    elif ev.bucket_owner:
        resource_account = ev.bucket_owner
    elif not s3_request:
        resource_account = info.account

    extra: dict[str, Any] = {}
    if action.lower() == "iam:passrole":
        extra["iam:PassedToService"] = "sagemaker.amazonaws.com"
        assumptions.append("the role is passed to SageMaker (iam:PassedToService = sagemaker.amazonaws.com)")
    if s3_request and action.lower() == "s3:listbucket" and key and key != "*":
        extra["s3:prefix"] = key
    ctx = RequestContext.build(
        action,
        resource,
        principal if info.kind != "role" else principal,
        role_arn=role_arn,
        resource_account=resource_account,
        region=region,
        secure_transport=req.secure_transport,
        extra=extra,
        now=now,
    )
    assumptions.extend(ctx.assumptions)

    pset, supplied_problems = _policy_set(ev, req, role_arn or principal)
    for p in [p for p in supplied_problems if p.startswith("ASSUME: ")]:
        assumptions.append(p.removeprefix("ASSUME: "))
        supplied_problems.remove(p)
    problems_after = supplied_problems + [
        f"{d.owner} {d.name}: {d.problem}" for d in ev.identity_policies if d.problem
    ]
    facts = _facts(ev, req, resource_account)
    decision = evaluate_s3(ctx, pset, facts) if s3_request else _evaluate_plain(ctx, pset)

    findings = _findings(ctx, decision, ev, parsed, pset, facts, req, info, region or "", sandbox)
    for p in problems_after:
        understood.append(f"note: {p}")
    if not ev.identity_complete:
        assumptions.append("some identity policies could not be read; the identity side may be incomplete")

    check = _cross_check(factory, ev, ctx, decision, sandbox) if cross_check else None
    trace = _trace_lines(decision)
    ordered = order_findings(findings)
    verdict, headline = _verdict(decision, ordered, parsed, ev)
    return Diagnosis(
        verdict=verdict,
        principal=principal,
        action=action,
        resource=resource,
        findings=ordered,
        headline=headline,
        understood=tuple(understood),
        missing=(),
        assumptions=tuple(dict.fromkeys(assumptions)),
        trace=trace,
        reads=ev.reads,
        calls=ev.calls + (check.calls if check else 0),
        cross_check=check,
        request=req,
        role_arn=role_arn,
        bucket=bucket,
        key=key,
        decision=decision,
        evidence=ev,
    )


def _resource(bucket: str | None, key: str | None, action: str | None) -> str | None:
    if not bucket:
        return None
    return s3_arn(bucket, None if (action and is_bucket_action(action)) or key is None else key)


def _unknown(
    req: DoctorRequest,
    parsed: ParsedError | None,
    principal: str | None,
    action: str | None,
    bucket: str | None,
    key: str | None,
    understood: list[str],
    missing: list[str],
    assumptions: list[str],
) -> Diagnosis:
    if parsed and parsed.missing:
        missing = list(missing) + [m for m in parsed.missing if m not in missing]
    if parsed and parsed.form == "not-access-denied":
        missing.insert(0, f"this is not an access-denied error ({parsed.code}); the doctor explains 403s")
    if parsed and parsed.form == "other-service" and not missing:
        missing.append("the resource")
    head = "Not enough to diagnose: " + (missing[0] if missing else "the input was not understood")
    return Diagnosis(
        verdict="unknown",
        principal=principal,
        action=action,
        resource=_resource(bucket, key, action),
        headline=head,
        understood=tuple(understood),
        missing=tuple(dict.fromkeys(missing)),
        assumptions=tuple(assumptions),
        request=req,
        bucket=bucket,
        key=key,
    )


# -- policies and facts -------------------------------------------------------------------------------
def _policy_set(ev: Evidence, req: DoctorRequest, grantee: str) -> tuple[PolicySet, list[str]]:
    problems: list[str] = []
    resource = ev.bucket_policy.policy if ev.bucket_policy and ev.bucket_policy.policy else None
    if resource is None and ev.bucket_owned_by_other:
        # Another account's bucket policy cannot be read from here: evaluate as if it allowed the
        # caller (stated as an assumption), so the other layers can still be checked.
        assumed = {"Statement": [{"Sid": "AssumedByTheDoctor", "Effect": "Allow", "Principal": {"AWS": grantee},
                                  "Action": "*", "Resource": "*"}]}  # fmt: skip
        resource = NamedPolicy(
            "bucket policy (not readable: assumed to allow you)", parse_policy(assumed), RESOURCE
        )
        problems.append(
            "ASSUME: the other account's bucket policy could not be read; it was assumed to allow you"
        )

    def supplied(text: str | None, name: str, kind: str) -> NamedPolicy | None:
        if not text or not text.strip():
            return None
        try:
            return NamedPolicy(name, parse_policy(text), kind, f"{name} (supplied)")
        except PolicyError as exc:
            problems.append(f"the supplied {name} could not be read: {exc.message}")
            return None

    scp = supplied(req.scp_text, "SCP", SCP)
    rcp = supplied(req.rcp_text, "RCP", RCP)
    return (
        PolicySet(
            identity=tuple(d.policy for d in ev.identity_policies if d.policy is not None),
            resource=resource,
            boundary=ev.boundary.policy if ev.boundary and ev.boundary.policy else None,
            session=supplied(req.session_policy_text, "session policy", SESSION),
            scps=(scp,) if scp else None,
            rcps=(rcp,) if rcp else None,
            vpce=supplied(req.vpce_policy_text, "VPC endpoint policy", VPCE),
        ),
        problems,
    )


def _facts(ev: Evidence, req: DoctorRequest, resource_account: str | None) -> S3Facts:
    bpa = (ev.bpa_bucket or BlockPublicAccess()).combine(ev.bpa_account or BlockPublicAccess())
    key_policy = ev.kms_key_policy.policy.policy if ev.kms_key_policy and ev.kms_key_policy.policy else None
    kms = ev.kms_key if (ev.encryption or "").startswith("aws:kms") else None
    return S3Facts(
        bucket_owner_account=resource_account,
        bpa=bpa,
        object_ownership=ev.object_ownership,
        object_owner_account=_OTHER_ACCOUNT + " (object owner)" if ev.object_owner_differs else None,
        object_acl_grants_caller=ev.object_acl_grants_owner
        and resource_account not in (None, _OTHER_ACCOUNT),
        requester_pays=bool(ev.requester_pays),
        request_payer_sent=req.request_payer_sent,
        kms_key_arn=kms,
        kms_key_policy=key_policy,
        kms_key_managed_by_aws=ev.kms_key_aws_managed,
        request_acl=req.request_acl,
    )


def _evaluate_plain(ctx: RequestContext, pset: PolicySet) -> Decision:
    from services.policy.evaluate import evaluate_request

    return evaluate_request(ctx, PolicySet(identity=pset.identity, boundary=pset.boundary, session=pset.session,
                                           scps=pset.scps, rcps=pset.rcps))  # fmt: skip


# -- findings ---------------------------------------------------------------------------------------
_MESSAGE_CAUSES = {
    "service control": "organizations-policy",
    "resource control": "organizations-policy",
    "VPC endpoint": "vpc-endpoint-policy",
    "session": "session-policy",
    "permissions boundary": "permissions-boundary",
    "bpa-acls": "block-public-access",
    "bpa-policy": "block-public-access",
}
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
_NEAR_MISS_TEXT = {
    "bucket-arn-for-object": "names the bucket ARN, but object actions need the object ARN (bucket/*)",
    "object-arn-for-bucket": "names objects (bucket/*), but this bucket-level action needs the bucket ARN",
    "case": "differs only in upper/lower case (ARNs are case-sensitive)",
    "prefix": "covers another prefix of the bucket",
    "bucket-name": "only covers bucket names containing 'sagemaker' (case-sensitive)",
    "variable": "uses a policy variable this request does not have",
}


def _stmt_text(doc_name: str, t: StatementTrace) -> str:
    return f"statement {t.label} of {doc_name}: {t.why}"


def _findings(
    ctx: RequestContext,
    d: Decision,
    ev: Evidence,
    parsed: ParsedError | None,
    pset: PolicySet,
    facts: S3Facts,
    req: DoctorRequest,
    info: Any,
    region: str,
    sandbox: bool,
) -> list[Finding]:
    out: list[Finding] = []
    bucket = ev.bucket
    role_arn = ctx.role_arn
    role_name = role_arn.rsplit("/", 1)[-1] if role_arn else None
    inline = [(p.name, p.text) for p in ev.identity_policies if p.kind == "inline"]
    is_role = info.kind in ("role", "assumed-role")

    identity_texts = tuple(
        (p.name, p.text)
        for p in ev.identity_policies
        if p.text and p.kind in ("inline", "managed", "group-inline", "group-managed")
    )
    candidates = [a for a in (req.default_principal, role_arn) if a and ":role/" in a]
    execution_role = ctx.resource if ctx.resource in candidates else (candidates[0] if candidates else None)
    scope = fx.GrantScope(
        role_arn=role_arn or ctx.principal_arn,
        account=info.account,
        region=region,
        bucket=bucket if bucket and not ev.bucket_owned_by_other else None,
        execution_role=execution_role,
        kms_key=facts.kms_key_arn,
        identity=identity_texts,
    )

    def identity_fix(why: str, action: str | None = None, resource: str | None = None) -> Fix:
        action = action or ctx.action
        if resource is None:
            resource = (
                fx.refused_scope(
                    bucket, ctx.resource.split("/", 1)[1] if "/" in ctx.resource else None, action
                )
                if bucket and action.lower().startswith("s3:")
                else ctx.resource
            )
        if is_role and role_name:
            try:
                return fx.grant_fix(scope, inline, action, resource, why)
            except Exception as exc:  # a builder refusing (e.g. unreadable policy) is reported, not raised
                return fx.admin_fix(f"{why} (sagewiz could not prepare the change: {exc})")
        from services.permissions.fixes.flow_grants import flow_grant_refusal

        refusal = flow_grant_refusal(action, resource, bucket=scope.bucket, execution_role=scope.execution_role,
                                     kms_key=scope.kms_key, account=scope.account, region=region)  # fmt: skip
        if refusal:
            return fx.refused_fix(why, refusal)
        stmt = {"Effect": "Allow", "Action": action, "Resource": resource}
        return fx.admin_fix(
            f"{why} Attach this statement to {ctx.principal_arn}'s policies.",
            [
                {
                    "target": ctx.principal_arn,
                    "call": "iam:Put*Policy",
                    "document": {"Version": "2012-10-17", "Statement": [stmt]},
                }
            ],
        )

    # 0. the bucket itself
    if bucket and ev.bucket_exists is False:
        out.append(Finding("bucket-missing", True, f"There is no bucket named {bucket}.",
                           (f"s3:HeadBucket / GetBucketPolicy answered NoSuchBucket / 404 for {bucket}",),
                           fx.create_bucket_fix(bucket, region) if region else None, rank=0))  # fmt: skip
        return out
    if ev.bucket_owned_by_other:
        squatted = bool(bucket) and info.account in (bucket or "")
        ev_lines = [f"s3:HeadBucket with ExpectedBucketOwner={info.account} was refused although the bucket exists "
                    "(GetBucketPolicy: 405, or other reads worked): another account owns it"]  # fmt: skip
        if squatted:
            ev_lines.append(
                f"{bucket} carries your account id ({info.account}) in its name: another account registered the name first (bucket squatting)"
            )
            summary = f"The bucket {bucket} is named for your account but another account owns it: never put data there."
            fix = fx.admin_fix(f"Use a bucket your account owns: pick another name (for the SageMaker SDK pass default_bucket=...), "
                               f"and stop using {bucket}. Nothing can be fixed in a bucket someone else owns.")  # fmt: skip
        else:
            summary = (f"The bucket {bucket} belongs to another account: its bucket policy (which sagewiz cannot read) "
                       "and your identity policy must both allow the request.")  # fmt: skip
            fix = fx.admin_fix(
                f"Ask the bucket's owner to allow {role_arn or ctx.principal_arn} {ctx.action} on {ctx.resource} in the bucket policy."
            )
        out.append(Finding("bucket-owned-by-other-account", squatted, summary, tuple(ev_lines), fix, rank=1))

    # 1. what the message says that sagewiz cannot read
    if parsed and parsed.policy_type in _MESSAGE_CAUSES:
        cause = _MESSAGE_CAUSES[parsed.policy_type]
        readable = (cause == "permissions-boundary" and ev.boundary is not None) or (
            cause == "session-policy" and pset.session is not None) or (
            cause == "organizations-policy" and (pset.scps or pset.rcps)) or (
            cause == "vpc-endpoint-policy" and pset.vpce is not None)  # fmt: skip
        if not readable:
            out.append(_message_finding(cause, parsed, ctx))

    # 2. what the evaluation found
    deciding_denies = [(n, t) for n, t in d.deciding if t.effect == "Deny"]
    if d.kind == "explicit-deny" and deciding_denies:
        for name, t in deciding_denies:
            result = next((r for r in d.results if r.name == name), None)
            kind = result.kind if result else IDENTITY
            cause = _KIND_CAUSE_DENY.get(kind, "identity-explicit-deny")
            out.append(_deny_finding(cause, name, t, ctx, ev, scope))
    elif not d.allowed:
        by = d.denied_by
        if d.context is not None and d.context.action.lower().startswith("kms:"):
            out.append(_kms_finding(d, ctx, ev, facts, is_role, role_name, inline, scope))
        elif by in (IDENTITY, RESOURCE):
            out.extend(_implicit_findings(d, ctx, ev, identity_fix, role_arn, is_role, sandbox, scope))
        elif by == BOUNDARY:
            out.append(_boundary_finding(d, ctx, ev))
        elif by == SESSION:
            out.append(Finding("session-policy", True, f"The session policy does not allow {ctx.action}.",
                               (d.reason,), fx.admin_fix("Re-assume the role without the restrictive session policy, or add the action to it."), rank=5))  # fmt: skip
        elif by in (SCP, RCP):
            out.append(Finding("organizations-policy", True, f"The supplied {by} does not allow {ctx.action}.", (d.reason,),
                               fx.admin_fix("Ask the organization's administrator to allow the action in the SCP/RCP."), rank=2))  # fmt: skip
        elif by == VPCE:
            out.append(Finding("vpc-endpoint-policy", True, f"The supplied VPC endpoint policy does not allow {ctx.action}.", (d.reason,),
                               fx.admin_fix(f"Add an Allow for {ctx.action} on arn:aws:s3:::{bucket} and arn:aws:s3:::{bucket}/* to the endpoint policy."), rank=2))  # fmt: skip
        elif by == "block-public-access":
            out.append(_bpa_blocking(d, ctx, ev, pset))
        elif by == "object-ownership":
            out.append(Finding("object-ownership", True, "The object belongs to another account and its ACL does not grant you; bucket-policy Allows do not apply to it.",
                               (d.reason, f"Object Ownership: {ev.object_ownership or '(none)'}"), fx.ownership_fix(bucket or "", ev.object_ownership), rank=4))  # fmt: skip
        elif by == "requester-pays":
            out.append(Finding("requester-pays", True, f"{bucket} is a Requester Pays bucket and the request did not agree to pay.",
                               ("s3:GetBucketRequestPayment: Payer = Requester",),
                               fx.client_fix("Send the request with RequestPayer='requester' (boto3) or --request-payer requester (AWS CLI).", request_payer_sent=True), rank=3))  # fmt: skip

    # 3. when the policies allow, what else can make S3 say 403
    if d.allowed and bucket and ctx.action.lower() == "s3:getobject" and ev.object_exists is False:
        list_ctx = RequestContext.build("s3:ListBucket", s3_arn(bucket), ctx.principal_arn, role_arn=ctx.role_arn,
                                        resource_account=ctx.resource_account, secure_transport=True)  # fmt: skip
        can_list = evaluate_s3(list_ctx, pset, facts).allowed
        if not can_list:
            list_fix = None
            if is_role and role_name:
                list_fix = identity_fix(
                    f"The key {req.key or ev.bucket} does not exist; with s3:ListBucket S3 answers 404 NoSuchKey instead of 403.",
                    "s3:ListBucket",
                    s3_arn(bucket),
                )
            out.append(Finding("object-missing-no-list", True,
                               f"The key {ctx.resource.split(':::', 1)[-1]} does not exist, and without s3:ListBucket S3 answers 403 instead of 404.",
                               ("s3:HeadObject as the caller: 404 Not Found", f"{ctx.principal_arn} is not allowed s3:ListBucket on arn:aws:s3:::{bucket}"),
                               list_fix, rank=3))  # fmt: skip
        else:
            out.append(Finding("object-missing-no-list", False, "The key does not exist (the caller can list the bucket, so S3 says 404 NoSuchKey, not 403).",
                               ("s3:HeadObject: 404 Not Found",), None))  # fmt: skip

    # 4. context that is not the cause (said plainly, so nobody switches the wrong thing off)
    bpa_on = facts.bpa.any_on
    if bpa_on and not any(f.cause == "block-public-access" for f in out):
        where = []
        if ev.bpa_bucket and ev.bpa_bucket.any_on:
            where.append("bucket")
        if ev.bpa_account and ev.bpa_account.any_on:
            where.append("account")
        public = is_public_policy(pset.resource.policy) if pset.resource else False
        out.append(Finding("block-public-access", False,
                           f"Block Public Access is on ({' and '.join(where) or 'bucket'}) and is not the cause: it only concerns public bucket policies and public ACLs"
                           + ("" if not ctx.same_account else ", and this is a same-account request") + ". Keep it on.",
                           (f"bucket policy is {'public' if public else 'not public'}", f"request principal: {ctx.principal_arn}"), None))  # fmt: skip
    if (
        bucket
        and bucket.lower() != bucket
        or (bucket and "sagemaker" not in bucket and req.source_step in ("notebook", "train", "tune"))
    ):
        out.append(
            Finding(
                "default-bucket-name",
                False,
                f"{bucket} does not contain 'sagemaker': AmazonSageMakerFullAccess only grants S3 on *sagemaker* buckets.",
                (),
                None,
            )
        )
    if ev.requester_pays and ctx.same_account and not any(f.cause == "requester-pays" for f in out):
        out.append(
            Finding(
                "requester-pays",
                False,
                "The bucket is Requester Pays; requests from its own account need not say so.",
                (),
                None,
            )
        )
    if ev.notebook and ev.notebook.get("SubnetId") and not any(f.cause == "vpc-endpoint-policy" for f in out):
        direct = ev.notebook.get("DirectInternetAccess")
        out.append(Finding("vpc-endpoint-policy", False,
                           f"The notebook {ev.notebook.get('NotebookInstanceName')} runs in subnet {ev.notebook.get('SubnetId')} "
                           f"(direct internet access {direct}): its S3 requests may pass an S3 VPC endpoint whose policy "
                           "sagewiz does not read here.", (f"sagemaker:DescribeNotebookInstance: SubnetId, DirectInternetAccess={direct}",), None))  # fmt: skip
    if d.allowed and parsed is not None and parsed.is_access_denied and not any(f.blocking for f in out):
        # Everything readable allows it: name what could not be read, so nobody guesses.
        out.append(Finding("organizations-policy", False, "Not checked: SCPs and RCPs are not readable from a member account.",
                           ("the error text does not name a policy type",), fx.admin_fix("Ask the organization's administrator whether an SCP or RCP denies this action.")))  # fmt: skip
        out.append(Finding("vpc-endpoint-policy", False, "Not checked: an S3 VPC endpoint policy on the network path (same-organization denials by it come back as a plain Access Denied).",
                           (), fx.admin_fix("Ask the network owner for the S3 endpoint policy of the caller's VPC.")))  # fmt: skip
        out.append(
            Finding(
                "session-policy",
                False,
                "Not checked: a session policy passed when the credentials were made.",
                (),
                None,
            )
        )
    if facts.kms_key_arn and d.allowed:
        out.append(
            Finding(
                "kms-key-access",
                False,
                f"Objects are encrypted with SSE-KMS ({facts.kms_key_arn}); the key allows {kms_action(ctx.action)} for this caller.",
                (),
                None,
            )
        )
    return [f for f in out if f is not None]


def _message_finding(cause: str, parsed: ParsedError, ctx: RequestContext) -> Finding:
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
    fixes = {
        "organizations-policy": fx.admin_fix(
            "SCPs and RCPs cannot be read or changed from a member account: send the report to your organization's "
            f"administrator, naming the action {ctx.action}, the resource {ctx.resource} and the policy{arn}."
        ),
        "vpc-endpoint-policy": fx.admin_fix(
            f"Ask the network owner to allow {ctx.action} on the bucket ARN and bucket/* in the S3 VPC endpoint policy "
            "(or route the caller through an endpoint that allows it)."
        ),
        "session-policy": fx.admin_fix(
            "Re-assume the role without the restrictive session policy (or with one that includes the action)."
        ),
        "permissions-boundary": fx.admin_fix(
            f"Ask the boundary's owner to allow {ctx.action} on {ctx.resource} in the boundary policy{arn}; "
            "an identity policy cannot exceed it."
        ),
        "block-public-access": fx.client_fix(
            "Do not make the data public: drop the public ACL (x-amz-acl public-read) from the request, or write a "
            "bucket policy that names principals instead of '*'. Block Public Access stays on.",
            request_acl=None,
        ),
    }
    return Finding(
        cause,
        True,
        what + ".",
        (f"the error message says: {parsed.reason}",) if parsed.reason else (),
        fixes[cause],
        rank=2,
    )


def _deny_finding(
    cause: str,
    name: str,
    t: StatementTrace,
    ctx: RequestContext,
    ev: Evidence,
    scope: Any = None,
) -> Finding:
    evidence = [_stmt_text(name, t)]
    fix = None
    conds = {c.clause.key.lower() for c in t.conditions}
    if cause == "bucket-policy-explicit-deny":
        if "aws:securetransport" in conds:
            fix = fx.client_fix("Send the request over HTTPS (boto3's default; remove use_ssl=False / http:// endpoints). "
                                "The Deny protects the bucket and stays.", secure_transport=True)  # fmt: skip
            summary = f"The bucket policy denies requests not sent over HTTPS (statement {t.label})."
        elif conds & {"aws:sourcevpce", "aws:sourcevpc"}:
            fix = fx.admin_fix("Route the caller through the VPC endpoint the statement names (notebook/training VPC settings); "
                               "do not weaken the Deny.")  # fmt: skip
            summary = f"The bucket policy denies requests that do not come through a specific VPC endpoint (statement {t.label})."
        else:
            summary = (
                f"The bucket policy explicitly denies {ctx.action} to this principal (statement {t.label})."
            )
            text = ev.bucket_policy.text if ev.bucket_policy else None
            who = ctx.role_arn or ctx.principal_arn
            if text and ev.bucket:
                try:
                    fix = fx.deny_exception_fix(ev.bucket, who, text, t.index, ctx.action, ctx.resource,
                                                ev.role_id, scope.identity if scope else ())  # fmt: skip
                except Exception as exc:
                    fix = fx.admin_fix(
                        f"An exception to the Deny {t.label} for {who} could not be prepared ({exc}); the Deny stays."
                    )
        return Finding(cause, True, summary, tuple(evidence), fix, rank=2)
    if cause == "identity-explicit-deny":
        return Finding(cause, True, f"An identity policy ({name}) explicitly denies {ctx.action} on {ctx.resource} (statement {t.label}).",
                       tuple(evidence),
                       fx.admin_fix(f"The Deny {t.label} in {name} must be narrowed (never deleted) so it no longer covers "
                                    f"{ctx.resource}, for example by tightening its Resource; ask whoever owns that policy."),
                       rank=2)  # fmt: skip
    if cause == "permissions-boundary":
        return Finding(cause, True, f"The permissions boundary explicitly denies {ctx.action} (statement {t.label}).", tuple(evidence),
                       fx.admin_fix("Ask the boundary's owner to narrow that Deny."), rank=2)  # fmt: skip
    if cause == "kms-key-access":
        return Finding(
            cause,
            True,
            f"The KMS key policy denies {ctx.action}.",
            tuple(evidence),
            fx.admin_fix("Ask the key's owner to narrow that Deny."),
            rank=3,
        )
    return Finding(cause, True, f"A {cause.replace('-', ' ')} explicitly denies {ctx.action} (statement {t.label}).", tuple(evidence),
                   fx.admin_fix("Ask the policy's owner to narrow that Deny."), rank=2)  # fmt: skip


def _implicit_findings(
    d: Decision,
    ctx: RequestContext,
    ev: Evidence,
    identity_fix: Any,
    role_arn: str | None,
    is_role: bool,
    sandbox: bool,
    scope: Any = None,
) -> list[Finding]:
    out: list[Finding] = []
    id_results = d.result(IDENTITY)
    identity_texts = scope.identity if scope else ()
    grant_scope = (
        fx.refused_scope(
            ev.bucket, ctx.resource.split("/", 1)[1] if "/" in ctx.resource else None, ctx.action
        )
        if ev.bucket
        else ctx.resource
    )
    near = [(r.name, t) for r in id_results for t in r.traces if t.effect == "Allow" and t.near_miss]
    identity_allows = any(r.decision == "allow" for r in id_results)
    if not identity_allows:
        if near:
            kinds = {t.near_miss for _, t in near}
            cause = "default-bucket-name" if kinds == {"bucket-name"} else "identity-wrong-resource"
            evidence = [
                f"{_stmt_text(n, t)} — it {_NEAR_MISS_TEXT.get(t.near_miss or '', 'misses')}" for n, t in near
            ]
            summary = (f"An identity statement means to allow {ctx.action} but its Resource does not match {ctx.resource}."
                       if cause == "identity-wrong-resource" else
                       f"The role's policy only covers buckets named *sagemaker*; {ev.bucket} is not one.")  # fmt: skip
            out.append(
                Finding(cause, True, summary, tuple(evidence), identity_fix("Fix the Resource:"), rank=10)
            )
        else:
            names = ", ".join(r.name for r in id_results) or "none readable"
            evidence = [f"identity policies checked: {names}"]
            evidence += [f"{_stmt_text(r.name, t)}" for r in id_results for t in r.traces
                         if t.effect == "Allow" and t.action_ok and t.resource_ok and not t.conditions_ok]  # fmt: skip
            if not ev.identity_policies:
                evidence.append("the principal has no identity policies sagewiz could read")
            out.append(Finding("identity-no-allow", True, f"No identity policy of {role_arn or ctx.principal_arn} allows {ctx.action} on {ctx.resource}.",
                               tuple(evidence), identity_fix("Grant it:"), rank=11))  # fmt: skip
    # The grant the user meant: an identity statement that nearly matches comes first; with none,
    # a bucket-policy statement that nearly matches is the intended grant.
    bucket_rank = 20 if near else 9
    if not ev.identity_complete:
        refused = [r for r in ev.reads if r.status in ("denied", "error") and r.call.startswith("iam:")]
        for i, f in enumerate(out):
            if f.cause in ("identity-no-allow", "identity-wrong-resource", "default-bucket-name"):
                note = (f"{len(refused)} read(s) of the principal's policies were refused "
                        f"({', '.join(r.call for r in refused)}): this assumes the unread policies do not allow it either")  # fmt: skip
                out[i] = Finding(f.cause, f.blocking, f.summary, (*f.evidence, note), f.fix, f.rank)
    res = d.result(RESOURCE)
    if res and ev.bucket:
        r = res[0]
        text = ev.bucket_policy.text if ev.bucket_policy else None
        for t in r.traces:
            if t.effect != "Allow" or not t.action_ok:
                continue
            if t.principal_ok and t.near_miss and t.conditions_ok:
                fix = None
                if is_role and role_arn and ctx.same_account:
                    try:
                        if t.near_miss == "bucket-arn-for-object":
                            fix = fx.bucket_repair_fix(
                                ev.bucket, role_arn, text, ev.role_id, grant_scope,
                                "Fix the bucket policy's Resource, for the refused prefix only:", identity_texts,
                            )  # fmt: skip
                        else:
                            fix = fx.bucket_grant_fix(
                                ev.bucket, role_arn, text, ctx.action, grant_scope,
                                "Grant exactly the refused request in the bucket policy:", identity_texts,
                            )  # fmt: skip
                    except Exception as exc:
                        fix = fx.admin_fix(
                            f"Fix the Resource of statement {t.label} (could not prepare it: {exc})."
                        )
                out.append(Finding("bucket-policy-wrong-resource", True,
                                   f"Bucket policy statement {t.label} means to allow {ctx.action} but its Resource does not match {ctx.resource}.",
                                   (f"{_stmt_text(r.name, t)} — it {_NEAR_MISS_TEXT.get(t.near_miss or '', 'misses')}",), fix, rank=bucket_rank))  # fmt: skip
            elif not t.principal_ok and t.resource_ok:
                mismatch = _principal_mismatch(t, ctx, ev)
                if mismatch:
                    fix = None
                    if is_role and role_arn and ctx.same_account:
                        try:
                            fix = fx.bucket_grant_fix(
                                ev.bucket, role_arn, text, ctx.action, grant_scope,
                                "Name the role by its ARN with its path, for exactly the refused request:",
                                identity_texts,
                            )  # fmt: skip
                        except Exception as exc:
                            fix = fx.admin_fix(
                                f"Name {role_arn} in statement {t.label} (could not prepare it: {exc})."
                            )
                    out.append(Finding("bucket-policy-principal-mismatch", True,
                                       f"Bucket policy statement {t.label} names a different principal form than the caller ({mismatch}).",
                                       (_stmt_text(r.name, t), f"the caller: {ctx.principal_arn}" + (f", its role: {role_arn}" if role_arn else "")),
                                       fix, rank=bucket_rank))  # fmt: skip
    if (
        not ctx.same_account
        and d.denied_by == RESOURCE
        and not any(f.cause.startswith("bucket") for f in out)
    ):
        out.append(Finding("bucket-owned-by-other-account", True,
                           "The bucket belongs to another account and its bucket policy does not allow this principal.",
                           (d.reason,), fx.admin_fix(f"Ask the bucket's owner to allow {role_arn or ctx.principal_arn} {ctx.action} on {ctx.resource}."), rank=1))  # fmt: skip
    return out


def _principal_mismatch(t: StatementTrace, ctx: RequestContext, ev: Evidence) -> str | None:
    """A Principal value that is a near form of the caller: session vs role, missing path, raw id, case."""
    from services.policy.arns import parse_principal as pp

    # Read the Principal values back from the bucket policy statement.
    stmt = None
    if ev.bucket_policy and ev.bucket_policy.policy:
        stmts = ev.bucket_policy.policy.policy.statements
        stmt = stmts[t.index] if t.index < len(stmts) else None
    if stmt is None or stmt.principal is None:
        return None
    role = ctx.role_arn
    role_info = pp(role) if role else None
    for ptype, value in stmt.principal.entries:
        if ptype != "AWS":
            continue
        if re.match(r"^(AROA|AIDA)[A-Z0-9]+$", value):
            if ev.role_id and value != ev.role_id:
                return f"{value} is the unique id of a deleted role; the current role's id is {ev.role_id}"
            if not ev.role_id:
                return f"{value} is a raw unique id: the role it named was deleted"
        v = pp(value)
        if v is None or role_info is None:
            continue
        if v.kind == "assumed-role" and v.name == role_info.name and value != ctx.principal_arn:
            return f"{value} names one session; this request comes from session {ctx.principal_arn}. Name the role instead"
        if v.kind == "role" and v.name == role_info.name and value != role and v.path != role_info.path:
            return f"{value} lacks the role's path {role_info.path}; the role is {role}"
        if v.kind in ("role", "assumed-role") and value.lower() in (role or "").lower() and value != role:
            return f"{value} differs from {role} in letter case"
        if v.kind == "role" and v.name.lower() == role_info.name.lower() and v.name != role_info.name:
            return f"{value} differs from {role} in letter case"
    return None


def _boundary_finding(d: Decision, ctx: RequestContext, ev: Evidence) -> Finding:
    b = d.result(BOUNDARY)
    evidence = [f"permissions boundary {ev.boundary_arn}"] + (
        [_stmt_text(b[0].name, t) for t in b[0].traces] if b else []
    )
    stmt = {"Effect": "Allow", "Action": ctx.action, "Resource": ctx.resource}
    return Finding("permissions-boundary", True, f"The role's permissions boundary does not allow {ctx.action} on {ctx.resource}.",
                   tuple(evidence),
                   fx.admin_fix(f"Ask the boundary's owner to add {ctx.action} on {ctx.resource} to {ev.boundary_arn} "
                                "(a new default version of that managed policy); the role's own policies cannot exceed it.",
                                [{"target": ev.boundary_arn, "call": "iam:CreatePolicyVersion", "document": {"add_statement": stmt}}]),
                   rank=6)  # fmt: skip


def _kms_finding(
    d: Decision,
    ctx: RequestContext,
    ev: Evidence,
    facts: S3Facts,
    is_role: bool,
    role_name: str | None,
    inline: list[tuple[str, str]],
    scope: Any = None,
) -> Finding:
    kctx = d.context
    assert kctx is not None
    evidence = [f"SSE-KMS with key {facts.kms_key_arn}", d.reason]
    for r in d.results:
        if r.kind == KEY_POLICY:
            evidence.extend(_stmt_text("the key policy", t) for t in r.traces)
    fix = None
    if d.denied_by == IDENTITY and is_role and role_name:
        fix = fx.grant_fix(scope, inline, kctx.action, facts.kms_key_arn or "",
                           "The key policy delegates to IAM: allow the key's use in the role's policy.", sid="SagewizKmsForS3")  # fmt: skip
    elif facts.kms_key_managed_by_aws:
        fix = fx.admin_fix(
            "The AWS managed aws/s3 key cannot be used across accounts: encrypt with a customer managed key."
        )
    else:
        fix = fx.admin_fix(f"Ask the key's owner to allow {ctx.role_arn or ctx.principal_arn} {kctx.action} in the key policy.",
                           [{"target": facts.kms_key_arn, "call": "kms:PutKeyPolicy", "document": {"add_statement": {
                               "Effect": "Allow", "Principal": {"AWS": ctx.role_arn or ctx.principal_arn}, "Action": kctx.action, "Resource": "*"}}}])  # fmt: skip
    return Finding("kms-key-access", True, f"The SSE-KMS key does not let {ctx.role_arn or ctx.principal_arn} use {kctx.action}, which {ctx.action} needs.",
                   tuple(evidence), fix, rank=8)  # fmt: skip


def _bpa_blocking(d: Decision, ctx: RequestContext, ev: Evidence, pset: PolicySet) -> Finding:
    evidence = [d.reason]
    public = []
    if pset.resource:
        from services.policy.s3 import public_statements

        public = [s.label for s in public_statements(pset.resource.policy)]
        if public:
            evidence.append(f"public statements in the bucket policy: {', '.join(public)}")
    if "BlockPublicAcls" in d.reason:
        return Finding("block-public-access", True,
                       "Block Public Access (BlockPublicAcls) refuses this upload because it asks for a public ACL.",
                       tuple(evidence),
                       fx.client_fix("Upload without the public ACL (drop ACL='public-read' / x-amz-acl); share data with "
                                     "named principals in the bucket policy instead. Block Public Access stays on.", request_acl=None), rank=3)  # fmt: skip
    return Finding("block-public-access", True,
                   "Block Public Access refuses this request because the access depends on a public grant (a Principal '*' policy or a public ACL) and the caller is outside the bucket owner's account.",
                   tuple(evidence),
                   fx.admin_fix(f"Ask the bucket's owner to name {ctx.role_arn or ctx.principal_arn} (or its account) in the bucket policy instead of '*'. "
                                "Block Public Access stays on."), rank=3)  # fmt: skip


# -- verdict, trace, cross-check -------------------------------------------------------------------------
def _verdict(
    d: Decision, findings: tuple[Finding, ...], parsed: ParsedError | None, ev: Evidence
) -> tuple[str, str]:
    blocking = [f for f in findings if f.blocking]
    if blocking:
        return "denied", f"Denied: {blocking[0].summary}"
    if d.allowed:
        if parsed and parsed.is_access_denied:
            return ("unknown", "Everything sagewiz could read allows this request, yet AWS refused it: the cause is "
                    "something it cannot read (an SCP or RCP, a VPC endpoint policy, a session policy) or has changed since.")  # fmt: skip
        return "allowed", f"Allowed: {d.reason}"
    return "unknown", f"Refused by our evaluation ({d.reason}), but no specific cause could be named."


def _trace_lines(d: Decision) -> tuple[str, ...]:
    lines = [f"decision: {d.kind} — {d.reason}"]
    for r in d.results:
        lines.append(f"{r.kind} {r.name}: {r.decision}")
        for t in r.traces:
            mark = "✓" if t.matched else "·"
            lines.append(f"  {mark} {t.effect} {t.label}: {t.why}")
    lines.extend(f"note: {n}" for n in d.layers)
    return tuple(lines)


def _cross_check(factory: Any, ev: Evidence, ctx: RequestContext, d: Decision, sandbox: bool) -> CrossCheck:
    from services.doctor.crosscheck import simulate

    return simulate(factory, ev, ctx, d, sandbox=sandbox)


__all__ = ["diagnose", "validate_request", "canonical_action", "evaluate_policy"]
