"""Bucket-policy fixes: grant the role (by role ARN) `s3:ListBucket` + `s3:GetBucketLocation` on
the bucket and object actions on `bucket/*` (or `bucket/prefix*`), merged into the existing policy:
unrelated statements keep their place and order; statements that meant to grant the role this
bucket but got the Resource or Principal wrong are replaced in place. A grant of one refused request
(`bucket_statement_grant_change`) stays inside the wizard's flow."""

from __future__ import annotations

import copy
from typing import Any

from services.errors import ValidationError
from services.permissions import validate
from services.permissions.fixes.change import BUCKET_POLICY, PolicyChange, PolicyTarget, parse, pretty
from services.permissions.fixes.flow_grants import flow_grant_refusal
from services.permissions.fixes.safety import UnsafeFix, stated, subject_for, validated, verified
from services.permissions.fixes.shapes import (
    bucket_arn,
    names_role,
    objects_arn,
    one_or_list,
    repair_resource,
    role_name_of,
    unique_sid,
)
from services.permissions.matcher import as_list
from services.policy.minimal_change import Documents, Permitted

OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")
BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation")
BUCKET_SID = "SagewizRoleBucketLevel"
OBJECT_SID = "SagewizRoleObjectLevel"


def role_grant_statements(bucket: str, role_arn: str, prefix: str | None = None) -> list[dict[str, Any]]:
    """The two statements that let the role use the bucket (only when none exists to repair)."""
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


def _in_bucket(resource: str, bucket: str) -> bool:
    return resource == bucket_arn(bucket) or resource.startswith(bucket_arn(bucket) + "/")


def _grants_role_this_bucket(st: dict[str, Any], bucket: str, role_arn: str, role_id: str | None) -> bool:
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
    existing: dict[str, Any] | None,
    bucket: str,
    role_arn: str,
    prefix: str | None = None,
    role_id: str | None = None,
    objects_scope: str | None = None,
) -> tuple[dict[str, Any], list[Permitted]]:
    """The smallest repair: statements meant for this role and bucket keep their actions; a wrong
    Resource form gets the missing form added, a wrong Principal form (session, missing path,
    deleted role id) is replaced by the role's ARN. With none to repair, the role's two statements
    are added. Unrelated statements are untouched and keep their order. Returns what it grants."""
    doc = copy.deepcopy(existing) if existing else {"Version": "2012-10-17", "Statement": []}
    doc["Version"] = "2012-10-17"
    old = as_list(doc.get("Statement"))
    out: list[Any] = []
    permitted: list[Permitted] = []
    repaired = False
    for st in old:
        if isinstance(st, dict) and _grants_role_this_bucket(st, bucket, role_arn, role_id):
            new = dict(st)
            values = [str(v) for v in as_list(st["Principal"]["AWS"])]
            fixed = list(dict.fromkeys(role_arn if names_role(v, role_arn, role_id) else v for v in values))
            if fixed != values:
                new["Principal"] = {"AWS": one_or_list(fixed)}
                acts = [str(a) for a in as_list(st.get("Action"))]
                permitted += [Permitted(a, str(r), "the statement's own grant, now naming the role by its ARN")
                              for a in acts for r in as_list(st.get("Resource"))]  # fmt: skip
            new, added = repair_resource(new, bucket, prefix, objects_scope)
            permitted += added
            repaired = repaired or new != st
            out.append(new)
            continue
        out.append(st)
    if not repaired and not any(
        isinstance(s, dict) and _grants_role_this_bucket(s, bucket, role_arn, role_id) for s in old
    ):
        ours = role_grant_statements(bucket, role_arn, prefix)
        sids = {str(s.get("Sid")) for s in old if isinstance(s, dict) and s.get("Sid")}
        for st in ours:
            if st["Sid"] in sids:
                st["Sid"] = unique_sid(st["Sid"], sids)
            sids.add(st["Sid"])
        out.extend(ours)
        permitted += list(stated(list(BUCKET_ACTIONS), bucket_arn(bucket), "the role's bucket-level access"))
        permitted += list(
            stated(list(OBJECT_ACTIONS), objects_arn(bucket, prefix), "the role's object access")
        )
    doc["Statement"] = out
    return doc, permitted


