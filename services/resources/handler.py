"""What every kind of resource can be asked: its state (inventory), its cost in that state, its
tags, how to stop it and how to delete it. One subclass per kind; `registry.HANDLERS` holds them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from services.journal_events import Change, ResourceChanged
from services.plan import Action
from services.resource_kinds import ResourceKind
from services.resources.record import Resource


class KindHandler:
    kind: ResourceKind
    # SageMaker keeps job records for good: a job can be stopped, never deleted.
    deletable = True
    # The states in which `stop` has something to stop.
    stop_states: frozenset[str] = frozenset()

    def read(self, factory: Any, res: Resource) -> Resource:
        """The resource with its state (and ARN, instance type) read from AWS. Raises what AWS
        raises; a resource that no longer exists raises its not-found error."""
        raise NotImplementedError

    def cost(self, res: Resource, region: str) -> tuple[float | None, str]:
        """USD an hour in the state just read, and a note when there is no hourly figure."""
        return 0.0, ""

    def tags(self, factory: Any, res: Resource) -> list[dict[str, str]]:
        if not res.arn:
            return []
        tags: list[dict[str, str]] = (
            factory.client("sagemaker").list_tags(ResourceArn=res.arn).get("Tags", [])
        )
        return tags

    def stop(self, res: Resource) -> Action | None:
        """The action that stops it, or None when it does not run (or cannot be stopped)."""
        return None

    def delete(self, factory: Any, res: Resource) -> list[Action]:
        """Every call its deletion takes, read from AWS first (attachments, versions, objects)."""
        return []


def stop_action(res: Resource, service: str, operation: str, params: dict[str, Any], description: str,
                undo: str) -> Action:  # fmt: skip
    return Action(
        service, operation, params, description, undo=undo, resource=res.arn or res.id,
        journal=ResourceChanged(res.type, res.id, change=Change.STOPPED, attributes={"was": res.state}),
    )  # fmt: skip


def with_state(res: Resource, state: str, arn: str = "", **more: Any) -> Resource:
    return replace(res, state=state, arn=arn or res.arn, **more)
