"""Identity-policy fixes: a least-privilege inline role policy scoped to the bucket (and prefix),
replacing statements with the wrong Resource shape; over-broad grants such as `s3:*` on
`arn:aws:s3:::*` are narrowed as a separate change. Other statements are kept."""

from __future__ import annotations

import copy
import json
from typing import Any

from services.errors import ValidationError
from services.permissions import validate
from services.permissions.fixes.change import ROLE_INLINE_POLICY, PolicyChange, PolicyTarget, parse, pretty
from services.permissions.fixes.safety import stated, subject_for, validated, verified
from services.permissions.fixes.shapes import (
    bucket_arn,
    objects_arn,
    one_or_list,
    repair_resource,
    unique_sid,
    wrong_resource_shape,
)
from services.permissions.matcher import as_list, statements
from services.policy.minimal_change import Documents, Permitted

ROLE_BUCKET_SID = "SagewizBucketLevel"
ROLE_OBJECT_SID = "SagewizObjectLevel"
NEW_INLINE_POLICY = "sagewiz-least-privilege"


def least_privilege(account: str, region: str, bucket: str, prefix: str | None = None) -> dict[str, Any]:
    """services.roles.documents.least_privilege_policy (the notebook step's), the one source of that policy,
    with s3:GetBucketLocation moved out of any statement conditioned on s3:prefix (that key is
    never present for GetBucketLocation, so the condition would deny it)."""
    from services.roles.documents import least_privilege_policy

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


def _scoped_statements(account: str, region: str, bucket: str, prefix: str | None) -> list[dict[str, Any]]:
    """The S3 statements of the least-privilege role policy, with sagewiz's Sids (what a scoped
    replacement of an over-broad grant looks like)."""
    doc = least_privilege(account, region, bucket, prefix)
    out: list[dict[str, Any]] = []
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


def is_over_broad(st: dict[str, Any]) -> bool:
    """An S3-only Allow on every bucket: `s3:*` (or `s3:*Object`) on `*` / `arn:aws:s3:::*`."""
    if st.get("Effect") != "Allow" or "Action" not in st:
        return False
    actions = [str(a) for a in as_list(st["Action"])]
    if not actions or not all(a.lower().startswith("s3:") for a in actions):
        return False
    resources = [str(r) for r in as_list(st.get("Resource"))]
    broad = [r for r in resources if r in {"*", "arn:aws:s3:::*", "arn:aws:s3:::*/*"}]
    return bool(broad) and any("*" in a for a in actions)


def merge_role_policy(
    existing: dict[str, Any] | None,
    bucket: str,
    prefix: str | None = None,
    missing: tuple[tuple[str, str], ...] = (),
) -> tuple[dict[str, Any], list[Permitted]]:
    """The smallest repair of the role's policy for this bucket: a statement with the wrong
    Resource form gets the form its own actions need added (its actions, conditions and other
    resources stay); over-broad grants are left alone (narrowing them is a separate proposal).
    The `missing` (action, resource) pairs the repair does not cover are granted, nothing more."""
    doc = copy.deepcopy(existing) if existing else {"Version": "2012-10-17", "Statement": []}
    doc["Version"] = "2012-10-17"
    out: list[Any] = []
    permitted: list[Permitted] = []
    for st in as_list(doc.get("Statement")):
        if isinstance(st, dict) and wrong_resource_shape(st, bucket):
            new, added = repair_resource(st, bucket, prefix)
            out.append(new)
            permitted += added
        else:
            out.append(st)
    still = [(a, r) for a, r in missing if not any(p.covers(a, r) for p in permitted)]
    if still:
        sids = {str(s.get("Sid")) for s in out if isinstance(s, dict) and s.get("Sid")}
        objects = [a for a, r in still if validate.action_level(a) == "object"]
        buckets = [a for a, r in still if validate.action_level(a) != "object"]
        for acts, res, sid in (
            (buckets, bucket_arn(bucket), ROLE_BUCKET_SID),
            (objects, objects_arn(bucket, prefix), ROLE_OBJECT_SID),
        ):
            if not acts:
                continue
            acts = list(dict.fromkeys(acts))
            out.append({"Sid": sid if sid not in sids else unique_sid(sid, sids), "Effect": "Allow",
                        "Action": one_or_list(acts), "Resource": res})  # fmt: skip
            sids.add(sid)
            permitted += list(stated(acts, res, "what SageMaker needs on the bucket and the role lacks"))
    doc["Statement"] = out
    return doc, permitted


