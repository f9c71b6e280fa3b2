"""The verdict and headline of a diagnosis, and its statement-level trace."""

from __future__ import annotations

from services.doctor.model import Finding
from services.doctor.parse import ParsedError
from services.policy.evaluate import Decision


def verdict(d: Decision, findings: tuple[Finding, ...], parsed: ParsedError | None) -> tuple[str, str]:
    """("allowed" | "denied" | "unknown", the headline)."""
    blocking = [f for f in findings if f.blocking]
    if blocking:
        return "denied", f"Denied: {blocking[0].summary}"
    if d.allowed:
        if parsed and parsed.is_access_denied:
            return (
                "unknown",
                "Everything sagewiz could read allows this request, yet AWS refused it: the cause is something it "
                "cannot read (an SCP or RCP, a VPC endpoint policy, a session policy) or has changed since.",
            )
        return "allowed", f"Allowed: {d.reason}"
    return "unknown", f"Refused by our evaluation ({d.reason}), but no specific cause could be named."


def trace_lines(d: Decision) -> tuple[str, ...]:
    lines = [f"decision: {d.kind} — {d.reason}"]
    for r in d.results:
        lines.append(f"{r.kind} {r.name}: {r.decision}")
        for t in r.traces:
            mark = "✓" if t.matched else "·"
            lines.append(f"  {mark} {t.effect} {t.label}: {t.why}")
    lines.extend(f"note: {n}" for n in d.layers)
    return tuple(lines)
