"""Statement, policy and request evaluation with a statement-level trace.

The request decision follows AWS's documented order (IAM "policy evaluation logic"): an explicit
Deny in any policy wins; then RCPs and SCPs (when their text is supplied) must allow; then the
resource-based policy, whose Allow can decide alone within one account depending on how it names
the principal (a session or user directly; a role ARN is still limited by the permissions
boundary and session policy; an account principal delegates to identity policies); then
identity policies, the permissions boundary and the session policy. Across accounts both the
identity side and the resource policy must allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.policy.arns import account_of_principal_value, parse_principal, parse_s3_arn
from services.policy.conditions import ConditionResult, evaluate_conditions
from services.policy.context import RequestContext
from services.policy.document import Policy, PrincipalSpec, Statement
from services.policy.wildcards import Lookup, action_matches, arn_matches, has_variables, substitute

# Policy kinds, named as AWS's access-denied messages name them.
IDENTITY = "identity-based policy"
RESOURCE = "resource-based policy"
BOUNDARY = "permissions boundary"
SESSION = "session policy"
SCP = "service control policy"
RCP = "resource control policy"
VPCE = "VPC endpoint policy"
KEY_POLICY = "KMS key policy"


_KIND_ALIASES = {
    "identity": "identity-based policy",
    "identity-based": "identity-based policy",
    "resource": "resource-based policy",
    "resource-based": "resource-based policy",
    "bucket": "resource-based policy",
    "bucket policy": "resource-based policy",
    "boundary": "permissions boundary",
    "permissions-boundary": "permissions boundary",
    "session": "session policy",
    "scp": "service control policy",
    "rcp": "resource control policy",
    "vpce": "VPC endpoint policy",
    "vpc endpoint": "VPC endpoint policy",
    "kms": "KMS key policy",
    "key": "KMS key policy",
    "key policy": "KMS key policy",
}


@dataclass(frozen=True)
class NamedPolicy:
    """A policy plus where it came from, for the trace ("inline policy X of role Y")."""

    name: str
    policy: Policy
    kind: str = IDENTITY
    source: str = ""  # e.g. "inline policy of role SageMaker-tt", "bucket policy of b"
    arn: str | None = None  # managed policy ARN, when it has one

    def __post_init__(self) -> None:
        # Accept short names for the kind ("resource", "identity", "scp", ...) as callers write them.
        object.__setattr__(self, "kind", _KIND_ALIASES.get(str(self.kind).strip().lower(), self.kind))


@dataclass(frozen=True)
class StatementTrace:
    policy: str
    index: int
    sid: str | None
    effect: str
    matched: bool
    action_ok: bool
    resource_ok: bool
    principal_ok: bool
    conditions_ok: bool
    why: str  # one sentence: why it matched or the first reason it did not
    principal_via: str | None = None  # resource policies: session | user | role | account | wildcard
    near_miss: str | None = None  # meant to apply but Resource missed: see near_miss()
    conditions: tuple[ConditionResult, ...] = ()

    @property
    def label(self) -> str:
        return f'"{self.sid}"' if self.sid else f"#{self.index + 1}"


@dataclass(frozen=True)
class PolicyResult:
    name: str
    kind: str
    decision: str  # "allow" | "deny" | "none"
    traces: tuple[StatementTrace, ...]
    source: str = ""
    arn: str | None = None

    @property
    def deciding(self) -> tuple[StatementTrace, ...]:
        eff = {"allow": "Allow", "deny": "Deny"}.get(self.decision)
        return tuple(t for t in self.traces if t.matched and t.effect == eff)

    @property
    def allow_via(self) -> set[str]:
        return {t.principal_via or "identity" for t in self.traces if t.matched and t.effect == "Allow"}


@dataclass(frozen=True)
class PolicySet:
    identity: tuple[NamedPolicy, ...] = ()
    resource: NamedPolicy | None = None
    boundary: NamedPolicy | None = None
    session: NamedPolicy | None = None  # None: no session policy was passed
    scps: tuple[NamedPolicy, ...] | None = None  # None: not supplied (not readable from members)
    rcps: tuple[NamedPolicy, ...] | None = None
    vpce: NamedPolicy | None = None  # None: not on the path / unknown


@dataclass(frozen=True)
class Decision:
    allowed: bool
    kind: str  # "allow" | "explicit-deny" | "implicit-deny"
    reason: str
    denied_by: str | None = None  # policy kind (constants above) or an S3 layer name
    deciding: tuple[tuple[str, StatementTrace], ...] = ()  # (policy name, statement)
    results: tuple[PolicyResult, ...] = ()
    context: RequestContext | None = None
    layers: tuple[str, ...] = field(default_factory=tuple)  # notes from the S3 layers

    def result(self, kind: str) -> tuple[PolicyResult, ...]:
        return tuple(r for r in self.results if r.kind == kind)


# -- statements ---------------------------------------------------------------------------------
def _principal_match(spec: PrincipalSpec, ctx: RequestContext) -> tuple[bool, str | None]:
    if spec.wildcard:
        return True, "wildcard"
    best: str | None = None
    rank = {"session": 4, "user": 4, "role": 3, "account": 2}
    for ptype, value in spec.entries:
        via = None
        if ptype == "AWS":
            if value == ctx.principal_arn and ctx.principal_arn != "*":
                info = parse_principal(value)
                via = "session" if info and info.kind == "assumed-role" else "user"
            elif ctx.role_arn and value == ctx.role_arn:
                via = "role"
            elif ctx.principal_account and account_of_principal_value(value) == ctx.principal_account:
                via = "account"
        elif ptype == "Service" and ctx.principal_type == "Service":
            via = "service" if value == ctx.principal_arn else None
        if via and (best is None or rank.get(via, 0) > rank.get(best, 0)):
            best = via
    return best is not None, best


def _resource_match(patterns: tuple[str, ...], ctx: RequestContext) -> bool:
    return any(arn_matches(p, ctx.resource, ctx.lookup) for p in patterns)


def near_miss(patterns: tuple[str, ...], resource: str, lookup: Lookup | None = None) -> str | None:
    """Why a Resource list that seems meant for this request misses it:
    bucket-arn-for-object, object-arn-for-bucket, case, prefix, bucket-name, variable."""
    res = parse_s3_arn(resource)
    for p in patterns:
        if has_variables(p) and substitute(p, lookup) is None:
            return "variable"
    for p in patterns:
        if arn_matches(p.lower(), resource.lower()):
            return "case"
    if res is None:
        return None
    bucket_arn = res.bucket_arn
    for p in patterns:
        if res.key is not None and arn_matches(p, bucket_arn) and not p.endswith("*"):
            return "bucket-arn-for-object"
        if res.key is None and (p.startswith(bucket_arn + "/") or arn_matches(p, bucket_arn + "/x")):
            return "object-arn-for-bucket"
    for p in patterns:
        if res.key is not None and p.startswith(bucket_arn + "/"):
            return "prefix"
    for p in patterns:
        if "sagemaker" in p.lower() and "*" in p and "sagemaker" not in res.bucket:
            return "bucket-name"
    return None


def evaluate_statement(stmt: Statement, ctx: RequestContext, policy_name: str, kind: str) -> StatementTrace:
    if stmt.actions is not None:
        action_ok = any(action_matches(a, ctx.action) for a in stmt.actions)
        action_why = f"Action does not include {ctx.action}"
    else:
        action_ok = not any(action_matches(a, ctx.action) for a in stmt.not_actions or ())
        action_why = f"{ctx.action} is listed in NotAction"
    if stmt.resources is not None:
        resource_ok = _resource_match(stmt.resources, ctx)
        resource_why = f"Resource {_list(stmt.resources)} does not match {ctx.resource}"
    elif stmt.not_resources is not None:
        resource_ok = not _resource_match(stmt.not_resources, ctx)
        resource_why = f"{ctx.resource} is excluded by NotResource {_list(stmt.not_resources)}"
    else:
        resource_ok, resource_why = True, ""
    via: str | None = None
    principal_why = ""
    if kind in (RESOURCE, KEY_POLICY, VPCE):
        if stmt.principal is not None:
            principal_ok, via = _principal_match(stmt.principal, ctx)
            principal_why = f"Principal {stmt.principal.describe()} does not name {ctx.principal_arn}"
            if ctx.role_arn and ctx.role_arn != ctx.principal_arn:
                principal_why += f" or its role {ctx.role_arn}"
        elif stmt.not_principal is not None:
            hit, _ = _principal_match(stmt.not_principal, ctx)
            principal_ok, via = not hit, ("wildcard" if not hit else None)
            principal_why = "the caller is listed in NotPrincipal"
        else:
            principal_ok, via = kind == VPCE, "wildcard" if kind == VPCE else None
            principal_why = "the statement has no Principal"
    else:
        principal_ok = True
    conditions_ok, cond_results = evaluate_conditions(stmt.conditions, ctx) if stmt.conditions else (True, [])
    matched = action_ok and resource_ok and principal_ok and conditions_ok
    if matched:
        why = f"{stmt.effect} matches {ctx.action} on {ctx.resource}"
        if stmt.conditions:
            why += " (conditions met: " + "; ".join(r.why for r in cond_results) + ")"
    elif not action_ok:
        why = action_why
    elif not principal_ok:
        why = principal_why
    elif not resource_ok:
        why = resource_why
    else:
        failed = [r for r in cond_results if not r.matched]
        why = "condition not met: " + "; ".join(
            f"{r.clause.operator} {r.clause.key} {_list(r.clause.values)} ({r.why})" for r in failed
        )
    miss = None
    if action_ok and principal_ok and not resource_ok and stmt.resources is not None:
        miss = near_miss(stmt.resources, ctx.resource, ctx.lookup)
    return StatementTrace(
        policy=policy_name,
        index=stmt.index,
        sid=stmt.sid,
        effect=stmt.effect,
        matched=matched,
        action_ok=action_ok,
        resource_ok=resource_ok,
        principal_ok=principal_ok,
        conditions_ok=conditions_ok,
        why=why,
        principal_via=via if matched else (via if principal_ok else None),
        near_miss=miss,
        conditions=tuple(cond_results),
    )


def evaluate_policy(named: NamedPolicy, ctx: RequestContext) -> PolicyResult:
    traces = tuple(evaluate_statement(s, ctx, named.name, named.kind) for s in named.policy.statements)
    if any(t.matched and t.effect == "Deny" for t in traces):
        decision = "deny"
    elif any(t.matched and t.effect == "Allow" for t in traces):
        decision = "allow"
    else:
        decision = "none"
    return PolicyResult(named.name, named.kind, decision, traces, named.source, named.arn)


# -- the request ---------------------------------------------------------------------------------
_DENY_ORDER = (RCP, SCP, RESOURCE, IDENTITY, BOUNDARY, SESSION, VPCE)


def evaluate_request(ctx: RequestContext, pset: PolicySet) -> Decision:
    results: list[PolicyResult] = []

    def run(np: NamedPolicy | None, kind: str) -> PolicyResult | None:
        if np is None:
            return None
        if np.kind != kind:  # the slot decides how a policy is read (Principal matters for resources)
            np = NamedPolicy(np.name, np.policy, kind, np.source, np.arn)
        r = evaluate_policy(np, ctx)
        results.append(r)
        return r

    identity = [run(p, IDENTITY) for p in pset.identity]
    resource = run(pset.resource, RESOURCE)
    boundary = run(pset.boundary, BOUNDARY)
    session = run(pset.session, SESSION)
    scps = [run(p, SCP) for p in pset.scps] if pset.scps is not None else None
    rcps = [run(p, RCP) for p in pset.rcps] if pset.rcps is not None else None
    vpce = run(pset.vpce, VPCE)
    done = tuple(results)

    def deciding(rs: list[PolicyResult]) -> tuple[tuple[str, StatementTrace], ...]:
        return tuple((r.name, t) for r in rs for t in r.deciding)

    # 1. explicit deny anywhere
    denies = [r for r in done if r.decision == "deny"]
    if denies:
        denies.sort(key=lambda r: _DENY_ORDER.index(r.kind) if r.kind in _DENY_ORDER else 99)
        first = denies[0]
        t = first.deciding[0]
        return Decision(
            False,
            "explicit-deny",
            f"explicit deny in a {first.kind}: statement {t.label} of {first.name}",
            first.kind,
            deciding(denies),
            done,
            ctx,
        )
    # 2-3. RCPs and SCPs (only when their text was supplied): every one must allow
    for group, kind in ((rcps, RCP), (scps, SCP)):
        if group:
            missing = [r for r in group if r is not None and r.decision != "allow"]
            if missing:
                return Decision(
                    False,
                    "implicit-deny",
                    f"no {kind} allows {ctx.action} ({missing[0].name})",
                    kind,
                    (),
                    done,
                    ctx,
                )
    if vpce is not None and vpce.decision != "allow":
        return Decision(False, "implicit-deny", f"no {VPCE} allows {ctx.action}", VPCE, (), done, ctx)

    identity_allow = any(r is not None and r.decision == "allow" for r in identity)
    boundary_ok = boundary is None or boundary.decision == "allow"
    session_ok = session is None or session.decision == "allow"
    res_via = resource.allow_via if resource is not None and resource.decision == "allow" else set()
    id_dec = deciding([r for r in identity if r is not None and r.decision == "allow"])
    res_dec = deciding([resource]) if res_via and resource is not None else ()

    if ctx.principal_arn == "*":
        if res_via & {"wildcard"}:
            return Decision(
                True, "allow", "the resource policy allows anonymous access", None, res_dec, done, ctx
            )
        return Decision(
            False, "implicit-deny", f"no {RESOURCE} allows anonymous {ctx.action}", RESOURCE, (), done, ctx
        )

    if ctx.same_account:
        if ctx.principal_type == "Account":
            # The account root user has full access in its own account (only explicit denies stop it).
            return Decision(
                True, "allow", "the account root user has full access in its own account", None, (), done, ctx
            )
        if res_via & {"session", "user", "wildcard"}:
            return Decision(
                True, "allow", "the bucket policy grants it to the caller directly", None, res_dec, done, ctx
            )
        role_grant = "role" in res_via
        if (identity_allow or role_grant) and boundary_ok and session_ok:
            who = "an identity-based policy" if identity_allow else "the bucket policy (naming the role)"
            return Decision(True, "allow", f"allowed by {who}", None, id_dec + res_dec, done, ctx)
        if (identity_allow or role_grant) and not boundary_ok:
            return Decision(
                False, "implicit-deny", f"no {BOUNDARY} allows {ctx.action}", BOUNDARY, (), done, ctx
            )
        if (identity_allow or role_grant) and not session_ok:
            return Decision(
                False, "implicit-deny", f"no {SESSION} allows {ctx.action}", SESSION, (), done, ctx
            )
        return Decision(
            False,
            "implicit-deny",
            f"no {IDENTITY} allows {ctx.action}, and no {RESOURCE} grants it to this principal",
            IDENTITY,
            (),
            done,
            ctx,
        )
    # cross-account: both sides
    if not identity_allow:
        return Decision(False, "implicit-deny", f"no {IDENTITY} allows {ctx.action}", IDENTITY, (), done, ctx)
    if not boundary_ok:
        return Decision(False, "implicit-deny", f"no {BOUNDARY} allows {ctx.action}", BOUNDARY, (), done, ctx)
    if not session_ok:
        return Decision(False, "implicit-deny", f"no {SESSION} allows {ctx.action}", SESSION, (), done, ctx)
    if not res_via:
        return Decision(
            False,
            "implicit-deny",
            f"cross-account: no {RESOURCE} of the bucket's account allows {ctx.action}",
            RESOURCE,
            (),
            done,
            ctx,
        )
    return Decision(True, "allow", "allowed on both sides (cross-account)", None, id_dec + res_dec, done, ctx)


def _list(values: tuple[str, ...]) -> str:
    return values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"
