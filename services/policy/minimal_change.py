"""The minimal-change check every proposed policy fix passes before it is offered.

A fix changes one or more policy documents (the principal's identity policies, the bucket policy).
`check_change` evaluates a grid of requests with our evaluator against the documents before and
after the change and compares the decisions:

- principals: the principal the fix is for, another principal of the same account, a principal of
  another account, and anonymous; each both with no identity policy of its own and with an
  allow-everything identity policy (so a Deny switched off for anyone shows up as a new allow);
- actions: every action the documents name (wildcards expanded over the known S3 actions), the
  wizard's flow actions, a few sensitive ones (policy writing, IAM), and the refused action;
- resources: the refused resource, another key under the same prefix, a sibling prefix, the
  bucket, another bucket, and every resource the documents name; an action is only paired with
  resources of its own service;
- request context: the plain HTTPS request, and variants setting each condition key the documents
  test to each value they test against, to another value, and (for aws:SecureTransport) to false.

Only requests covered by `Permitted` entries (the request asked for, and the companions the fix
states, always for the principal the fix is for) may go from denied to allowed; nothing may go
from allowed to denied unless the change says it narrows. Otherwise the result says which requests
changed, in words, and the fix is not offered.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from services.policy.context import RequestContext
from services.policy.document import Policy, PolicyError, Statement, parse_policy
from services.policy.evaluate import IDENTITY, RESOURCE, NamedPolicy, PolicySet, evaluate_request
from services.policy.s3 import is_bucket_action
from services.policy.wildcards import action_matches, arn_matches

# Actions every grid includes besides those the documents name.
FLOW_ACTIONS: tuple[str, ...] = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
    "s3:ListBucket",
    "s3:GetBucketLocation",
    "s3:ListBucketMultipartUploads",
    "iam:PassRole",
    "sagemaker:CreateTrainingJob",
    "logs:PutLogEvents",
    "kms:Decrypt",
    "kms:GenerateDataKey",
)
SENSITIVE_ACTIONS: tuple[str, ...] = (
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutObjectAcl",
    "s3:DeleteBucket",
    "s3:PutBucketPublicAccessBlock",
    "iam:CreateAccessKey",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "organizations:LeaveOrganization",
)
# Known S3 actions, to expand wildcards such as s3:Get* into concrete requests.
_KNOWN_S3 = (
    "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts", "s3:GetObjectAcl", "s3:PutObjectAcl", "s3:GetObjectTagging",
    "s3:PutObjectTagging", "s3:RestoreObject", "s3:ListBucket", "s3:ListBucketVersions",
    "s3:ListBucketMultipartUploads", "s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy", "s3:GetBucketAcl", "s3:PutBucketAcl", "s3:PutBucketPublicAccessBlock",
    "s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration", "s3:DeleteBucket", "s3:CreateBucket",
    "s3:GetBucketCORS", "s3:PutBucketCORS", "s3:GetObjectVersion", "s3:DeleteObjectVersion",
)  # fmt: skip
_OTHER_ACCOUNT = "210987654321"
_OTHER_BUCKET = "sagewiz-grid-other-bucket"


@dataclass(frozen=True)
class Subject:
    """Who the fix is for and what was refused."""

    account: str
    role_arn: str  # the principal's role (or user) ARN as policies name it
    session_arn: str  # the caller as AWS sees it (a session of the role, or the user)
    bucket: str | None  # the bucket whose policy may change (None: no bucket involved)
    action: str  # the refused (or needed) action
    resource: str  # the refused (or needed) resource ARN


@dataclass(frozen=True)
class Permitted:
    """Requests by the subject that the fix is allowed to turn from denied to allowed."""

    action: str  # an action, may hold IAM wildcards
    resource: str  # an ARN pattern, may hold IAM wildcards
    why: str  # "the request refused" or "companion: <reason>"

    def covers(self, action: str, resource: str) -> bool:
        return action_matches(self.action, action) and arn_matches(self.resource, resource)


@dataclass(frozen=True)
class Documents:
    """The documents a fix may change: the subject's identity policies and the bucket policy."""

    identity: tuple[tuple[str, str], ...] = ()  # (name, exact text)
    bucket_policy: str | None = None

    def with_identity(self, name: str, text: str | None) -> Documents:
        rest = tuple((n, t) for n, t in self.identity if n != name)
        return Documents(rest + (((name, text),) if text is not None else ()), self.bucket_policy)

    def with_bucket_policy(self, text: str | None) -> Documents:
        return Documents(self.identity, text)


