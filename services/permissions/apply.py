"""The shared apply machinery for policy changes (the Permissions step and the doctor use it).

    change = fixes.bucket_policy_change(...)          # a PolicyChange: old text as read, new text
    plan = to_plan(change)                            # for the confirmation screen / --dry-run
    result = apply_change(factory, journal, change)   # refuses if the document changed since read
    undo = plan_undo(factory, journal)                # the way back to the journaled document
    result = apply_undo(factory, journal, undo)       # restores it byte for byte

`apply_change` order: fresh read and compare (a hash of the text that was read against a hash of
what is there now; different -> `PolicyChangedError`, re-plan), validate, journal the complete old
document (`policy-replaced` with target, kind and the old text or "absent"), apply, re-read.
Reads return the document text exactly as the service stores it, so undo is exact.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote

from services.errors import ConflictError, NotFoundError, SagewizError, ValidationError, translate
from services.journal_events import PolicyReplaced, PolicyRestored
from services.permissions import validate
from services.permissions.fixes.change import (
    BUCKET_POLICY,
    PUBLIC_ACCESS_BLOCK,
    ROLE_INLINE_POLICY,
    PolicyChange,
    PolicyTarget,
    document_diff,
)
from services.permissions.fixes.public_access import BPA_KEYS
from services.plan import Action, ApiRequest, Plan
from services.remedy import Face, Remedy, RemedyKind

ABSENT = "absent"
_RAW_KEY = "SagewizRawPolicyDocument"
_ABSENT_CODES = {
    BUCKET_POLICY: {"NoSuchBucketPolicy"},
    ROLE_INLINE_POLICY: {"NoSuchEntity"},
    PUBLIC_ACCESS_BLOCK: {"NoSuchPublicAccessBlockConfiguration"},
}


class PolicyChangedError(ConflictError):
    """The document changed between reading it and applying: nothing was sent; re-plan."""

    def __init__(self, target: PolicyTarget, current: str | None) -> None:
        super().__init__(
            "Changed since it was read",
            f"The {target.describe()} was changed by someone else after sagewiz read it, so the "
            "proposed change was not applied.",
            "sagewiz re-reads it and plans again; review the new diff.",
            code="PolicyChanged",
        )
        self.target = target
        self.current = current


@dataclass(frozen=True)
class ApplyResult:
    change: PolicyChange
    journal_id: str
    after_text: str | None  # re-read after applying

    @property
    def took_effect(self) -> bool:
        return same_document(self.after_text, self.change.new_text)


@dataclass(frozen=True)
class UndoResult:
    target: PolicyTarget
    undid: str  # journal id of the policy-replaced entry
    restored_text: str | None  # None: the document was absent, so it was deleted
    after_text: str | None

    @property
    def exact(self) -> bool:
        return self.after_text == self.restored_text


def digest(text: str | None) -> str:
    return hashlib.sha256((text if text is not None else "\0absent").encode("utf-8")).hexdigest()


def same_document(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is b
    try:
        return bool(json.loads(a) == json.loads(b))
    except ValueError:
        return a == b


# -- reading and writing one document -----------------------------------------------------------
def read_current(factory: Any, target: PolicyTarget) -> str | None:
    """The document text exactly as stored, or None when there is none."""
    try:
        if target.kind == BUCKET_POLICY:
            return str(factory.client("s3").get_bucket_policy(Bucket=target.bucket)["Policy"])
        if target.kind == ROLE_INLINE_POLICY:
            return read_role_policy_text(factory, target.role_name or "", target.policy_name or "")
        if target.kind == PUBLIC_ACCESS_BLOCK:
            conf = factory.client("s3").get_public_access_block(Bucket=target.bucket)[
                "PublicAccessBlockConfiguration"
            ]
            return json.dumps({k: bool(conf.get(k, False)) for k in BPA_KEYS}, indent=2)
    except Exception as exc:
        code = _code(exc)
        if code in _ABSENT_CODES.get(target.kind, set()):
            return None
        raise translate(exc, f"read {target.describe()}") from exc
    raise ValueError(f"unknown target kind {target.kind}")


def read_role_policy_text(factory: Any, role_name: str, policy_name: str) -> str:
    """The inline policy's text as IAM stores it (boto3 would hand back a parsed dict)."""
    iam = factory.client("iam")
    _capture_raw(iam)
    out = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)
    raw = out.get(_RAW_KEY)
    return raw if isinstance(raw, str) else json.dumps(out["PolicyDocument"])


def keep_raw_policy_text(iam: Any) -> None:
    """Make `iam.get_role_policy` also return the document's exact text (under the key
    "SagewizRawPolicyDocument"). Idempotent; other callers of the client are unaffected."""
    _capture_raw(iam)


