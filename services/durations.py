"""How long something took or has left, in words or as a clock: the one place durations are written.

Two forms because a reader needs two things: `duration` says how long at a glance ("3m 07s",
"2d 1h"), `clock` is a running counter or an estimate that ticks ("0:03:07"). Both take seconds
as a float or None (not known yet), clamp negatives to zero (clock skew between this machine and
AWS must not show "-3s"), and never raise on infinite or NaN values (a rate of zero gives an
infinite estimate).
"""

from __future__ import annotations

import math

UNKNOWN = "-"
UNKNOWN_CLOCK = "-:--:--"


def _whole_seconds(seconds: float | None) -> int | None:
    if seconds is None or math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0, int(seconds))


def duration(seconds: float | None) -> str:
    """`45s`, `3m 07s`, `1h 05m`, `2d 3h`: the two largest units, so a column stays narrow."""
    s = _whole_seconds(seconds)
    if s is None:
        return UNKNOWN
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {(s % 3600) // 60:02d}m"
    return f"{s // 86400}d {(s % 86400) // 3600}h"


def clock(seconds: float | None) -> str:
    """`0:03:07`: hours, minutes and seconds; hours grow past 99 rather than wrap."""
    s = _whole_seconds(seconds)
    if s is None:
        return UNKNOWN_CLOCK
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
