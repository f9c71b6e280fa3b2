"""S3 kinds: a bucket (emptied of every version before it is deleted) and one object sagewiz
wrote (a manifest, a label file, a worker template, a backup)."""

from __future__ import annotations

from typing import Any

from services.errors import SagewizError
from services.journal_events import Change, ResourceChanged, ResourceDeleted
from services.plan import Action
from services.resource_kinds import ResourceKind
from services.resources.handler import KindHandler, with_state
from services.resources.record import Resource

EMPTY_MARK = "AllVersions"  # the parameter that marks the "empty this bucket" action
STORAGE = "storage (GB-month)"


def split_object(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


class BucketHandler(KindHandler):
    kind = ResourceKind.BUCKET

    def read(self, factory: Any, res: Resource) -> Resource:
        factory.client("s3").head_bucket(Bucket=res.id)
        return with_state(res, "exists", f"arn:aws:s3:::{res.id}")

    def cost(self, res: Resource, region: str) -> tuple[float | None, str]:
        return None, STORAGE

    def tags(self, factory: Any, res: Resource) -> list[dict[str, str]]:
        tags: list[dict[str, str]] = factory.client("s3").get_bucket_tagging(Bucket=res.id).get("TagSet", [])
        return tags

    def delete(self, factory: Any, res: Resource) -> list[Action]:
        s3 = factory.client("s3")
        versions = markers = size = 0
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=res.id):
            versions += len(page.get("Versions", []))
            size += sum(int(v.get("Size") or 0) for v in page.get("Versions", []))
            markers += len(page.get("DeleteMarkers", []))
        arn = f"arn:aws:s3:::{res.id}"
        actions = []
        if versions or markers:
            actions.append(
                Action(
                    "s3", "delete_objects", {"Bucket": res.id, EMPTY_MARK: f"{versions} versions, {markers} delete markers"},
                    f"Empty bucket {res.id}: delete {versions} object versions ({_size(size)}) and {markers} delete markers",
                    undo="not undoable: the objects are gone", resource=arn,
                    journal=ResourceChanged(res.type, res.id, change=Change.EMPTIED,
                                            attributes={"versions": versions, "markers": markers}),
                )
            )  # fmt: skip
        actions.append(
            Action(
                "s3", "delete_bucket", {"Bucket": res.id}, f"Delete bucket {res.id}",
                undo="not undoable; the name may be taken by someone else afterwards",
                resource=arn, journal=ResourceDeleted(res.type, res.id),
            )
        )  # fmt: skip
        return actions


class ObjectHandler(KindHandler):
    kind = ResourceKind.OBJECT

    def read(self, factory: Any, res: Resource) -> Resource:
        bucket, key = split_object(res.id)
        d = factory.client("s3").head_object(Bucket=bucket, Key=key)
        return with_state(
            res, "exists", f"arn:aws:s3:::{bucket}/{key}", detail=_size(int(d.get("ContentLength") or 0))
        )

    def cost(self, res: Resource, region: str) -> tuple[float | None, str]:
        return None, STORAGE

    def tags(self, factory: Any, res: Resource) -> list[dict[str, str]]:
        bucket, key = split_object(res.id)
        tags: list[dict[str, str]] = (
            factory.client("s3").get_object_tagging(Bucket=bucket, Key=key).get("TagSet", [])
        )
        return tags

    def delete(self, factory: Any, res: Resource) -> list[Action]:
        bucket, key = split_object(res.id)
        return [
            Action(
                "s3", "delete_object", {"Bucket": bucket, "Key": key}, f"Delete {res.id}",
                undo="upload it again from its step (a versioned bucket keeps the old version)",
                resource=f"arn:aws:s3:::{bucket}/{key}", journal=ResourceDeleted(res.type, res.id),
            )
        ]  # fmt: skip


def empty_bucket(s3: Any, bucket: str) -> dict[str, int]:
    """Delete every object version and delete marker, 1000 a call (the DeleteObjects limit)."""
    deleted = 0
    errors: list[str] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        keys = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for i in range(0, len(keys), 1000):
            out = s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[i : i + 1000], "Quiet": True})
            errors.extend(f"{e.get('Key')}: {e.get('Code')}" for e in out.get("Errors", []))
            deleted += len(keys[i : i + 1000]) - len(out.get("Errors", []))
    if errors:
        raise SagewizError(
            f"Bucket {bucket} could not be emptied",
            f"{len(errors)} objects were refused, first: {errors[0]}",
            "Check the bucket policy and object lock settings, then run clean-up again.",
        )
    return {"deleted": deleted}


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
