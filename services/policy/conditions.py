"""Condition operators over a request context.

Semantics follow the IAM reference: keys are case-insensitive; several keys in one operator and
several operators in one block are ANDed; several values for one key are ORed (for negated
operators: the request value must match none of them). A missing key makes a positive operator
false and a negated operator true, unless `...IfExists` (then true). `ForAnyValue:` needs one
request value to match, `ForAllValues:` needs every request value to match (true when the key
is missing or empty). `Null` tests presence.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from services.policy.context import RequestContext
from services.policy.document import ConditionClause
from services.policy.wildcards import arn_like, substitute, wildcard_match

T = TypeVar("T")


@dataclass(frozen=True)
class ConditionResult:
    clause: ConditionClause
    matched: bool
    why: str


def _str_eq(p: str, v: str) -> bool:
    return p == v


def _str_eq_ic(p: str, v: str) -> bool:
    return p.lower() == v.lower()


def _num(x: str) -> float | None:
    try:
        return float(x)
    except ValueError:
        return None


def _date(x: str) -> datetime | None:
    x = x.strip()
    try:
        return datetime.fromtimestamp(float(x), UTC)
    except (ValueError, OverflowError, OSError):
        pass
    try:
        d = datetime.fromisoformat(x.replace("Z", "+00:00"))
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _cmp(conv: Callable[[str], T | None], op: Callable[[T, T], bool]) -> Callable[[str, str], bool]:
    def f(p: str, v: str) -> bool:
        a, b = conv(v), conv(p)
        if a is None or b is None:
            return False
        try:
            return op(a, b)
        except TypeError:
            return False

    return f


def _ip(p: str, v: str) -> bool:
    try:
        net = ipaddress.ip_network(p.strip(), strict=False)
        addr = ipaddress.ip_address(v.strip())
    except ValueError:
        return False
    return addr.version == net.version and addr in net


def _bool(p: str, v: str) -> bool:
    return p.strip().lower() == v.strip().lower()


# name -> (compare(policy_value, request_value), negated, allows variables / wildcards)
_BASE: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "stringequals": (_str_eq, False),
    "stringnotequals": (_str_eq, True),
    "stringequalsignorecase": (_str_eq_ic, False),
    "stringnotequalsignorecase": (_str_eq_ic, True),
    "stringlike": (lambda p, v: wildcard_match(p, v), False),
    "stringnotlike": (lambda p, v: wildcard_match(p, v), True),
    "numericequals": (_cmp(_num, lambda a, b: a == b), False),
    "numericnotequals": (_cmp(_num, lambda a, b: a == b), True),
    "numericlessthan": (_cmp(_num, lambda a, b: a < b), False),
    "numericlessthanequals": (_cmp(_num, lambda a, b: a <= b), False),
    "numericgreaterthan": (_cmp(_num, lambda a, b: a > b), False),
    "numericgreaterthanequals": (_cmp(_num, lambda a, b: a >= b), False),
    "dateequals": (_cmp(_date, lambda a, b: a == b), False),
    "datenotequals": (_cmp(_date, lambda a, b: a == b), True),
    "datelessthan": (_cmp(_date, lambda a, b: a < b), False),
    "datelessthanequals": (_cmp(_date, lambda a, b: a <= b), False),
    "dategreaterthan": (_cmp(_date, lambda a, b: a > b), False),
    "dategreaterthanequals": (_cmp(_date, lambda a, b: a >= b), False),
    "bool": (_bool, False),
    "binaryequals": (_str_eq, False),
    "ipaddress": (_ip, False),
    "notipaddress": (_ip, True),
    "arnequals": (lambda p, v: arn_like(p, v), False),
    "arnlike": (lambda p, v: arn_like(p, v), False),
    "arnnotequals": (lambda p, v: arn_like(p, v), True),
    "arnnotlike": (lambda p, v: arn_like(p, v), True),
}


def known_operator(operator: str) -> bool:
    return _split(operator)[2] in _BASE or _split(operator)[2] == "null"


def _split(operator: str) -> tuple[str | None, bool, str]:
    op = operator.strip()
    qualifier = None
    low = op.lower()
    for q in ("foranyvalue:", "forallvalues:"):
        if low.startswith(q):
            qualifier = q[:-1]
            low = low[len(q) :]
            break
    if_exists = False
    if low.endswith("ifexists") and low != "ifexists":
        if_exists = True
        low = low[: -len("ifexists")]
    return qualifier, if_exists, low


def evaluate_clause(clause: ConditionClause, ctx: RequestContext) -> ConditionResult:
    qualifier, if_exists, base = _split(clause.operator)
    request_values = ctx.value(clause.key)
    shown = _show(request_values)
    if base == "null":
        want_absent = any(v.strip().lower() == "true" for v in clause.values)
        absent = not request_values
        ok = absent == want_absent
        return ConditionResult(clause, ok, f"{clause.key} is {'absent' if absent else 'present'}")
    if base not in _BASE:
        return ConditionResult(
            clause, False, f"unsupported condition operator {clause.operator} (treated as not met)"
        )
    compare, negated = _BASE[base]
    # Variables in condition values (e.g. ${aws:username}) resolve against the request.
    policy_values: list[str] = []
    for pv in clause.values:
        pieces = substitute(pv, ctx.lookup) if "${" in pv else [(False, pv)]
        if pieces is None:
            continue
        if base.startswith("string") and "like" in base:
            # literal pieces must not act as wildcards
            policy_values.append("".join(_escape_glob(t) if lit else t for lit, t in pieces))
        else:
            policy_values.append("".join(t for _, t in pieces))

    def one(v: str) -> bool:
        hit = any(compare(p, v) for p in policy_values)
        return not hit if negated else hit

    if not request_values:
        if qualifier == "forallvalues":
            return ConditionResult(clause, True, f"{clause.key} is absent (ForAllValues of nothing is true)")
        if qualifier == "foranyvalue":
            return ConditionResult(clause, False, f"{clause.key} is absent (ForAnyValue needs a value)")
        if if_exists:
            return ConditionResult(clause, True, f"{clause.key} is absent (IfExists)")
        return ConditionResult(
            clause,
            negated,
            f"{clause.key} is absent ({'negated operators match' if negated else 'no value to compare'})",
        )
    if qualifier == "forallvalues":
        ok = all(one(v) for v in request_values)
    elif qualifier == "foranyvalue":
        ok = any(one(v) for v in request_values)
    elif negated:
        ok = all(one(v) for v in request_values)
    else:
        ok = any(one(v) for v in request_values)
    return ConditionResult(clause, ok, f"request has {clause.key} = {shown}")


def evaluate_conditions(
    clauses: tuple[ConditionClause, ...], ctx: RequestContext
) -> tuple[bool, list[ConditionResult]]:
    results = [evaluate_clause(c, ctx) for c in clauses]
    return all(r.matched for r in results), results


def _escape_glob(text: str) -> str:
    # A resolved variable value is literal; our glob has no escape, so only * and ? matter and
    # they are vanishingly rare in principal names. Keep them as-is (documented limitation).
    return text


def _show(values: tuple[str, ...] | None) -> str:
    if not values:
        return "(absent)"
    return values[0] if len(values) == 1 else "[" + ", ".join(values) + "]"
