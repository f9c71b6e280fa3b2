"""What is wrong (or worth knowing) about the role's access to the bucket, in plain words.

`check(state)` returns findings, most severe first. Each has a severity, an explanation, the
statement or setting it concerns (`evidence`), the doctor's cause id, and which fix addresses it.
`proposed_changes(state, findings)` turns them into `PolicyChange`s (`services.permissions.fixes`).

About 530 lines, one concern: every check reads the same `PermissionsState` and says its finding
with the fix id that answers it, and `proposed_changes` is the other half of that mapping (fix id to
change). Kept together so a new finding and the change that fixes it are added in one place; the
changes themselves are built in `services.permissions.fixes`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from services.errors import ValidationError
from services.permissions.fixes.abilities import abilities_change
from services.permissions.fixes.bucket_policy import bucket_policy_change
from services.permissions.fixes.change import PolicyChange
from services.permissions.fixes.deny_exceptions import aimed_at, practice_of
from services.permissions.fixes.public_access import public_access_change
from services.permissions.fixes.role_policy import is_over_broad, narrow_grant_change, role_policy_change
from services.permissions.fixes.shapes import bucket_arn, objects_arn, wrong_resource_shape
from services.permissions.matcher import Caller, Context, as_list, matching, role_context, statements
from services.permissions.state import PermissionsState, PolicyDoc
from services.policy import (
    NamedPolicy,
    PolicyError,
    PolicySet,
    RequestContext,
    evaluate_request,
    parse_policy,
)
from services.policy.evaluate import BOUNDARY, IDENTITY, RESOURCE
from services.policy.verdict import IDENTITY_RECOMMENDED, Refusal, RequestVerdict, judge
from services.roles.abilities import Ability, AbilityCheck, check_abilities

ERROR, WARNING, INFO = "error", "warning", "info"
_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}

# What SageMaker needs on its bucket: list and locate it, read, write and delete objects.
NEEDED_BUCKET = ("s3:ListBucket", "s3:GetBucketLocation")
NEEDED_OBJECT = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")

FIX_BUCKET_POLICY = "bucket-policy"
FIX_ROLE_POLICY = "role-policy"
FIX_NARROW_DENY = "narrow-deny"  # kept for journals and screens; the Permissions step never offers it
FIX_NARROW_GRANT = "narrow-grant"
FIX_BPA_ON = "bpa-on"
FIX_ROLE_ABILITIES = "role-abilities"


@dataclass(frozen=True)
class Finding:
    id: str  # finding type, e.g. "object-actions-on-bucket-arn"
    cause: str  # the doctor's cause id
    severity: str  # ERROR | WARNING | INFO
    title: str
    explanation: str
    where: str  # "bucket policy", "inline policy X", "Block Public Access (bucket)"
    evidence: str = ""  # the statement (JSON) or setting
    fix: str | None = None  # FIX_* or None
    statement_index: int | None = None

    @property
    def blocking(self) -> bool:
        return self.severity == ERROR


def _stmt_text(st: dict[str, Any]) -> str:
    return json.dumps(st, indent=2)


def check(state: PermissionsState) -> list[Finding]:
    out: list[Finding] = []
    if state.bucket_exists is False:
        return [Finding("bucket-missing", "bucket-missing", ERROR, f"Bucket {state.bucket} does not exist",
                        "There is no bucket of that name in this account. Create it in the Bucket step first.",
                        "bucket")]  # fmt: skip
    out += _unreadable(state)
    out += _malformed(state)
    out += _resource_shapes(state)
    out += _given_arn(state)
    out += _principals(state)
    out += _denies(state)
    out += _over_broad(state)
    out += _needs(state)
    out += _abilities(state)
    out += _kms(state)
    out += _bpa(state)
    out += _ownership(state)
    out = _one_cause(state, out)
    out.sort(key=lambda f: _ORDER[f.severity])
    return out


# Findings that say a grant misses the role: each is one way to the same missing Allow.
_IDENTITY_GRANTS = ("identity-wrong-resource", "identity-no-allow")
_BUCKET_GRANTS = ("bucket-policy-wrong-resource", "bucket-policy-principal-mismatch")
_GRANT_IDS = ("object-actions-on-bucket-arn", "list-bucket-on-objects", "role-lacks-access",
              "principal-missing-path", "principal-unique-id")  # fmt: skip
_EITHER = (
    " In one account either grant is enough: the role's policy, or a bucket policy statement naming the role."
)


def request_verdicts(state: PermissionsState) -> dict[tuple[str, str], RequestVerdict] | None:
    """For each needed (action, resource), the shared verdict (services.policy.verdict) on the
    role's request, evaluated from the policies read; None when they cannot all be read."""
    if state.role_exists is False or state.bucket_exists is False or not state.role_policies_complete:
        return None
    try:
        identity = tuple(
            NamedPolicy(p.label, parse_policy(p.document), IDENTITY)
            for p in state.identity_docs()
            if p.source != "boundary"
        )
        bucket_doc = state.bucket_policy.document if state.bucket_policy else None
        resource = NamedPolicy("bucket policy", parse_policy(bucket_doc), RESOURCE) if bucket_doc else None
        boundary_doc = state.boundary.document if state.boundary and state.has_boundary else None
        boundary = (
            NamedPolicy(state.boundary.label, parse_policy(boundary_doc), BOUNDARY)
            if state.boundary and boundary_doc
            else None
        )
    except PolicyError:
        return None  # a malformed-policy finding says so
    pset = PolicySet(identity=identity, resource=resource, boundary=boundary)
    out = {}
    for action, res in _pairs(state):
        ctx = RequestContext.build(
            action, res, state.session_arn, role_arn=state.role_arn, resource_account=state.account,
            region=state.region, secure_transport=True,
        )  # fmt: skip
        out[(action, res)] = judge(evaluate_request(ctx, pset))
    return out


