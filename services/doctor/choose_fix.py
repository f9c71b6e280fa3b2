"""Choosing the fix for a missing identity grant: a change sagewiz can apply to the role's own
policy when the grant stays inside the wizard's flow, else a refusal that says why, else the
statement an administrator should attach."""

from __future__ import annotations

from services.doctor import fixes as fx
from services.doctor.case import Case
from services.doctor.model import Fix


def refused_resource(case: Case, action: str | None = None) -> str:
    """What a grant for the refused request covers: the refused prefix of the bucket for S3,
    else exactly the resource that was refused."""
    action = action or case.ctx.action
    if case.bucket and action.lower().startswith("s3:"):
        return fx.refused_scope(case.bucket, case.object_key, action)
    return case.ctx.resource


def identity_fix(case: Case, why: str, action: str | None = None, resource: str | None = None) -> Fix:
    action = action or case.ctx.action
    resource = resource if resource is not None else refused_resource(case, action)
    if case.is_role and case.role_name:
        try:
            return fx.grant_fix(case.scope, case.inline, action, resource, why)
        except Exception as exc:  # a builder refusing (e.g. unreadable policy) is reported, not raised
            return fx.admin_fix(f"{why} (sagewiz could not prepare the change: {exc})")
    from services.permissions.fixes.flow_grants import flow_grant_refusal

    scope = case.scope
    refusal = flow_grant_refusal(
        action,
        resource,
        bucket=scope.bucket,
        execution_role=scope.execution_role,
        kms_key=scope.kms_key,
        account=scope.account,
        region=case.region,
    )
    if refusal:
        return fx.refused_fix(why, refusal)
    return _attach_statement(case, why, action, resource)


def _attach_statement(case: Case, why: str, action: str, resource: str) -> Fix:
    """A user (not a role) cannot be changed by sagewiz: the statement to attach, for an admin."""
    stmt = {"Effect": "Allow", "Action": action, "Resource": resource}
    return fx.admin_fix(
        f"{why} Attach this statement to {case.ctx.principal_arn}'s policies.",
        [
            {
                "target": case.ctx.principal_arn,
                "call": "iam:Put*Policy",
                "document": {"Version": "2012-10-17", "Statement": [stmt]},
            }
        ],
    )
