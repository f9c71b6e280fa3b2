"""What every fix passes before it is offered: the documents it writes are validated (JSON, IAM
grammar, S3's rules, the `parliament` linter when installed), and the minimal-change check proves
it changes only the decision asked for, or it is refused as an `UnsafeFix`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from services.errors import ValidationError
from services.permissions import validate
from services.permissions.fixes.change import BUCKET_POLICY, ROLE_INLINE_POLICY, PolicyChange
from services.permissions.fixes.shapes import role_name_of
from services.policy.minimal_change import Documents, Permitted, Subject, check_change


class UnsafeFix(ValidationError):
    """A fix that failed the minimal-change check (or a rule of what sagewiz proposes): not offered."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(
            "fix",
            message,
            hint
            or "sagewiz does not offer it; the report for an administrator says what was refused and why.",
        )


def subject_for(role_arn: str, bucket: str | None, action: str, resource: str) -> Subject:
    """The grid subject for a role (a session of it) or a user (itself)."""
    parts = role_arn.split(":")
    account = parts[4] if len(parts) > 4 else ""
    if ":role/" in role_arn:
        session = f"arn:aws:sts::{account}:assumed-role/{role_name_of(role_arn)}/sagewiz-check"
    else:
        session = role_arn
    return Subject(account, role_arn, session, bucket, action, resource)


def verified(
    change: PolicyChange,
    subject: Subject,
    before: Documents,
    permitted: tuple[Permitted, ...],
    *,
    narrowing: bool = False,
) -> PolicyChange:
    """The change with its minimal-change proof in `checks`, or UnsafeFix when the grid shows more."""
    if change.target.kind == BUCKET_POLICY:
        after = before.with_bucket_policy(change.new_text)
    elif change.target.kind == ROLE_INLINE_POLICY:
        after = before.with_identity(change.target.policy_name or "", change.new_text)
    else:
        return change
    if change.target.kind == BUCKET_POLICY and change.old_text is not None and before.bucket_policy is None:
        before = before.with_bucket_policy(change.old_text)
    if (
        change.target.kind == ROLE_INLINE_POLICY
        and change.old_text is not None
        and not any(n == change.target.policy_name for n, _ in before.identity)
    ):
        before = before.with_identity(change.target.policy_name or "", change.old_text)
    result = check_change(subject, before, after, permitted, narrowing=narrowing)
    if not result.ok:
        raise UnsafeFix(result.summary() + ".")
    return replace(change, checks=(*change.checks, result.summary()))


def stated(actions: list[str], resource: str, why: str) -> tuple[Permitted, ...]:
    return tuple(Permitted(a, resource, why) for a in actions)


def validated(
    doc: dict[str, Any], kind: str, baseline: dict[str, Any] | None = None, ignore: tuple[str, ...] = ()
) -> tuple[str, ...]:
    validate.check(doc, kind, baseline=baseline, ignore=ignore)
    done = ["valid JSON", "IAM policy grammar", "policy linter (parliament): no new findings"]
    if kind == validate.BUCKET_POLICY:
        done += [
            "S3: every action applies to a listed resource",
            "not public (Block Public Access accepts it)",
        ]
    return tuple(done)