def _one_cause(state: PermissionsState, found: list[Finding]) -> list[Finding]:
    """A missing grant is one cause whichever policy could fix it (the doctor's rule, from the
    same verdict): the finding whose fix is recommended (in the doctor's order) blocks, and the
    others are warnings that name it; with no request refused for want of an Allow, none blocks."""
    verdicts = request_verdicts(state)
    grants = [f for f in found if f.severity == ERROR and f.id in _GRANT_IDS]
    if verdicts is None or not grants:
        return found
    refused = [f"{a} on {r}" for (a, r), v in verdicts.items() if v.refusal is Refusal.MISSING_ALLOW]
    if not refused:
        note = (" It blocks nothing now: no request SageMaker needs on the bucket lacks an Allow (the other "
                "grant gives it)." + _EITHER)  # fmt: skip
        return [
            replace(f, severity=WARNING, explanation=f.explanation + note) if f in grants else f
            for f in found
        ]
    first = min(grants, key=_rank)
    identity_first = first.cause in _IDENTITY_GRANTS
    why = (
        IDENTITY_RECOMMENDED
        if identity_first
        else "a bucket policy statement already means to grant it, so fixing it is the smaller change"
    )
    others = [f for f in grants if (f.cause in _IDENTITY_GRANTS) != identity_first]
    either = all(v.either for v in verdicts.values() if v.refusal is Refusal.MISSING_ALLOW)
    lead = first.explanation
    if either:
        alternative = (
            "; ".join(f"{f.title} ({f.where})" for f in others)
            if others
            else "a bucket policy statement granting the role these requests"
        )
        lead += f"{_EITHER} Either fix is enough; this one is recommended because {why}. The alternative: {alternative}."
    part = f" It is part of one blocking cause, '{first.title}' (refused: {'; '.join(refused)})."
    alt = part + (f"{_EITHER} Either fix is enough." if either else "")
    return [
        replace(f, explanation=lead) if f is first
        else replace(f, severity=WARNING, explanation=f.explanation + alt) if f in grants
        else f
        for f in found
    ]  # fmt: skip


def _rank(f: Finding) -> int:
    """The doctor's order for the fix to recommend: the grant the user meant (an identity
    statement that nearly matches, else a bucket-policy one), then a new identity grant."""
    if f.cause == "identity-wrong-resource":
        return 0
    return 1 if f.cause in _BUCKET_GRANTS else 2


def _unreadable(state: PermissionsState) -> list[Finding]:
    return [
        Finding("could-not-read", "unknown", INFO, u.line().capitalize(),
                "This check could not run because the caller may not read it; the other checks went on. "
                f"Grant the caller {u.permission} to include it.", u.what, u.detail)
        for u in state.unreadable
    ]  # fmt: skip


