"""Fixes as plain data: each is a `PolicyChange` (what, where, old text, new text, why, diff).

Reused by the permissions doctor. Every builder here is pure (no AWS calls): give it the current
document text and it returns the change. Every generated document is validated (JSON, IAM grammar,
S3's rules, the `parliament` linter when installed) and a bucket policy Block Public Access would
reject as public is never proposed.

- `bucket_policy_change`: grant the role (by role ARN) `s3:ListBucket` + `s3:GetBucketLocation` on
  the bucket and object actions on `bucket/*` (or `bucket/prefix*`), merged into the existing policy:
  unrelated statements keep their place and order; statements that meant to grant the role this
  bucket but got the Resource or Principal wrong are replaced in place.
- `role_policy_change`: a least-privilege inline role policy scoped to the bucket (and prefix)
  replacing statements with the wrong Resource shape and over-broad grants such as `s3:*` on
  `arn:aws:s3:::*`; other statements are kept.
- `narrow_deny_change`: add an exception for the role to a Deny (never delete a Deny).
- `public_access_change`: Block Public Access on (or, only when the user asks for public access, off).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from services.errors import ValidationError
from services.permissions import validate
from services.permissions.matcher import as_list, statements
from services.plan import unified_json_diff

OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")
BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation")
BUCKET_SID = "SagewizRoleBucketLevel"
OBJECT_SID = "SagewizRoleObjectLevel"
ROLE_BUCKET_SID = "SagewizBucketLevel"
ROLE_OBJECT_SID = "SagewizObjectLevel"
NEW_INLINE_POLICY = "sagewiz-least-privilege"
BPA_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")

BUCKET_POLICY = "bucket-policy"
ROLE_INLINE_POLICY = "role-inline-policy"
PUBLIC_ACCESS_BLOCK = "public-access-block"


@dataclass(frozen=True)
class PolicyTarget:
    """Where a document lives. `key` is what the journal records as the change's target."""

    kind: str  # BUCKET_POLICY | ROLE_INLINE_POLICY | PUBLIC_ACCESS_BLOCK
    bucket: str | None = None
    role_name: str | None = None
    policy_name: str | None = None

    @property
    def key(self) -> str:
        if self.kind == ROLE_INLINE_POLICY:
            return f"iam:role-policy:{self.role_name}/{self.policy_name}"
        if self.kind == PUBLIC_ACCESS_BLOCK:
            return f"s3:public-access-block:{self.bucket}"
        return f"s3:bucket-policy:{self.bucket}"

    def describe(self) -> str:
        if self.kind == ROLE_INLINE_POLICY:
            return f"inline policy {self.policy_name} of role {self.role_name}"
        if self.kind == PUBLIC_ACCESS_BLOCK:
            return f"Block Public Access of bucket {self.bucket}"
        return f"bucket policy of {self.bucket}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "bucket": self.bucket,
            "role_name": self.role_name,
            "policy_name": self.policy_name,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyTarget:
        return cls(data["kind"], data.get("bucket"), data.get("role_name"), data.get("policy_name"))


@dataclass(frozen=True)
class PolicyChange:
    """Replace the document at `target`: `old_text` exactly as read (None: there was none),
    `new_text` what will be sent (None: delete it)."""

    target: PolicyTarget
    title: str
    reason: str
    old_text: str | None
    new_text: str | None
    warnings: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()  # validations passed, for people
    fixes: tuple[str, ...] = field(default=())  # finding ids this change addresses

    @property
    def diff(self) -> str:
        return document_diff(self.old_text, self.new_text, self.target.describe())

    @property
    def resource(self) -> str:
        if self.target.kind == ROLE_INLINE_POLICY:
            return f"role {self.target.role_name}, inline policy {self.target.policy_name}"
        return f"bucket {self.target.bucket}"


def pretty(doc: Any) -> str:
    return json.dumps(doc, indent=2)


