"""A role as a person gives it: a name, or an ARN with or without its path.

    ref = parse_role("SageMaker-tt")                     # RoleRef, or ValidationError (no AWS call)
    role = resolve_role(factory, ref, account="123…")    # ResolvedRole: the real ARN from iam:GetRole

A role's ARN holds its path (`role/service-role/SageMaker-tt`), and an ARN without it names a
different principal: a policy naming `role/SageMaker-tt` does not match the role. IAM finds a role
by its name alone, so GetRole on the name gives the real ARN, and `ResolvedRole.path_missing` says
when the ARN given lacked the path.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

from services.errors import NotFoundError, ValidationError, translate
from services.terminal_text import echo

_ROLE_ARN = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):role(/(?:[\w+=,.@-]+/)*)([\w+=,.@-]{1,64})")
_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_HINT = (
    "Give the role's name (SageMaker-tt), its ARN (arn:aws:iam::<12-digit account>:role/<path>/<name>), "
    "or pick it from the list."
)


class RoleForm(enum.Enum):
    NAME = "name"
    ARN = "arn"


@dataclass(frozen=True)
class RoleRef:
    """A role as given, checked against IAM's rules but not yet looked up."""

    given: str
    form: RoleForm
    name: str
    account: str | None = None  # from the ARN
    path: str | None = None  # from the ARN: "/" when it has none
    partition: str = "aws"

    def arn_in(self, account: str) -> str:
        """The ARN as given, or for a bare name the ARN it would have at the root path."""
        if self.form is RoleForm.ARN:
            return self.given
        return f"arn:{self.partition}:iam::{account}:role/{self.name}"


@dataclass(frozen=True)
class ResolvedRole:
    ref: RoleRef
    arn: str  # the role's real ARN, as IAM reports it
    path: str  # its real path, "/service-role/"
    role_id: str = ""

    @property
    def name(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def differs(self) -> bool:
        """The ARN given is not the role's (a bare name never differs: it names no path)."""
        return self.ref.form is RoleForm.ARN and self.ref.given != self.arn

    @property
    def path_missing(self) -> bool:
        return self.differs and self.ref.path == "/" and self.path != "/"


def parse_role(text: str) -> RoleRef:
    """A name or a role ARN, by IAM's rules, before any call (ValidationError says which rule)."""
    given = text.strip()
    if not given:
        raise ValidationError("role", "No role given.", _HINT)
    if given.startswith("arn:"):
        m = _ROLE_ARN.fullmatch(given)
        if m is None:
            if ":role/" not in given:
                why = f"{echo(given)} is an ARN, but not a role's (a role ARN has :role/ after the account)."
            else:
                why = (
                    f"{echo(given)} is not a valid role ARN: it needs arn:aws:iam::, a 12-digit account, "
                    "role/, an optional path and a name of at most 64 letters, digits and + = , . @ _ -."
                )
            raise ValidationError("role", why, _HINT)
        return RoleRef(given, RoleForm.ARN, m.group(4), m.group(2), m.group(3), m.group(1))
    if "/" in given or ":" in given:
        raise ValidationError(
            "role",
            f"{echo(given)} is neither a role name (no / or :) nor a role ARN (starts with arn:).",
            _HINT,
        )
    if len(given) > 64:
        raise ValidationError(
            "role", f"A role name is at most 64 characters (this one has {len(given)}).", _HINT
        )
    if not _NAME.fullmatch(given):
        raise ValidationError(
            "role",
            f"{echo(given)} is not a role name: only letters, digits and + = , . @ _ - are allowed.",
            _HINT,
        )
    return RoleRef(given, RoleForm.NAME, given)


def resolve_role(factory: Any, ref: RoleRef, *, account: str) -> ResolvedRole:
    """The role's real ARN and path (iam:GetRole by its name). NotFoundError when there is no such
    role in `account`; a role ARN of another account is refused before any call."""
    if ref.account is not None and ref.account != account:
        raise ValidationError(
            "role",
            f"{echo(ref.given)} is in account {ref.account}, but sagewiz works in account {account}.",
            "Give a role of this account, or connect to the role's account.",
        )
    try:
        role = factory.client("iam").get_role(RoleName=ref.name)["Role"]
    except Exception as exc:
        err = translate(exc, "iam:GetRole")
        if err.kind == "not-found":
            raise NotFoundError(
                "No such role",
                f"There is no role named {echo(ref.name)} in account {account}.",
                "Check the name, or pick a role from the list; the Notebook step can create one.",
            ) from exc
        raise err from exc
    return ResolvedRole(ref, str(role["Arn"]), str(role.get("Path") or "/"), str(role.get("RoleId") or ""))