def _malformed(state: PermissionsState) -> list[Finding]:
    out = []
    docs = [state.bucket_policy] if state.bucket_policy else []
    for doc in [*docs, *state.role_policies]:
        problem = doc.malformed
        if problem:
            out.append(Finding("malformed-policy", "unknown", ERROR, f"The {doc.label} cannot be read as a policy",
                               f"Its text is {problem}. AWS would refuse such a document; whatever put it there, "
                               "nothing in it can be trusted to apply.", doc.label, doc.text or "",
                               FIX_BUCKET_POLICY if doc.source == "bucket-policy" else None))  # fmt: skip
    return out


def _resource_shapes(state: PermissionsState) -> list[Finding]:
    out = []
    docs: list[PolicyDoc] = [*state.role_policies]
    if state.bucket_policy and state.bucket_policy.document:
        docs.insert(0, state.bucket_policy)
    for doc in docs:
        if doc.source == "boundary":
            continue
        in_bucket_policy = doc.source == "bucket-policy"
        for i, st in enumerate(statements(doc.document)):
            for problem in wrong_resource_shape(st, state.bucket):
                object_case = problem.startswith("object")
                fid = "object-actions-on-bucket-arn" if object_case else "list-bucket-on-objects"
                title = ("Object actions granted on the bucket ARN instead of bucket/*" if object_case
                         else "s3:ListBucket granted on bucket/* instead of the bucket")  # fmt: skip
                expl = (
                    f"In the {doc.label}, statement {_sid(st, i)} grants {problem}. An object request "
                    f"(GetObject, PutObject) names arn:aws:s3:::{state.bucket}/<key>, which the bucket ARN does not "
                    "match, so the grant never applies and the request is denied."
                    if object_case else
                    f"In the {doc.label}, statement {_sid(st, i)} grants {problem}. Listing names the bucket itself "
                    f"(arn:aws:s3:::{state.bucket}), which bucket/* does not match, so listing is denied."
                )  # fmt: skip
                editable = in_bucket_policy or doc.source == "inline"
                out.append(Finding(
                    fid, "bucket-policy-wrong-resource" if in_bucket_policy else "identity-wrong-resource",
                    ERROR, title, expl, doc.label, _stmt_text(st),
                    (FIX_BUCKET_POLICY if in_bucket_policy else FIX_ROLE_POLICY) if editable else None, i,
                ))  # fmt: skip
    return out


def _principals(state: PermissionsState) -> list[Finding]:
    doc = state.bucket_policy.document if state.bucket_policy else None
    out = []
    name = state.role_name
    for i, st in enumerate(statements(doc)):
        principal = st.get("Principal")
        if not isinstance(principal, dict):
            continue
        for value in (str(v) for v in as_list(principal.get("AWS"))):
            if value == state.role_arn:
                continue
            kind = None
            if value.startswith(f"arn:aws:sts::{state.account}:assumed-role/{name}/"):
                kind = ("principal-session-arn", WARNING, "The bucket policy names a role session, not the role",
                        f"{value} is one session of the role. Other sessions (training jobs, a restarted notebook) "
                        f"have other session names and are not covered. Name the role: {state.role_arn}.")  # fmt: skip
            elif value == f"arn:aws:iam::{state.account}:role/{name}" and state.role_arn != value:
                kind = ("principal-missing-path", ERROR, "The bucket policy names the role without its path",
                        f"{value} lacks the role's path; the role is {state.role_arn}. An ARN without the path "
                        "is a different principal, so the statement does not apply to the role.")  # fmt: skip
            elif value.startswith("AROA") or value.startswith("AIDA"):
                mine = value == state.role_id
                kind = ("principal-unique-id", ERROR, "The bucket policy names a bare role ID",
                        f"{value} is a unique ID that AWS shows when the role it named was deleted"
                        + (" — and it is this role's ID, which cannot happen for a live role" if mine else "")
                        + f". A role re-created with the same name is a different principal. Name the role by ARN: "
                        f"{state.role_arn}.")  # fmt: skip
            if kind:
                fid, sev, title, expl = kind
                out.append(Finding(fid, "bucket-policy-principal-mismatch", sev, title, expl, "bucket policy",
                                   _stmt_text(st), FIX_BUCKET_POLICY, i))  # fmt: skip
    return out


