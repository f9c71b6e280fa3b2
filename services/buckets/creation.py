"""The plan to create the bucket correctly, and carrying it out (journaled for clean-up)."""

from __future__ import annotations

import shlex
from typing import Any

from services.buckets.naming import sagemaker_warning, validate_bucket_name
from services.errors import ConflictError, SagewizError
from services.journal_events import Change, ResourceChanged, ResourceCreated
from services.plan import Action, Plan, tags_list
from services.resource_kinds import ResourceKind

ABORT_INCOMPLETE_AFTER_DAYS = 7


def abort_incomplete_uploads_rule() -> dict[str, Any]:
    """The lifecycle rule for a bucket sagewiz creates: the whole bucket, incomplete multipart
    uploads only (no object is ever expired by it)."""
    return {
        "ID": "sagewiz-abort-incomplete-multipart-uploads",
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_INCOMPLETE_AFTER_DAYS},
    }


def create_plan(name: str, region: str, account: str) -> Plan:
    """CreateBucket done right for the region, with AWS's safe defaults stated explicitly, tagged."""
    validate_bucket_name(name)
    params: dict[str, Any] = {"Bucket": name, "ObjectOwnership": "BucketOwnerEnforced"}
    if region != "us-east-1":
        # us-east-1 is the default and rejects an explicit LocationConstraint.
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    arn = f"arn:aws:s3:::{name}"
    actions = [
        Action(
            "s3",
            "create_bucket",
            params,
            f"Create bucket {name} in {region} (Object Ownership: bucket owner enforced, ACLs off)",
            undo=f"delete the bucket once empty (Clean up step, or: {shlex.join(['aws', 's3', 'rb', f's3://{name}'])})",
            resource=arn,
            journal=ResourceCreated(
                ResourceKind.BUCKET, name, arn, attributes={"region": region, "account": account}
            ),
        ),
        Action(
            "s3",
            "put_public_access_block",
            {
                "Bucket": name,
                "ExpectedBucketOwner": account,
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            },
            "Keep Block Public Access on for it (AWS's default for new buckets, stated explicitly)",
            resource=arn,
        ),
        Action(
            "s3",
            "put_bucket_lifecycle_configuration",
            {
                "Bucket": name,
                "ExpectedBucketOwner": account,
                "LifecycleConfiguration": {"Rules": [abort_incomplete_uploads_rule()]},
            },
            f"Abort multipart uploads left incomplete for {ABORT_INCOMPLETE_AFTER_DAYS} days (a killed copy's"
            " parts are otherwise stored, invisible and billed, until someone aborts them)",
            resource=arn,
            # journaled so Clean up can list the rule and offer its revert
            journal=ResourceChanged(
                ResourceKind.BUCKET,
                name,
                change=Change.LIFECYCLE_RULE_ADDED,
                attributes={"previous": [], "rule": abort_incomplete_uploads_rule()},
            ),
        ),
        Action(
            "s3",
            "put_bucket_tagging",
            {"Bucket": name, "ExpectedBucketOwner": account, "Tagging": {"TagSet": tags_list()}},
            "Tag it sagewiz:created-by=sagewiz, so Clean up can find it",
            resource=arn,
        ),
    ]
    warnings = []
    warning = sagemaker_warning(name)
    if warning:
        warnings.append(warning)
    return Plan(f"Create the S3 bucket {name}", tuple(actions), tuple(warnings))


def create_bucket(factory: Any, plan: Plan, journal: Any) -> None:
    """Apply a create_plan; say plainly when the name is taken."""
    from services.plan import apply_plan

    try:
        apply_plan(plan, factory, journal)
    except ConflictError as err:
        name = plan.actions[0].params["Bucket"]
        if err.code == "BucketAlreadyOwnedByYou":
            return
        raise ConflictError(
            "That bucket name is taken",
            f"Another AWS account already owns a bucket named {name}. Bucket names are global.",
            "Pick another name (keep 'sagemaker' in it).",
            code=err.code,
            operation="s3:CreateBucket",
        ) from err
    except SagewizError as err:
        if err.code in ("IllegalLocationConstraintException", "InvalidLocationConstraint"):
            raise SagewizError(
                "The bucket's region does not match",
                err.message,
                "Create it from a session in the bucket's region (sagewiz sets LocationConstraint for you).",
                code=err.code,
                operation="s3:CreateBucket",
            ) from err
        raise
