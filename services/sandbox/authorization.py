"""The IAM actions AWS authorizes a request under, per the Service Authorization Reference.

The emulator names the action after the API operation (moto 5.2.6 checks `s3:ListObjectsV2`, an
action that does not exist in IAM, and lets `s3:ListBucket` go unused). The sandbox instead checks
what AWS checks: this module says which (action, resource) pairs one request needs, and
`extensions/authorization.py` asks the policies about each of them.

Sources: the S3 API reference's "Permissions" sections and aws-facts-2 §2 (HeadBucket and ListObjects
→ s3:ListBucket, HeadObject → s3:GetObject, CopyObject/UploadPartCopy → GetObject on the source and
PutObject on the target, multipart calls → s3:PutObject, versioned variants → *Version actions).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from services.policy.s3 import OPERATION_ACTIONS


@dataclass(frozen=True)
class ActionCheck:
    """One question put to the policies: may the caller do `action` on `resource`?"""

    action: str  # "s3:ListBucket"
    resource: str  # "arn:aws:s3:::bucket" or "*"
    context: tuple[tuple[str, str], ...] = ()  # request-specific condition keys (iam:PassedToService)


@dataclass(frozen=True)
class S3Call:
    """What the sandbox knows about an S3 request when it authorizes it."""

    operation: str | None  # botocore operation name ("ListObjectsV2"), None when unknown
    bucket: str | None = None
    key: str | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    partition: str = "aws"

    def arn(self, bucket: str | None = None, key: str | None = None) -> str:
        name = bucket or self.bucket
        if not name:
            return "*"
        return f"arn:{self.partition}:s3:::{name}" + (f"/{key}" if key is not None else "")


# Operations AWS authorizes under a differently named action, beyond services/policy/s3.py's table
# (which the doctor shares): configuration deletes are authorized as the matching Put.
_MORE_S3_ACTIONS: dict[str, str] = {
    "DeleteBucketCors": "s3:PutBucketCORS",
    "DeleteBucketEncryption": "s3:PutEncryptionConfiguration",
    "DeleteBucketTagging": "s3:PutBucketTagging",
    "DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "DeleteBucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    "PutBucketNotificationConfiguration": "s3:PutBucketNotification",
    "GetBucketAccelerateConfiguration": "s3:GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "s3:PutAccelerateConfiguration",
    "GetBucketReplication": "s3:GetReplicationConfiguration",
    "PutBucketReplication": "s3:PutReplicationConfiguration",
    "DeleteBucketReplication": "s3:PutReplicationConfiguration",
    "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "s3:PutBucketObjectLockConfiguration",
    "PutBucketRequestPayment": "s3:PutBucketRequestPayment",
    "DeleteObjectTagging": "s3:DeleteObjectTagging",
}

# With `versionId`, an object operation is authorized under its *Version action.
_VERSIONED: dict[str, str] = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
    "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
}

# Account-level Block Public Access lives in S3 Control but is authorized as an s3 action.
S3CONTROL_ACTIONS: dict[str, str] = {
    "GetPublicAccessBlock": "s3:GetAccountPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutAccountPublicAccessBlock",
    "DeletePublicAccessBlock": "s3:PutAccountPublicAccessBlock",
}

_DELETE_ENTRY = re.compile(rb"<Object>(.*?)</Object>", re.S)
_KEY = re.compile(rb"<Key>(.*?)</Key>", re.S)
_VERSION = re.compile(rb"<VersionId>(.*?)</VersionId>", re.S)


def s3_action(operation: str) -> str:
    """The action for an S3 operation, without the per-request variants (versions, copies)."""
    return OPERATION_ACTIONS.get(operation) or _MORE_S3_ACTIONS.get(operation) or f"s3:{operation}"


def _xml_text(raw: bytes) -> str:
    from xml.sax.saxutils import unescape

    return unescape(raw.decode("utf-8", "replace"), {"&quot;": '"', "&apos;": "'"})


def _copy_source(call: S3Call) -> ActionCheck | None:
    raw = call.headers.get("x-amz-copy-source") or call.headers.get("X-Amz-Copy-Source")
    if not raw:
        return None
    source, _, query = unquote(raw).lstrip("/").partition("?")
    bucket, _, key = source.partition("/")
    action = "s3:GetObjectVersion" if "versionId=" in query else "s3:GetObject"
    return ActionCheck(action, call.arn(bucket, key))


def s3_checks(call: S3Call) -> tuple[ActionCheck, ...]:
    """Every (action, resource) AWS checks for this S3 request; all must be allowed."""
    op = call.operation or ""
    if op == "ListBuckets":
        return (ActionCheck("s3:ListAllMyBuckets", "*"),)
    base = s3_action(op)
    versioned = "versionId" in call.query
    obj = call.arn(key=call.key) if call.key is not None else call.arn()
    if op in ("CopyObject", "UploadPartCopy"):
        source = _copy_source(call)
        return ((source,) if source else ()) + (ActionCheck("s3:PutObject", obj),)
    if op == "GetObjectAttributes":
        if versioned:
            return (
                ActionCheck("s3:GetObjectVersion", obj),
                ActionCheck("s3:GetObjectVersionAttributes", obj),
            )
        return (ActionCheck("s3:GetObject", obj), ActionCheck("s3:GetObjectAttributes", obj))
    if op == "DeleteObjects":
        checks = []
        for entry in _DELETE_ENTRY.findall(call.body):
            key = _KEY.search(entry)
            if key is None:
                continue
            action = "s3:DeleteObjectVersion" if _VERSION.search(entry) else "s3:DeleteObject"
            checks.append(ActionCheck(action, call.arn(key=_xml_text(key.group(1)))))
        return tuple(checks) or (ActionCheck("s3:DeleteObject", call.arn(key="*")),)
    if versioned and base in _VERSIONED:
        base = _VERSIONED[base]
    return (ActionCheck(base, obj),)


def action_for(api: str, signing_service: str, operation: str) -> str:
    """The action a non-S3 request is authorized under: the operation's name in the signing
    service's namespace for IAM, STS, SageMaker, CloudWatch Logs and KMS; S3 Control (signed as
    `s3`) names account-level Block Public Access differently from the bucket-level calls."""
    if api == "s3control":
        return S3CONTROL_ACTIONS.get(operation, f"s3:{operation}")
    return f"{signing_service}:{operation}"


# The resource each SageMaker operation of the flow is authorized on (Service Authorization
# Reference, "Actions defined by Amazon SageMaker"): (resource type, request field naming it).
# List operations support no resource-level permissions and are checked on "*".
_SAGEMAKER_RESOURCES: dict[str, tuple[str, str]] = {
    f"{verb}{kind}": (arn_kind, name_field)
    for kind, arn_kind, name_field, verbs in (
        ("TrainingJob", "training-job", "TrainingJobName", ("Create", "Describe", "Stop")),
        ("HyperParameterTuningJob", "hyper-parameter-tuning-job", "HyperParameterTuningJobName",
         ("Create", "Describe", "Stop")),
        ("LabelingJob", "labeling-job", "LabelingJobName", ("Create", "Describe", "Stop")),
        ("TransformJob", "transform-job", "TransformJobName", ("Create", "Describe", "Stop")),
        ("Model", "model", "ModelName", ("Create", "Describe", "Delete")),
        ("EndpointConfig", "endpoint-config", "EndpointConfigName", ("Create", "Describe", "Delete")),
        ("Endpoint", "endpoint", "EndpointName", ("Create", "Describe", "Delete", "Update")),
        ("NotebookInstance", "notebook-instance", "NotebookInstanceName",
         ("Create", "Describe", "Start", "Stop", "Delete", "Update")),
    )
    for verb in verbs
}  # fmt: skip
_SAGEMAKER_RESOURCES["ListTrainingJobsForHyperParameterTuningJob"] = (
    "hyper-parameter-tuning-job",
    "HyperParameterTuningJobName",
)
_SAGEMAKER_RESOURCES["CreatePresignedNotebookInstanceUrl"] = ("notebook-instance", "NotebookInstanceName")
_SAGEMAKER_RESOURCES["DescribeWorkteam"] = ("workteam/private-crowd", "WorkteamName")
_ROLE_FIELDS = ("RoleArn", "ExecutionRoleArn")
SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"


def _passed_roles(body: Any) -> Iterator[str]:
    """Every role ARN a request hands to SageMaker (a tuning job names one per definition)."""
    if isinstance(body, dict):
        for key, value in body.items():
            if key in _ROLE_FIELDS and isinstance(value, str):
                yield value
            else:
                yield from _passed_roles(value)
    elif isinstance(body, list):
        for item in body:
            yield from _passed_roles(item)


def sagemaker_checks(
    operation: str, body: Mapping[str, Any], region: str, account: str, partition: str = "aws"
) -> tuple[ActionCheck, ...]:
    """Every (action, resource) AWS checks for this SageMaker request; all must be allowed.

    A Create call that hands SageMaker a role also needs iam:PassRole on that role, asked with
    iam:PassedToService; one that carries Tags also needs sagemaker:AddTags on the new resource.
    """
    action = f"sagemaker:{operation}"
    found = _SAGEMAKER_RESOURCES.get(operation)
    name = body.get(found[1]) if found else None
    if found is None or not isinstance(name, str):
        return (ActionCheck(action, "*"),)
    # SageMaker writes resource names in lower case in its ARNs.
    resource = f"arn:{partition}:sagemaker:{region}:{account}:{found[0]}/{name.lower()}"
    checks = [ActionCheck(action, resource)]
    if operation.startswith("Create"):
        if body.get("Tags"):
            checks.append(ActionCheck("sagemaker:AddTags", resource))
        for role in dict.fromkeys(_passed_roles(dict(body))):
            checks.append(ActionCheck("iam:PassRole", role, (("iam:PassedToService", SAGEMAKER_PRINCIPAL),)))
    return tuple(checks)