def _given_arn(state: PermissionsState) -> list[Finding]:
    """The role was given by an ARN that is not its own (most often without its path): what was
    checked is the real role, but whatever names the ARN as given does not reach it."""
    given = state.role_given
    if not given or given == state.role_arn:
        return []
    name = state.role_name
    path = state.role_arn.split(":role", 1)[-1].removesuffix(name)
    missing_path = given.split(":role", 1)[-1] == f"/{name}" and path != "/"
    doc = state.bucket_policy.document if state.bucket_policy else None
    named = [
        i
        for i, st in enumerate(statements(doc))
        if isinstance(st.get("Principal"), dict) and given in map(str, as_list(st["Principal"].get("AWS")))
    ]
    what = f"lacks the role's path {path}" if missing_path else "is not the role's"
    expl = (
        f"The role was given as {given}; IAM (GetRole on the name {name}) gives its ARN as {state.role_arn}. "
        f"An ARN that {what} names a different principal: a policy naming it does not match the role. "
        f"sagewiz checked the role by its real ARN and the wizard uses {state.role_arn} from now on; use it "
        "wherever you name the role (bucket policies, notebook settings, scripts)."
    )
    if named:
        expl += (
            f" The bucket policy names the role as given (statement {_sid(statements(doc)[named[0]], named[0])}), "
            f"so that grant does not reach the role: its fix names the real ARN, {state.role_arn}."
        )
    title = "The role ARN given lacks its path" if missing_path else "The role ARN given is not the role's"
    return [
        Finding(
            "role-arn-without-path" if missing_path else "role-arn-differs",
            "role-missing",
            WARNING,
            title,
            expl,
            "role",
            f"given: {given}\nreal:  {state.role_arn}",
            FIX_BUCKET_POLICY if named else None,
            named[0] if named else None,
        )
    ]


def _caller(state: PermissionsState) -> Caller:
    return Caller(state.role_arn, state.account, state.session_arn, state.role_id)


def _sample_key(state: PermissionsState) -> str:
    return f"arn:aws:s3:::{state.bucket}/{(state.prefix or '').lstrip('/')}sagewiz-check"


def _pairs(state: PermissionsState) -> list[tuple[str, str]]:
    bucket = f"arn:aws:s3:::{state.bucket}"
    return [(a, bucket) for a in NEEDED_BUCKET] + [(a, _sample_key(state)) for a in NEEDED_OBJECT]


def _identity_sources(state: PermissionsState) -> list[tuple[str, dict[str, Any] | None, bool]]:
    return [(p.label, p.document, False) for p in state.role_policies]


_NETWORK_KEYS = (
    "aws:sourcevpce",
    "aws:sourcevpc",
    "aws:sourceip",
    "aws:vpcsourceip",
    "s3:x-amz-server-side-encryption",
)


def _deny_hits(state: PermissionsState) -> list[tuple[str, int, dict[str, Any], str, list[str]]]:
    """(policy label, statement index, statement, why, actions) for each Deny that catches the role.

    Uses the shared evaluator in services.policy (conditions included, with its trace of why);
    falls back to this package's small matcher when that package is not available."""
    sources: list[tuple[str, dict[str, Any] | None, str]] = [
        (p.label, p.document, "identity") for p in state.role_policies
    ]
    if state.bucket_policy and state.bucket_policy.document:
        sources.append(("bucket policy", state.bucket_policy.document, "resource"))
    if state.boundary and state.boundary.document:
        sources.append((state.boundary.label, state.boundary.document, "boundary"))
    hits: dict[tuple[str, int], tuple[str, int, dict[str, Any], str, list[str]]] = {}
    try:
        from services.policy import PolicyError, RequestContext, parse_policy
        from services.policy.evaluate import BOUNDARY, IDENTITY, RESOURCE, evaluate_statement
    except ImportError:
        caller = _caller(state)
        role_ctx = role_context(caller)
        for action, resource in _pairs(state):
            for m in matching(
                [(n, d, k == "resource") for n, d, k in sources], "Deny", action, resource, caller, role_ctx
            ):
                hit = hits.setdefault((m.policy, m.index), (m.policy, m.index, m.statement, "", []))
                hit[4].append(action)
        return list(hits.values())
    kinds = {"identity": IDENTITY, "resource": RESOURCE, "boundary": BOUNDARY}
    parsed = []
    for name, doc, kind in sources:
        try:
            parsed.append((name, doc or {}, kinds[kind], parse_policy(doc)))
        except PolicyError:
            continue  # reported as a malformed-policy finding
    for action, resource in _pairs(state):
        ctx = RequestContext.build(
            action, resource, state.session_arn, role_arn=state.role_arn, resource_account=state.account,
            region=state.region, secure_transport=True,
        )  # fmt: skip
        for name, doc, kind, policy in parsed:
            raw = as_list(doc.get("Statement"))
            for stmt in policy.statements:
                if stmt.effect != "Deny":
                    continue
                trace = evaluate_statement(stmt, ctx, name, kind)
                if trace.matched and stmt.index < len(raw) and isinstance(raw[stmt.index], dict):
                    hit = hits.setdefault(
                        (name, stmt.index), (name, stmt.index, raw[stmt.index], trace.why, [])
                    )
                    hit[4].append(action)
    return list(hits.values())


