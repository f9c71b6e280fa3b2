"""What the journal records: one typed event per entry kind, and how each reads back.

Writers build these dataclasses; `services.journal` serialises them to the JSONL it has always
written (`{"kind": ..., "data": {...}}`). Reading goes through `parse_event`, the one place that
understands what older sagewiz versions wrote: resource types as each step spelled them (see
`ResourceKind.named`), a job's name under `name`, a role's policy attachment without a `change`.
A line that does not fit raises `ValueError`, and the journal skips it with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from services.resource_kinds import ResourceKind


class EntryKind(StrEnum):
    SESSION = "session"  # a sagewiz run started: target, account, region
    RESOURCE_CREATED = "resource-created"  # a resource sagewiz made (bucket, role, notebook, ...)
    RESOURCE_DELETED = "resource-deleted"
    RESOURCE_CHANGED = "resource-changed"  # stop/start, a policy attached, a bucket emptied ...
    POLICY_REPLACED = "policy-replaced"  # with the complete previous document, for undo
    POLICY_RESTORED = "policy-restored"  # an undo of a policy-replaced entry
    JOB_STARTED = "job-started"  # training, tuning, labeling
    CHOICE = "choice"  # a wizard choice worth resuming (bucket, prefix, labels ...)


class Change(StrEnum):
    """What a resource-changed entry did to its resource."""

    STOPPED = "stopped"
    STARTED = "started"
    POLICY_ATTACHED = "policy-attached"  # a managed policy attached to a role
    INLINE_POLICY_PUT = "inline-policy-put"
    POLICY_DETACHED = "policy-detached"  # a managed policy detached from a role
    INLINE_POLICY_DELETED = "inline-policy-deleted"
    REMOVED_FROM_INSTANCE_PROFILE = "removed-from-instance-profile"
    DETACHED = "detached"  # a managed policy detached from a role, user or group (the policy's view)
    EMPTIED = "emptied"  # a bucket's object versions and delete markers deleted
    CORS_REPLACED = "cors-replaced"
    LIFECYCLE_RULE_ADDED = "lifecycle-rule-added"  # attributes: the rule, and the previous rules
    OWNERSHIP_CHANGED = "ownership-changed"


# Attribute values are whatever JSON holds (documents, CORS rules, counts); readers check types.
Attributes = Mapping[str, object]


@dataclass(frozen=True)
class Event:
    KIND: ClassVar[EntryKind]

    def to_data(self) -> dict[str, object]:
        raise NotImplementedError


@dataclass(frozen=True)
class SessionStarted(Event):
    KIND: ClassVar[EntryKind] = EntryKind.SESSION
    caller: str
    endpoint: str = ""
    sandbox: bool = False
    profile: str = ""
    mode: str = ""  # "" for the wizard, "plain", "apply"

    def to_data(self) -> dict[str, object]:
        data: dict[str, object] = {"caller": self.caller, "endpoint": self.endpoint, "sandbox": self.sandbox}
        if self.profile:
            data["profile"] = self.profile
        if self.mode:
            data["mode"] = self.mode
        return data


@dataclass(frozen=True)
class ResourceEvent(Event):
    """Something that happened to one resource; `attributes` say more about it (never secrets)."""

    kind: ResourceKind
    id: str  # a name; a policy's ARN; an object's s3:// URI
    arn: str = ""
    attributes: Attributes = field(default_factory=dict)

    def to_data(self) -> dict[str, object]:
        data: dict[str, object] = {**self.attributes, "type": self.kind.value, "id": self.id}
        if self.arn:
            data["arn"] = self.arn
        return data


@dataclass(frozen=True)
class ResourceCreated(ResourceEvent):
    KIND: ClassVar[EntryKind] = EntryKind.RESOURCE_CREATED


@dataclass(frozen=True)
class JobStarted(ResourceEvent):
    KIND: ClassVar[EntryKind] = EntryKind.JOB_STARTED


@dataclass(frozen=True)
class ResourceDeleted(ResourceEvent):
    KIND: ClassVar[EntryKind] = EntryKind.RESOURCE_DELETED


@dataclass(frozen=True)
class ResourceChanged(ResourceEvent):
    KIND: ClassVar[EntryKind] = EntryKind.RESOURCE_CHANGED
    change: Change = Change.STOPPED

    def to_data(self) -> dict[str, object]:
        return {**super().to_data(), "change": self.change.value}


@dataclass(frozen=True)
class PolicyReplaced(Event):
    KIND: ClassVar[EntryKind] = EntryKind.POLICY_REPLACED
    target: str  # PolicyTarget.key
    document_kind: str
    target_info: Attributes  # PolicyTarget.to_dict(), enough to find the document again
    title: str
    old_document: str  # the complete previous text, or ABSENT
    old_absent: bool
    new_document: str
    new_absent: bool

    def to_data(self) -> dict[str, object]:
        return {
            "target": self.target,
            "document_kind": self.document_kind,
            "target_info": dict(self.target_info),
            "title": self.title,
            "old_document": self.old_document,
            "old_absent": self.old_absent,
            "new_document": self.new_document,
            "new_absent": self.new_absent,
        }


@dataclass(frozen=True)
class PolicyRestored(Event):
    KIND: ClassVar[EntryKind] = EntryKind.POLICY_RESTORED
    undoes: str  # the journal id of the policy-replaced entry
    target: str
    document_kind: str
    target_info: Attributes
    restored_document: str
    replaced_document: str

    def to_data(self) -> dict[str, object]:
        return {
            "undoes": self.undoes,
            "target": self.target,
            "document_kind": self.document_kind,
            "target_info": dict(self.target_info),
            "restored_document": self.restored_document,
            "replaced_document": self.replaced_document,
        }


@dataclass(frozen=True)
class ChoiceMade(Event):
    """Wizard choices worth resuming: WizardState fields (and a step's notes) to their values."""

    KIND: ClassVar[EntryKind] = EntryKind.CHOICE
    values: Attributes

    def to_data(self) -> dict[str, object]:
        return dict(self.values)


# -- reading ----------------------------------------------------------------------------------------
_RESOURCE_EVENTS: dict[EntryKind, type[ResourceEvent]] = {
    EntryKind.RESOURCE_CREATED: ResourceCreated,
    EntryKind.JOB_STARTED: JobStarted,
    EntryKind.RESOURCE_DELETED: ResourceDeleted,
}
# Older resource-changed lines that said what changed by their type or their fields, not `change`.
_LEGACY_CHANGE_BY_TYPE = {
    "s3-bucket-cors": Change.CORS_REPLACED,
    "s3-object-ownership": Change.OWNERSHIP_CHANGED,
}
_LEGACY_CHANGE_BY_FIELD = {"attached": Change.POLICY_ATTACHED, "inline_policy": Change.INLINE_POLICY_PUT}
_LEGACY_CHANGE_VALUES = {"stop": Change.STOPPED}
_RESOURCE_FIELDS = {"type", "kind", "id", "name", "job_name", "job", "arn", "change"}


def parse_event(entry_kind: str, data: Mapping[str, object]) -> Event:
    """The typed event of one journal line. Raises ValueError when the line does not fit."""
    try:
        kind = EntryKind(entry_kind)
    except ValueError:
        raise ValueError(f"unknown entry kind {entry_kind!r}") from None
    if kind is EntryKind.SESSION:
        return SessionStarted(
            caller=_text(data, "caller"),
            endpoint=_text(data, "endpoint"),
            sandbox=bool(data.get("sandbox", False)),
            profile=_text(data, "profile"),
            mode=_text(data, "mode"),
        )
    if kind is EntryKind.CHOICE:
        return ChoiceMade(dict(data))
    if kind is EntryKind.POLICY_REPLACED:
        return PolicyReplaced(
            target=_text(data, "target"),
            document_kind=_text(data, "document_kind"),
            target_info=_mapping(data, "target_info"),
            title=_text(data, "title"),
            old_document=_text(data, "old_document"),
            old_absent=bool(data.get("old_absent", False)),
            new_document=_text(data, "new_document"),
            new_absent=bool(data.get("new_absent", False)),
        )
    if kind is EntryKind.POLICY_RESTORED:
        return PolicyRestored(
            undoes=_text(data, "undoes"),
            target=_text(data, "target"),
            document_kind=_text(data, "document_kind"),
            target_info=_mapping(data, "target_info"),
            restored_document=_text(data, "restored_document"),
            replaced_document=_text(data, "replaced_document"),
        )
    return _resource_event(kind, data)


def _resource_event(kind: EntryKind, data: Mapping[str, object]) -> ResourceEvent:
    spelled = _text(data, "type") or _text(data, "kind")
    resource = ResourceKind.named(spelled)
    if resource is None:
        raise ValueError(f"unknown resource type {spelled!r}" if spelled else "no resource type")
    ident = next((_text(data, k) for k in ("id", "name", "job_name", "job", "arn") if _text(data, k)), "")
    if not ident:
        raise ValueError(f"no name for the {resource.noun}")
    attributes = {k: v for k, v in data.items() if k not in _RESOURCE_FIELDS}
    arn = _text(data, "arn")
    if kind is not EntryKind.RESOURCE_CHANGED:
        return _RESOURCE_EVENTS[kind](resource, ident, arn, attributes)
    change = _change(spelled, data)
    return ResourceChanged(resource, ident, arn, attributes, change)


def _change(spelled: str, data: Mapping[str, object]) -> Change:
    raw = _text(data, "change")
    if raw:
        if raw in _LEGACY_CHANGE_VALUES:
            return _LEGACY_CHANGE_VALUES[raw]
        try:
            return Change(raw)
        except ValueError:
            raise ValueError(f"unknown change {raw!r}") from None
    legacy = _LEGACY_CHANGE_BY_TYPE.get(spelled.strip().lower())
    if legacy is None:
        legacy = next((c for key, c in _LEGACY_CHANGE_BY_FIELD.items() if key in data), None)
    if legacy is None:
        raise ValueError("the change is not named")
    return legacy


def _text(data: Mapping[str, object], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise ValueError(f"{key} is not a text")
    return str(value)


def _mapping(data: Mapping[str, object], key: str) -> dict[str, object]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{key} is not an object")
    return {str(k): v for k, v in value.items()}
