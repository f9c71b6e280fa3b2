"""A FailureReason explained in plain words with the next action: real texts from the sandbox's
jobs and SageMaker's own wording."""

from __future__ import annotations

import pytest

from services.job_failure import FailureKind, explain_failure
from services.training import build_request
from tests.train.conftest import grant_bucket, upload_csv, wait_done, xgb_config


@pytest.mark.parametrize(
    ("reason", "kind", "summary", "next_action", "doctor"),
    [
        (
            "ResourceLimitExceeded: The account-level service limit 'ml.p3.2xlarge for training job usage' "
            "is 0 Instances, with current utilization of 0 Instances and a request delta of 1 Instances.",
            FailureKind.QUOTA, "quota for ml.p3.2xlarge training in eu-north-1 is used up",
            'Service Quotas (SageMaker, "ml.p3.2xlarge for training job usage")', False,
        ),
        (
            "ValidationException: Instance type ml.p4d.24xlarge is not supported in this region.",
            FailureKind.INSTANCE_TYPE, "ml.p4d.24xlarge is not available for training in eu-north-1",
            "Pick another instance type", False,
        ),
        (
            "CapacityError: Unable to provision requested ML compute capacity. Please retry using a different ML instance type.",
            FailureKind.INSTANCE_TYPE, "is not available for training", "retry later", False,
        ),
        (
            "ClientError: Data download failed:Unable to download object s3://bkt/d/train.csv (AccessDenied: Access Denied)",
            FailureKind.PERMISSIONS, "may not read s3://bkt/d/train.csv", "permissions doctor", True,
        ),
        (
            "ClientError: Hyperparameter validation failed for 'eta': eta must be in [0, 1] (got 2).",
            FailureKind.HYPERPARAMETERS, "refused a hyperparameter", "Train step's form", False,
        ),
        (
            "ClientError: Unable to read data channel s3://b/x/train.csv as CSV (label first, no header): "
            "could not convert string to float: 'label'",
            FailureKind.DATA, "could not read the data", "label (a number) in the first column, no header", False,
        ),
        (
            "ClientError: Label 7 is out of range for num_classes 5.",
            FailureKind.DATA, "could not read the data", "num_classes matching the labels", False,
        ),
        (
            "ClientError: SageMaker was unable to assume the role arn:aws:iam::1:role/x. The role may have been deleted.",
            FailureKind.ROLE, "could not assume the execution role", "trust policy", False,
        ),
        (
            "InternalServerError: We encountered an internal error. Please try again.",
            FailureKind.INTERNAL, "AWS's side", "Start it again", False,
        ),
        ("AlgorithmError: something nobody wrote down", FailureKind.UNKNOWN, "does not recognise", "log", False),
        (
            "ClientError: Artifact upload failed:Please ensure that the subnet's route table has a route to an S3 "
            "VPC endpoint or a NAT device, and both the security groups and the subnet's network ACL allow outbound "
            "traffic to S3.",
            FailureKind.NETWORK, "could not reach S3", "adds an S3 gateway endpoint", True,
        ),
    ],
    ids=["quota", "region", "capacity", "s3-denied", "hyperparameter", "csv-header", "label-range", "role",
         "internal", "unknown", "vpc-no-route"],
)  # fmt: skip
def test_failure_reasons_are_explained(reason, kind, summary, next_action, doctor) -> None:
    explained = explain_failure(reason, "eu-north-1")
    assert explained is not None and explained.kind is kind
    assert summary in explained.summary and next_action in explained.next_action
    assert explained.doctor is doctor
    assert (explained.denial is not None) is (doctor and kind is FailureKind.PERMISSIONS)


def test_no_reason_no_explanation() -> None:
    assert explain_failure("") is None and explain_failure("   ") is None


def test_failures_of_sandbox_jobs_are_explained(world, factory) -> None:
    """The data problems the issue names: an empty prefix, a header row (a label that is not numeric),
    and a role that may not read the data."""
    upload_csv(factory, world)
    sm = factory.client("sagemaker")
    sm.create_training_job(**build_request(xgb_config(world, name="denied")))
    denied = wait_done(sm, "denied")
    grant_bucket(factory, world)
    s3 = factory.client("s3")
    s3.put_object(Bucket=world.default_bucket, Key="hdr/train/train.csv", Body=b"label,a,b\n1,0.5,0.2\n")
    s3.put_object(
        Bucket=world.default_bucket, Key="hdr/validation/validation.csv", Body=b"label,a,b\n1,0.5,0.2\n"
    )
    sm.create_training_job(**build_request(xgb_config(world, name="header", prefix="hdr")))
    sm.create_training_job(**build_request(xgb_config(world, name="empty", prefix="nothing-here")))
    explained = {
        name: explain_failure(wait_done(sm, name)["FailureReason"], world.region)
        for name in ("header", "empty")
    }
    explained["denied"] = explain_failure(denied["FailureReason"], world.region)
    assert explained["denied"] is not None and explained["denied"].kind is FailureKind.PERMISSIONS
    assert explained["denied"].denial is not None and explained["denied"].denial.action == "s3:GetObject"
    assert explained["header"] is not None and explained["header"].kind is FailureKind.DATA, explained[
        "header"
    ]
    assert "no header" in explained["header"].next_action
    empty = explained["empty"]
    assert empty is not None and empty.kind is FailureKind.DATA and "holds no objects" in empty.summary
    assert "Prepare or upload the data" in empty.next_action and empty.doctor  # or a listing refused