def _denies(state: PermissionsState) -> list[Finding]:
    out = []
    for policy, i, stmt, why, actions in _deny_hits(state):
        in_bucket = policy == "bucket policy"
        in_boundary = policy.startswith("permissions boundary")
        cause = (
            "bucket-policy-explicit-deny"
            if in_bucket
            else "permissions-boundary"
            if in_boundary
            else "identity-explicit-deny"
        )
        cond = stmt.get("Condition") or {}
        keys = {str(k).lower() for tests in cond.values() if isinstance(tests, dict) for k in tests}
        assumed = sorted(k for k in keys if k in _NETWORK_KEYS)
        if assumed:
            sev, title = WARNING, f"An explicit Deny in the {policy} may catch the role"
            how = (f"it applies unless the request carries {', '.join(assumed)} as the Deny requires; sagewiz assumed "
                   "a request from outside any VPC endpoint, without extra headers")  # fmt: skip
        else:
            sev, title = ERROR, f"An explicit Deny in the {policy} catches the role"
            how = "its conditions hold for the role's requests" if cond else "it has no condition"
        practice = practice_of(stmt)
        if practice is not None:
            advice = (f"This Deny enforces a practice ({practice.name}) and gets no exception: {practice.how_to_comply}.")  # fmt: skip
        elif aimed_at(stmt, state.role_arn, state.role_id):
            advice = ("The Deny is aimed at this role itself: only its owner can decide it no longer applies; "
                      "sagewiz offers no exception (send the Doctor's report to an administrator).")  # fmt: skip
        else:
            advice = ("sagewiz never deletes or disables a Deny. An exception is offered only for a request that was "
                      "actually refused, and only for that action and object: open the Doctor with the refused request.")  # fmt: skip
        expl = (
            f"Statement {_sid(stmt, i)} denies {', '.join(sorted(set(actions)))} on this bucket to the role: {how}."
            + (f" ({why})" if why else "")
            + " A Deny beats every Allow. "
            + advice
        )  # fmt: skip
        out.append(Finding("explicit-deny", cause, sev, title, expl, policy, _stmt_text(stmt), None, i))  # fmt: skip
    return out


def _over_broad(state: PermissionsState) -> list[Finding]:
    out = []
    for p in state.role_policies:
        for i, st in enumerate(statements(p.document)):
            if not is_over_broad(st):
                continue
            narrower = json.dumps(
                {
                    **st,
                    "Resource": [
                        bucket_arn(state.bucket),
                        objects_arn(state.bucket, state.prefix),
                    ],
                },
                indent=2,
            )
            out.append(Finding(
                "over-broad-grant", "over-broad-grant", WARNING, "S3 access on every bucket",
                f"Statement {_sid(st, i)} in the {p.label} grants {', '.join(map(str, as_list(st.get('Action'))))} on "
                f"{', '.join(map(str, as_list(st.get('Resource'))))}: the role can read and overwrite every bucket in the "
                f"account. A narrower statement (same actions, scoped to {state.bucket}), offered as a separate change:\n{narrower}"
                + ("" if p.source == "inline" else "\nThis is a managed policy sagewiz does not edit: add the scoped "
                   "inline policy, then detach it yourself."),
                p.label, _stmt_text(st), FIX_NARROW_GRANT if p.source == "inline" else None, i,
            ))  # fmt: skip
    return out


def role_access(state: PermissionsState) -> dict[tuple[str, str], str]:
    """For each needed (action, resource): "allowed", "denied" (explicit), "no-allow", "boundary" or "depends"."""
    caller, ctx = _caller(state), role_context(_caller(state))
    identity = _identity_sources(state)
    bucket_src = (
        [("bucket policy", state.bucket_policy.document, True)]
        if state.bucket_policy and state.bucket_policy.document
        else []
    )
    boundary = (
        [(state.boundary.label, state.boundary.document, False)]
        if state.boundary and state.boundary.document
        else []
    )
    out = {}
    for action, resource in _pairs(state):
        denies = matching(identity + bucket_src + boundary, "Deny", action, resource, caller, ctx)
        if any(d.certain for d in denies):
            out[(action, resource)] = "denied"
            continue
        allows = matching(identity, "Allow", action, resource, caller, ctx) + matching(
            bucket_src, "Allow", action, resource, caller, ctx
        )
        if not any(a.certain for a in allows):
            out[(action, resource)] = "depends" if allows else "no-allow"
            continue
        if (
            state.has_boundary
            and boundary
            and not any(m.certain for m in matching(boundary, "Allow", action, resource, caller, ctx))
        ):
            out[(action, resource)] = "boundary"
            continue
        out[(action, resource)] = "depends" if denies else "allowed"
    return out


