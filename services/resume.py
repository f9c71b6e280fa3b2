"""Resume: what the last session chose and which of its jobs still run, from the journal.

Choices come from the journal's `choice` entries, completed by what the session created (bucket,
role, notebook) and started (labeling, training, tuning jobs), for the same account, region and
sandbox flag. Only the sessions before the current one count. Whether a job still runs is read
from AWS, never assumed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from services.errors import is_gone, translate
from services.journal import Journal, JournalEntry
from services.journal_events import (
    ChoiceMade,
    JobStarted,
    PolicyReplaced,
    PolicyRestored,
    ResourceCreated,
    ResourceDeleted,
)
from services.resource_kinds import ResourceKind
from services.resources import Resource, handler_for
from services.state import WizardState

# Which step shows a running thing, and which state field names it.
STEP_OF = {
    ResourceKind.NOTEBOOK: "notebook",
    ResourceKind.LABELING_JOB: "labels",
    ResourceKind.TRAINING_JOB: "train",
    ResourceKind.TUNING_JOB: "tune",
}
FIELD_OF = {
    ResourceKind.BUCKET: "bucket",
    ResourceKind.ROLE: "role_arn",
    ResourceKind.NOTEBOOK: "notebook_name",
    ResourceKind.LABELING_JOB: "labeling_job",
    ResourceKind.TRAINING_JOB: "training_job",
    ResourceKind.TUNING_JOB: "tuning_job",
    ResourceKind.MODEL: "model_name",
}
RESTORABLE = {
    "role_arn", "notebook_name", "bucket", "data_prefix", "labels", "labeling_job", "output_manifest",
    "training_job", "tuning_job", "model_name", "extra",
}  # fmt: skip
# Where each step should look first when re-attaching: tuning over training over labeling.
ATTACH_ORDER = (
    ResourceKind.TUNING_JOB,
    ResourceKind.TRAINING_JOB,
    ResourceKind.LABELING_JOB,
    ResourceKind.NOTEBOOK,
)


@dataclass(frozen=True)
class Activity:
    """Something the last session started that may still be running."""

    type: ResourceKind  # notebook, labeling, training or tuning job
    name: str
    status: str = ""  # as read from AWS; "" before reading, "gone" when AWS no longer knows it

    @property
    def running(self) -> bool:
        return self.status in {"InProgress", "Stopping", "Pending", "InService", "Updating"}

    @property
    def step(self) -> str:
        return STEP_OF.get(self.type, "cleanup")


@dataclass(frozen=True)
class ResumeOffer:
    session: str
    at: str  # ISO time the session started
    account: str
    region: str
    sandbox: bool
    choices: dict[str, Any]  # WizardState field -> value
    activities: tuple[Activity, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)
    # Filled by `verify`: what the session left that AWS no longer has (plain sentences; those
    # choices are not restored), and the policy fixes it applied that are still in place.
    missing: tuple[str, ...] = ()
    fixes_in_place: tuple[str, ...] = ()
    # The steps whose chosen thing (notebook, bucket, job) AWS no longer has: they need attention.
    gone_steps: tuple[str, ...] = ()

    @property
    def running(self) -> tuple[Activity, ...]:
        return tuple(a for a in self.activities if a.running)

    @property
    def attach_to(self) -> Activity | None:
        """The running thing whose step the wizard opens on resume."""
        for kind in ATTACH_ORDER:
            for a in self.running:
                if a.type == kind:
                    return a
        return None

    def shown_choices(self) -> list[str]:
        """The choices the offer lists and resuming restores, one 'name: value' each (the same
        list both times, so the counts add up)."""
        out = []
        for key, value in self.choices.items():
            if key not in RESTORABLE or key == "extra" or value in ("", [], None):
                continue
            text = ", ".join(value) if isinstance(value, list) else str(value)
            out.append(f"{key.replace('_', ' ')}: {text}")
        return out

    def summary(self) -> list[str]:
        lines = [f"Session of {self.at.replace('T', ' ')[:16]} UTC in {self.account} · {self.region}"
                 + (" (sandbox)" if self.sandbox else "")]  # fmt: skip
        lines.extend(f"  {line}" for line in self.shown_choices())
        for a in self.running:
            lines.append(f"  running: {a.type.value} {a.name} ({a.status})")
        for fix in self.fixes_in_place:
            lines.append(f"  policy fix still in place: {fix}")
        return lines


def find_offer(journal: Journal, account: str, region: str, sandbox: bool) -> ResumeOffer | None:
    """The newest earlier session here that chose or started something (no AWS call)."""
    entries = [
        e
        for e in journal.read().entries
        if e.session != journal.session_id
        and e.account == account
        and e.region == region
        and e.sandbox == sandbox
    ]
    by_session: dict[str, list[JournalEntry]] = {}
    for e in entries:
        if e.session:
            by_session.setdefault(e.session, []).append(e)
    # Choices carry over from every earlier session here, the newest winning; the offer names the
    # newest session that did something worth resuming.
    choices: dict[str, Any] = {}
    activities: dict[tuple[ResourceKind, str], Activity] = {}
    last: JournalEntry | None = None
    for e in entries:
        event = e.event
        if isinstance(event, ChoiceMade):
            for key, value in event.values.items():
                if key == "extra" and isinstance(value, dict):
                    choices["extra"] = _merge_extra(choices.get("extra"), value)
                elif key in RESTORABLE:
                    choices[key] = value
            last = e
        elif isinstance(event, (ResourceCreated, JobStarted, ResourceDeleted)):
            kind = event.kind
            name = event.id
            if kind not in {ResourceKind.ROLE, ResourceKind.POLICY, ResourceKind.OBJECT}:
                name = name.rsplit("/", 1)[-1]
            if isinstance(event, ResourceDeleted):
                activities.pop((kind, name.lower()), None)
                if FIELD_OF.get(kind) and choices.get(FIELD_OF[kind]) in (name, event.arn):
                    choices.pop(FIELD_OF[kind])
                continue
            attr = FIELD_OF.get(kind)
            if attr:
                choices[attr] = event.arn if kind is ResourceKind.ROLE and event.arn else name
            if kind in STEP_OF:
                activities[(kind, name.lower())] = Activity(kind, name)
            last = e
    if last is None or not last.session:
        return None
    start = next((e for e in by_session.get(last.session, []) if e.kind == "session"), last)
    return ResumeOffer(last.session, start.at, account, region, sandbox, choices, tuple(activities.values()))


def _merge_extra(old: Any, new: dict[str, Any]) -> dict[str, Any]:
    """Later settings win key by key, one level into each step's table: a later session that only
    confirmed a training job does not erase the hyperparameters an earlier one chose."""
    merged = dict(old) if isinstance(old, dict) else {}
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def read_status(offer: ResumeOffer, factory: Any) -> ResumeOffer:
    """The offer with each activity's status read from AWS (in parallel)."""
    if not offer.activities:
        return offer
    warnings: list[str] = []

    def status(a: Activity) -> Activity:
        try:
            read = handler_for(a.type).read(factory, Resource(a.type, a.name))
        except Exception as exc:
            if is_gone(exc):
                return Activity(a.type, a.name, "gone")
            warnings.append(f"{a.type.value} {a.name}: {translate(exc).title}")
            return Activity(a.type, a.name, "unknown")
        return Activity(a.type, a.name, read.state)

    with ThreadPoolExecutor(max_workers=min(8, len(offer.activities))) as pool:
        read = tuple(pool.map(status, offer.activities))
    return replace(offer, activities=read, warnings=offer.warnings + tuple(warnings))


