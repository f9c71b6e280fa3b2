"""Fix builders for the doctor: thin adapters over the Permissions step's machinery
(services.permissions.fixes for the documents, services.permissions.apply for diff, backup to the
journal, concurrent-change refusal, apply, re-read and undo), plus the few non-policy fixes.

Never turns Block Public Access off and never deletes a Deny: Denies are narrowed by
services.permissions.fixes.narrow_deny_change (an exception for the principal).
"""

from __future__ import annotations

import json
from typing import Any

from services.doctor.model import Fix
from services.plan import Action, Plan, tags_list

GRANTS_POLICY = "sagewiz-doctor-grants"
_STANDARD_S3 = {
    "s3:listbucket",
    "s3:getbucketlocation",
    "s3:getobject",
    "s3:putobject",
    "s3:deleteobject",
    "s3:abortmultipartupload",
}


def _change_json(change: Any) -> dict[str, Any]:
    from services.permissions.apply import to_plan

    action = to_plan(change).actions[0]
    doc: Any = None
    if change.new_text is not None:
        try:
            doc = json.loads(change.new_text)
        except ValueError:
            doc = change.new_text
    return {
        "target": change.target.describe(),
        "call": action.api_call(),
        "document": doc,
        "diff": change.diff,
    }


def _from_changes(description: str, changes: list[Any], warnings: tuple[str, ...] = ()) -> Fix:
    all_warnings = tuple(w for c in changes for w in getattr(c, "warnings", ())) + warnings
    return Fix(
        description=description,
        changes=tuple(_change_json(c) for c in changes),
        policy_changes=tuple(changes),
        warnings=all_warnings,
    )


def role_s3_fix(
    role_name: str,
    account: str,
    region: str,
    bucket: str,
    action: str,
    resource: str,
    inline: list[tuple[str, str]],
    why: str,
) -> Fix:
    """The role's least-privilege S3 access to the bucket (the Permissions step's builder), or for
    actions outside that set, one statement for exactly this action and resource."""
    if action.lower() in _STANDARD_S3:
        from services.permissions.fixes import role_policy_change

        change = role_policy_change(role_name, account, region, bucket, inline)
        return _from_changes(f"{why} {change.title}: {change.reason}", [change])
    stmt = {"Sid": "SagewizDoctorGrant", "Effect": "Allow", "Action": action, "Resource": resource}
    return grant_statement_fix(
        role_name, inline, stmt, f"{why} Allow {action} on {resource} in an inline policy."
    )


def grant_statement_fix(
    role_name: str, inline: list[tuple[str, str]], stmt: dict[str, Any], description: str
) -> Fix:
    """Add one statement to the role's `sagewiz-doctor-grants` inline policy (created if absent)."""
    from services.permissions.fixes import ROLE_INLINE_POLICY, PolicyChange, PolicyTarget, pretty

    old_text = next((t for n, t in inline if n == GRANTS_POLICY), None)
    doc: dict[str, Any] = {"Version": "2012-10-17", "Statement": []}
    if old_text:
        try:
            loaded = json.loads(old_text)
            if isinstance(loaded, dict):
                doc = loaded
        except ValueError:
            pass
    stmts = doc.get("Statement")
    stmts = [stmts] if isinstance(stmts, dict) else list(stmts or [])
    sids = {s.get("Sid") for s in stmts if isinstance(s, dict)}
    base, n = stmt.get("Sid", "SagewizDoctorGrant"), 1
    while stmt.get("Sid") in sids:
        n += 1
        stmt = {**stmt, "Sid": f"{base}{n}"}
    stmts.append(stmt)
    doc["Statement"] = stmts
    change = PolicyChange(
        target=PolicyTarget(ROLE_INLINE_POLICY, role_name=role_name, policy_name=GRANTS_POLICY),
        title=f"Add a statement to role {role_name}'s inline policy {GRANTS_POLICY}",
        reason=description,
        old_text=old_text,
        new_text=pretty(doc),
    )
    return _from_changes(description, [change])


def bucket_grant_fix(bucket: str, role_arn: str, old_text: str | None, role_id: str | None, why: str) -> Fix:
    from services.permissions.fixes import bucket_policy_change

    change = bucket_policy_change(bucket, role_arn, old_text, role_id=role_id)
    return _from_changes(f"{why} {change.title}: {change.reason}", [change])


def narrow_deny_fix(
    bucket: str, principal_arn: str, old_text: str, index: int, sandbox: bool, why: str
) -> Fix:
    from services.permissions.fixes import narrow_deny_change

    change = narrow_deny_change(bucket, principal_arn, old_text, index, sandbox=sandbox)
    return _from_changes(f"{why} {change.title}. {change.reason}", [change])


