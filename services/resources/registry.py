"""The registry: every ResourceKind to the handler that reads, prices, stops and deletes it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from services.errors import is_gone, translate
from services.resource_kinds import ResourceKind
from services.resources.handler import KindHandler
from services.resources.iam import PolicyHandler, RoleHandler
from services.resources.policy_change import PolicyChangeHandler
from services.resources.record import Resource
from services.resources.s3 import (
    BucketCorsHandler,
    BucketHandler,
    BucketLifecycleHandler,
    ObjectHandler,
    PrefixHandler,
)
from services.resources.sagemaker import (
    LabelingJobHandler,
    LifecycleConfigHandler,
    ModelHandler,
    NotebookHandler,
    TrainingJobHandler,
    TuningJobHandler,
)

HANDLERS: dict[ResourceKind, KindHandler] = {
    h.kind: h
    for h in (
        TuningJobHandler(),
        TrainingJobHandler(),
        LabelingJobHandler(),
        NotebookHandler(),
        ModelHandler(),
        LifecycleConfigHandler(),
        RoleHandler(),
        PolicyHandler(),
        PolicyChangeHandler(),
        BucketCorsHandler(),
        BucketLifecycleHandler(),
        PrefixHandler(),
        ObjectHandler(),
        BucketHandler(),
    )
}


def handler_for(kind: ResourceKind) -> KindHandler:
    return HANDLERS[kind]


def describe(factory: Any, res: Resource, region: str) -> Resource:
    """The resource with its state and hourly cost read now; "gone" when AWS no longer knows it,
    "unknown" (and why) when its state cannot be read."""
    handler = HANDLERS[res.type]
    try:
        read = handler.read(factory, res)
    except Exception as exc:
        if is_gone(exc):
            return replace(res, state="gone", hourly=0.0, detail="no longer exists in AWS")
        err = translate(exc)
        return replace(
            res,
            state="unknown",
            hourly=None,
            cost_note="state not readable",
            detail=f"{err.title}: {err.message}",
        )
    hourly, note = handler.cost(read, region)
    return replace(read, hourly=hourly, cost_note=note)


def tags_of(factory: Any, res: Resource) -> dict[str, str]:
    """The resource's tags; {} when they cannot be read."""
    try:
        tags = HANDLERS[res.type].tags(factory, res)
    except Exception:
        return {}
    return {t["Key"]: t.get("Value", "") for t in tags}
