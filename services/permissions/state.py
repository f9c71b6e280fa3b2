"""Read everything that decides whether the execution role may use the bucket.

Account and bucket Block Public Access, the bucket policy and its public status, the role's inline
and attached policies (managed ones at their default version), its permissions boundary, the
bucket's default encryption (and the KMS key's policy) and Object Ownership. A read that is denied
is recorded as "could not read <what>: needs <permission>" and the other reads go on.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, TypeVar

from services.errors import (
    AccessDeniedError,
    ConnectError,
    NetworkError,
    SagewizError,
    ThrottledError,
    translate,
)
from services.permissions.fixes.change import BUCKET_POLICY, ROLE_INLINE_POLICY, PolicyTarget
from services.permissions.fixes.public_access import BPA_KEYS
from services.permissions.fixes.shapes import role_name_of

T = TypeVar("T")


@dataclass(frozen=True)
class CouldNotRead:
    what: str
    permission: str
    detail: str = ""

    def line(self) -> str:
        return f"could not read {self.what}: needs {self.permission}"


@dataclass(frozen=True)
class Bpa:
    """Block Public Access settings; `settings` None when none are configured at that level."""

    level: str  # "account" | "bucket"
    settings: dict[str, bool] | None

    @property
    def all_on(self) -> bool:
        return self.settings is not None and all(self.settings.get(k, False) for k in BPA_KEYS)

    @property
    def off(self) -> list[str]:
        if self.settings is None:
            return list(BPA_KEYS)
        return [k for k in BPA_KEYS if not self.settings.get(k, False)]

    def text(self) -> str | None:
        return None if self.settings is None else json.dumps(self.settings, indent=2)


@dataclass(frozen=True)
class PolicyDoc:
    """One policy as read. `text` is exact; `document` is None when absent or not valid JSON."""

    name: str
    source: str  # "bucket-policy" | "inline" | "managed" | "boundary" | "key-policy"
    text: str | None
    arn: str | None = None
    version: str | None = None
    target: PolicyTarget | None = None  # set for documents sagewiz may edit

    @property
    def document(self) -> dict[str, Any] | None:
        if self.text is None:
            return None
        try:
            doc = json.loads(self.text)
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None

    @property
    def malformed(self) -> str | None:
        if self.text is None:
            return None
        try:
            doc = json.loads(self.text)
        except json.JSONDecodeError as exc:
            return f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        except ValueError as exc:  # well-formed but unreadable, e.g. an integer past Python's digit limit
            return f"not valid JSON ({exc})"
        return None if isinstance(doc, dict) else "not a JSON object"

    @property
    def label(self) -> str:
        return {
            "bucket-policy": "bucket policy",
            "inline": f"inline policy {self.name}",
            "managed": f"managed policy {self.name}",
            "boundary": f"permissions boundary {self.name}",
            "key-policy": f"key policy of {self.name}",
        }.get(self.source, self.name)


@dataclass(frozen=True)
class Encryption:
    algorithm: str  # "AES256" | "aws:kms" | "aws:kms:dsse"
    kms_key_id: str | None = None
    bucket_key: bool = False
    default: bool = False  # nothing configured: S3 applies SSE-S3


@dataclass(frozen=True)
class PermissionsState:
    account: str
    region: str
    bucket: str
    role_arn: str
    prefix: str | None = None
    bucket_exists: bool | None = True
    role_exists: bool | None = True
    role_id: str | None = None
    account_bpa: Bpa | None = None
    bucket_bpa: Bpa | None = None
    bucket_policy: PolicyDoc | None = None  # None: could not read; .text None: there is none
    policy_public: bool | None = None
    policy_public_source: str = ""  # "s3" or "sagewiz" (computed locally)
    role_policies: tuple[PolicyDoc, ...] = ()
    boundary: PolicyDoc | None = None
    has_boundary: bool = False
    encryption: Encryption | None = None
    key_policy: PolicyDoc | None = None
    object_ownership: str | None = None  # None: not configured (or unreadable, see `unreadable`)
    unreadable: tuple[CouldNotRead, ...] = ()
    role_policies_complete: bool = True
    # The role as the person gave it, when that ARN is not the role's own (e.g. without its path);
    # `role_arn` is then the real one, from iam:GetRole.
    role_given: str | None = None

    @property
    def role_name(self) -> str:
        return role_name_of(self.role_arn)

    @property
    def session_arn(self) -> str:
        from services.policy.arns import parse_principal

        info = parse_principal(self.role_arn)
        partition = info.partition if info else "aws"
        return f"arn:{partition}:sts::{self.account}:assumed-role/{self.role_name}/SageMaker"

    def inline_texts(self) -> list[tuple[str, str]]:
        return [(p.name, p.text) for p in self.role_policies if p.source == "inline" and p.text is not None]

    def identity_docs(self) -> list[PolicyDoc]:
        return [p for p in self.role_policies if p.document is not None]


class _Reader:
    def __init__(self, factory: Any) -> None:
        self.factory = factory
        self.unreadable: list[CouldNotRead] = []

    def read(
        self, what: str, permission: str, call: Callable[[], T], absent: AbstractSet[str] = frozenset()
    ) -> tuple[bool, T | None]:
        """(ok, value). ok False: denied or failed (recorded); value None with ok True: absent."""
        try:
            return True, call()
        except Exception as exc:
            code = _code(exc)
            if code in absent:
                return True, None
            err = translate(exc, what)
            if isinstance(err, (NetworkError, ConnectError, ThrottledError)):
                raise err from exc
            if isinstance(err, AccessDeniedError):
                self.unreadable.append(CouldNotRead(what, permission, err.message))
            else:
                self.unreadable.append(CouldNotRead(what, permission, f"{err.title}: {err.message}"))
            return False, None


def read_state(
    factory: Any,
    *,
    account: str,
    region: str,
    bucket: str,
    role_arn: str,
    prefix: str | None = None,
    role_given: str | None = None,
) -> PermissionsState:
    """Read the whole picture. Never raises for a denied read; raises for a dead connection.

    The bucket's reads and the role's reads run side by side (two threads, the factory's shared
    clients): on AWS each call is a network round trip, so this halves the wait."""
    from concurrent.futures import ThreadPoolExecutor

    rb, rr = _Reader(factory), _Reader(factory)
    for service in ("s3", "s3control", "iam"):
        # Build clients here: a boto3 session must not create clients from two threads at once.
        # (kms, needed only for SSE-KMS, is built by the bucket thread alone.)
        with contextlib.suppress(SagewizError):  # the read that needs it reports the problem
            factory.client(service)
    with ThreadPoolExecutor(max_workers=2) as pool:
        bucket_future = pool.submit(_read_bucket, rb, factory, account, bucket)
        role_future = pool.submit(_read_role, rr, factory, role_arn)
        values = bucket_future.result()
        role_values, policies, complete = role_future.result()
    return PermissionsState(
        account=account, region=region, bucket=bucket, role_arn=role_arn, prefix=prefix,
        role_policies=tuple(policies), unreadable=tuple(rb.unreadable + rr.unreadable),
        role_policies_complete=complete, role_given=role_given, **values, **role_values,
    )  # fmt: skip


def _read_bucket(r: _Reader, factory: Any, account: str, bucket: str) -> dict[str, Any]:
    from services.permissions.validate import is_public

    s3 = factory.client("s3")
    values: dict[str, Any] = {}
    ok, _ = r.read(
        f"bucket {bucket}",
        "s3:ListBucket",
        lambda: s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account),
        absent={"404", "NoSuchBucket", "NotFound"},
    )
    if ok and _ is None:
        values["bucket_exists"] = False
    elif not ok:
        values["bucket_exists"] = None
    if values.get("bucket_exists", True) is not False:
        ok, conf = r.read(
            "the account's Block Public Access", "s3:GetAccountPublicAccessBlock",
            lambda: factory.client("s3control").get_public_access_block(AccountId=account)["PublicAccessBlockConfiguration"],
            absent={"NoSuchPublicAccessBlockConfiguration"},
        )  # fmt: skip
        if ok:
            values["account_bpa"] = Bpa("account", _flags(conf))
        ok, conf = r.read(
            "the bucket's Block Public Access", "s3:GetBucketPublicAccessBlock",
            lambda: s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
            absent={"NoSuchPublicAccessBlockConfiguration"},
        )  # fmt: skip
        if ok:
            values["bucket_bpa"] = Bpa("bucket", _flags(conf))
        ok, text = r.read(
            "the bucket policy",
            "s3:GetBucketPolicy",
            lambda: s3.get_bucket_policy(Bucket=bucket)["Policy"],
            absent={"NoSuchBucketPolicy"},
        )
        if ok:
            policy = PolicyDoc(
                "bucket policy", "bucket-policy", text, target=PolicyTarget(BUCKET_POLICY, bucket=bucket)
            )
            values["bucket_policy"] = policy
            if text is None:
                values["policy_public"], values["policy_public_source"] = False, "sagewiz"
            else:
                ok2, status = r.read(
                    "the bucket policy status", "s3:GetBucketPolicyStatus",
                    lambda: s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"],
                )  # fmt: skip
                if ok2 and status is not None:
                    values["policy_public"], values["policy_public_source"] = (
                        bool(status.get("IsPublic")),
                        "s3",
                    )
                elif policy.document is not None:
                    # S3's answer is unavailable: say what S3's rules make of it, and that it was computed here.
                    values["policy_public"], values["policy_public_source"] = (
                        is_public(policy.document),
                        "sagewiz",
                    )
        ok, enc = r.read(
            "the bucket's default encryption", "s3:GetEncryptionConfiguration",
            lambda: s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"],
            absent={"ServerSideEncryptionConfigurationNotFoundError"},
        )  # fmt: skip
        encryption = _encryption(enc) if ok else None
        if encryption is not None:
            values["encryption"] = encryption
        ok, own = r.read(
            "the bucket's Object Ownership", "s3:GetBucketOwnershipControls",
            lambda: s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"],
            absent={"OwnershipControlsNotFoundError"},
        )  # fmt: skip
        if ok and own:
            rules = own.get("Rules") or [{}]
            values["object_ownership"] = rules[0].get("ObjectOwnership")
        key = encryption.kms_key_id if encryption else None
        if key:
            kms = factory.client("kms")
            ok, kp = r.read(
                f"the key policy of {key}",
                "kms:GetKeyPolicy",
                lambda: kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"],
                absent={"NotFoundException"},
            )
            if ok:
                values["key_policy"] = PolicyDoc(key, "key-policy", kp, arn=key)

    return values


def _read_role(r: _Reader, factory: Any, role_arn: str) -> tuple[dict[str, Any], list[PolicyDoc], bool]:
    from services.permissions.apply import read_role_policy_text

    iam = factory.client("iam")
    role_name = role_name_of(role_arn)
    values: dict[str, Any] = {}
    ok, role = r.read(
        f"role {role_name}",
        "iam:GetRole",
        lambda: iam.get_role(RoleName=role_name)["Role"],
        absent={"NoSuchEntity"},
    )
    policies: list[PolicyDoc] = []
    complete = ok
    if ok and role is None:
        values["role_exists"] = False
    elif ok and role is not None:
        values["role_id"] = role.get("RoleId")
        ok, names = r.read(
            f"the inline policies of {role_name}",
            "iam:ListRolePolicies",
            lambda: _all(iam, "list_role_policies", "PolicyNames", RoleName=role_name),
        )
        complete = complete and ok
        for name in names or []:
            ok, text = r.read(
                f"inline policy {name}",
                "iam:GetRolePolicy",
                functools.partial(read_role_policy_text, factory, role_name, name),
            )
            complete = complete and ok
            if ok:
                policies.append(
                    PolicyDoc(
                        name,
                        "inline",
                        text,
                        target=PolicyTarget(ROLE_INLINE_POLICY, role_name=role_name, policy_name=name),
                    )
                )
        ok, attached = r.read(
            f"the attached policies of {role_name}",
            "iam:ListAttachedRolePolicies",
            lambda: _all(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=role_name),
        )
        complete = complete and ok
        for pol in attached or []:
            doc = _managed(r, iam, pol["PolicyArn"], pol.get("PolicyName") or pol["PolicyArn"], "managed")
            complete = complete and doc is not None
            if doc is not None:
                policies.append(doc)
        boundary = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if boundary:
            values["has_boundary"] = True
            values["boundary"] = _managed(r, iam, boundary, boundary.rsplit("/", 1)[-1], "boundary")
    else:
        values["role_exists"] = None
    return values, policies, complete


def _managed(r: _Reader, iam: Any, arn: str, name: str, source: str) -> PolicyDoc | None:
    ok, pol = r.read(f"policy {name}", "iam:GetPolicy", lambda: iam.get_policy(PolicyArn=arn)["Policy"])
    if not ok or pol is None:
        return None
    version = pol.get("DefaultVersionId")
    ok, ver = r.read(
        f"policy {name} version {version}", "iam:GetPolicyVersion",
        lambda: iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"],
    )  # fmt: skip
    if not ok or ver is None:
        return None
    doc = ver.get("Document")
    text = doc if isinstance(doc, str) else json.dumps(doc)
    return PolicyDoc(name, source, text, arn=arn, version=version)


def _all(client: Any, op: str, key: str, **kw: Any) -> list[Any]:
    out: list[Any] = []
    for page in client.get_paginator(op).paginate(**kw):
        out.extend(page.get(key) or [])
    return out


def _flags(conf: dict[str, Any] | None) -> dict[str, bool] | None:
    if conf is None:
        return None
    return {k: bool(conf.get(k, False)) for k in BPA_KEYS}


def _encryption(conf: dict[str, Any] | None) -> Encryption:
    if not conf:
        return Encryption("AES256", default=True)
    rule = (conf.get("Rules") or [{}])[0]
    by_default = rule.get("ApplyServerSideEncryptionByDefault") or {}
    return Encryption(
        by_default.get("SSEAlgorithm", "AES256"),
        by_default.get("KMSMasterKeyID"),
        bool(rule.get("BucketKeyEnabled", False)),
    )


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or "")
    if isinstance(exc, SagewizError):
        return exc.code or ""
    return ""


__all__ = ["Bpa", "CouldNotRead", "Encryption", "PermissionsState", "PolicyDoc", "read_state", "field"]