def create_bucket_fix(bucket: str, region: str) -> Fix:
    params: dict[str, Any] = {"Bucket": bucket}
    if region and region != "us-east-1":  # us-east-1 takes no LocationConstraint
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    plan = Plan(
        title=f"Create bucket {bucket} in {region}",
        actions=(
            Action(
                "s3",
                "create_bucket",
                params,
                f"Create the bucket {bucket} ({region}); Block Public Access, SSE-S3 and BucketOwnerEnforced are AWS's defaults",
                undo="delete the bucket from the Clean up step",
                resource=f"arn:aws:s3:::{bucket}",
                journal_kind="resource-created",
                journal_data={"type": "s3-bucket", "id": bucket, "region": region},
            ),
            Action(
                "s3",
                "put_bucket_tagging",
                {"Bucket": bucket, "Tagging": {"TagSet": tags_list()}},
                "Tag it as created by sagewiz",
                resource=f"arn:aws:s3:::{bucket}",
            ),
        ),
    )
    return Fix(
        description=f"Create the bucket {bucket} in {region} (or correct the bucket name if it is a typo).",
        changes=({"target": f"bucket {bucket}", "call": "s3:CreateBucket", "document": params},),
        plan=plan,
    )


def ownership_fix(bucket: str, current: str | None) -> Fix:
    params = {"Bucket": bucket, "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}
    plan = Plan(
        title=f"Disable ACLs on {bucket} (Object Ownership: BucketOwnerEnforced)",
        actions=(
            Action(
                "s3",
                "put_bucket_ownership_controls",
                params,
                "Set Object Ownership to BucketOwnerEnforced: the bucket owner owns every object, ACLs stop mattering",
                diff=f"- ObjectOwnership: {current or '(none: ObjectWriter)'}\n+ ObjectOwnership: BucketOwnerEnforced",
                undo=f"set Object Ownership back to {current or 'ObjectWriter'}",
                resource=f"arn:aws:s3:::{bucket}",
                journal_kind="resource-changed",
                journal_data={"type": "s3-object-ownership", "id": bucket, "old": current or "ObjectWriter"},
            ),
        ),
        warnings=(
            "Any access granted only by ACLs stops working: move such grants into the bucket policy first.",
        ),
    )
    return Fix(
        description="Disable ACLs (AWS's recommended Object Ownership setting, BucketOwnerEnforced), so the "
        "bucket owner owns the object and the bucket policy applies to it.",
        changes=(
            {"target": f"bucket {bucket}", "call": "s3:PutBucketOwnershipControls", "document": params},
        ),
        plan=plan,
        warnings=plan.warnings,
    )


def admin_fix(description: str, changes: list[dict[str, Any]] | None = None) -> Fix:
    """A fix only someone else can apply (org admin, boundary owner, bucket owner)."""
    return Fix(description=description, changes=tuple(changes or ()), admin_only=True)


def client_fix(description: str, **request_changes: Any) -> Fix:
    """A change to how the request is made; nothing in AWS changes."""
    return Fix(
        description=description,
        changes=({"target": "the request", "call": "none", "document": request_changes},),
        request_changes=request_changes,
    )


def apply_fix(factory: Any, journal: Any, fix: Fix) -> list[Any]:
    """Apply with backups: policy documents through services.permissions.apply.apply_change (refuses
    if the document changed since it was read), other changes as a journaled Plan."""
    from services.permissions.apply import apply_change
    from services.plan import apply_plan

    done: list[Any] = []
    for change in fix.policy_changes:
        done.append(apply_change(factory, journal, change))
    if fix.plan is not None:
        done.extend(apply_plan(fix.plan, factory, journal))
    return done


def fix_plan(fix: Fix) -> Plan:
    """One Plan for the confirmation screen and --dry-run."""
    from services.permissions.apply import to_plan

    actions: list[Action] = []
    warnings: list[str] = list(fix.warnings)
    for change in fix.policy_changes:
        p = to_plan(change)
        actions.extend(p.actions)
    if fix.plan is not None:
        actions.extend(fix.plan.actions)
        warnings.extend(w for w in fix.plan.warnings if w not in warnings)
    # A short title (the change's own); the full description is on the doctor screen already.
    title = (
        fix.policy_changes[0].title
        if fix.policy_changes
        else (fix.plan.title if fix.plan is not None else fix.description)
    )
    return Plan(title=title, actions=tuple(actions), warnings=tuple(dict.fromkeys(warnings)))