def _needs(state: PermissionsState) -> list[Finding]:
    if state.role_exists is False:
        return [Finding("role-missing", "identity-no-allow", ERROR, f"Role {state.role_name} does not exist",
                        "The execution role named in the wizard is not in this account. Pick or create one in the Notebook step.",
                        "role")]  # fmt: skip
    if not state.role_policies_complete:
        return []  # cannot judge with policies unread; the could-not-read findings say so
    access = role_access(state)
    missing = [(a, r) for (a, r), v in access.items() if v == "no-allow"]
    boundary = [(a, r) for (a, r), v in access.items() if v == "boundary"]
    out = []
    if missing:
        lines = "\n".join(f"{a} on {r}" for a, r in missing)
        out.append(Finding(
            "role-lacks-access", "identity-no-allow", ERROR, "The role cannot do what SageMaker needs on the bucket",
            f"No policy of role {state.role_name} (nor the bucket policy) allows: {', '.join(a for a, _ in missing)}. "
            "Notebooks, training and tuning jobs read and write this bucket as the role, so uploads and jobs fail "
            "with AccessDenied.", f"role {state.role_name}", lines, FIX_ROLE_POLICY,
        ))  # fmt: skip
    if boundary:
        lines = "\n".join(f"{a} on {r}" for a, r in boundary)
        out.append(Finding(
            "boundary-blocks", "permissions-boundary", ERROR, "The role's permissions boundary does not allow it",
            f"The permissions boundary {state.boundary.label if state.boundary else ''} does not allow "
            f"{', '.join(a for a, _ in boundary)} on the bucket. The role's own policies cannot go beyond it; whoever owns "
            "the boundary (often a platform team) must add these actions.", "permissions boundary", lines,
        ))  # fmt: skip
    return out


def _ability_checks(state: PermissionsState) -> tuple[AbilityCheck, ...]:
    """What the role's own policies let it do of services.roles.abilities (nothing is judged
    while the role is missing or its policies could not all be read)."""
    if state.role_exists is False or not state.role_policies_complete:
        return ()
    identity = [(p.label, p.document) for p in state.role_policies if p.document is not None]
    boundary = state.boundary.document if state.boundary and state.has_boundary else None
    return check_abilities(state.role_arn, state.account, state.region, identity, boundary)


def missing_abilities(state: PermissionsState) -> tuple[Ability, ...]:
    """The abilities an added Allow would give the role (not those an explicit Deny refuses)."""
    return tuple(c.ability for c in _ability_checks(state) if not c.has and not c.denied)


def _abilities(state: PermissionsState) -> list[Finding]:
    out = []
    for c in _ability_checks(state):
        if c.has:
            continue
        # A warning, not an error: the wizard's own steps start jobs with the caller's credentials;
        # only code run in the notebook (as the role) is refused.
        out.append(Finding(
            f"role-cannot-{c.ability.kind.value}", "identity-no-allow", WARNING,
            f"The role cannot {c.ability.label}",
            f"Code in the notebook runs as role {state.role_name}, and no policy of the role allows "
            f"{c.lacking[0].split(' on ', 1)[0]}"
            + (f" (nor {len(c.lacking) - 1} more of what this needs)" if len(c.lacking) > 1 else "")
            + ". SDK calls from the notebook that need it get AccessDenied; sagewiz's own steps, which use "
            "your credentials, are not affected."
            + (" An explicit Deny refuses part of it: sagewiz never removes a Deny, so no change is proposed."
               if c.denied else ""),
            f"role {state.role_name}", "\n".join(c.lacking), None if c.denied else FIX_ROLE_ABILITIES,
        ))  # fmt: skip
    return out


