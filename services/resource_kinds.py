"""Every kind of resource sagewiz creates, starts or changes: one enum, named once.

The journal records resources by these values, clean-up lists and removes them by them, resume
re-attaches to them. What each kind can do (read its state, stop, delete, price) lives in the
registry of `services/resources/`, which has an entry for every member here (a test holds it so).

This module imports nothing of sagewiz, so the journal's event types can use it without pulling in
boto3 or the plan machinery.
"""

from __future__ import annotations

from enum import StrEnum


class ResourceKind(StrEnum):
    # In the order a clean-up treats them: jobs stop before the notebook and role they use go
    # away; objects before their bucket, buckets last so nothing still writes into them.
    TUNING_JOB = "tuning-job"
    TRAINING_JOB = "training-job"
    LABELING_JOB = "labeling-job"
    NOTEBOOK = "notebook"
    MODEL = "model"
    LIFECYCLE_CONFIG = "lifecycle-config"
    ROLE = "role"
    POLICY = "policy"
    # A bucket policy, Block Public Access or role inline policy the Permissions step replaced
    POLICY_CHANGE = "policy-change"
    # Changes sagewiz made to a bucket (reverted before the bucket itself could go away)
    BUCKET_CORS = "bucket-cors"
    BUCKET_LIFECYCLE = "bucket-lifecycle"
    PREFIX = "s3-prefix"  # the objects the Data step copied under one prefix (deleted together)
    OBJECT = "s3-object"
    BUCKET = "bucket"

    @property
    def noun(self) -> str:
        return _TITLES[self]

    @property
    def short_noun(self) -> str:
        return _SHORT_TITLES[self]

    @property
    def is_job(self) -> bool:
        return self in _JOBS

    @property
    def free(self) -> bool:
        """Never billed for existing (the jobs and notebooks it serves are)."""
        return self in _FREE

    @property
    def order(self) -> int:
        return list(ResourceKind).index(self)

    @property
    def case_insensitive(self) -> bool:
        """SageMaker names are unique regardless of case; IAM and S3 names are not."""
        return self in _SAGEMAKER

    @property
    def sagemaker_arn_prefix(self) -> str:
        """`arn:aws:sagemaker:...:<prefix>/<name>`; "" for kinds outside SageMaker."""
        return _ARN_PREFIXES.get(self, "")

    def normalise_id(self, value: str, account: str = "") -> str:
        """The identifier clean-up keys a resource by, from what a journal line or a person gave:
        a role's name (not its ARN or path), a policy's ARN, a bucket's name, an object's s3:// URI,
        a SageMaker resource's name."""
        value = value.strip()
        if self is ResourceKind.ROLE:
            return value.rsplit("/", 1)[-1]
        if self is ResourceKind.POLICY:
            return (
                f"arn:aws:iam::{account}:policy/{value}"
                if not value.startswith("arn:") and account
                else value
            )
        if self in (ResourceKind.BUCKET, ResourceKind.BUCKET_CORS, ResourceKind.BUCKET_LIFECYCLE):
            return value.removeprefix("s3://").split("/", 1)[0].removeprefix("arn:aws:s3:::")
        if self in (ResourceKind.OBJECT, ResourceKind.PREFIX):
            return value if value.startswith("s3://") else "s3://" + value.removeprefix("arn:aws:s3:::")
        if value.startswith("arn:"):
            return value.rsplit("/", 1)[-1]
        return value

    @classmethod
    def named(cls, text: str) -> ResourceKind | None:
        """The kind a journal line or a person names, current or legacy spelling; None if unknown.

        This is the reading edge: journals written before the kinds were one enum spell them as
        their step did, and they must still load. Writers only ever use the enum."""
        n = (text or "").strip().lower().replace("_", "-").replace(" ", "-")
        n = LEGACY_NAMES.get(n, n)
        try:
            return cls(n)
        except ValueError:
            return None


# What each step wrote as the resource type before the enum existed (all of them, from the
# journals sagewiz ever wrote; a test reads an old journal with each). A CORS or Object Ownership
# change was journaled as its own type; it is a change of the bucket.
LEGACY_NAMES: dict[str, str] = {
    "notebook-instance": ResourceKind.NOTEBOOK,
    "notebook-lifecycle-config": ResourceKind.LIFECYCLE_CONFIG,
    "iam-role": ResourceKind.ROLE,
    "s3-bucket": ResourceKind.BUCKET,
    "s3-bucket-cors": ResourceKind.BUCKET,
    "s3-object-ownership": ResourceKind.BUCKET,
    "training": ResourceKind.TRAINING_JOB,
    "sagemaker-model": ResourceKind.MODEL,
    "hyper-parameter-tuning-job": ResourceKind.TUNING_JOB,
}

_TITLES = {
    ResourceKind.TUNING_JOB: "tuning job",
    ResourceKind.TRAINING_JOB: "training job",
    ResourceKind.LABELING_JOB: "labeling job",
    ResourceKind.NOTEBOOK: "notebook instance",
    ResourceKind.MODEL: "model",
    ResourceKind.LIFECYCLE_CONFIG: "notebook lifecycle config",
    ResourceKind.ROLE: "IAM role",
    ResourceKind.POLICY: "IAM policy",
    ResourceKind.POLICY_CHANGE: "policy change",
    ResourceKind.BUCKET_CORS: "CORS rule on bucket",
    ResourceKind.BUCKET_LIFECYCLE: "lifecycle rule on bucket",
    ResourceKind.PREFIX: "S3 objects under",
    ResourceKind.OBJECT: "S3 object",
    ResourceKind.BUCKET: "S3 bucket",
}
_SHORT_TITLES = {
    **_TITLES,
    ResourceKind.NOTEBOOK: "notebook",
    ResourceKind.LIFECYCLE_CONFIG: "lifecycle cfg",
    ResourceKind.BUCKET_CORS: "CORS rule",
    ResourceKind.BUCKET_LIFECYCLE: "lifecycle rule",
    ResourceKind.PREFIX: "S3 prefix",
}
_JOBS = frozenset({ResourceKind.TUNING_JOB, ResourceKind.TRAINING_JOB, ResourceKind.LABELING_JOB})
_ARN_PREFIXES = {
    ResourceKind.NOTEBOOK: "notebook-instance",
    ResourceKind.TRAINING_JOB: "training-job",
    ResourceKind.TUNING_JOB: "hyper-parameter-tuning-job",
    ResourceKind.LABELING_JOB: "labeling-job",
    ResourceKind.MODEL: "model",
    ResourceKind.LIFECYCLE_CONFIG: "notebook-instance-lifecycle-config",
}
_SAGEMAKER = frozenset(_ARN_PREFIXES)
_FREE = frozenset({ResourceKind.ROLE, ResourceKind.POLICY, ResourceKind.MODEL, ResourceKind.LIFECYCLE_CONFIG,
                   ResourceKind.POLICY_CHANGE, ResourceKind.BUCKET_CORS, ResourceKind.BUCKET_LIFECYCLE})  # fmt: skip