def offer_for(journal: Journal, factory: Any, account: str, region: str, sandbox: bool) -> ResumeOffer | None:
    offer = find_offer(journal, account, region, sandbox)
    if offer is None:
        return None
    return verify(read_status(offer, factory), factory, journal)


# -- checking what the offer would restore against AWS ---------------------------------------------
def _split_s3(uri: str) -> tuple[str, str]:
    rest = uri.removeprefix("s3://")
    bucket, _, key = rest.partition("/")
    return bucket, key


def _check_choice(factory: Any, key: str, value: Any) -> str | None:
    """None when the thing still exists; else a sentence saying it does not. Raises when the
    check itself fails (no permission, network)."""
    try:
        if key == "bucket":
            factory.client("s3").head_bucket(Bucket=value)
        elif key == "role_arn":
            factory.client("iam").get_role(RoleName=str(value).rsplit("/", 1)[-1])
        elif key == "data_prefix":
            bucket, prefix = _split_s3(str(value))
            page = factory.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
            if not page.get("KeyCount") and not page.get("Contents"):
                return f"the copied data: no objects under {value} any more (Data copies them again)"
        elif key == "output_manifest":
            bucket, obj = _split_s3(str(value))
            factory.client("s3").head_object(Bucket=bucket, Key=obj)
        elif key == "model_name":
            factory.client("sagemaker").describe_model(ModelName=value)
        else:
            return None
    except Exception as exc:
        code = ""
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            code = str(response.get("Error", {}).get("Code", ""))
        if is_gone(exc) or code in {"404", "NoSuchBucket", "NoSuchKey", "NoSuchEntity"}:
            return {
                "bucket": f"bucket {value} no longer exists",
                "role_arn": f"role {value} no longer exists",
                "data_prefix": f"the copied data under {value} no longer exists (its bucket is gone)",
                "output_manifest": f"the labels' output manifest {value} no longer exists",
                "model_name": f"model {value} no longer exists",
            }[key]
        raise
    return None


