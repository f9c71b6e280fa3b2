"""Sizes as people read them (the plan, the progress line, the summary); durations are written by
services/durations.py."""

from __future__ import annotations

from services.terminal_text import escape


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def shown_name(name: str) -> str:
    """A file name as printed: quoted and escaped the way every outside value is (ESC as \\e, CR
    as \\r) when it holds a control character, so it can neither rewrite the terminal nor pass
    for a line of the summary."""
    if name.isprintable():
        return name
    return "'" + escape(name, one_line=True) + "'"
