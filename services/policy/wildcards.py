"""IAM wildcard matching and policy variables.

`*` matches any run of characters (including none, `/` and `:`), `?` exactly one. Action names
are matched case-insensitively, ARNs and condition values case-sensitively. Policy variables
(`${aws:username}`, `${aws:PrincipalTag/team}`, `${*}`, `${?}`, `${$}`) are replaced with the
request's values as literals; a variable the request does not have makes the pattern match
nothing, as AWS does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

_VAR = re.compile(r"\$\{([^}]*)\}")
_LITERAL_VARS = {"*": "*", "?": "?", "$": "$"}

Lookup = Callable[[str], str | None]


@lru_cache(maxsize=4096)
def _compiled(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def has_variables(pattern: str) -> bool:
    return "${" in pattern


def substitute(pattern: str, lookup: Lookup | None) -> list[tuple[bool, str]] | None:
    """Split into (is_literal, text) pieces with variables resolved; None if one is unresolved."""
    pieces: list[tuple[bool, str]] = []
    pos = 0
    for m in _VAR.finditer(pattern):
        if m.start() > pos:
            pieces.append((False, pattern[pos : m.start()]))
        inner = m.group(1).strip()
        name, default = inner, None
        if "," in inner:
            name, _, rest = inner.partition(",")
            name = name.strip()
            rest = rest.strip()
            if len(rest) >= 2 and rest[0] == rest[-1] == "'":
                default = rest[1:-1]
        if name in _LITERAL_VARS:
            value: str | None = _LITERAL_VARS[name]
        else:
            value = lookup(name) if lookup else None
            if value is None:
                value = default
        if value is None:
            return None
        pieces.append((True, value))
        pos = m.end()
    if pos < len(pattern):
        pieces.append((False, pattern[pos:]))
    return pieces


def wildcard_match(
    pattern: str, value: str, *, ignore_case: bool = False, lookup: Lookup | None = None
) -> bool:
    """True if `value` matches the IAM glob `pattern`."""
    if not has_variables(pattern):
        return _compiled(pattern, ignore_case).fullmatch(value) is not None
    pieces = substitute(pattern, lookup)
    if pieces is None:
        return False
    regex = "".join(
        re.escape(text) if literal else _compiled(text, ignore_case).pattern for literal, text in pieces
    )
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def action_matches(pattern: str, action: str) -> bool:
    """Actions: `service:Name`, case-insensitive, `*` and `?` allowed in either part."""
    return wildcard_match(pattern, action, ignore_case=True)


def arn_matches(pattern: str, arn: str, lookup: Lookup | None = None) -> bool:
    """Resources: case-sensitive glob over the whole ARN (`*` spans `/` and `:`)."""
    if pattern == "*":
        return True
    return wildcard_match(pattern, arn, lookup=lookup)


def arn_like(pattern: str, arn: str, lookup: Lookup | None = None) -> bool:
    """ArnLike semantics: the six colon-separated parts are matched one by one."""
    p_parts = pattern.split(":", 5)
    a_parts = arn.split(":", 5)
    if len(p_parts) != 6 or len(a_parts) != 6:
        return pattern == "*" or (
            len(p_parts) == len(a_parts) and wildcard_match(pattern, arn, lookup=lookup)
        )
    return all(wildcard_match(p, a, lookup=lookup) for p, a in zip(p_parts, a_parts, strict=True))
