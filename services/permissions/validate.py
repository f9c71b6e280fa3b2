"""Check a policy document before it is sent: JSON, IAM grammar, S3's own bucket-policy rules,
size limits, and whether Block Public Access would call it public.

`problems(doc, kind)` lists what is wrong in plain words; `check(doc, kind)` raises a
ValidationError naming the first problem. When the `parliament` linter is installed it runs too
and its findings count as problems.
"""

from __future__ import annotations

import json
import re
from typing import Any

from services.errors import ValidationError
from services.permissions.matcher import as_list

BUCKET_POLICY = "bucket-policy"
IDENTITY_POLICY = "identity-policy"

_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*?]+$")
_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|aws-eusc|\*):[a-z0-9-*]+:[a-z0-9-*]*:(\d{12}|\*|aws)?:.+$")
_STATEMENT_KEYS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
                   "NotResource", "Condition"}  # fmt: skip
# Object-level S3 actions apply to `arn:aws:s3:::bucket/key`, bucket-level ones to the bucket ARN.
BUCKET_LEVEL_PREFIXES = (
    "s3:ListBucket",
    "s3:GetBucket",
    "s3:PutBucket",
    "s3:DeleteBucket",
    "s3:CreateBucket",
)
SIZE_LIMITS = {BUCKET_POLICY: 20 * 1024, IDENTITY_POLICY: 10240}


def action_level(action: str) -> str:
    """'bucket', 'object' or 'any' (wildcards and non-S3 actions)."""
    if "*" in action or "?" in action or not action.lower().startswith("s3:"):
        return "any"
    if action.startswith(BUCKET_LEVEL_PREFIXES) or action in {
        "s3:ListBucketVersions",
        "s3:ListBucketMultipartUploads",
    }:
        return "bucket"
    return "object"


def resource_level(arn: str) -> str:
    if arn == "*" or not arn.startswith("arn:aws:s3:::"):
        return "any"
    rest = arn[len("arn:aws:s3:::") :]
    if "/" in rest:
        return "object"
    return "any" if "*" in rest or "?" in rest else "bucket"


def is_public(doc: Any) -> bool:
    """S3's meaning of a public policy (services.policy.s3, the one implementation of AWS's rule).
    A document our parser cannot read is treated as public: nothing is proposed into it."""
    from services.policy import PolicyError, parse_policy
    from services.policy.s3 import is_public_policy

    try:
        return is_public_policy(parse_policy(doc))
    except PolicyError:
        return True


