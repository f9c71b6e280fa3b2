"""Policy documents: parse and normalise AWS's string-or-list shapes into frozen dataclasses.

Parsing is tolerant where AWS is (a single statement object, a string or a list for Action,
Resource and Principal values, numbers and booleans in conditions) and strict where a wrong
shape would change the meaning (unknown Effect, both Action and NotAction, non-string actions).
Every problem is a `PolicyError` naming the statement and the rule; nothing else is raised.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from services.errors import ValidationError

MAX_POLICY_CHARS = 100_000  # far above AWS's largest policy (bucket policies: 20 KB)


class PolicyError(ValidationError):
    """A policy document that cannot be read; `message` says which rule failed."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(
            "policy", message, hint or "Fix the JSON so it follows the IAM policy grammar, then retry."
        )


@dataclass(frozen=True)
class ConditionClause:
    """One operator/key pair of a Condition block, e.g. StringEquals aws:PrincipalArn [..]."""

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    key: str  # as written; compare lower-cased
    values: tuple[str, ...]


@dataclass(frozen=True)
class PrincipalSpec:
    """A Principal or NotPrincipal element. `wildcard` for "*" or {"AWS": "*"}."""

    wildcard: bool = False
    entries: tuple[tuple[str, str], ...] = ()  # (type, value): ("AWS", arn), ("Service", name), ...

    def describe(self) -> str:
        if self.wildcard:
            return "*"
        return ", ".join(f"{t}:{v}" for t, v in self.entries) or "(none)"


@dataclass(frozen=True)
class Statement:
    index: int
    effect: str  # "Allow" | "Deny"
    sid: str | None = None
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    principal: PrincipalSpec | None = None
    not_principal: PrincipalSpec | None = None
    conditions: tuple[ConditionClause, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def label(self) -> str:
        """How people refer to it: its Sid, or its position (1-based)."""
        return f'"{self.sid}"' if self.sid else f"#{self.index + 1}"


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]
    version: str | None = None
    id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)


def parse_policy(doc: str | bytes | dict[str, Any] | Any) -> Policy:
    """Parse a policy given as JSON text or an already-decoded object."""
    if isinstance(doc, bytes):
        try:
            doc = doc.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PolicyError("the policy is not UTF-8 text") from exc
    if isinstance(doc, str):
        if len(doc) > MAX_POLICY_CHARS:
            raise PolicyError(f"the policy is longer than {MAX_POLICY_CHARS} characters")
        text = doc.strip()
        if not text:
            raise PolicyError("the policy is empty")
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise PolicyError(f"the policy is not valid JSON ({_short(exc)})") from exc
    if not isinstance(doc, dict):
        raise PolicyError("a policy must be a JSON object with a Statement element")
    raw_statements = doc.get("Statement")
    if raw_statements is None:
        raise PolicyError("the policy has no Statement element")
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise PolicyError("Statement must be an object or a list of objects")
    statements = tuple(_statement(i, s) for i, s in enumerate(raw_statements))
    version = doc.get("Version")
    pid = doc.get("Id")
    return Policy(
        statements=statements,
        version=version if isinstance(version, str) else None,
        id=pid if isinstance(pid, str) else None,
        raw=doc,
    )


def _statement(index: int, raw: Any) -> Statement:
    where = f"statement {index + 1}"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where} is not a JSON object")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(f"{where}: Sid must be a string")
    if sid:
        where = f'statement "{sid}"'
    effect = raw.get("Effect")
    if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
        raise PolicyError(f'{where}: Effect must be "Allow" or "Deny"')
    effect = "Allow" if effect.lower() == "allow" else "Deny"
    if ("Action" in raw) == ("NotAction" in raw):
        raise PolicyError(f"{where}: needs exactly one of Action or NotAction")
    if "Resource" in raw and "NotResource" in raw:
        raise PolicyError(f"{where}: cannot have both Resource and NotResource")
    if "Principal" in raw and "NotPrincipal" in raw:
        raise PolicyError(f"{where}: cannot have both Principal and NotPrincipal")
    return Statement(
        index=index,
        effect=effect,
        sid=sid or None,
        actions=_strings(raw, "Action", where),
        not_actions=_strings(raw, "NotAction", where),
        resources=_strings(raw, "Resource", where),
        not_resources=_strings(raw, "NotResource", where),
        principal=_principal(raw, "Principal", where),
        not_principal=_principal(raw, "NotPrincipal", where),
        conditions=_conditions(raw.get("Condition"), where),
        raw=raw,
    )


def _strings(raw: dict[str, Any], name: str, where: str) -> tuple[str, ...] | None:
    if name not in raw:
        return None
    value = raw[name]
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PolicyError(f"{where}: {name} must be a string or a list of strings")


def _principal(raw: dict[str, Any], name: str, where: str) -> PrincipalSpec | None:
    if name not in raw:
        return None
    value = raw[name]
    if value == "*":
        return PrincipalSpec(wildcard=True)
    if not isinstance(value, dict):
        raise PolicyError(f'{where}: {name} must be "*" or an object such as {{"AWS": "<arn>"}}')
    entries: list[tuple[str, str]] = []
    wildcard = False
    for ptype, pvalue in value.items():
        if not isinstance(ptype, str):
            raise PolicyError(f"{where}: {name} keys must be strings")
        values = [pvalue] if isinstance(pvalue, str) else pvalue
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise PolicyError(f"{where}: {name}.{ptype} must be a string or a list of strings")
        for v in values:
            if ptype == "AWS" and v == "*":
                wildcard = True
            entries.append((ptype, v))
    return PrincipalSpec(wildcard=wildcard, entries=tuple(entries))


def _conditions(raw: Any, where: str) -> tuple[ConditionClause, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: Condition must be an object of operator -> {{key: values}}")
    out: list[ConditionClause] = []
    for op, block in raw.items():
        if not isinstance(op, str) or not isinstance(block, dict):
            raise PolicyError(f"{where}: Condition operator {op!r} must map to an object of key -> values")
        for key, values in block.items():
            if not isinstance(key, str):
                raise PolicyError(f"{where}: condition keys must be strings")
            vals = values if isinstance(values, list) else [values]
            norm: list[str] = []
            for v in vals:
                if isinstance(v, bool):
                    norm.append("true" if v else "false")
                elif isinstance(v, (str, int, float)):
                    norm.append(str(v))
                else:
                    raise PolicyError(
                        f"{where}: the values of {op} {key} must be strings, numbers or booleans"
                    )
            out.append(ConditionClause(op, key, tuple(norm)))
    return tuple(out)


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 120 else text[:117] + "..."