def role_policy_change(
    role_name: str,
    account: str,
    region: str,
    bucket: str,
    inline: list[tuple[str, str]],
    *,
    prefix: str | None = None,
    fixes: tuple[str, ...] = (),
    missing: tuple[tuple[str, str], ...] = (),
    role_arn: str | None = None,
) -> PolicyChange:
    """`inline` is the role's inline policies as (name, exact text). The first one holding a badly
    scoped statement for this bucket is repaired in place; with none, the `missing` pairs are
    granted in sagewiz's own inline policy. Checked for minimal change before it is returned."""
    del region
    chosen: tuple[str, str | None] = (NEW_INLINE_POLICY, None)
    for pname, ptext in inline:
        try:
            doc = parse(ptext)
        except ValidationError:
            continue
        if any(wrong_resource_shape(s, bucket) for s in statements(doc)):
            chosen = (pname, ptext)
            break
    else:
        for pname, ptext in inline:
            if pname == NEW_INLINE_POLICY:
                chosen = (pname, ptext)
    name, text = chosen
    existing = parse(text) if text is not None else None
    new, permitted = merge_role_policy(existing, bucket, prefix, missing)
    if not permitted:
        raise ValidationError(
            "role policy", "there is nothing to repair or grant in the role's policies for this bucket"
        )
    checks = validated(new, validate.IDENTITY_POLICY, existing)
    where = f"s3://{bucket}/{(prefix or '').lstrip('/')}"
    stated = sorted({f"{p.action} on {p.resource}" for p in permitted})
    change = PolicyChange(
        target=PolicyTarget(ROLE_INLINE_POLICY, role_name=role_name, policy_name=name),
        title=f"Repair role {role_name}'s S3 access to {where}"
        if existing is not None
        else f"Grant role {role_name} what it lacks on {where}",
        reason=(
            "Only what the role's own statements already name, on the resource form those actions need, "
            f"or what it lacks: {'; '.join(stated)}. Every other statement and grant is kept as it is."
        ),
        old_text=text,
        new_text=pretty(new),
        checks=checks,
        fixes=fixes,
    )
    arn = role_arn or f"arn:aws:iam::{account}:role/{role_name}"
    subject = subject_for(arn, bucket, "s3:GetObject", objects_arn(bucket, prefix))
    return verified(change, subject, Documents(tuple(inline)), tuple(permitted))


def narrow_grant_change(
    role_name: str,
    bucket: str,
    inline: list[tuple[str, str]],
    *,
    prefix: str | None = None,
    fixes: tuple[str, ...] = (),
    role_arn: str | None = None,
) -> PolicyChange:
    """A separate proposal: over-broad S3 grants (`s3:*` on every bucket) keep their actions but
    are scoped to this bucket and its objects. It narrows on purpose, so its own diff lists what
    stops being allowed; nothing may become allowed."""
    found = None
    for pname, ptext in inline:
        try:
            pdoc = parse(ptext)
        except ValidationError:
            continue
        if pdoc is not None and any(is_over_broad(s) for s in statements(pdoc)):
            found = (pname, ptext, pdoc)
            break
    if found is None:
        raise ValidationError("role policy", "no inline policy of the role grants S3 on every bucket")
    name, text, doc = found
    new = copy.deepcopy(doc)
    out = []
    for st in as_list(new.get("Statement")):
        if isinstance(st, dict) and is_over_broad(st):
            st = {**st, "Resource": [bucket_arn(bucket), objects_arn(bucket, prefix)]}
        out.append(st)
    new["Statement"] = out
    # s3:* kept on the bucket: some S3 actions name other resource types (the linter says so)
    checks = validated(new, validate.IDENTITY_POLICY, doc, ignore=("RESOURCE_MISMATCH",))
    change = PolicyChange(
        target=PolicyTarget(ROLE_INLINE_POLICY, role_name=role_name, policy_name=name),
        title=f"Narrow role {role_name}'s S3 grant on every bucket to {bucket}",
        reason=(
            "A separate change: the statement keeps every action it grants, but only on "
            f"{bucket_arn(bucket)} and {objects_arn(bucket, prefix)}. The role loses access to every other bucket."
        ),
        old_text=text,
        new_text=pretty(new),
        warnings=(
            "The role loses S3 access to every other bucket: if it needs one, grant it by name first.",
        ),
        checks=checks,
        fixes=fixes,
    )
    arn = role_arn or f"arn:aws:iam::000000000000:role/{role_name}"
    subject = subject_for(arn, bucket, "s3:GetObject", objects_arn(bucket, prefix))
    return verified(change, subject, Documents(tuple(inline)), (), narrowing=True)