def _capture_raw(iam: Any) -> None:
    # botocore URL-decodes and json-parses IAM policy documents after each call; keep the text
    # too, first, so a restore can send back exactly what was there.
    def keep(parsed: dict[str, Any], **_: Any) -> None:
        value = parsed.get("PolicyDocument")
        if isinstance(value, str):
            parsed[_RAW_KEY] = unquote(value)

    iam.meta.events.register_first("after-call.iam.GetRolePolicy", keep, unique_id="sagewiz-raw-role-policy")


def write(factory: Any, target: PolicyTarget, text: str | None) -> None:
    """Put `text` at `target`, or delete the document when `text` is None: the very request the
    plan (`to_plan`) shows, built once by `_call`."""
    op = f"{'put' if text is not None else 'delete'} {target.describe()}"
    if target.kind not in (BUCKET_POLICY, ROLE_INLINE_POLICY, PUBLIC_ACCESS_BLOCK):
        raise ValueError(f"unknown target kind {target.kind}")
    service, operation, params = _call(target, text)
    try:
        ApiRequest(service, operation, params).send(factory.client(service))
    except SagewizError:
        raise
    except Exception as exc:
        raise translate(exc, op) from exc


# -- plan and confirmation data -----------------------------------------------------------------
def _call(target: PolicyTarget, text: str | None) -> tuple[str, str, dict[str, Any]]:
    if target.kind == BUCKET_POLICY:
        if text is None:
            return "s3", "delete_bucket_policy", {"Bucket": target.bucket}
        return "s3", "put_bucket_policy", {"Bucket": target.bucket, "Policy": text}
    if target.kind == ROLE_INLINE_POLICY:
        base = {"RoleName": target.role_name, "PolicyName": target.policy_name}
        if text is None:
            return "iam", "delete_role_policy", base
        return "iam", "put_role_policy", {**base, "PolicyDocument": text}
    if text is None:
        return "s3", "delete_public_access_block", {"Bucket": target.bucket}
    return (
        "s3",
        "put_public_access_block",
        {"Bucket": target.bucket, "PublicAccessBlockConfiguration": json.loads(text)},
    )


def undo_remedy(change: PolicyChange) -> Remedy:
    """How the change is undone: the journal's backup restores the old document, or deletes the
    new one when there was none."""
    return Remedy(RemedyKind.UNDO_CHANGE, change.target.describe(), restores=change.old_text is not None)


