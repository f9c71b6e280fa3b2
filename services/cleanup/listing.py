"""The inventory: what sagewiz created here, with each thing's state and hourly cost read from AWS.

"Created by sagewiz" is the union of two sources: the journal's entries (this machine's memory)
and the `sagewiz:created-by` tag (AWS's memory, which also covers other machines). A resource the
person names (`lookup`) is read too, and marked as not ours unless it carries the tag.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from services.errors import NotFoundError, ValidationError, translate
from services.journal import Journal
from services.journal_events import (
    Change,
    EntryKind,
    JobStarted,
    PolicyReplaced,
    PolicyRestored,
    ResourceChanged,
    ResourceCreated,
    ResourceDeleted,
)
from services.plan import TAG_KEY
from services.resource_kinds import ResourceKind
from services.resources import Resource, describe, tags_of

MAX_IAM_SCANNED = 500  # roles/policies whose tags are read; a bigger account is scanned partly and says so
MAX_DESCRIBED = 300  # resources whose state one inventory reads
WORKERS = 8  # concurrent reads (describe, tag lookups); bench/cleanup compares with 1


@dataclass(frozen=True)
class Inventory:
    resources: tuple[Resource, ...]
    warnings: tuple[str, ...]
    at: datetime

    @property
    def hourly(self) -> float:
        return sum(r.hourly or 0.0 for r in self.resources)

    @property
    def running(self) -> tuple[Resource, ...]:
        return tuple(r for r in self.resources if r.running)

    def find(self, type_: str, id_: str) -> Resource | None:
        kind = ResourceKind.named(type_)
        if kind is None:
            return None
        want = Resource(kind, id_).key
        return next((r for r in self.resources if r.key == want), None)


def inventory(factory: Any, journal: Journal | None, region: str | None = None) -> Inventory:
    """Everything sagewiz created here (journal + tag), each with its state read from AWS."""
    where: str = region or factory.region
    warnings: list[str] = []
    found: dict[tuple[ResourceKind, str], Resource] = {}

    for res in [*_from_journal(journal), *_policy_changes(journal)]:
        found.setdefault(res.key, res)
    for res in _from_tags(factory, warnings):
        if res.key in found:
            old = found[res.key]
            found[res.key] = replace(old, source="journal+tag", arn=old.arn or res.arn)
        else:
            found[res.key] = res

    items = list(found.values())
    if len(items) > MAX_DESCRIBED:
        # Jobs only known from the tag (old, finished ones, usually) are read last.
        items.sort(key=lambda r: r.type.is_job and r.source == "tag")
        warnings.append(
            f"{len(items)} resources were found; the state of the first {MAX_DESCRIBED} was read "
            "(notebooks, buckets, roles and this machine's jobs first)"
        )
        items = items[:MAX_DESCRIBED]
    # A tag search can still list something just deleted; only the journal's memory of a vanished
    # resource is worth showing (so it can be forgotten).
    # A policy already back to its journaled document has nothing left to revert (nor to forget:
    # it is read from the policy entries, not remembered as a resource).
    described = [
        r
        for r in describe_all(factory, items, where)
        if not (r.gone and (r.source == "tag" or r.type is ResourceKind.POLICY_CHANGE))
    ]
    described.sort(key=lambda r: (r.type.order, r.id.lower()))
    return Inventory(tuple(described), tuple(warnings), datetime.now(UTC))


def lookup(factory: Any, type_: str, id_: str, region: str | None = None, account: str = "") -> Resource:
    """A resource the person names explicitly (maybe not created by sagewiz), with its state.
    Raises ValidationError for an unknown type or empty name, NotFoundError when it does not exist."""
    kind = ResourceKind.named(type_)
    if kind is None:
        raise ValidationError(
            "resource type",
            f"'{type_}' is not a type clean-up knows",
            f"Use one of: {', '.join(k.value for k in ResourceKind)}.",
        )
    if not id_.strip():
        raise ValidationError(
            "resource name", "the name is empty", "Give the resource's name (or ARN for a policy)."
        )
    res = Resource(
        kind, kind.normalise_id(id_, account), ours=False, source="selected", selected_explicitly=True
    )
    out = describe(factory, res, region or factory.region)
    if out.gone:
        raise NotFoundError(f"No {kind.noun} named {id_}", "AWS does not know it in this account and region.")
    if tags_of(factory, out).get(TAG_KEY):
        out = replace(out, ours=True, source="tag")
    return out


def describe_all(factory: Any, resources: list[Resource], region: str) -> list[Resource]:
    if not resources:
        return []
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(resources))) as pool:
        return list(pool.map(lambda r: describe(factory, r, region), resources))


def _from_journal(journal: Journal | None) -> list[Resource]:
    """Created or started and not deleted since, replayed in order (a name can be reused)."""
    if journal is None:
        return []
    account = journal.account or ""
    live: dict[tuple[ResourceKind, str], Resource] = {}
    for _entry, event in journal.resource_events():
        change = _bucket_change(event, account)
        if change is not None:
            # the first change keeps what the bucket had before sagewiz touched it
            live.setdefault(change.key, change)
            continue
        if not isinstance(event, (ResourceCreated, JobStarted, ResourceDeleted)):
            continue
        res = Resource(
            event.kind, event.kind.normalise_id(event.id, account), arn=event.arn, source="journal"
        )
        if isinstance(event, ResourceDeleted):
            live.pop(res.key, None)
        else:
            live[res.key] = res
    return list(live.values())


def _policy_changes(journal: Journal | None) -> list[Resource]:
    """Each document the Permissions step replaced and not yet restored: the newest change per
    target, so a revert goes back one change at a time, as `permissions undo` does."""
    if journal is None:
        return []
    undone = {
        e.event.undoes
        for e in journal.entries(EntryKind.POLICY_RESTORED)
        if isinstance(e.event, PolicyRestored)
    }
    newest: dict[str, Resource] = {}
    for e in journal.entries(EntryKind.POLICY_REPLACED):
        if e.id in undone or not isinstance(e.event, PolicyReplaced):
            continue
        ev = e.event
        newest[ev.target] = Resource(
            ResourceKind.POLICY_CHANGE, ev.target, source="journal", journal_entry=e.id,
            previous_config="" if ev.old_absent else ev.old_document, previous_absent=ev.old_absent,
        )  # fmt: skip
    return list(newest.values())


_BUCKET_CHANGES = {
    Change.CORS_REPLACED: ResourceKind.BUCKET_CORS,
    Change.LIFECYCLE_RULE_ADDED: ResourceKind.BUCKET_LIFECYCLE,
}


def _bucket_change(event: object, account: str) -> Resource | None:
    """A CORS or lifecycle change journaled on a bucket, as the revertible thing clean-up lists."""
    import json

    if not isinstance(event, ResourceChanged) or event.change not in _BUCKET_CHANGES:
        return None
    kind = _BUCKET_CHANGES[event.change]
    previous = event.attributes.get("previous")
    return Resource(
        kind, kind.normalise_id(event.id, account), source="journal",
        previous_config=json.dumps(previous) if isinstance(previous, list) and previous else "",
    )  # fmt: skip


def _from_tags(factory: Any, warnings: list[str]) -> list[Resource]:
    out: list[Resource] = []
    try:
        rgta = factory.client("resourcegroupstaggingapi")
        pages = rgta.get_paginator("get_resources").paginate(
            TagFilters=[{"Key": TAG_KEY}], ResourceTypeFilters=["s3", "sagemaker"]
        )
        for page in pages:
            for m in page.get("ResourceTagMappingList", []):
                res = _from_arn(m.get("ResourceARN", ""))
                if res is not None:
                    out.append(res)
    except Exception as exc:
        err = translate(exc, "tag:GetResources")
        warnings.append(
            f"tagged buckets and SageMaker resources could not be searched ({err.title}); the journal is used"
        )
    try:
        out.extend(_tagged_iam(factory, warnings))
    except Exception as exc:
        err = translate(exc, "iam:ListRoles")
        warnings.append(
            f"tagged IAM roles and policies could not be searched ({err.title}); the journal is used"
        )
    return out


_BY_ARN_PREFIX = {k.sagemaker_arn_prefix: k for k in ResourceKind if k.sagemaker_arn_prefix}


def _from_arn(arn: str) -> Resource | None:
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    service, rest = parts[2], parts[5]
    if service == "s3":
        return Resource(ResourceKind.BUCKET, rest, arn=arn, source="tag") if "/" not in rest else None
    if service == "sagemaker" and "/" in rest:
        prefix, name = rest.split("/", 1)
        kind = _BY_ARN_PREFIX.get(prefix)
        if kind:
            return Resource(kind, name, arn=arn, source="tag")
    return None


def _tagged_iam(factory: Any, warnings: list[str]) -> list[Resource]:
    iam = factory.client("iam")
    roles = [r for p in iam.get_paginator("list_roles").paginate() for r in p.get("Roles", [])]
    policies = [
        p
        for page in iam.get_paginator("list_policies").paginate(Scope="Local")
        for p in page.get("Policies", [])
    ]
    if len(roles) + len(policies) > MAX_IAM_SCANNED:
        warnings.append(
            f"only the first {MAX_IAM_SCANNED} IAM roles and policies were checked for the sagewiz tag"
        )
        roles = roles[:MAX_IAM_SCANNED]
        policies = policies[: max(0, MAX_IAM_SCANNED - len(roles))]

    def tagged(res: Resource, listed: list[dict[str, str]] | None) -> Resource | None:
        # ListRoles may return the tags already; ListPolicies never does.
        tags = {t.get("Key"): t.get("Value") for t in listed} if listed is not None else tags_of(factory, res)
        return res if TAG_KEY in tags else None

    def role_tagged(role: dict[str, Any]) -> Resource | None:
        res = Resource(ResourceKind.ROLE, role["RoleName"], arn=role.get("Arn", ""), source="tag")
        return tagged(res, role.get("Tags"))

    def policy_tagged(pol: dict[str, Any]) -> Resource | None:
        return tagged(Resource(ResourceKind.POLICY, pol["Arn"], arn=pol["Arn"], source="tag"), None)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        found = list(pool.map(role_tagged, roles)) + list(pool.map(policy_tagged, policies))
    return [r for r in found if r is not None]
