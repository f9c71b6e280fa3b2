"""A training job's FailureReason in plain words, with the next thing to do.

SageMaker's FailureReason is written for the algorithm's authors ("ClientError: Data download
failed:..."). This reads it into a kind (data, permissions, quota, instance type, ...) the panel
and the doctor's job reading can both show. The patterns are the service's and the built-in
containers' own wording; an unknown reason is said as unknown, with the log as the next place to look.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from services.job_status import S3Denial, s3_denial


class FailureKind(Enum):
    DATA = "data"  # the input is missing, empty, or not in the format the algorithm reads
    PERMISSIONS = "permissions"  # the execution role may not read or write S3
    ROLE = "role"  # SageMaker could not assume the execution role
    HYPERPARAMETERS = "hyperparameters"
    QUOTA = "quota"  # ResourceLimitExceeded: the account's limit for that instance type
    INSTANCE_TYPE = "instance-type"  # not offered in the region, or no capacity now
    NETWORK = "network"  # in a VPC, the job could not reach S3 (no S3 endpoint or NAT route)
    INTERNAL = "internal"  # AWS's side: retry
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class FailureExplanation:
    kind: FailureKind
    summary: str  # what went wrong, in plain words
    next_action: str  # what to do about it
    denial: S3Denial | None = None  # the S3 request refused, when the doctor can diagnose it
    doctor: bool = False  # the permissions doctor can help (the panel's d key)


_QUOTA = re.compile(r"ResourceLimitExceeded|account-level service limit|exceed(?:ed|s)? .*quota", re.I)
_INSTANCE = re.compile(
    r"instance type .* (?:is )?not (?:supported|available)|not supported in (?:this|the) region"
    r"|InsufficientCapacity|CapacityError|insufficient capacity",
    re.I,
)
_NO_ROUTE = re.compile(r"route to an S3 VPC endpoint or a NAT device|S3 VPC endpoint exists", re.I)
_INSTANCE_NAME = re.compile(r"\bml\.[a-z0-9]+\.[a-z0-9]+\b")
_DATA_FORMAT = re.compile(
    r"could not convert string to float|Unable to read data channel|as CSV|content ?type|"
    r"Unable to parse line|not found in line|augmented manifest|holds no rows|Label \S+ is out of range|"
    r"Unable to find a 'train' channel|Failed to parse|Invalid (?:data|file) format|header",
    re.I,
)


def explain_failure(reason: str, region: str = "", instance_type: str = "") -> FailureExplanation | None:
    """The explanation of a FailureReason, or None when there is none to explain."""
    text = (reason or "").strip()
    if not text:
        return None
    where = f" in {region}" if region else ""
    itype = instance_type or (m.group(0) if (m := _INSTANCE_NAME.search(text)) else "the instance type")
    if _QUOTA.search(text):
        return FailureExplanation(
            FailureKind.QUOTA,
            f"The account's quota for {itype} training{where} is used up (ResourceLimitExceeded).",
            "Stop jobs that use it, pick another instance type, or request an increase in Service Quotas "
            f'(SageMaker, "{itype} for training job usage").',
        )
    if _INSTANCE.search(text):
        return FailureExplanation(
            FailureKind.INSTANCE_TYPE,
            f"{itype} is not available for training{where} now.",
            "Pick another instance type in the Train step (one offered in this region), or retry later "
            "when the failure says capacity.",
        )
    if "assume the role" in text or "Could not assume role" in text:
        return FailureExplanation(
            FailureKind.ROLE,
            "SageMaker could not assume the execution role (deleted, or its trust policy does not name "
            "sagemaker.amazonaws.com).",
            "Pick an existing role in the Train step, or let its trust policy name sagemaker.amazonaws.com.",
        )
    if "No S3 objects found" in text:
        return FailureExplanation(
            FailureKind.DATA,
            "The channel's S3 prefix holds no objects: the job had nothing to train on.",
            "Prepare or upload the data (Train step: Prepare data), or correct the channel's S3 URI. If "
            "the objects are there, the role may not list the bucket: press d for the doctor.",
            denial=s3_denial(text),
            doctor=s3_denial(text) is not None,
        )
    if _NO_ROUTE.search(text):
        return FailureExplanation(
            FailureKind.NETWORK,
            "The job runs in a VPC whose subnets could not reach S3 (no S3 VPC endpoint, no NAT route).",
            "Press d: the doctor reads the subnets' route tables and gives the command that adds an S3 "
            "gateway endpoint.",
            doctor=True,
        )
    denial = s3_denial(text)
    if denial is not None:
        verb = {"s3:PutObject": "write", "s3:ListBucket": "list"}.get(denial.action, "read")
        return FailureExplanation(
            FailureKind.PERMISSIONS,
            f"The execution role was refused: it may not {verb} s3://{denial.bucket}/{denial.key}.",
            "Press d to open the permissions doctor: it shows which policy refuses it and the smallest fix.",
            denial=denial,
            doctor=True,
        )
    if "Not Found" in text and "Data download failed" in text:
        return FailureExplanation(
            FailureKind.DATA,
            "An input object named in the channel does not exist.",
            "Prepare the data again (Train step: Prepare data) or correct the channel's S3 URI.",
        )
    if "Hyperparameter" in text:
        return FailureExplanation(
            FailureKind.HYPERPARAMETERS,
            "The algorithm refused a hyperparameter value.",
            "Correct it in the Train step's form (each value is checked there as you type).",
        )
    if _DATA_FORMAT.search(text):
        return FailureExplanation(
            FailureKind.DATA,
            "The algorithm could not read the data in the format it expects.",
            "For XGBoost: CSV with the label (a number) in the first column, no header, content type "
            "text/csv. For image classification: an augmented manifest with source-ref and the label "
            "attribute, and num_classes matching the labels. Prepare data in the Train step writes both.",
        )
    if text.startswith("InternalServerError") or "internal error" in text.lower():
        return FailureExplanation(
            FailureKind.INTERNAL,
            "The job failed on AWS's side, not because of its settings.",
            "Start it again; if it keeps failing, contact AWS Support with the job's ARN.",
        )
    return FailureExplanation(
        FailureKind.UNKNOWN,
        "sagewiz does not recognise this failure.",
        "Read the job's log (the algorithm's own message is usually its last lines).",
    )
