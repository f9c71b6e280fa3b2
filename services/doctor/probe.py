"""The live probe: retry the denied request as the principal and report what AWS says.

Only possible when sagewiz can sign as the principal: in the sandbox (the seeded execution role's
credentials) or when the caller is that principal. A write probe puts a small marker object
`.sagewiz-doctor-probe` beside the key (never the user's key) and then tries to delete it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PROBE_NAME = ".sagewiz-doctor-probe"


@dataclass(frozen=True)
class ProbeResult:
    ran: bool
    allowed: bool | None
    message: str
    call: str = ""


def probe_key(key: str | None) -> str:
    if not key or key == "*":
        return PROBE_NAME
    head = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    return head + PROBE_NAME


def probe(factory: Any, action: str | None, bucket: str | None, key: str | None) -> ProbeResult:
    if factory is None:
        return ProbeResult(False, None, "no probe: sagewiz cannot sign requests as this principal")
    if not action or not bucket:
        return ProbeResult(False, None, "no probe: the action or bucket is unknown")
    s3 = factory.client("s3")
    low = action.lower()
    try:
        if low == "s3:putobject":
            k = probe_key(key)
            s3.put_object(Bucket=bucket, Key=k, Body=b"sagewiz permissions doctor probe\n")
            try:
                s3.delete_object(Bucket=bucket, Key=k)
                extra = " (and removed it again)"
            except Exception:
                extra = f" (could not remove it: delete s3://{bucket}/{k} yourself)"
            return ProbeResult(
                True, True, f"PutObject s3://{bucket}/{k} as the principal succeeded{extra}", "s3:PutObject"
            )
        if low == "s3:getobject":
            k = key if key and key != "*" else PROBE_NAME
            try:
                s3.get_object(Bucket=bucket, Key=k, Range="bytes=0-0")
            except Exception as exc:
                if _code(exc) in ("NoSuchKey", "404"):
                    return ProbeResult(
                        True,
                        True,
                        f"GetObject is allowed (S3 says the key {k} does not exist)",
                        "s3:GetObject",
                    )
                raise
            return ProbeResult(
                True, True, f"GetObject s3://{bucket}/{k} as the principal succeeded", "s3:GetObject"
            )
        if low == "s3:listbucket":
            s3.list_objects_v2(Bucket=bucket, MaxKeys=1, Prefix=key if key and key != "*" else "")
            return ProbeResult(
                True, True, f"ListObjectsV2 on {bucket} as the principal succeeded", "s3:ListBucket"
            )
    except Exception as exc:
        code = _code(exc)
        if code in ("AccessDenied", "403", "Forbidden", "AccessDeniedException"):
            return ProbeResult(True, False, f"AWS still refuses {action} ({code})", action)
        return ProbeResult(
            True, None, f"the probe failed for another reason: {code or type(exc).__name__}", action
        )
    return ProbeResult(
        False, None, f"no probe for {action}: sagewiz only retries GetObject, PutObject and ListBucket"
    )


def principal_factory(
    base_factory: Any, principal: str | None, role_arn: str | None, caller_arn: str | None, world: Any
) -> Any:
    """A factory that signs as the principal, or None when sagewiz has no such credentials."""
    if (
        world is not None
        and getattr(world, "role_credentials", None) is not None
        and role_arn == world.role_arn
    ):
        from services.session import SessionFactory

        return SessionFactory(world.role_target())
    if caller_arn and principal and caller_arn == principal:
        return base_factory
    return None


def _code(exc: BaseException) -> str:
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return str(resp.get("Error", {}).get("Code") or "")
    return ""
