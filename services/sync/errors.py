"""S3 errors of a sync said for people; an access denial carries the DeniedCall the doctor needs."""

from __future__ import annotations

from services.denied import DeniedCall
from services.errors import AccessDeniedError, SagewizError, translate


def denied_error(
    exc: BaseException,
    action: str,
    bucket: str,
    key: str | None,
    operation: str,
    principal: str | None = None,
) -> AccessDeniedError:
    err = translate(exc, operation)
    raw = err.details.get("raw") if isinstance(err, SagewizError) else None
    text = str(raw or err.message or "Access Denied")
    # AWS's enhanced same-account 403 names the principal, action and resource; trust it over our guess.
    import re

    m = re.search(
        r"User: (\S+) is not authorized to perform: (s3:\w+) on resource: \"?(arn:aws:s3:::[^\" ]+)", text
    )
    if m:
        principal, action = m.group(1), m.group(2)
        path = m.group(3)[len("arn:aws:s3:::") :]
        bucket, _, rest = path.partition("/")
        key = rest or None
    resource = f"arn:aws:s3:::{bucket}/{key}" if key else f"arn:aws:s3:::{bucket}"
    who = principal or "your caller"
    denied = DeniedCall(
        error_text=text,
        principal_arn=principal,
        action=action,
        bucket=bucket,
        key=key,
        operation=operation,
        source_step="data",
    )
    out = AccessDeniedError(
        "Access denied",
        f"{who} may not {action} on {resource} (AWS said: {text}).",
        "Open the permissions doctor to see which policy denies it and the smallest fix.",
        code=err.code or "AccessDenied",
        operation=operation,
        details={"raw": text, "denied": denied, "action": action, "resource": resource},
    )
    return out


def as_error(
    exc: BaseException,
    action: str,
    bucket: str,
    key: str | None,
    operation: str,
    principal: str | None = None,
) -> SagewizError:
    err = translate(exc, operation)
    if isinstance(err, AccessDeniedError):
        return denied_error(exc, action, bucket, key, operation, principal)
    return err


def copy_action(exc: BaseException) -> str:
    """Which side of a server-side copy was refused: the enhanced 403 text names the action."""
    text = str(exc)
    if "s3:GetObject" in text or "source" in text.lower():
        return "s3:GetObject"
    return "s3:PutObject"
