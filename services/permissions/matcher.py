"""A small IAM statement matcher: does a statement apply to (principal, action, resource, context)?

Enough for the Permissions step's findings: wildcard actions (case-insensitive) and resources
(case-sensitive), NotAction / NotResource, Principal / NotPrincipal, and the common condition
operators. A condition on a key whose value cannot be known here (for example `aws:SourceVpce`)
makes the answer `None`: "depends on the request", which findings report as such.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

UNKNOWN = None


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def statements(doc: Any) -> list[dict[str, Any]]:
    """The statements of a policy document (a lone statement object counts as a list of one)."""
    if not isinstance(doc, dict):
        return []
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, dict)]


def _glob(pattern: str, value: str, *, case: bool) -> bool:
    # IAM wildcards: `*` any run of characters (including `/`), `?` exactly one. Nothing else is special.
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, 0 if case else re.IGNORECASE) is not None


def action_matches(pattern: str, action: str) -> bool:
    return _glob(str(pattern), action, case=False)


def resource_matches(pattern: str, arn: str) -> bool:
    return _glob(str(pattern), arn, case=True)


def covers_action(stmt: dict[str, Any], action: str) -> bool:
    if "NotAction" in stmt:
        return not any(action_matches(p, action) for p in as_list(stmt["NotAction"]))
    return any(action_matches(p, action) for p in as_list(stmt.get("Action")))


def covers_resource(stmt: dict[str, Any], arn: str) -> bool:
    if "NotResource" in stmt:
        return not any(resource_matches(p, arn) for p in as_list(stmt["NotResource"]))
    return any(resource_matches(p, arn) for p in as_list(stmt.get("Resource")))


@dataclass(frozen=True)
class Caller:
    """Who is asking: the role (with its path), its session ARN and account."""

    role_arn: str
    account: str
    session_arn: str | None = None
    role_id: str | None = None  # AROA... unique id, when known

    def principal_values(self) -> set[str]:
        vals = {self.role_arn, self.account, f"arn:aws:iam::{self.account}:root"}
        if self.session_arn:
            vals.add(self.session_arn)
        return vals


def principal_matches(stmt: dict[str, Any], caller: Caller | None) -> bool:
    """Resource policies only. Identity policies (no Principal) always concern their holder."""
    if caller is None or ("Principal" not in stmt and "NotPrincipal" not in stmt):
        return True
    if "NotPrincipal" in stmt:
        return not _principal_listed(stmt["NotPrincipal"], caller)
    return _principal_listed(stmt["Principal"], caller)


def _principal_listed(principal: Any, caller: Caller) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    wanted = caller.principal_values()
    return any(value == "*" or value in wanted for value in as_list(principal.get("AWS")))


# -- conditions ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Context:
    """Request context. `values` holds keys known to be present; `absent` keys known to be missing.
    Any other key is unknown (the matcher answers None for conditions that test it)."""

    values: dict[str, list[str]] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()

    def lookup(self, key: str) -> list[str] | Literal[False] | None:
        k = key.lower()
        for name, vals in self.values.items():
            if name.lower() == k:
                return vals
        if k in {a.lower() for a in self.absent}:
            return False
        return None


def role_context(caller: Caller, *, secure_transport: bool = True) -> Context:
    """What a SageMaker execution role's request carries, as far as can be known without the request."""
    values = {
        "aws:PrincipalArn": [caller.role_arn],
        "aws:PrincipalAccount": [caller.account],
        "aws:PrincipalType": ["AssumedRole"],
        "aws:SecureTransport": ["true" if secure_transport else "false"],
        "aws:ResourceAccount": [caller.account],
    }
    if caller.role_id:
        values["aws:userid"] = [f"{caller.role_id}:SageMaker"]
    # Network keys (aws:SourceVpce, aws:SourceIp) and the org id stay unknown: they depend on
    # where the request comes from, so conditions on them answer "depends".
    return Context(values)


_STRING_OPS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "stringequals": (lambda p, v: p == v, False),
    "stringnotequals": (lambda p, v: p == v, True),
    "stringequalsignorecase": (lambda p, v: p.lower() == v.lower(), False),
    "stringnotequalsignorecase": (lambda p, v: p.lower() == v.lower(), True),
    "stringlike": (lambda p, v: _glob(p, v, case=True), False),
    "stringnotlike": (lambda p, v: _glob(p, v, case=True), True),
    "arnequals": (lambda p, v: _glob(p, v, case=True), False),
    "arnlike": (lambda p, v: _glob(p, v, case=True), False),
    "arnnotequals": (lambda p, v: _glob(p, v, case=True), True),
    "arnnotlike": (lambda p, v: _glob(p, v, case=True), True),
    "bool": (lambda p, v: p.lower() == v.lower(), False),
}


def condition_holds(condition: Any, ctx: Context) -> bool | None:
    """True / False, or None when a tested key's value cannot be known."""
    if not condition:
        return True
    if not isinstance(condition, dict):
        return None
    unknown = False
    for op, tests in condition.items():
        if not isinstance(tests, dict):
            return None
        for key, patterns in tests.items():
            r = _one(str(op), str(key), [str(p) for p in as_list(patterns)], ctx)
            if r is False:
                return False
            if r is None:
                unknown = True
    return None if unknown else True


def _one(op: str, key: str, patterns: list[str], ctx: Context) -> bool | None:
    name = op
    qualifier = ""
    if ":" in name:
        qualifier, name = name.split(":", 1)
        qualifier = qualifier.lower()
    if_exists = name.lower().endswith("ifexists")
    if if_exists:
        name = name[: -len("IfExists")]
    lname = name.lower()
    value = ctx.lookup(key)
    if lname == "null":
        if value is None:
            return None
        want_absent = patterns[:1] == ["true"]
        return (value is False) == want_absent
    if value is None:
        return None
    if value is False:  # key absent from the request
        if if_exists:
            return True
        return (
            lname
            in {"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals", "arnnotlike"}
            or qualifier == "forallvalues"
        )
    if lname not in _STRING_OPS:
        return None  # numeric, date, IP operators: not needed for S3 role checks
    test, negated = _STRING_OPS[lname]
    hits = [any(test(p, v) for p in patterns) for v in value]
    if qualifier == "forallvalues":
        ok = all(hits)
        return (not ok) if negated else ok
    matched = any(hits)
    return (not matched) if negated else matched


@dataclass(frozen=True)
class Match:
    """A statement that applies: `certain` is False when it depends on unknown request values."""

    policy: str
    index: int
    statement: dict[str, Any]
    certain: bool


def applies(
    stmt: dict[str, Any], action: str, resource: str, caller: Caller | None, ctx: Context
) -> bool | None:
    if not covers_action(stmt, action) or not covers_resource(stmt, resource):
        return False
    if not principal_matches(stmt, caller):
        return False
    return condition_holds(stmt.get("Condition"), ctx)


def matching(
    policies: Iterable[tuple[str, Any, bool]],
    effect: str,
    action: str,
    resource: str,
    caller: Caller,
    ctx: Context,
) -> list[Match]:
    """Statements with `effect` that apply. `policies` yields (name, document, is_resource_policy)."""
    out: list[Match] = []
    for name, doc, is_resource in policies:
        for i, stmt in enumerate(statements(doc)):
            if stmt.get("Effect") != effect:
                continue
            r = applies(stmt, action, resource, caller if is_resource else None, ctx)
            if r is not False:
                out.append(Match(name, i, stmt, r is True))
    return out
