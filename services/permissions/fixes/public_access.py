"""Block Public Access on (or, only when the user asks for public access, off)."""

from __future__ import annotations

from services.permissions.fixes.change import PUBLIC_ACCESS_BLOCK, PolicyChange, PolicyTarget, parse, pretty

BPA_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def public_access_change(bucket: str, old_text: str | None, *, want_public: bool = False) -> PolicyChange:
    """All four settings on; or, only when the user asks for public access, the two policy ones off."""
    current = parse(old_text) or {}
    warnings: tuple[str, ...]
    if want_public:
        new = {
            **{k: bool(current.get(k, True)) for k in BPA_KEYS},
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        }
        title = f"Allow a public bucket policy on {bucket} (Block Public Access partly off)"
        reason = (
            "You said the bucket must be public. This turns off BlockPublicPolicy and RestrictPublicBuckets on "
            "this bucket only; ACL blocking stays on. It is never needed for the role's own access."
        )
        warnings = (
            "SECURITY: anyone on the internet could then read what a public policy exposes. The account-level "
            "Block Public Access still applies and sagewiz does not change it.",
        )
    else:
        new = {k: True for k in BPA_KEYS}
        title = f"Turn Block Public Access fully on for {bucket}"
        reason = "Block Public Access never blocks the role's same-account access; keeping it on is the safe default."
        warnings = ()
    return PolicyChange(
        target=PolicyTarget(PUBLIC_ACCESS_BLOCK, bucket=bucket),
        title=title,
        reason=reason,
        old_text=old_text,
        new_text=pretty(new),
        warnings=warnings,
        checks=("settings are the four Block Public Access flags",),
    )