def _fix_entries(journal: Journal, offer: ResumeOffer) -> list[JournalEntry]:
    """Policy changes applied here (this account, region, sandbox flag) and not undone since."""
    entries = [
        e
        for e in journal.read().entries
        if e.account == offer.account and e.region == offer.region and e.sandbox == offer.sandbox
        and e.session != journal.session_id
    ]  # fmt: skip
    undone = {e.event.undoes for e in entries if isinstance(e.event, PolicyRestored)}
    latest: dict[str, JournalEntry] = {}
    for e in entries:
        if isinstance(e.event, PolicyReplaced) and e.id not in undone and e.event.target_info:
            latest[e.event.target] = e  # the newest change of each document counts
    return list(latest.values())


def _check_fix(factory: Any, entry: JournalEntry) -> tuple[str, bool]:
    """(description, still in place). Raises when the document cannot be read."""
    from services.permissions.apply import read_current, same_document
    from services.permissions.fixes.change import PolicyTarget

    event = entry.event
    assert isinstance(event, PolicyReplaced)  # _fix_entries picks only these
    target = PolicyTarget.from_dict(dict(event.target_info))
    label = f"{event.title or 'policy change'} ({target.describe()})"
    new = None if event.new_absent else event.new_document
    try:
        current = read_current(factory, target)
    except Exception as exc:
        if is_gone(exc):
            return label, False
        raise
    return label, same_document(current, new)


def verify(offer: ResumeOffer, factory: Any, journal: Journal) -> ResumeOffer:
    """Check everything the offer would restore against AWS: what no longer exists is said plainly
    and left out of the choices; a check that cannot run is a warning, and its choice is kept."""
    choices = dict(offer.choices)
    missing: list[str] = []
    warnings: list[str] = []
    in_place: list[str] = []
    checks = [(k, v) for k, v in choices.items() if k in _CHECKED and v not in ("", None, [])]
    fixes = _fix_entries(journal, offer)

    def run_choice(item: tuple[str, Any]) -> tuple[str, str | None, str | None]:
        key, value = item
        try:
            return key, _check_choice(factory, key, value), None
        except Exception as exc:
            return key, None, f"{key.replace('_', ' ')} {value}: {translate(exc).title}"

    def run_fix(entry: JournalEntry) -> tuple[str, bool | None, str | None]:
        try:
            label, kept = _check_fix(factory, entry)
            return label, kept, None
        except Exception as exc:
            return str(entry.data.get("title") or "policy change"), None, translate(exc).title

    jobs = len(checks) + len(fixes)
    if jobs:
        with ThreadPoolExecutor(max_workers=min(8, jobs)) as pool:
            choice_results = list(pool.map(run_choice, checks))
            fix_results = list(pool.map(run_fix, fixes))
    else:
        choice_results, fix_results = [], []
    gone_steps: list[str] = []
    for key, gone, problem in choice_results:
        if gone:
            missing.append(gone)
            choices.pop(key, None)
            if key == "bucket":
                gone_steps.append("bucket")
        elif problem:
            warnings.append(problem)
    for label, kept, problem in fix_results:
        if kept is True:
            in_place.append(label)
        elif kept is False:
            missing.append(f"the policy fix {label} is no longer in place")
        else:
            warnings.append(f"policy fix {label}: {problem}")
    for a in offer.activities:
        if a.status == "gone":
            missing.append(f"{a.type.value.replace('-', ' ')} {a.name} no longer exists")
            attr = FIELD_OF.get(a.type)
            if attr and choices.get(attr) == a.name:
                choices.pop(attr, None)
                gone_steps.append(a.step)
    return replace(
        offer,
        choices=choices,
        missing=tuple(missing),
        fixes_in_place=tuple(in_place),
        warnings=offer.warnings + tuple(warnings),
        gone_steps=tuple(dict.fromkeys(gone_steps)),
    )