def problems(doc: Any, kind: str, baseline: Any = None, ignore: tuple[str, ...] = ()) -> list[str]:
    """Everything wrong with `doc`. Linter findings already present in `baseline` (the document
    being replaced) are not counted: a merge must not be refused for what the user already had."""
    out: list[str] = []
    try:
        text = json.dumps(doc)
    except (TypeError, ValueError) as exc:
        return [f"not JSON-serialisable: {exc}"]
    if not isinstance(doc, dict):
        return ["a policy must be a JSON object"]
    if doc.get("Version") != "2012-10-17":
        out.append('"Version" must be "2012-10-17" (policy variables and newer grammar need it)')
    stmts = as_list(doc.get("Statement"))
    if not stmts:
        out.append('"Statement" must hold at least one statement')
    sids: set[str] = set()
    for n, st in enumerate(stmts, 1):
        where = f"statement {n}"
        if not isinstance(st, dict):
            out.append(f"{where} is not an object")
            continue
        sid = st.get("Sid")
        if sid is not None:
            where = f"statement {n} ({sid})"
            if not re.fullmatch(r"[A-Za-z0-9]*", str(sid)):
                out.append(f"{where}: Sid may hold only letters and digits")
            if sid in sids:
                out.append(f"{where}: Sid is used twice")
            sids.add(str(sid))
        unknown = set(st) - _STATEMENT_KEYS
        if unknown:
            out.append(f"{where}: unknown element(s) {', '.join(sorted(unknown))}")
        if st.get("Effect") not in ("Allow", "Deny"):
            out.append(f'{where}: "Effect" must be "Allow" or "Deny"')
        if ("Action" in st) == ("NotAction" in st):
            out.append(f'{where}: needs exactly one of "Action" and "NotAction"')
        if ("Resource" in st) == ("NotResource" in st):
            out.append(f'{where}: needs exactly one of "Resource" and "NotResource"')
        has_principal = "Principal" in st or "NotPrincipal" in st
        if kind == BUCKET_POLICY and not has_principal:
            out.append(f'{where}: a bucket policy statement needs a "Principal"')
        if kind == IDENTITY_POLICY and has_principal:
            out.append(f'{where}: an identity policy must not name a "Principal"')
        actions = [str(a) for a in as_list(st.get("Action", st.get("NotAction")))]
        for a in actions:
            if a != "*" and not _ACTION.match(a):
                out.append(f"{where}: action {a!r} is not of the form service:Action")
        resources = [str(r) for r in as_list(st.get("Resource", st.get("NotResource")))]
        for r in resources:
            if r != "*" and not _ARN.match(r):
                out.append(f"{where}: resource {r!r} is not an ARN")
        if kind == BUCKET_POLICY and "Action" in st and "Resource" in st:
            out.extend(_s3_applicability(where, actions, resources))
        cond = st.get("Condition")
        if cond is not None and not (
            isinstance(cond, dict) and all(isinstance(v, dict) for v in cond.values())
        ):
            out.append(f'{where}: "Condition" must map operators to {{key: values}}')
    limit = SIZE_LIMITS.get(kind)
    if limit and len(re.sub(r"\s", "", text)) > limit:
        out.append(f"the policy is longer than the {limit}-character limit")
    if not out:
        found = [
            f for f in _lint(text, kind) if not any(f.startswith(f"policy linter: {i} ") for i in ignore)
        ]
        if found and isinstance(baseline, dict):
            try:
                old = set(_lint(json.dumps(baseline), kind))
            except (TypeError, ValueError):
                old = set()
            found = [f for f in found if f not in old]
        out.extend(found)
    return out


def _s3_applicability(where: str, actions: list[str], resources: list[str]) -> list[str]:
    # S3 refuses a bucket policy statement in which no action fits any resource
    # ("MalformedPolicy: Action does not apply to any resource(s) in statement").
    if not resources or not actions:
        return []
    for a in actions:
        la = action_level(a)
        for r in resources:
            lr = resource_level(r)
            if la == "any" or lr == "any" or la == lr:
                return []
    return [f"{where}: no action applies to the listed resources (S3 would refuse it as MalformedPolicy)"]


def _lint(text: str, kind: str) -> list[str]:
    try:
        from parliament import analyze_policy_string
    except ImportError:  # the linter is optional at run time; the grammar checks above always run
        return []
    try:
        policy = analyze_policy_string(text, ignore_private_auditors=True)
    except Exception as exc:  # a linter crash must not block a valid change; say so instead
        return [f"the policy linter failed: {type(exc).__name__}"]
    out = []
    for f in policy.findings:
        if kind == BUCKET_POLICY and f.issue in {"UNKNOWN_PRINCIPAL"}:
            continue
        out.append(f"policy linter: {f.issue} {f.detail}")
    return out


def check(
    doc: Any, kind: str, *, refuse_public: bool = True, baseline: Any = None, ignore: tuple[str, ...] = ()
) -> None:
    """Raise ValidationError naming the first problem; public bucket policies are refused. `ignore`
    names linter findings a change may add on purpose (for example RESOURCE_MISMATCH when a narrowed
    `s3:*` keeps every action on the bucket)."""
    found = problems(doc, kind, baseline, ignore)
    if found:
        raise ValidationError(
            "policy",
            found[0] + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""),
            "sagewiz will not send a policy that fails validation; nothing was changed.",
        )
    if refuse_public and kind == BUCKET_POLICY and is_public(doc):
        raise ValidationError(
            "policy",
            "the policy would make the bucket public, which Block Public Access rejects",
            "sagewiz only proposes policies naming specific principals.",
        )
