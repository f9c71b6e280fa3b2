"""The roles SageMaker can assume in the account, and the checks of a role named or typed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from services.errors import ValidationError, translate
from services.roles.documents import sagemaker_role_problem

# IAM's own rule for role names: 1-64 of [\w+=,.@-].
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")


@dataclass(frozen=True)
class RoleInfo:
    name: str
    arn: str
    path: str
    usable: bool
    reason: str = ""  # why SageMaker cannot assume it (when not usable)
    created: str = ""


@dataclass(frozen=True)
class RoleListing:
    usable: tuple[RoleInfo, ...]
    excluded: tuple[RoleInfo, ...]


def list_execution_roles(factory: Any) -> RoleListing:
    """Every role in the account, split into those SageMaker can assume and the rest (with why)."""
    iam = factory.client("iam")
    usable: list[RoleInfo] = []
    excluded: list[RoleInfo] = []
    try:
        for page in iam.get_paginator("list_roles").paginate():
            for role in page.get("Roles", []):
                if role.get("Path", "").startswith("/aws-service-role/"):
                    problem: str | None = (
                        "a service-linked role belongs to an AWS service and cannot be passed"
                    )
                else:
                    problem = sagemaker_role_problem(role.get("AssumeRolePolicyDocument") or {})
                info = RoleInfo(
                    name=role["RoleName"],
                    arn=role["Arn"],
                    path=role.get("Path", "/"),
                    usable=problem is None,
                    reason=problem or "",
                    created=str(role.get("CreateDate", ""))[:19],
                )
                (usable if problem is None else excluded).append(info)
    except Exception as exc:
        raise translate(exc, "iam:ListRoles") from exc
    key = lambda r: r.name.lower()  # noqa: E731
    return RoleListing(tuple(sorted(usable, key=key)), tuple(sorted(excluded, key=key)))


def check_role_assumable(factory: Any, role_arn: str) -> None:
    """Raise a clear error when the role does not exist or SageMaker cannot assume it."""
    problem = role_arn_problem(role_arn)
    if problem:
        raise ValidationError("execution role", problem, "Pick a role from the list or create one.")
    name = role_arn.rsplit("/", 1)[-1]
    try:
        role = factory.client("iam").get_role(RoleName=name)["Role"]
    except Exception as exc:
        err = translate(exc, "iam:GetRole")
        if err.kind == "not-found":
            raise ValidationError(
                "execution role",
                f"The role {name} does not exist.",
                "Pick a role from the list or create one.",
            ) from exc
        raise err from exc
    why = sagemaker_role_problem(role.get("AssumeRolePolicyDocument") or {})
    if why:
        raise ValidationError(
            "execution role",
            f"SageMaker cannot assume {name}: {why}.",
            "Pick a role whose trust policy names sagemaker.amazonaws.com, or create one here.",
        )


@dataclass(frozen=True)
class RoleArnParts:
    account: str
    path: str  # "/" or "/service-role/", ...
    name: str


def role_arn_parts(arn: str) -> RoleArnParts | None:
    """The account, path and name a role ARN holds (None when it is not one)."""
    m = re.fullmatch(r"arn:aws[a-z-]*:iam::(\d{12}):role(/(?:[\w+=,.@-]+/)*)([\w+=,.@-]{1,64})", arn or "")
    return RoleArnParts(m.group(1), m.group(2), m.group(3)) if m else None


def role_arn_problem(arn: str) -> str | None:
    if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}", arn or ""):
        from services.terminal_text import echo

        return f"{echo(arn)} is not a role ARN (expected arn:aws:iam::<12-digit account>:role/<name>)."
    return None


def role_name_problem(name: str) -> str | None:
    if not name:
        return "A role name is required."
    if not _ROLE_NAME.match(name):
        if len(name) > 64:
            return f"A role name is at most 64 characters (this one has {len(name)})."
        return "A role name may contain only letters, digits and + = , . @ _ - (no spaces or slashes)."
    return None


def default_role_name(stamp: str) -> str:
    """AmazonSageMaker-ExecutionRole-<stamp>, the name the console uses (stamp e.g. 20261127T120000)."""
    return f"AmazonSageMaker-ExecutionRole-{stamp}"