_CHECKED = ("bucket", "role_arn", "data_prefix", "output_manifest", "model_name")


@dataclass(frozen=True)
class ResumeReport:
    """What resuming did, each item checked against AWS by `verify` / `read_status`."""

    restored: tuple[str, ...]  # the offer's shown choices, now the wizard's ("bucket: x")
    reattached: tuple[str, ...]  # what still runs ("training-job x (InProgress)")
    gone: tuple[str, ...]  # what AWS no longer has: not restored

    def line(self) -> str:
        """One line whose count is the offer's list of choices; what is gone is named apart."""
        parts = [f"{len(self.restored)} choice{'s' if len(self.restored) != 1 else ''} restored"]
        if self.reattached:
            parts.append(f"re-attached to {', '.join(self.reattached)}")
        if self.gone:
            parts.append(f"{len(self.gone)} gone, not restored: {'; '.join(self.gone)}")
        return "Resumed: " + "; ".join(parts) + "."


def resume(state: WizardState, offer: ResumeOffer) -> ResumeReport:
    """Restore the offer's choices (see `restore`) and say what was restored, re-attached and gone."""
    restore(state, offer)
    running = tuple(f"{a.type.value} {a.name} ({a.status})" for a in offer.running)
    return ResumeReport(tuple(offer.shown_choices()), running, offer.missing)


def restore(state: WizardState, offer: ResumeOffer) -> dict[str, Any]:
    """Put the offer's choices into the state; jobs that are gone are not restored as current.
    Returns what changed."""
    values = {k: v for k, v in offer.choices.items() if k in RESTORABLE}
    # Only the very thing that is gone: an older job of the same kind being gone says nothing of
    # the newer one chosen after it, which the offer listed and the report counts as restored.
    for a in offer.activities:
        attr = FIELD_OF.get(a.type)
        if a.status == "gone" and attr and values.get(attr) == a.name:
            values.pop(attr)
    if "extra" in values:
        merged = dict(state.extra)
        merged.update(values.pop("extra") or {})
        values["extra"] = merged
    return state.update(**values)


def journal_choices(
    journal: Journal, state: WizardState, last: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Append a `choice` entry with what changed in `state` since `last` (a snapshot this returns),
    so a later session can resume it. Front ends call this after each step."""
    now = {k: v for k, v in state.to_dict().items() if k in RESTORABLE}
    before = last or {}
    changed = {
        k: v
        for k, v in now.items()
        if before.get(k) != v and not (k not in before and v in ("", [], {}, None))
    }
    if changed:
        journal.append(ChoiceMade(changed))
    return now


def latest_state(journal: Journal, sandbox: bool | None = None) -> tuple[WizardState, str] | None:
    """The newest earlier session with choices, as a WizardState (for `sagewiz export`), and when
    it started. `sandbox` limits it to sandbox (True) or real (False) sessions."""
    places: list[tuple[str, str, bool]] = []
    for e in reversed(journal.read().entries):
        if e.kind in {"choice", "resource-created", "job-started"} and e.account and e.region:
            place = (e.account, e.region, e.sandbox)
            if (sandbox is None or e.sandbox == sandbox) and place not in places:
                places.append(place)
    for account, region, is_sandbox in places:
        offer = find_offer(journal, account, region, is_sandbox)
        if offer is None:
            continue
        state = WizardState(region=region, account=account, sandbox=is_sandbox)
        values = {k: v for k, v in offer.choices.items() if k in RESTORABLE}
        extra = values.pop("extra", None)
        state.update(**values)
        if isinstance(extra, dict):
            state.extra = dict(extra)
        return state, offer.at
    return None
