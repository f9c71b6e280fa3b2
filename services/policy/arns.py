"""ARN helpers: principals (users, roles, assumed-role sessions, root) and S3 resources."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class PrincipalInfo:
    arn: str
    partition: str
    account: str
    kind: str  # "user" | "role" | "assumed-role" | "root" | "federated-user" | "group" | "other"
    name: str = ""  # user or role name (without path)
    path: str = "/"  # IAM path of a user or role ("/" when unknown / none)
    session: str = ""  # session name of an assumed-role ARN

    @property
    def role_arn_guess(self) -> str | None:
        """For a session: the role ARN without its path (the session ARN drops it)."""
        if self.kind == "assumed-role":
            return f"arn:{self.partition}:iam::{self.account}:role/{self.name}"
        if self.kind == "role":
            return self.arn
        return None


_PRINCIPAL = re.compile(
    r"^arn:(?P<partition>[a-z-]+):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<rest>.+)$"
)


def parse_principal(arn: str) -> PrincipalInfo | None:
    """Understand a principal ARN; None if it is not one."""
    arn = (arn or "").strip()
    m = _PRINCIPAL.match(arn)
    if not m:
        return None
    partition, service, account, rest = m.group("partition", "service", "account", "rest")
    if service == "sts":
        if rest.startswith("assumed-role/"):
            parts = rest.split("/")
            if len(parts) >= 3 and parts[1] and parts[-1]:
                return PrincipalInfo(
                    arn, partition, account, "assumed-role", parts[1], "/", "/".join(parts[2:])
                )
            return None
        if rest.startswith("federated-user/"):
            return PrincipalInfo(arn, partition, account, "federated-user", rest.split("/", 1)[1])
        # The S3 docs print BPA examples with arn:aws:sts::ACCOUNT:user/NAME; treat like a user.
        if rest.startswith("user/"):
            return PrincipalInfo(arn, partition, account, "user", rest.rsplit("/", 1)[-1])
        return None
    if rest == "root":
        return PrincipalInfo(arn, partition, account, "root")
    for kind in ("user", "role", "group"):
        if rest.startswith(kind + "/"):
            tail = rest[len(kind) + 1 :]
            if not tail or tail.endswith("/"):
                return None
            path, _, name = tail.rpartition("/")
            return PrincipalInfo(arn, partition, account, kind, name, f"/{path}/" if path else "/")
    return None


def role_arn(partition: str, account: str, path: str, name: str) -> str:
    path = path if path.startswith("/") else "/" + path
    path = path if path.endswith("/") else path + "/"
    return f"arn:{partition}:iam::{account}:role{path}{name}"


def session_arn(role: str, session: str) -> str:
    """The ARN of `session` of the role `role` (its partition and account kept, its path dropped,
    as STS does); `role` itself when it is not a role ARN."""
    info = parse_principal(role)
    if info is None or info.kind != "role":
        return role
    return f"arn:{info.partition}:sts::{info.account}:assumed-role/{info.name}/{session}"


def is_account_id(value: str) -> bool:
    return bool(_ACCOUNT.match(value or ""))


def account_of_principal_value(value: str) -> str | None:
    """The account a Principal entry names: '123456789012' or 'arn:aws:iam::123456789012:root'."""
    if is_account_id(value):
        return value
    m = re.match(r"^arn:[a-z-]+:iam::(\d{12}):root$", value)
    return m.group(1) if m else None


def s3_arn(bucket: str, key: str | None = None, partition: str = "aws") -> str:
    return f"arn:{partition}:s3:::{bucket}" + (f"/{key}" if key is not None else "")


@dataclass(frozen=True)
class S3Resource:
    partition: str
    bucket: str
    key: str | None  # None for the bucket itself

    @property
    def arn(self) -> str:
        return s3_arn(self.bucket, self.key, self.partition)

    @property
    def bucket_arn(self) -> str:
        return s3_arn(self.bucket, None, self.partition)


def parse_s3_arn(arn: str) -> S3Resource | None:
    m = re.match(r"^arn:([a-z-]+):s3:::([^/]+)(?:/(.*))?$", (arn or "").strip())
    if not m:
        return None
    return S3Resource(m.group(1), m.group(2), m.group(3))
