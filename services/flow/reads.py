"""The small reads several steps make: does this object, bucket or job exist. Each S3 call names
the account as the expected owner: a same-named bucket of another account is not ours."""

from __future__ import annotations

import enum

from services.errors import is_gone as _is_gone
from services.errors import translate
from services.flow.context import FlowContext


class JobKind(enum.Enum):
    TRAINING = "training"
    TUNING = "tuning"


def is_gone(exc: BaseException) -> bool:
    """Whether AWS answered that the thing does not exist."""
    return _is_gone(exc)


def bucket_exists(ctx: FlowContext, bucket: str) -> bool:
    try:
        ctx.factory.client("s3").head_bucket(Bucket=bucket, ExpectedBucketOwner=ctx.account)
        return True
    except Exception:
        return False


def object_exists(ctx: FlowContext, uri: str) -> bool:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        ctx.factory.client("s3").head_object(Bucket=bucket, Key=key, ExpectedBucketOwner=ctx.account)
        return True
    except Exception:
        return False


def job_status(ctx: FlowContext, kind: JobKind, name: str) -> str:
    """The job's status, or "" when AWS does not know it."""
    sm = ctx.factory.client("sagemaker")
    try:
        if kind is JobKind.TRAINING:
            return str(sm.describe_training_job(TrainingJobName=name)["TrainingJobStatus"])
        d = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        return str(d["HyperParameterTuningJobStatus"])
    except Exception as exc:
        if is_gone(exc):
            return ""
        raise translate(exc) from exc