def _kms(state: PermissionsState) -> list[Finding]:
    enc = state.encryption
    if enc is None or not enc.algorithm.startswith("aws:kms"):
        return []
    key = enc.kms_key_id
    if not key:
        return [Finding("kms-aws-managed", "kms-key-access", INFO, "Bucket encrypted with the AWS managed key aws/s3",
                        "Same-account roles may use the aws/s3 key; nothing to grant.", "default encryption", enc.algorithm)]  # fmt: skip
    caller, ctx = _caller(state), role_context(_caller(state))
    sources = _identity_sources(state)
    kp = state.key_policy.document if state.key_policy else None
    # KMS is the exception to "either policy suffices": the key policy must allow the role, either
    # by naming it (then no identity grant is needed) or by delegating to the account's IAM policies.
    direct = Caller(state.role_arn, "", state.session_arn, state.role_id)  # no account: root does not count
    account_only = Caller(f"arn:aws:iam::{state.account}:root", state.account)
    missing, unreached = [], []
    for action in ("kms:Decrypt", "kms:GenerateDataKey"):
        if kp is not None and _names_directly(kp, action, key, direct, ctx):
            continue
        delegates = kp is None or any(
            m.certain for m in matching([("key policy", kp, True)], "Allow", action, key, account_only, ctx)
        )
        if not any(m.certain for m in matching(sources, "Allow", action, key, caller, ctx)):
            missing.append(action)
        elif not delegates:
            unreached.append(action)
    if not missing and not unreached:
        return []
    evidence = json.dumps(
        {"SSEAlgorithm": enc.algorithm, "KMSMasterKeyID": key, "BucketKeyEnabled": enc.bucket_key}, indent=2
    )
    if missing:
        unknown = " (the key policy could not be read)" if kp is None else ""
        expl = (f"Objects are encrypted with the KMS key {key}. Uploads need kms:GenerateDataKey and downloads kms:Decrypt on "
                f"that key; neither the key policy (by naming the role) nor the role's policies allow {', '.join(missing)}"
                f"{unknown}. Add them to the role's policy (the key policy delegates to IAM) or name the role in the key policy.")  # fmt: skip
    else:
        expl = (f"The role's policies allow {', '.join(unreached)} on {key}, but the key policy neither names the role nor "
                "delegates to the account's IAM policies, so KMS refuses. Add the role to the key policy.")  # fmt: skip
    return [Finding("kms-key-access", "kms-key-access", ERROR, "Bucket uses SSE-KMS and the role lacks key permissions",
                    expl, "default encryption", evidence)]  # fmt: skip


def _names_directly(doc: dict[str, Any], action: str, key: str, caller: Caller, ctx: Context) -> bool:
    for m in matching([("key policy", doc, True)], "Allow", action, key, caller, ctx):
        principal = m.statement.get("Principal")
        values = [str(v) for v in as_list(principal.get("AWS"))] if isinstance(principal, dict) else []
        if m.certain and any(v in (caller.role_arn, caller.session_arn) for v in values):
            return True
    return False


def _bpa(state: PermissionsState) -> list[Finding]:
    out = []
    for bpa in (state.account_bpa, state.bucket_bpa):
        if bpa is None:
            continue
        setting = bpa.text() or "not configured (all four settings off)"
        if bpa.all_on:
            out.append(Finding(
                f"block-public-access-{bpa.level}", "block-public-access", INFO, f"Block Public Access is on ({bpa.level})",
                "Block Public Access only refuses public ACLs and public bucket policies. It never blocks the role's "
                "same-account access, which comes from the role's policies or a bucket policy naming the role. So it "
                "is not the cause of an AccessDenied here and stays on.", f"Block Public Access ({bpa.level})", setting,
            ))  # fmt: skip
        else:
            out.append(Finding(
                f"block-public-access-{bpa.level}", "block-public-access", WARNING,
                f"Block Public Access is off ({bpa.level}: {', '.join(bpa.off)})",
                "Turning Block Public Access off does not fix a same-account AccessDenied; it only lets public "
                "policies and ACLs through. Unless the bucket must be public, turn it back on."
                + (" sagewiz can turn the bucket's settings on; the account's you change in the S3 console." if bpa.level == "account" else ""),
                f"Block Public Access ({bpa.level})", setting, FIX_BPA_ON if bpa.level == "bucket" else None,
            ))  # fmt: skip
    if state.policy_public:
        src = "S3 reports" if state.policy_public_source == "s3" else "By S3's rules (computed by sagewiz)"
        out.append(Finding("bucket-policy-public", "block-public-access", WARNING, "The bucket policy is public",
                           f"{src} the bucket policy grants access to everyone. sagewiz never proposes such a policy.",
                           "bucket policy", (state.bucket_policy.text or "") if state.bucket_policy else ""))  # fmt: skip
    return out