def bucket_policy_change(
    bucket: str,
    role_arn: str,
    old_text: str | None,
    *,
    prefix: str | None = None,
    role_id: str | None = None,
    fixes: tuple[str, ...] = (),
    identity: tuple[tuple[str, str], ...] = (),
    objects_scope: str | None = None,
) -> PolicyChange:
    """Raises ValidationError when the current policy cannot be merged safely, UnsafeFix when the
    result fails the minimal-change check. `objects_scope` (the doctor's refused prefix) replaces
    bucket/prefix* as the object resource a repaired statement gains."""
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
    if existing is not None and validate.is_public(existing):
        raise ValidationError(
            "bucket policy",
            "the current bucket policy already grants public access; merging into it would produce a "
            "public policy, which Block Public Access rejects",
            "Remove the public statement first (or say you want public access), then re-check.",
        )
    new, permitted = merge_bucket_policy(existing, bucket, role_arn, prefix, role_id, objects_scope)
    checks = validated(new, validate.BUCKET_POLICY, existing)
    change = PolicyChange(
        target=PolicyTarget(BUCKET_POLICY, bucket=bucket),
        title=f"Repair the grant to {role_name_of(role_arn)} in the bucket policy of {bucket}",
        reason=(
            "The statement meant for the role keeps its actions: object actions get the object ARN "
            f"({objects_scope or objects_arn(bucket, prefix)}), bucket-level actions the bucket ARN, and the role is named by its "
            "role ARN (with its path), which covers every session of the role. Other statements are kept as they are."
        ),
        old_text=old_text,
        new_text=pretty(new),
        warnings=tuple(warnings),
        checks=checks,
        fixes=fixes,
    )
    before = Documents(identity, old_text if existing is not None else None)
    subject = subject_for(role_arn, bucket, "s3:GetObject", objects_arn(bucket, prefix))
    return verified(change, subject, before, tuple(permitted))


def bucket_statement_grant_change(
    bucket: str,
    role_arn: str,
    old_text: str | None,
    action: str,
    resource: str,
    *,
    identity: tuple[tuple[str, str], ...] = (),
    reason: str = "",
) -> PolicyChange:
    """One new bucket-policy statement granting the role exactly `action` on `resource` (the
    doctor's fix for a refused request); every existing statement is kept as it is."""
    refusal = flow_grant_refusal(action, resource, bucket=bucket)
    if refusal:
        raise UnsafeFix(refusal)
    existing = parse(old_text) if old_text is not None else None
    if existing is not None and validate.is_public(existing):
        raise ValidationError("bucket policy", "the current bucket policy already grants public access",
                              "Remove the public statement first, then re-check.")  # fmt: skip
    doc = copy.deepcopy(existing) if existing else {"Version": "2012-10-17", "Statement": []}
    doc["Version"] = "2012-10-17"
    stmts = as_list(doc.get("Statement"))
    sids = {str(s.get("Sid")) for s in stmts if isinstance(s, dict) and s.get("Sid")}
    sid = "SagewizDoctorGrant" if "SagewizDoctorGrant" not in sids else unique_sid("SagewizDoctorGrant", sids)
    stmts.append(
        {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"AWS": role_arn},
            "Action": action,
            "Resource": resource,
        }
    )
    doc["Statement"] = stmts
    checks = validated(doc, validate.BUCKET_POLICY, existing)
    change = PolicyChange(
        target=PolicyTarget(BUCKET_POLICY, bucket=bucket),
        title=f"Allow {role_name_of(role_arn)} {action} on {resource} in the bucket policy",
        reason=reason
        or f"One statement for exactly the refused request ({action} on {resource}); the others stay as they are.",
        old_text=old_text,
        new_text=pretty(doc),
        checks=checks,
    )
    subject = subject_for(role_arn, bucket, action, resource)
    return verified(
        change, subject, Documents(identity, old_text), (Permitted(action, resource, "the request refused"),)
    )
