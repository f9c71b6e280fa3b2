"""A failed call handed from any step to the permissions doctor."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeniedCall:
    """What we know about a request AWS refused. Any field may be unknown (None)."""

    error_text: str = ""
    principal_arn: str | None = None
    action: str | None = None  # IAM action, e.g. "s3:PutObject"
    bucket: str | None = None
    key: str | None = None
    operation: str | None = None  # API operation, e.g. "PutObject"
    source_step: str | None = None
    job_name: str | None = None  # the failed job it came from: the doctor reads the job itself