def to_plan(change: PolicyChange, face: Face = Face.CLI) -> Plan:
    """The change as a one-action Plan (for ConfirmPlanScreen, `face` TUI, and --dry-run / plain
    mode / apply, face CLI: the undo is said as that front end can do it). Apply it with
    `apply_change`, not `services.plan.apply_plan`: only `apply_change` checks for concurrent edits."""
    service, operation, params = _call(change.target, change.new_text)
    action = Action(
        service=service,
        operation=operation,
        params=params,
        description=change.title,
        diff=change.diff,
        undo=undo_remedy(change).render(face),
        resource=change.target.describe(),
    )
    return Plan(title=change.title, actions=(action,), warnings=change.warnings)


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation names: where, what and as whom."""

    account: str
    region: str
    caller: str
    resource: str
    summary: str
    sandbox: bool

    def line(self) -> str:
        where = " (SANDBOX)" if self.sandbox else ""
        return (
            f"This replaces the {self.resource} in account {self.account}, {self.region}{where}, "
            f"acting as {self.caller}."
        )


def confirmation(change: PolicyChange, identity: Any) -> Confirmation:
    return Confirmation(
        account=getattr(identity, "account", ""),
        region=getattr(identity, "region", ""),
        caller=getattr(identity, "arn", ""),
        resource=change.target.describe(),
        summary=change.title,
        sandbox=bool(getattr(identity, "sandbox", False)),
    )


# -- apply and undo -------------------------------------------------------------------------------
def apply_change(factory: Any, journal: Any, change: PolicyChange) -> ApplyResult:
    """Check nothing changed since reading, validate, journal the old document, apply, re-read."""
    target = change.target
    current = read_current(factory, target)
    if digest(current) != digest(change.old_text):
        raise PolicyChangedError(target, current)
    if change.new_text is not None and target.kind in (BUCKET_POLICY, ROLE_INLINE_POLICY):
        try:
            doc = json.loads(change.new_text)
        except json.JSONDecodeError as exc:
            raise ValidationError("policy", f"the new document is not JSON ({exc.msg})") from exc
        except ValueError as exc:  # well-formed but unreadable, e.g. an integer past Python's digit limit
            raise ValidationError("policy", f"the new document is not JSON ({exc})") from exc
        kind = validate.BUCKET_POLICY if target.kind == BUCKET_POLICY else validate.IDENTITY_POLICY
        baseline = None
        if change.old_text is not None:
            try:
                baseline = json.loads(change.old_text)
            except ValueError:
                baseline = None
        validate.check(doc, kind, baseline=baseline, refuse_public=not _wants_public(change))
    entry = journal.append(
        PolicyReplaced(
            target=target.key,
            document_kind=target.kind,
            target_info=target.to_dict(),
            title=change.title,
            old_document=change.old_text if change.old_text is not None else ABSENT,
            old_absent=change.old_text is None,
            new_document=change.new_text if change.new_text is not None else ABSENT,
            new_absent=change.new_text is None,
        )
    )
    write(factory, target, change.new_text)
    after = read_current(factory, target)
    return ApplyResult(change, entry.id, after)


def _wants_public(change: PolicyChange) -> bool:
    return False  # no builder produces a public bucket policy; BPA changes are not policies


@dataclass(frozen=True)
class UndoPlan:
    """Undoing a journaled change, as a change like any other: `change.old_text` is the document as
    read now (the diff's left side), `change.new_text` the journaled previous one (None: delete)."""

    change: PolicyChange
    undoes: str  # journal id of the policy-replaced entry it restores


def plan_undo(factory: Any, journal: Any, target_key: str | None = None, *, force: bool = False) -> UndoPlan:
    """The newest not-yet-undone change (optionally for one target) planned back to the document
    it replaced. Refuses when the document changed since sagewiz changed it, unless `force`."""
    entry = journal.last_policy_change(target_key)
    if entry is None:
        raise NotFoundError("Nothing to undo", "The journal holds no policy change that has not been undone.")
    data = entry.data
    info = data.get("target_info")
    if not isinstance(info, dict):
        raise SagewizError("Cannot undo", "The journal entry does not say where the policy lives.")
    target = PolicyTarget.from_dict(info)
    old = None if data.get("old_absent") else str(data.get("old_document"))
    new = None if data.get("new_absent") else str(data.get("new_document"))
    current = read_current(factory, target)
    if not force and not same_document(current, new):
        raise ConflictError(
            "Changed since sagewiz changed it",
            f"The {target.describe()} is no longer what sagewiz put there, so undo would overwrite "
            "someone else's change.",
            "Review the current document; undo again with force to restore the saved one anyway.",
            code="PolicyChanged",
            details={"diff": document_diff(new, current, target.describe())},
        )
    title = str(data.get("title") or "")
    what = "the previous document" if old is not None else "no document (there was none before)"
    change = PolicyChange(
        target=target,
        title=f"Undo: {title}" if title else f"Undo the last change to the {target.describe()}",
        reason=f"Restores {what} from the journal entry {entry.id}, exactly as it was saved.",
        old_text=current,
        new_text=old,
    )
    return UndoPlan(change, entry.id)


def undo_to_plan(undo: UndoPlan, face: Face = Face.CLI) -> Plan:
    """The undo as a one-action Plan with its diff. Its own undo is a fresh change, not a second
    `u`: `u` goes on to the change before it."""
    plan = to_plan(undo.change, face)
    redo = "the undone change stays in the journal; apply its fix again to redo it"
    return replace(plan, actions=tuple(replace(a, undo=redo) for a in plan.actions))


def apply_undo(factory: Any, journal: Any, undo: UndoPlan) -> UndoResult:
    """Restore what `undo` planned, if nothing changed since it was planned (else
    `PolicyChangedError`, nothing sent); the restore is journaled as undoing its entry."""
    target = undo.change.target
    pending = journal.last_policy_change(target.key)
    if pending is None or pending.id != undo.undoes:
        raise ConflictError(
            "Already undone",
            f"The change to the {target.describe()} was undone or superseded since the undo was planned.",
            "Press u again to plan the undo of what is now the last change.",
            code="PolicyChanged",
        )
    current = read_current(factory, target)
    if digest(current) != digest(undo.change.old_text):
        raise PolicyChangedError(target, current)
    write(factory, target, undo.change.new_text)
    journal.append(
        PolicyRestored(
            undoes=undo.undoes,
            target=target.key,
            document_kind=target.kind,
            target_info=target.to_dict(),
            restored_document=undo.change.new_text if undo.change.new_text is not None else ABSENT,
            replaced_document=current if current is not None else ABSENT,
        )
    )
    after = read_current(factory, target)
    return UndoResult(target, undo.undoes, undo.change.new_text, after)


def undo_last(
    factory: Any, journal: Any, target_key: str | None = None, *, force: bool = False
) -> UndoResult:
    """Plan and apply the undo at once (for scripts and the doctor; the Permissions step shows the
    plan first). Refuses when the document changed since sagewiz changed it, unless `force`."""
    return apply_undo(factory, journal, plan_undo(factory, journal, target_key, force=force))


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or "")
    return ""
