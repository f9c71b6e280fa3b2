"""Fix builders for the doctor: thin adapters over the Permissions step's machinery
(services.permissions.fixes for the documents, services.permissions.apply for diff, backup to the
journal, concurrent-change refusal, apply, re-read and undo), plus the few non-policy fixes.

Never turns Block Public Access off and never deletes or disables a Deny: an exception is offered
only for the exact request refused (services.permissions.fixes.narrow_deny_change). Grants from a
refused request stay inside the wizard's flow (services.permissions.fixes.flow_grant_refusal) and
every policy change passes the minimal-change check (services.policy.minimal_change).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from services.doctor.model import Fix
from services.errors import ValidationError
from services.journal_events import Change, ResourceChanged, ResourceCreated
from services.plan import Action, Plan, tags_list
from services.remedy import Face
from services.resource_kinds import ResourceKind

GRANTS_POLICY = "sagewiz-doctor-grants"


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


def refused_scope(bucket: str, key: str | None, action: str) -> str:
    """The scope of a refusal: the bucket for bucket-level actions; for object actions the folder
    (prefix) of the refused key, the key itself at the top level, or bucket/* when no key was known."""
    from services.policy.s3 import is_bucket_action

    if is_bucket_action(action):
        return f"arn:aws:s3:::{bucket}"
    if not key or key == "*":
        return f"arn:aws:s3:::{bucket}/*"
    head, sep, _ = key.rpartition("/")
    return f"arn:aws:s3:::{bucket}/{head}/*" if sep else f"arn:aws:s3:::{bucket}/{key}"


def algorithm_registries(region: str) -> frozenset[str]:
    """The ECR registry accounts of SageMaker's built-in algorithms in `region` (from the SDK)."""
    from services.algorithms import algorithms
    from services.training import image_uri

    out = set()
    for algo_id in algorithms():
        try:
            uri = image_uri(algo_id, region)
        except Exception:  # the SDK missing or the region unsupported: nothing is allowed
            continue
        out.add(uri.split(".", 1)[0])
    return frozenset(out)


@dataclass(frozen=True)
class GrantScope:
    """What a grant from a refused request may be checked against (the wizard's own flow)."""

    role_arn: str
    account: str
    region: str
    bucket: str | None = None  # the chosen bucket (owned by the account)
    execution_role: str | None = None
    kms_key: str | None = None
    identity: tuple[tuple[str, str], ...] = ()  # the principal's identity policies (name, text)


def grant_fix(
    scope: GrantScope,
    inline: list[tuple[str, str]],
    action: str,
    resource: str,
    why: str,
    *,
    condition: dict[str, Any] | None = None,
    sid: str = "SagewizDoctorGrant",
) -> Fix:
    """One statement for exactly `action` on `resource` in the role's `sagewiz-doctor-grants`
    inline policy, if the flow rule allows it and the minimal-change check passes; otherwise an
    admin fix saying why nothing is proposed."""
    from services.permissions.fixes.flow_grants import flow_grant_refusal

    registries: frozenset[str] = frozenset()
    if action.lower().startswith("ecr:"):
        registries = algorithm_registries(scope.region)
    refusal = flow_grant_refusal(
        action, resource, bucket=scope.bucket, execution_role=scope.execution_role, kms_key=scope.kms_key,
        account=scope.account, region=scope.region, algorithm_registries=registries,
    )  # fmt: skip
    if refusal:
        return refused_fix(why, refusal)
    stmt: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource}
    if action.lower() == "iam:passrole":
        stmt["Condition"] = {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    if condition:
        stmt["Condition"] = condition
    try:
        return grant_statement_fix(
            scope, inline, stmt, f"{why} Allow {action} on {resource} (nothing else) in an inline policy."
        )
    except ValidationError as exc:
        return refused_fix(why, f"{exc.message} {exc.hint}".strip())


def refused_fix(why: str, reason: str) -> Fix:
    return admin_fix(
        f"{why} sagewiz proposes no change here: {reason} Send the report to an administrator if the access is needed."
    )


def grant_statement_fix(
    scope: GrantScope, inline: list[tuple[str, str]], stmt: dict[str, Any], description: str
) -> Fix:
    """Add one statement to the role's `sagewiz-doctor-grants` inline policy (created if absent),
    checked: only that statement's own request may become allowed."""
    from services.permissions.fixes.change import ROLE_INLINE_POLICY, PolicyChange, PolicyTarget, pretty
    from services.permissions.fixes.safety import subject_for, verified
    from services.policy.minimal_change import Documents, Permitted

    role_name = scope.role_arn.rsplit("/", 1)[-1]
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
    action, resource = str(stmt["Action"]), str(stmt["Resource"])
    identity = scope.identity or tuple(inline)
    if not any(n == GRANTS_POLICY for n, _ in identity) and old_text is not None:
        identity = (*identity, (GRANTS_POLICY, old_text))
    subject = subject_for(scope.role_arn, scope.bucket, action, resource)
    change = verified(
        change, subject, Documents(identity), (Permitted(action, resource, "the request refused"),)
    )
    return _from_changes(description, [change])


def bucket_grant_fix(
    bucket: str, role_arn: str, old_text: str | None, action: str, resource: str, why: str,
    identity: tuple[tuple[str, str], ...] = (),
) -> Fix:  # fmt: skip
    """One bucket-policy statement for exactly the refused request; existing statements stay."""
    from services.permissions.fixes.bucket_policy import bucket_statement_grant_change

    try:
        change = bucket_statement_grant_change(
            bucket, role_arn, old_text, action, resource, identity=identity
        )
    except ValidationError as exc:
        return refused_fix(why, f"{exc.message} {exc.hint}".strip())
    return _from_changes(f"{why} {change.title}: {change.reason}", [change])


def bucket_repair_fix(
    bucket: str, role_arn: str, old_text: str | None, role_id: str | None, scope: str, why: str,
    identity: tuple[tuple[str, str], ...] = (),
) -> Fix:  # fmt: skip
    """The statement meant for the role gets the object resource its own actions need, limited to
    the refused scope; nothing else changes."""
    from services.permissions.fixes.bucket_policy import bucket_policy_change

    try:
        change = bucket_policy_change(
            bucket, role_arn, old_text, role_id=role_id, identity=identity, objects_scope=scope
        )
    except ValidationError as exc:
        return refused_fix(why, f"{exc.message} {exc.hint}".strip())
    return _from_changes(f"{why} {change.title}: {change.reason}", [change])


def deny_exception_fix(
    bucket: str, role_arn: str, old_text: str, index: int, action: str, resource: str,
    role_id: str | None = None, identity: tuple[tuple[str, str], ...] = (),
) -> Fix:  # fmt: skip
    """An exception to a bucket-policy Deny for exactly the refused request, or (a Deny aimed at
    the principal, or one enforcing a practice) an admin fix that says why, and how to comply."""
    from services.permissions.fixes.deny_exceptions import narrow_deny_change
    from services.permissions.fixes.safety import UnsafeFix

    try:
        change = narrow_deny_change(
            bucket, role_arn, old_text, index, action=action, resource=resource, role_id=role_id,
            identity=identity,
        )  # fmt: skip
    except UnsafeFix as exc:
        return admin_fix(f"No exception is proposed: {exc.message} {exc.hint}".strip())
    except ValidationError as exc:
        return admin_fix(f"No exception could be prepared: {exc.message} {exc.hint}".strip())
    return _from_changes(f"An exception to a guardrail. {change.title}. {change.reason}", [change])


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
                journal=ResourceCreated(ResourceKind.BUCKET, bucket, attributes={"region": region}),
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
                journal=ResourceChanged(
                    ResourceKind.BUCKET,
                    bucket,
                    change=Change.OWNERSHIP_CHANGED,
                    attributes={"old": current or "ObjectWriter"},
                ),
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


def fix_plan(fix: Fix, face: Face) -> Plan:
    """One Plan for the confirmation screen and --dry-run (undo said as `face` can do it)."""
    from services.permissions.apply import to_plan

    actions: list[Action] = []
    warnings: list[str] = list(fix.warnings)
    for change in fix.policy_changes:
        p = to_plan(change, face)
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
