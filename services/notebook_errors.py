"""SageMaker's notebook errors and failure reasons, said plainly: what happened and what to do."""

from __future__ import annotations

import re

from services.errors import (
    AccessDeniedError,
    ConflictError,
    NotFoundError,
    QuotaExceededError,
    SagewizError,
    ValidationError,
    translate,
)
from services.remedy import Advice, Remedy, RemedyKind

OFFERED_EVERYWHERE = "ml.t3.medium"  # a notebook instance type every region offers


def notebook_error(
    exc: BaseException, operation: str, name: str = "", instance_type: str = ""
) -> SagewizError:
    return refine(translate(exc, operation), name=name, instance_type=instance_type)


def refine(err: SagewizError, name: str = "", instance_type: str = "") -> SagewizError:
    """Make SageMaker's terse notebook errors say what happened and what to do."""
    msg = err.message or ""
    low = msg.lower()
    code = err.code or ""
    what = f"notebook instance {name}" if name else "the notebook instance"
    if "duplicate notebook instance" in low:
        return ConflictError(
            "Name already taken",
            f"A notebook instance named {name or 'like this'} already exists in this account and region.",
            "Choose another name, or select the existing instance in the list.",
            code=code,
            operation=err.operation,
        )
    if code == "ValidationException" and ("instancetype" in low or "instance type" in low):
        itype = instance_type or _quoted(msg) or "this instance type"
        return ValidationError(
            "instance type",
            f"{itype} is not offered for notebook instances in this region.",
            f"Pick another type; {OFFERED_EVERYWHERE} is offered in every region.",
        )
    if code == "ValidationException" and "recordnotfound" in low.replace(" ", ""):
        return NotFoundError(
            "Notebook instance not found",
            f"{what.capitalize()} does not exist (it may have just been deleted).",
            code=code,
            operation=err.operation,
            remedy=Remedy(RemedyKind.REFRESH_NOTEBOOKS),
        )
    if code == "ValidationException" and "unable to transition to (deleting)" in low:
        return ConflictError(
            "Stop it first",
            f"Only a stopped (or failed) notebook instance can be deleted; {what} is {_status_in(msg)}.",
            code=code,
            operation=err.operation,
            remedy=Remedy(RemedyKind.STOP_NOTEBOOK_FIRST, name),
        )
    if code == "ValidationException" and "unable to transition to" in low:
        return ConflictError(
            "Not possible in this state",
            f"{what.capitalize()} is {_status_in(msg)}: {msg}",
            "Wait for the status to settle, then try again.",
            code=code,
            operation=err.operation,
        )
    if code == "ValidationException" and "not in inservice" in low:
        return ConflictError(
            "Not running",
            f"{what.capitalize()} must be InService to open it.",
            code=code,
            operation=err.operation,
            remedy=Remedy(RemedyKind.START_NOTEBOOK, name),
        )
    if code == "ValidationException" and ("assume" in low or "role" in low and "not" in low):
        return ValidationError(
            "execution role",
            f"SageMaker refused the role: {msg}",
            "Pick a role whose trust policy lets sagemaker.amazonaws.com assume it, or create one here.",
        )
    if isinstance(err, QuotaExceededError):
        return QuotaExceededError(
            "Notebook instance quota reached",
            f"{msg or 'The account has reached its quota.'}",
            "Stop or delete a notebook you no longer use, pick another instance type, or request an increase "
            "in Service Quotas (Amazon SageMaker, '<type> for notebook instance usage').",
            code=code,
            operation=err.operation,
        )
    if isinstance(err, AccessDeniedError) and "passrole" in low:
        return AccessDeniedError(
            "You may not pass the role to SageMaker",
            msg,
            "Ask an administrator for iam:PassRole on the role (condition iam:PassedToService = "
            "sagemaker.amazonaws.com), or",
            code=code,
            operation=err.operation,
            details=err.details,
            remedy=Remedy(RemedyKind.OPEN_DOCTOR),
        )
    return err


def _quoted(msg: str) -> str:
    m = re.search(r"'(ml\.[a-z0-9.-]+)'", msg)
    return m.group(1) if m else ""


def _status_in(msg: str) -> str:
    m = re.search(r"Status \((\w+)\)", msg)
    return m.group(1) if m else "not stopped"


FAILURE_HINTS: tuple[tuple[str, str], ...] = (
    ("lifecycle config", "The lifecycle configuration script failed or ran longer than 5 minutes. Read its "
     "log in CloudWatch (/aws/sagemaker/NotebookInstances, stream <name>/LifecycleConfigOnStart), fix the "
     "script, then start the instance again."),
    ("subnet", "The VPC subnet is out of addresses or unusable: pick another subnet."),
    ("capacity", "AWS has no capacity for this type right now: try again later or pick another type."),
    ("role", "SageMaker could not use the execution role: check its trust policy names sagemaker.amazonaws.com."),
    ("kms", "SageMaker could not use the KMS key: check the key policy allows the execution role."),
)  # fmt: skip


def explain_failure(reason: str, name: str = "") -> Advice:
    """What to do about a failed notebook instance: a known cause's fix, else the general way out."""
    low = (reason or "").lower()
    for needle, hint in FAILURE_HINTS:
        if needle in low:
            return Advice(hint)
    return Advice("", Remedy(RemedyKind.RESTART_OR_DELETE_NOTEBOOK, name))