def _ownership(state: PermissionsState) -> list[Finding]:
    if state.object_ownership in (None, "BucketOwnerEnforced"):
        if state.object_ownership is None and not any(
            u.what.endswith("Object Ownership") for u in state.unreadable
        ):
            return [Finding("object-ownership", "object-ownership", INFO, "Object Ownership is not configured",
                            "ACLs are in play: objects written by another account stay theirs, and this account's "
                            "policies cannot grant access to them. BucketOwnerEnforced (the default for new buckets) "
                            "avoids that.", "Object Ownership", "not configured")]  # fmt: skip
        return []
    return [Finding("object-ownership", "object-ownership", INFO, f"Object Ownership is {state.object_ownership}",
                    "ACLs are enabled: objects uploaded by another account belong to it, and the role may be denied "
                    "them whatever the policies say. BucketOwnerEnforced disables ACLs and is recommended.",
                    "Object Ownership", state.object_ownership)]  # fmt: skip


def _sid(st: dict[str, Any], i: int) -> str:
    return f'"{st["Sid"]}"' if st.get("Sid") else f"#{i + 1}"


# -- fixes ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Proposal:
    """A change to offer, or why a wanted change cannot be offered."""

    change: PolicyChange | None
    title: str
    refused: str = ""  # non-empty: could not be planned, and why


def proposed_changes(
    state: PermissionsState, found: list[Finding], *, sandbox: bool = False
) -> list[Proposal]:
    """Role policy first (it is what makes the role's own requests work), then the bucket policy,
    then narrowing an over-broad grant (its own proposal), then Block Public Access back on. Every
    policy change has passed the minimal-change check; one that fails is refused with the reason.
    Denies get no proposal here: an exception exists only for a refused request (the Doctor)."""
    wanted = {f.fix for f in found if f.fix}

    def ids(fix: str) -> tuple[str, ...]:
        return tuple(sorted({f.id for f in found if f.fix == fix}))

    out: list[Proposal] = []
    missing: tuple[tuple[str, str], ...] = ()
    if FIX_ROLE_POLICY in wanted and any(f.id == "role-lacks-access" for f in found):
        missing = tuple((a, r) for (a, r), v in role_access(state).items() if v == "no-allow")
    if FIX_ROLE_POLICY in wanted and state.role_exists:
        out.append(_try("Repair the role's S3 access", lambda: role_policy_change(
            state.role_name, state.account, state.region, state.bucket, state.inline_texts(),
            prefix=state.prefix, fixes=ids(FIX_ROLE_POLICY), missing=missing, role_arn=state.role_arn)))  # fmt: skip
    if FIX_BUCKET_POLICY in wanted and state.bucket_policy is not None:
        out.append(_try("Fix the bucket policy's grant to the role", lambda: bucket_policy_change(
            state.bucket, state.role_arn, state.bucket_policy.text if state.bucket_policy else None,
            prefix=state.prefix, role_id=state.role_id, fixes=ids(FIX_BUCKET_POLICY),
            identity=tuple(state.inline_texts()))))  # fmt: skip
    if FIX_NARROW_GRANT in wanted and state.role_exists:
        out.append(_try("Narrow the over-broad S3 grant (a separate change)", lambda: narrow_grant_change(
            state.role_name, state.bucket, state.inline_texts(), prefix=state.prefix,
            fixes=ids(FIX_NARROW_GRANT), role_arn=state.role_arn)))  # fmt: skip
    if FIX_ROLE_ABILITIES in wanted and state.role_exists:
        lacking = missing_abilities(state)
        out.append(_try("Let the role run the flow from the notebook", lambda: abilities_change(
            state.role_name, state.role_arn, state.account, state.region, state.bucket, state.inline_texts(), lacking,
            fixes=ids(FIX_ROLE_ABILITIES))))  # fmt: skip
    if FIX_BPA_ON in wanted and state.bucket_bpa is not None:
        out.append(
            _try(
                "Turn Block Public Access back on",
                lambda: public_access_change(
                    state.bucket, state.bucket_bpa.text() if state.bucket_bpa else None
                ),
            )
        )
    return out


def _try(title: str, build: Callable[[], PolicyChange]) -> Proposal:
    try:
        change = build()
    except ValidationError as exc:
        return Proposal(None, title, f"{exc.message} {exc.hint}".strip())
    return Proposal(change, change.title)
