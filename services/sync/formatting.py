"""Sizes as people read them (the plan, the progress line, the summary); durations are written by
services/durations.py."""

from __future__ import annotations


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def shown_name(name: str) -> str:
    """A file name as printed: quoted when it holds control characters (CR, LF, ESC...), so it can
    neither rewrite the terminal nor pass for a line of the summary."""
    return repr(name) if any(ord(c) < 32 or ord(c) == 127 for c in name) else name
