"""A policy document the Permissions step replaced (bucket policy, Block Public Access, a role's
inline policy), listed from the journal; reverting writes back the document the journal kept."""

from __future__ import annotations

from typing import Any

from services.errors import NotFoundError
from services.journal_events import PolicyRestored
from services.permissions.apply import ABSENT, _call, read_current, same_document
from services.permissions.fixes.change import (
    BUCKET_POLICY,
    PUBLIC_ACCESS_BLOCK,
    ROLE_INLINE_POLICY,
    PolicyTarget,
)
from services.plan import Action
from services.resource_kinds import ResourceKind
from services.resources.handler import KindHandler, with_state
from services.resources.record import Resource


def target_of(key: str) -> PolicyTarget:
    """The document a journaled target key names (`PolicyTarget.key`'s three spellings)."""
    for prefix, kind in (
        ("s3:bucket-policy:", BUCKET_POLICY),
        ("s3:public-access-block:", PUBLIC_ACCESS_BLOCK),
    ):
        if key.startswith(prefix):
            return PolicyTarget(kind, bucket=key.removeprefix(prefix))
    if key.startswith("iam:role-policy:") and "/" in key:
        role, policy = key.removeprefix("iam:role-policy:").split("/", 1)
        return PolicyTarget(ROLE_INLINE_POLICY, role_name=role, policy_name=policy)
    raise NotFoundError(
        f"No policy document named {key}", "The journal names a target clean-up does not know."
    )


class PolicyChangeHandler(KindHandler):
    kind = ResourceKind.POLICY_CHANGE

    def read(self, factory: Any, res: Resource) -> Resource:
        target = target_of(res.id)
        current = read_current(factory, target)
        previous = None if res.previous_absent else res.previous_config
        if same_document(current, previous):
            return with_state(res, "gone", detail="already back to the journaled document")
        what = (
            "deletes it (there was none before)" if res.previous_absent else "restores the journaled document"
        )
        return with_state(res, "exists", detail=f"{target.describe()}; a revert {what}")

    def tags(self, factory: Any, res: Resource) -> list[dict[str, str]]:
        return []

    def delete(self, factory: Any, res: Resource) -> list[Action]:
        target = target_of(res.id)
        old = None if res.previous_absent else res.previous_config
        current = read_current(factory, target)
        service, operation, params = _call(target, old)
        verb = (
            "delete it (there was none before sagewiz)" if old is None else "restore the journaled document"
        )
        return [
            Action(
                service, operation, params, f"Revert the {target.describe()}: {verb}",
                undo="the Permissions step can make its change again", resource=res.id,
                journal=PolicyRestored(
                    undoes=res.journal_entry, target=res.id, document_kind=target.kind,
                    target_info=target.to_dict(), restored_document=old if old is not None else ABSENT,
                    replaced_document=current if current is not None else ABSENT,
                ),
            )
        ]  # fmt: skip
