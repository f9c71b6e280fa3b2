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


LIFECYCLE_RULE_ID = "sagewiz-abort-incomplete-multipart-uploads"  # the bucket plan's rule (buckets.creation)


class BucketCorsHandler(KindHandler):
    """The CORS rule the Labels step added for Ground Truth's workers. Reverting restores the
    configuration the journal kept from before, or deletes it when there was none."""

    kind = ResourceKind.BUCKET_CORS

    def read(self, factory: Any, res: Resource) -> Resource:
        rules = factory.client("s3").get_bucket_cors(Bucket=res.id).get("CORSRules", [])
        return with_state(res, "exists", f"arn:aws:s3:::{res.id}", detail=_revert_detail(len(rules), res))

    def tags(self, factory: Any, res: Resource) -> list[dict[str, str]]:
        return []

    def delete(self, factory: Any, res: Resource) -> list[Action]:
        arn = f"arn:aws:s3:::{res.id}"
        previous = _previous_rules(res)
        if previous:
            return [
                Action(
                    "s3", "put_bucket_cors", {"Bucket": res.id, "CORSConfiguration": {"CORSRules": previous}},
                    f"Revert the CORS rules of bucket {res.id} to the {len(previous)} it had before sagewiz (journaled)",
                    undo="the Labels step adds Ground Truth's rule again", resource=arn,
                    journal=ResourceDeleted(res.type, res.id, attributes={"restored": previous}),
                )
            ]  # fmt: skip
        return [
            Action(
                "s3", "delete_bucket_cors", {"Bucket": res.id},
                f"Revert the CORS rules of bucket {res.id}: delete the configuration (it had none before sagewiz)",
                undo="the Labels step adds Ground Truth's rule again", resource=arn,
                journal=ResourceDeleted(res.type, res.id),
            )
        ]  # fmt: skip


class BucketLifecycleHandler(KindHandler):
    """The rule the bucket plan added (abort incomplete multipart uploads). Reverting removes that
    rule only, as read from AWS now: rules added since by anyone else stay."""

    kind = ResourceKind.BUCKET_LIFECYCLE

    def read(self, factory: Any, res: Resource) -> Resource:
        rules = factory.client("s3").get_bucket_lifecycle_configuration(Bucket=res.id).get("Rules", [])
        if not any(r.get("ID") == LIFECYCLE_RULE_ID for r in rules):
            return with_state(res, "gone", detail="sagewiz's rule is no longer on the bucket")
        return with_state(res, "exists", f"arn:aws:s3:::{res.id}", detail=_revert_detail(len(rules), res))

    def tags(self, factory: Any, res: Resource) -> list[dict[str, str]]:
        return []

    def delete(self, factory: Any, res: Resource) -> list[Action]:
        s3 = factory.client("s3")
        rules = s3.get_bucket_lifecycle_configuration(Bucket=res.id).get("Rules", [])
        others = [r for r in rules if r.get("ID") != LIFECYCLE_RULE_ID]
        arn = f"arn:aws:s3:::{res.id}"
        undo = "create the bucket's rule again by hand (the Bucket step adds it only to a bucket it creates)"
        if others:
            return [
                Action(
                    "s3", "put_bucket_lifecycle_configuration",
                    {"Bucket": res.id, "LifecycleConfiguration": {"Rules": others}},
                    f"Revert the lifecycle rules of bucket {res.id}: remove sagewiz's {LIFECYCLE_RULE_ID}, keep the other {len(others)}",
                    undo=undo, resource=arn, journal=ResourceDeleted(res.type, res.id),
                )
            ]  # fmt: skip
        return [
            Action(
                "s3", "delete_bucket_lifecycle", {"Bucket": res.id},
                f"Revert the lifecycle rules of bucket {res.id}: delete the configuration (sagewiz's rule is its only rule)",
                undo=undo, resource=arn, journal=ResourceDeleted(res.type, res.id),
            )
        ]  # fmt: skip


def _previous_rules(res: Resource) -> list[dict[str, Any]]:
    import json

    if not res.previous_config:
        return []
    loaded = json.loads(res.previous_config)
    return [r for r in loaded if isinstance(r, dict)] if isinstance(loaded, list) else []


def _revert_detail(now: int, res: Resource) -> str:
    before = len(_previous_rules(res))
    return f"{now} rule(s) now; a revert " + (
        f"restores the {before} it had before sagewiz" if before else "removes what sagewiz added"
    )


PREFIX_MARK = "Prefix"  # the parameter that marks the "delete everything under this prefix" action
MAX_PREFIX_LISTED = 100_000  # objects counted for one prefix's size; a bigger one says "at least"


class PrefixHandler(KindHandler):
    """The objects the Data step copied under one prefix, with their count and total size as
    listed now (the prefix is gone once nothing is left under it)."""

    kind = ResourceKind.PREFIX

    def read(self, factory: Any, res: Resource) -> Resource:
        bucket, prefix = split_object(res.id)
        count, size, more = _list_prefix(factory.client("s3"), bucket, prefix)
        if not count:
            return with_state(res, "gone", detail="no object left under it")
        return with_state(
            res, "exists", f"arn:aws:s3:::{bucket}/{prefix}*", detail=_count_size(count, size, more)
        )

    def cost(self, res: Resource, region: str) -> tuple[float | None, str]:
        return None, STORAGE

    def tags(self, factory: Any, res: Resource) -> list[dict[str, str]]:
        return []

    def delete(self, factory: Any, res: Resource) -> list[Action]:
        bucket, prefix = split_object(res.id)
        count, size, more = _list_prefix(factory.client("s3"), bucket, prefix)
        return [
            Action(
                "s3", "delete_objects", {"Bucket": bucket, PREFIX_MARK: prefix},
                f"Delete the {_count_size(count, size, more)} under {res.id} (1000 a DeleteObjects call)",
                undo="copy them again with the Data step (a versioned bucket keeps the old versions)",
                resource=f"arn:aws:s3:::{bucket}/{prefix}*", journal=ResourceDeleted(res.type, res.id),
            )
        ]  # fmt: skip


def _list_prefix(s3: Any, bucket: str, prefix: str) -> tuple[int, int, bool]:
    count = size = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            count += 1
            size += int(obj.get("Size") or 0)
        if count >= MAX_PREFIX_LISTED:
            return count, size, True
    return count, size, False


def _count_size(count: int, size: int, more: bool) -> str:
    return f"{'at least ' if more else ''}{count} objects ({_size(size)})"


def empty_prefix(s3: Any, bucket: str, prefix: str) -> dict[str, int]:
    """Delete every current object under `prefix`, 1000 a call (the DeleteObjects limit)."""
    if not prefix:
        raise SagewizError(
            "Refused", "An empty prefix would mean the whole bucket.", "Delete the bucket instead."
        )
    deleted = 0
    errors: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            out = s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            errors.extend(f"{e.get('Key')}: {e.get('Code')}" for e in out.get("Errors", []))
            deleted += len(keys) - len(out.get("Errors", []))
    if errors:
        raise SagewizError(
            f"Objects under s3://{bucket}/{prefix} could not all be deleted",
            f"{len(errors)} objects were refused, first: {errors[0]}",
            "Check the bucket policy and object lock settings, then run clean-up again.",
        )
    return {"deleted": deleted}
