"""One recorded read-only call, and the reads of policy documents built on it.

A `Reader` runs a call and records how it went as a `Read` (ok, absent, denied, error, skipped),
so the diagnosis can say which evidence it lacked; it never raises for a refused or failed read.
Safe to share between the threads of one gathering.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from services.policy import NamedPolicy, PolicyError, parse_policy

_ABSENT = {
    "NoSuchBucketPolicy",
    "NoSuchPublicAccessBlockConfiguration",
    "OwnershipControlsNotFoundError",
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchEntity",
    "NoSuchKey",
    "404",
    "NotFound",
}
_DENIED = {"AccessDenied", "AccessDeniedException", "403", "Forbidden", "UnauthorizedOperation"}


@dataclass(frozen=True)
class Read:
    """One evidence read: what, which call, and how it went."""

    what: str
    call: str  # e.g. "s3:GetBucketPolicy"
    status: str  # "ok" | "absent" | "denied" | "error" | "skipped"
    detail: str = ""


def _code(exc: BaseException) -> str:
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return str(
            resp.get("Error", {}).get("Code") or resp.get("ResponseMetadata", {}).get("HTTPStatusCode") or ""
        )
    return type(exc).__name__


class Reader:
    def __init__(self, factory: Any) -> None:
        self.factory = factory
        self.reads: list[Read] = []
        self.calls = 0
        self._lock = threading.Lock()

    def call(self, what: str, service: str, op: str, **params: Any) -> tuple[str, Any]:
        """Run one read. Returns (status, response or error code)."""
        pretty = f"{service}:{''.join(p.capitalize() for p in op.split('_'))}"
        with self._lock:
            self.calls += 1
        try:
            client = self.factory.client(service)
            out = getattr(client, op)(**params)
        except Exception as exc:
            code = _code(exc)
            if code in _ABSENT:
                status, detail = "absent", code
            elif code in _DENIED or "AccessDenied" in str(exc)[:400]:
                status, detail = "denied", f"{code}: the caller may not read this"
            else:
                status, detail = "error", f"{code or type(exc).__name__}: {str(exc)[:160]}"
            with self._lock:
                self.reads.append(Read(what, pretty, status, detail))
            return status, code
        with self._lock:
            self.reads.append(Read(what, pretty, "ok"))
        return "ok", out

    def skip(self, what: str, call: str, why: str) -> None:
        with self._lock:
            self.reads.append(Read(what, call, "skipped", why))


def doc_text(value: Any) -> str:
    if isinstance(value, str):
        return unquote(value)
    return json.dumps(value)


def named_policy(
    name: str, text: str, kind: str, source: str, arn: str | None = None
) -> tuple[NamedPolicy | None, str | None]:
    try:
        return NamedPolicy(name, parse_policy(text), kind, source, arn), None
    except PolicyError as exc:
        return None, exc.message


def keep_raw_role_policies(factory: Any) -> None:
    """Keep inline role policies' exact text (the Permissions step's hook): the fix machinery
    compares it byte for byte to refuse concurrent changes."""
    try:
        from services.permissions.apply import _capture_raw

        _capture_raw(factory.client("iam"))
    except Exception:  # without it the parsed document is used; apply then re-reads and re-plans
        pass


def managed_policy(g: Reader, arn: str) -> tuple[str, str] | None:
    name = arn.rsplit("/", 1)[-1]
    st, out = g.call(f"managed policy {name}", "iam", "get_policy", PolicyArn=arn)
    if st != "ok":
        return None
    version = out["Policy"].get("DefaultVersionId", "v1")
    st, out = g.call(
        f"managed policy {name} {version}", "iam", "get_policy_version", PolicyArn=arn, VersionId=version
    )
    if st != "ok":
        return None
    return arn, doc_text(out["PolicyVersion"]["Document"])


def group_policies(g: Reader, group: str) -> list[tuple[str, str, str, str | None]] | None:
    out_docs: list[tuple[str, str, str, str | None]] = []
    st, out = g.call(f"group {group} inline policies", "iam", "list_group_policies", GroupName=group)
    if st != "ok":
        return None
    for name in out.get("PolicyNames", []):
        st2, o2 = g.call(
            f"group inline policy {name}", "iam", "get_group_policy", GroupName=group, PolicyName=name
        )
        if st2 == "ok":
            out_docs.append((name, "inline", doc_text(o2["PolicyDocument"]), None))
    st, out = g.call(
        f"group {group} attached policies", "iam", "list_attached_group_policies", GroupName=group
    )
    if st == "ok":
        for p in out.get("AttachedPolicies", []):
            res = managed_policy(g, p["PolicyArn"])
            if res:
                out_docs.append((p["PolicyName"], "managed", res[1], res[0]))
    return out_docs


def object_owner(g: Reader, bucket: str, key: str | None) -> tuple[bool, bool] | None:
    """Does another account own the object (canonical ids of object vs bucket owner)?"""
    st, obj = g.call("object ACL", "s3", "get_object_acl", Bucket=bucket, Key=key)
    st2, bkt = g.call("bucket ACL", "s3", "get_bucket_acl", Bucket=bucket)
    if st != "ok" or st2 != "ok":
        return None
    owner = bkt.get("Owner", {}).get("ID")
    differs = obj.get("Owner", {}).get("ID") != owner
    grants = any(
        gr.get("Grantee", {}).get("ID") == owner and gr.get("Permission") in ("READ", "FULL_CONTROL")
        for gr in obj.get("Grants", [])
    )
    return differs, grants


def kms_key(g: Reader, key: str) -> tuple[str | None, bool, str | None] | None:
    st, out = g.call("KMS key", "kms", "describe_key", KeyId=key)
    aws_managed = False
    key_arn = None
    if st == "ok":
        meta = out["KeyMetadata"]
        aws_managed = meta.get("KeyManager") == "AWS"
        key_arn = meta.get("Arn")
    st, out = g.call("KMS key policy", "kms", "get_key_policy", KeyId=key_arn or key, PolicyName="default")
    text = out["Policy"] if st == "ok" else None
    return text, aws_managed, key_arn