def parse(text: str | None) -> dict | None:
    """The document, or None when absent. Raises ValidationError when it is not a JSON object."""
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ValidationError(
            "existing policy", f"it is not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from exc
    if not isinstance(doc, dict):
        raise ValidationError("existing policy", "it is not a JSON object")
    return doc


def document_diff(old_text: str | None, new_text: str | None, name: str = "policy") -> str:
    """Unified diff of two document texts, both pretty-printed when they parse."""

    def norm(text: str | None) -> Any:
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return text  # malformed: diff the raw text

    return unified_json_diff(norm(old_text), norm(new_text), f"{name} (current)", f"{name} (proposed)")


# -- bucket policy -------------------------------------------------------------------------------
def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def objects_arn(bucket: str, prefix: str | None = None) -> str:
    return f"arn:aws:s3:::{bucket}/{(prefix or '').lstrip('/')}*"


def role_grant_statements(bucket: str, role_arn: str, prefix: str | None = None) -> list[dict]:
    """The two statements that let the role use the bucket."""
    return [
        {
            "Sid": BUCKET_SID,
            "Effect": "Allow",
            "Principal": {"AWS": role_arn},
            "Action": list(BUCKET_ACTIONS),
            "Resource": bucket_arn(bucket),
        },
        {
            "Sid": OBJECT_SID,
            "Effect": "Allow",
            "Principal": {"AWS": role_arn},
            "Action": list(OBJECT_ACTIONS),
            "Resource": objects_arn(bucket, prefix),
        },
    ]


def role_name_of(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[-1]


def names_role(principal_value: str, role_arn: str, role_id: str | None = None) -> bool:
    """Any form of the role: its ARN, the ARN without its path, a session ARN, or its unique id."""
    name = role_name_of(role_arn)
    account = role_arn.split(":")[4]
    return (
        principal_value
        in {
            role_arn,
            f"arn:aws:iam::{account}:role/{name}",
        }
        or principal_value.startswith(f"arn:aws:sts::{account}:assumed-role/{name}/")
        or (role_id is not None and principal_value == role_id)
    )


def _in_bucket(resource: str, bucket: str) -> bool:
    return resource == bucket_arn(bucket) or resource.startswith(bucket_arn(bucket) + "/")


def _grants_role_this_bucket(st: dict, bucket: str, role_arn: str, role_id: str | None) -> bool:
    """An Allow that only means to give this role (in some form) S3 access to this bucket."""
    if st.get("Effect") != "Allow" or "Condition" in st or "Action" not in st or "Resource" not in st:
        return False
    principal = st.get("Principal")
    if not isinstance(principal, dict) or set(principal) != {"AWS"}:
        return False
    values = [str(v) for v in as_list(principal["AWS"])]
    if not values or not all(names_role(v, role_arn, role_id) for v in values):
        return False
    actions = [str(a) for a in as_list(st["Action"])]
    resources = [str(r) for r in as_list(st["Resource"])]
    return all(a.lower().startswith("s3:") for a in actions) and all(_in_bucket(r, bucket) for r in resources)


def merge_bucket_policy(
    existing: dict | None, bucket: str, role_arn: str, prefix: str | None = None, role_id: str | None = None
) -> dict:
    """The existing policy with the role's grant merged in; unrelated statements untouched, in order."""
    doc = copy.deepcopy(existing) if existing else {"Version": "2012-10-17", "Statement": []}
    doc["Version"] = "2012-10-17"
    old = as_list(doc.get("Statement"))
    ours = role_grant_statements(bucket, role_arn, prefix)
    out: list[Any] = []
    placed = False
    for st in old:
        if isinstance(st, dict) and _grants_role_this_bucket(st, bucket, role_arn, role_id):
            if not placed:
                out.extend(ours)
                placed = True
            continue
        out.append(st)
    if not placed:
        out.extend(ours)
    doc["Statement"] = out
    return doc


def bucket_policy_change(
    bucket: str,
    role_arn: str,
    old_text: str | None,
    *,
    prefix: str | None = None,
    role_id: str | None = None,
    fixes: tuple[str, ...] = (),
) -> PolicyChange:
    """Raises ValidationError when the current policy cannot be merged safely."""
    warnings: list[str] = []
    try:
        existing = parse(old_text)
    except ValidationError as exc:
        # AWS never stores a malformed bucket policy; an emulator may. Replace it, keep the backup.
        existing = None
        warnings.append(
            f"The current bucket policy is unreadable ({exc.message}); it is replaced as a whole. "
            "Its exact text is saved in the journal first, so undo restores it."
        )
    new = merge_bucket_policy(existing, bucket, role_arn, prefix, role_id)
    if existing is not None and validate.is_public(existing):
        raise ValidationError(
            "bucket policy",
            "the current bucket policy already grants public access; merging into it would produce a "
            "public policy, which Block Public Access rejects",
            "Remove the public statement first (or say you want public access), then re-check.",
        )
    checks = _validated(new, validate.BUCKET_POLICY, existing)
    return PolicyChange(
        target=PolicyTarget(BUCKET_POLICY, bucket=bucket),
        title=f"Grant {role_name_of(role_arn)} the bucket {bucket} in its bucket policy",
        reason=(
            "Bucket-level actions (ListBucket, GetBucketLocation) go on the bucket ARN, object actions on "
            f"{objects_arn(bucket, prefix)}; the role is named by its role ARN (with its path), which "
            "keeps working for every session of the role. Other statements are kept as they are."
        ),
        old_text=old_text,
        new_text=pretty(new),
        warnings=tuple(warnings),
        checks=checks,
        fixes=fixes,
    )


# -- role inline policy -----------------------------------------------------------------------------
def _scoped_statements(account: str, region: str, bucket: str, prefix: str | None) -> list[dict]:
    """The S3 statements of the least-privilege role policy, with sagewiz's Sids."""
    doc = least_privilege(account, region, bucket, prefix)
    out = []
    for st in statements(doc):
        acts = [str(a) for a in as_list(st.get("Action"))]
        if acts and all(a.startswith("s3:") for a in acts):
            st = dict(st)
            level = (
                "object"
                if any(validate.resource_level(str(r)) == "object" for r in as_list(st.get("Resource")))
                else "bucket"
            )
            sid = ROLE_OBJECT_SID if level == "object" else ROLE_BUCKET_SID
            st["Sid"] = sid if sid not in {o["Sid"] for o in out} else f"{sid}Location"
            out.append(st)
    return out


def least_privilege(account: str, region: str, bucket: str, prefix: str | None = None) -> dict:
    """services.roles.least_privilege_policy (the notebook step's), the one source of that policy,
    with s3:GetBucketLocation moved out of any statement conditioned on s3:prefix (that key is
    never present for GetBucketLocation, so the condition would deny it)."""
    from services.roles import least_privilege_policy

    doc = copy.deepcopy(least_privilege_policy(account, region, bucket, prefix))
    out: list[Any] = []
    for st in as_list(doc.get("Statement")):
        actions = [str(a) for a in as_list(st.get("Action"))] if isinstance(st, dict) else []
        cond = json.dumps(st.get("Condition") or {}) if isinstance(st, dict) else ""
        if "s3:GetBucketLocation" in actions and "s3:prefix" in cond and len(actions) > 1:
            rest = [a for a in actions if a != "s3:GetBucketLocation"]
            out.append({**st, "Action": rest if len(rest) > 1 else rest[0]})
            out.append({"Sid": f"{st.get('Sid') or ''}Location", "Effect": "Allow", "Action": "s3:GetBucketLocation",
                        "Resource": st.get("Resource")})  # fmt: skip
        else:
            out.append(st)
    doc["Statement"] = out
    return doc


def is_over_broad(st: dict) -> bool:
    """An S3-only Allow on every bucket: `s3:*` (or `s3:*Object`) on `*` / `arn:aws:s3:::*`."""
    if st.get("Effect") != "Allow" or "Action" not in st:
        return False
    actions = [str(a) for a in as_list(st["Action"])]
    if not actions or not all(a.lower().startswith("s3:") for a in actions):
        return False
    resources = [str(r) for r in as_list(st.get("Resource"))]
    broad = [r for r in resources if r in {"*", "arn:aws:s3:::*", "arn:aws:s3:::*/*"}]
    return bool(broad) and any("*" in a for a in actions)


def wrong_resource_shape(st: dict, bucket: str) -> list[str]:
    """What is wrong with the Resource shape of an Allow for this bucket (empty when fine)."""
    if st.get("Effect") != "Allow" or "Action" not in st or "Resource" not in st:
        return []
    actions = [str(a) for a in as_list(st["Action"])]
    resources = [str(r) for r in as_list(st["Resource"])]
    on_bucket = bucket_arn(bucket) in resources
    on_objects = any(r.startswith(bucket_arn(bucket) + "/") for r in resources)
    problems = []
    obj = [a for a in actions if validate.action_level(a) == "object"]
    lst = [a for a in actions if validate.action_level(a) == "bucket"]
    if obj and on_bucket and not on_objects:
        problems.append(
            f"object actions ({', '.join(obj)}) on the bucket ARN {bucket_arn(bucket)} instead of {bucket_arn(bucket)}/*"
        )
    if lst and on_objects and not on_bucket:
        problems.append(
            f"bucket actions ({', '.join(lst)}) on {bucket_arn(bucket)}/* instead of the bucket ARN"
        )
    return problems


def merge_role_policy(
    existing: dict | None, account: str, region: str, bucket: str, prefix: str | None = None
) -> dict:
    """Replace this bucket's badly scoped statements and over-broad S3 grants with scoped ones."""
    if existing is None:
        return least_privilege(account, region, bucket, prefix)
    doc = copy.deepcopy(existing)
    doc["Version"] = "2012-10-17"
    ours = _scoped_statements(account, region, bucket, prefix)
    out: list[Any] = []
    placed = any(
        isinstance(s, dict) and s.get("Sid") in {ROLE_BUCKET_SID, ROLE_OBJECT_SID}
        for s in as_list(doc.get("Statement"))
    )
    for st in as_list(doc.get("Statement")):
        if not isinstance(st, dict):
            out.append(st)
            continue
        replace = is_over_broad(st)
        kept = st
        if not replace and wrong_resource_shape(st, bucket):
            # Drop this bucket's resources from the statement; other buckets' resources stay.
            rest = [r for r in as_list(st["Resource"]) if not _in_bucket(str(r), bucket)]
            replace = True
            kept = {**st, "Resource": rest if len(rest) != 1 else rest[0]} if rest else None
        if not replace:
            out.append(st)
            continue
        if not placed:
            out.extend(ours)
            placed = True
        if kept is not None and kept is not st:
            out.append(kept)
    if not placed:
        out.extend(ours)
    doc["Statement"] = out
    return doc


def role_policy_change(
    role_name: str,
    account: str,
    region: str,
    bucket: str,
    inline: list[tuple[str, str]],
    *,
    prefix: str | None = None,
    fixes: tuple[str, ...] = (),
) -> PolicyChange:
    """`inline` is the role's inline policies as (name, exact text). The first one holding a badly
    scoped or over-broad S3 statement is rewritten; with none, a new scoped inline policy is added."""
    chosen: tuple[str, str | None] = (NEW_INLINE_POLICY, None)
    for name, text in inline:
        try:
            doc = parse(text)
        except ValidationError:
            continue
        if any(is_over_broad(s) or wrong_resource_shape(s, bucket) for s in statements(doc)):
            chosen = (name, text)
            break
    else:
        for name, text in inline:
            if name == NEW_INLINE_POLICY:
                chosen = (name, text)
    name, text = chosen
    existing = parse(text) if text is not None else None
    warnings: list[str] = []
    if existing is not None and any(is_over_broad(s) for s in statements(existing)):
        warnings.append(
            "An S3 grant on every bucket is replaced by one scoped to "
            f"{bucket}: if the role needs other buckets, grant them by name."
        )
    new = merge_role_policy(existing, account, region, bucket, prefix)
    checks = _validated(new, validate.IDENTITY_POLICY, existing)
    where = f"s3://{bucket}/{(prefix or '').lstrip('/')}"
    return PolicyChange(
        target=PolicyTarget(ROLE_INLINE_POLICY, role_name=role_name, policy_name=name),
        title=f"Scope role {role_name}'s S3 access to {where}"
        if existing is not None
        else f"Add a least-privilege inline policy to role {role_name}",
        reason=(
            f"The role gets s3:ListBucket and s3:GetBucketLocation on {bucket_arn(bucket)} and object actions "
            f"on {objects_arn(bucket, prefix)}, nothing on other buckets. Statements for other things are kept."
        ),
        old_text=text,
        new_text=pretty(new),
        warnings=tuple(warnings),
        checks=checks,
        fixes=fixes,
    )


# -- narrowing a Deny --------------------------------------------------------------------------------
def narrow_deny(stmt: dict, role_arn: str) -> dict:
    """The Deny with an exception for the role: `ArnNotEquals aws:PrincipalArn <role>` added (ANDed
    with its other conditions), so it still denies everyone else exactly as before."""
    if stmt.get("Effect") != "Deny":
        raise ValueError("only a Deny statement can be narrowed")
    out = copy.deepcopy(stmt)
    cond = out.setdefault("Condition", {})
    tests = cond.setdefault("ArnNotEquals", {})
    current = [str(v) for v in as_list(tests.get("aws:PrincipalArn"))]
    if role_arn not in current:
        current.append(role_arn)
    tests["aws:PrincipalArn"] = current[0] if len(current) == 1 else current
    return out


def narrow_deny_change(
    bucket: str,
    role_arn: str,
    old_text: str,
    index: int,
    *,
    sandbox: bool = False,
    fixes: tuple[str, ...] = (),
) -> PolicyChange:
    doc = parse(old_text)
    assert doc is not None
    stmts = as_list(doc.get("Statement"))
    if not (0 <= index < len(stmts)) or not isinstance(stmts[index], dict):
        raise ValidationError("statement", f"the bucket policy has no statement {index + 1}")
    new = copy.deepcopy(doc)
    new_stmts = as_list(new.get("Statement"))
    new_stmts[index] = narrow_deny(stmts[index], role_arn)
    new["Statement"] = new_stmts
    checks = _validated(new, validate.BUCKET_POLICY, doc)
    sid = stmts[index].get("Sid") or f"statement {index + 1}"
    warnings = [
        "The Deny stays in place for every other principal; only the role is excepted. If the Deny "
        "protects something the role must respect (for example encryption on upload), make the role's "
        "requests comply instead of applying this."
    ]
    if sandbox:
        warnings.append(
            "Sandbox limitation: the emulator treats any Deny with a Condition as denying every object "
            "request, so after this change the sandbox denies more than AWS would."
        )
    return PolicyChange(
        target=PolicyTarget(BUCKET_POLICY, bucket=bucket),
        title=f"Narrow the Deny {sid} so it no longer catches {role_name_of(role_arn)}",
        reason="A Deny is never deleted: an exception for the role is added to its condition.",
        old_text=old_text,
        new_text=pretty(new),
        warnings=tuple(warnings),
        checks=checks,
        fixes=fixes,
    )


# -- Block Public Access ---------------------------------------------------------------------------
def public_access_change(bucket: str, old_text: str | None, *, want_public: bool = False) -> PolicyChange:
    """All four settings on; or, only when the user asks for public access, the two policy ones off."""
    current = parse(old_text) or {}
    if want_public:
        new = {
            **{k: bool(current.get(k, True)) for k in BPA_KEYS},
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        }
        title = f"Allow a public bucket policy on {bucket} (Block Public Access partly off)"
        reason = (
            "You said the bucket must be public. This turns off BlockPublicPolicy and RestrictPublicBuckets on "
            "this bucket only; ACL blocking stays on. It is never needed for the role's own access."
        )
        warnings = (
            "SECURITY: anyone on the internet could then read what a public policy exposes. The account-level "
            "Block Public Access still applies and sagewiz does not change it.",
        )
    else:
        new = {k: True for k in BPA_KEYS}
        title = f"Turn Block Public Access fully on for {bucket}"
        reason = "Block Public Access never blocks the role's same-account access; keeping it on is the safe default."
        warnings = ()
    return PolicyChange(
        target=PolicyTarget(PUBLIC_ACCESS_BLOCK, bucket=bucket),
        title=title,
        reason=reason,
        old_text=old_text,
        new_text=pretty(new),
        warnings=warnings,
        checks=("settings are the four Block Public Access flags",),
    )


def _validated(doc: dict, kind: str, baseline: dict | None = None) -> tuple[str, ...]:
    validate.check(doc, kind, baseline=baseline)
    done = ["valid JSON", "IAM policy grammar", "policy linter (parliament): no new findings"]
    if kind == validate.BUCKET_POLICY:
        done += [
            "S3: every action applies to a listed resource",
            "not public (Block Public Access accepts it)",
        ]
    return tuple(done)