@dataclass(frozen=True)
class GridPrincipal:
    label: str
    arn: str  # the caller ("*" for anonymous)
    role_arn: str | None
    allow_all: bool  # its identity side allows everything (to reveal Denies switched off)
    is_subject: bool


@dataclass(frozen=True)
class GridRequest:
    principal: GridPrincipal
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        who = self.principal.label + (
            " (with an allow-all identity policy)" if self.principal.allow_all else ""
        )
        ctx = ", ".join(f"{k}={v}" for k, v in self.context)
        return f"{who}: {self.action} on {self.resource}" + (f" [{ctx}]" if ctx else "")


@dataclass(frozen=True)
class CheckResult:
    """What the grid found. `ok` when only permitted requests became allowed and, unless the
    change narrows on purpose, nothing became denied."""

    checked: int
    newly_allowed: tuple[GridRequest, ...] = ()
    newly_denied: tuple[GridRequest, ...] = ()
    permitted_seen: tuple[GridRequest, ...] = ()
    narrowing: bool = False
    problem: str = ""  # a document could not be read: nothing was compared
    permitted: tuple[Permitted, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problem and not self.newly_allowed and (self.narrowing or not self.newly_denied)

    def summary(self) -> str:
        if self.problem:
            return f"the change could not be checked: {self.problem}"
        if self.ok:
            what = (
                "only the stated grants may become allowed" if self.permitted else "nothing becomes allowed"
            )
            return f"minimal change checked over {self.checked} requests: {what}" + (
                f", {len(self.newly_denied)} request(s) become denied (the narrowing)"
                if self.narrowing
                else ""
            )
        parts = []
        if self.newly_allowed:
            shown = "; ".join(r.describe() for r in self.newly_allowed[:3])
            more = f" and {len(self.newly_allowed) - 3} more" if len(self.newly_allowed) > 3 else ""
            parts.append(f"it would also allow {shown}{more}")
        if self.newly_denied and not self.narrowing:
            shown = "; ".join(r.describe() for r in self.newly_denied[:3])
            more = f" and {len(self.newly_denied) - 3} more" if len(self.newly_denied) > 3 else ""
            parts.append(f"it would deny what is allowed today: {shown}{more}")
        return "the change is not minimal: " + "; ".join(parts)


# -- the grid -------------------------------------------------------------------------------------
def _service(action_or_arn: str) -> str | None:
    if action_or_arn.startswith("arn:"):
        parts = action_or_arn.split(":")
        return parts[2] if len(parts) > 2 else None
    return action_or_arn.split(":", 1)[0].lower() if ":" in action_or_arn else None


def _parse(text: str | None) -> Policy | None:
    if text is None:
        return None
    return parse_policy(text)


def _statements(policies: Iterable[Policy]) -> list[Statement]:
    return [s for p in policies for s in p.statements]


def _concrete(pattern: str) -> str:
    return pattern.replace("*", "sagewiz-grid").replace("?", "g")


def _actions(policies: list[Policy], subject: Subject) -> list[str]:
    named: list[str] = []
    for s in _statements(policies):
        named.extend(s.actions or ())
        named.extend(s.not_actions or ())
    out: dict[str, str] = {}
    for a in (*FLOW_ACTIONS, *SENSITIVE_ACTIONS, subject.action):
        out.setdefault(a.lower(), a)
    for a in named:
        if "*" in a or "?" in a:
            for k in _KNOWN_S3:
                if action_matches(a, k):
                    out.setdefault(k.lower(), k)
        elif ":" in a:
            out.setdefault(a.lower(), a)
    return list(out.values())


def _resources(policies: list[Policy], subject: Subject) -> list[str]:
    out: dict[str, None] = {}
    res = subject.resource
    out[res] = None
    if subject.bucket:
        b = f"arn:aws:s3:::{subject.bucket}"
        out[b] = None
        key = res[len(b) + 1 :] if res.startswith(b + "/") else ""
        if key:
            head, _, _tail = key.rpartition("/")
            out[f"{b}/{head + '/' if head else ''}sagewiz-grid-same-prefix"] = None
            top = key.split("/", 1)[0]
            out[f"{b}/sagewiz-grid-sibling/{key}"] = None
            if "/" in key:
                out[f"{b}/{top}-sagewiz-grid-sibling/x"] = None
        out[f"{b}/sagewiz-grid-other-prefix/x"] = None
        out[f"arn:aws:s3:::{_OTHER_BUCKET}"] = None
        out[f"arn:aws:s3:::{_OTHER_BUCKET}/x"] = None
    for s in _statements(policies):
        for r in (*(s.resources or ()), *(s.not_resources or ())):
            if r == "*" or "${" in r:
                continue
            out[_concrete(r)] = None
            if r.endswith("*"):
                out[r[:-1] + "sagewiz-grid/x"] = None
    # one resource per non-S3 service the actions may need, in the subject's account and another
    for svc, arn in (
        ("iam", f"arn:aws:iam::{subject.account}:role/sagewiz-grid-role"),
        ("iam", f"arn:aws:iam::{_OTHER_ACCOUNT}:role/sagewiz-grid-role"),
        ("sagemaker", f"arn:aws:sagemaker:eu-north-1:{subject.account}:training-job/sagewiz-grid"),
        ("logs", f"arn:aws:logs:eu-north-1:{subject.account}:log-group:/aws/sagemaker/TrainingJobs"),
        ("logs", f"arn:aws:logs:eu-north-1:{subject.account}:log-group:sagewiz-grid-other"),
        ("kms", f"arn:aws:kms:eu-north-1:{subject.account}:key/sagewiz-grid-key"),
    ):
        del svc
        out[arn] = None
    return list(out)


def _contexts(policies: list[Policy]) -> list[tuple[tuple[str, str], ...]]:
    """The plain request, then one variant per tested key and value (one key varied at a time)."""
    variants: dict[tuple[tuple[str, str], ...], None] = {(): None}
    keys: dict[str, list[str]] = {}
    for s in _statements(policies):
        for c in s.conditions:
            key = c.key
            if key.lower() in ("aws:principalarn", "aws:principalaccount", "aws:principaltype"):
                continue  # set by the principal itself
            vals = keys.setdefault(key, [])
            for v in c.values[:3]:
                if "${" not in v and v not in vals:
                    vals.append(_concrete(v) if "*" in v or "?" in v else v)
    for key, vals in keys.items():
        for v in [*vals, "sagewiz-grid-other"]:
            variants[((key, v),)] = None
        if key.lower() == "aws:securetransport":
            variants[((key, "false"),)] = None
    if keys:
        variants[tuple((k, v[0]) for k, v in keys.items() if v)] = None
    return list(variants)[:40]


def _named_principals(policies: list[Policy], subject: Subject) -> list[tuple[str, str]]:
    """(caller, role or user ARN) for up to four principals the policies name besides the subject."""
    out: dict[str, str] = {}
    for s in _statements(policies):
        for spec in (s.principal, s.not_principal):
            for ptype, value in spec.entries if spec is not None else ():
                if ptype != "AWS" or value in (subject.role_arn, subject.session_arn) or "*" in value:
                    continue
                parts = value.split(":")
                if len(parts) < 6 or not parts[4]:
                    continue
                if ":role/" in value:
                    out.setdefault(
                        f"arn:aws:sts::{parts[4]}:assumed-role/{value.rsplit('/', 1)[-1]}/s", value
                    )
                elif ":user/" in value or ":assumed-role/" in value:
                    out.setdefault(value, value)
    return list(out.items())[:4]


def _principals(subject: Subject, policies: Sequence[Policy] = ()) -> list[GridPrincipal]:
    other = f"arn:aws:iam::{subject.account}:role/sagewiz-grid-other"
    foreign = f"arn:aws:iam::{_OTHER_ACCOUNT}:role/sagewiz-grid-foreign"
    out = []
    for allow_all in (False, True):
        for caller, arn in _named_principals(list(policies), subject):
            out.append(GridPrincipal(f"{arn} (named in the policies)", caller, arn, allow_all, False))
        out += [
            GridPrincipal("this principal", subject.session_arn, subject.role_arn, allow_all, True),
            GridPrincipal(
                "another principal of the account",
                f"arn:aws:sts::{subject.account}:assumed-role/sagewiz-grid-other/s",
                other,
                allow_all,
                False,
            ),
            GridPrincipal(
                "a principal of another account",
                f"arn:aws:sts::{_OTHER_ACCOUNT}:assumed-role/sagewiz-grid-foreign/s",
                foreign,
                allow_all,
                False,
            ),
        ]
    out.append(GridPrincipal("anonymous", "*", None, False, False))
    return out


_ALLOW_ALL = NamedPolicy(
    "allow-all (grid)",
    parse_policy(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    ),
    IDENTITY,
)


def _decide(
    req: GridRequest, identity: tuple[NamedPolicy, ...], bucket_policy: NamedPolicy | None, subject: Subject
) -> bool:
    p = req.principal
    ids: tuple[NamedPolicy, ...] = ()
    if p.is_subject:
        ids = identity
    if p.allow_all:
        ids = ids + (_ALLOW_ALL,)
    in_bucket = bool(subject.bucket) and (
        req.resource == f"arn:aws:s3:::{subject.bucket}"
        or req.resource.startswith(f"arn:aws:s3:::{subject.bucket}/")
    )
    owner = subject.account if (in_bucket or _service(req.resource) != "s3") else _OTHER_ACCOUNT
    resource = bucket_policy if in_bucket else None
    ctx = RequestContext.build(
        req.action,
        req.resource,
        p.arn,
        role_arn=p.role_arn if p.arn != "*" else None,
        resource_account=owner,
        region="eu-north-1",
        secure_transport=True,
        extra=dict(req.context),
    )
    return evaluate_request(ctx, PolicySet(identity=ids, resource=resource)).allowed


def _named(docs: Documents, *, strict: bool) -> tuple[tuple[NamedPolicy, ...], NamedPolicy | None]:
    """Parsed documents. Before the change an unreadable document grants nothing (AWS would never
    have stored it); after it, one raises PolicyError (strict)."""

    def one(text: str | None) -> Policy | None:
        try:
            return _parse(text)
        except PolicyError:
            if strict:
                raise
            return None

    ids = []
    for name, text in docs.identity:
        pol = one(text)
        if pol is not None:
            ids.append(NamedPolicy(name, pol, IDENTITY))
    bp = one(docs.bucket_policy)
    return tuple(ids), (NamedPolicy("bucket policy", bp, RESOURCE) if bp is not None else None)


def check_change(
    subject: Subject,
    before: Documents,
    after: Documents,
    permitted: tuple[Permitted, ...],
    *,
    narrowing: bool = False,
) -> CheckResult:
    """Compare decisions before and after over the grid (see the module docstring)."""
    ids_before, bp_before = _named(before, strict=False)
    try:
        ids_after, bp_after = _named(after, strict=True)
    except PolicyError as exc:
        return CheckResult(
            0, problem=f"the new document is not a valid policy ({exc.message})", permitted=permitted
        )
    policies = [n.policy for n in (*ids_before, *ids_after)] + [
        n.policy for n in (bp_before, bp_after) if n is not None
    ]
    actions = _actions(policies, subject)
    resources = _resources(policies, subject)
    contexts = _contexts(policies)
    principals = _principals(subject, policies)
    newly_allowed: list[GridRequest] = []
    newly_denied: list[GridRequest] = []
    seen: list[GridRequest] = []
    checked = 0
    # Only the subject's identity policies and the bucket policy change: another principal sees
    # the same documents before and after unless the bucket policy changed, so its decisions
    # cannot differ and are not evaluated twice.
    others_unchanged = before.bucket_policy == after.bucket_policy
    for action in actions:
        svc = _service(action)
        for resource in resources:
            if svc is not None and _service(resource) != svc:
                continue
            if svc == "s3" and is_bucket_action(action) == ("/" in resource):
                continue  # S3 names the bucket for bucket-level actions and bucket/key for the rest
            for ctx in contexts:
                for p in principals:
                    checked += 1
                    if others_unchanged and not p.is_subject:
                        continue
                    req = GridRequest(p, action, resource, ctx)
                    was = _decide(req, ids_before, bp_before, subject)
                    now = _decide(req, ids_after, bp_after, subject)
                    if was == now:
                        continue
                    if now:
                        if p.is_subject and any(x.covers(action, resource) for x in permitted):
                            seen.append(req)
                        else:
                            newly_allowed.append(req)
                    else:
                        newly_denied.append(req)
    return CheckResult(
        checked, tuple(newly_allowed), tuple(newly_denied), tuple(seen), narrowing, permitted=permitted
    )


def documents_json(docs: Documents) -> str:
    """For messages and tests: the documents as one JSON text."""
    return json.dumps({"identity": dict(docs.identity), "bucket_policy": docs.bucket_policy}, indent=2)
