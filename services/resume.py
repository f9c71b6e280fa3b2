"""Resume: what the last session chose and which of its jobs still run, from the journal.

Choices come from the journal's `choice` entries, completed by what the session created (bucket,
role, notebook) and started (labeling, training, tuning jobs), for the same account, region and
sandbox flag. Only the sessions before the current one count. Whether a job still runs is read
from AWS, never assumed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from services.cleanup import canonical_type
from services.journal import Journal, JournalEntry
from services.state import WizardState

# Which step shows a running thing, and which state field names it.
STEP_OF = {
    "notebook": "notebook",
    "labeling-job": "labels",
    "training-job": "train",
    "tuning-job": "tune",
}
FIELD_OF = {
    "bucket": "bucket",
    "role": "role_arn",
    "notebook": "notebook_name",
    "labeling-job": "labeling_job",
    "training-job": "training_job",
    "tuning-job": "tuning_job",
    "model": "model_name",
}
RESTORABLE = {
    "role_arn", "notebook_name", "bucket", "data_prefix", "labels", "labeling_job", "output_manifest",
    "training_job", "tuning_job", "model_name", "extra",
}  # fmt: skip
# Where each step should look first when re-attaching: tuning over training over labeling.
ATTACH_ORDER = ("tuning-job", "training-job", "labeling-job", "notebook")


@dataclass(frozen=True)
class Activity:
    """Something the last session started that may still be running."""

    type: str  # notebook | labeling-job | training-job | tuning-job
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

    def summary(self) -> list[str]:
        lines = [f"Session of {self.at.replace('T', ' ')[:16]} UTC in {self.account} · {self.region}"
                 + (" (sandbox)" if self.sandbox else "")]  # fmt: skip
        shown = [(k, v) for k, v in self.choices.items() if k != "extra" and v not in ("", [], None)]
        for key, value in shown:
            text = ", ".join(value) if isinstance(value, list) else str(value)
            lines.append(f"  {key.replace('_', ' ')}: {text}")
        for a in self.running:
            lines.append(f"  running: {a.type} {a.name} ({a.status})")
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
    activities: dict[tuple[str, str], Activity] = {}
    last: JournalEntry | None = None
    for e in entries:
        if e.kind == "choice":
            for key, value in e.data.items():
                if key == "extra" and isinstance(value, dict):
                    choices["extra"] = _merge_extra(choices.get("extra"), value)
                elif key in RESTORABLE:
                    choices[key] = value
            last = e
        elif e.kind in {"resource-created", "job-started", "resource-deleted"}:
            kind = canonical_type(str(e.data.get("type") or e.data.get("kind") or ""))
            name = str(
                e.data.get("id") or e.data.get("name") or e.data.get("job_name") or e.data.get("job") or ""
            )
            if not kind or not name:
                continue
            name = name.rsplit("/", 1)[-1] if kind not in {"role", "policy"} else name
            if e.kind == "resource-deleted":
                activities.pop((kind, name.lower()), None)
                if FIELD_OF.get(kind) and choices.get(FIELD_OF[kind]) in (name, e.data.get("arn")):
                    choices.pop(FIELD_OF[kind])
                continue
            attr = FIELD_OF.get(kind)
            if attr:
                choices[attr] = e.data.get("arn") if kind == "role" and e.data.get("arn") else name
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
    sm = factory.client("sagemaker")
    warnings: list[str] = []

    def status(a: Activity) -> Activity:
        try:
            if a.type == "notebook":
                s = sm.describe_notebook_instance(NotebookInstanceName=a.name)["NotebookInstanceStatus"]
            elif a.type == "training-job":
                s = sm.describe_training_job(TrainingJobName=a.name)["TrainingJobStatus"]
            elif a.type == "tuning-job":
                d = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=a.name)
                s = d["HyperParameterTuningJobStatus"]
            elif a.type == "labeling-job":
                s = sm.describe_labeling_job(LabelingJobName=a.name)["LabelingJobStatus"]
            else:
                return a
        except Exception as exc:
            from services.cleanup import _is_gone
            from services.errors import translate

            if _is_gone(exc):
                return Activity(a.type, a.name, "gone")
            warnings.append(f"{a.type} {a.name}: {translate(exc).title}")
            return Activity(a.type, a.name, "unknown")
        return Activity(a.type, a.name, str(s))

    with ThreadPoolExecutor(max_workers=min(8, len(offer.activities))) as pool:
        read = tuple(pool.map(status, offer.activities))
    return ResumeOffer(
        offer.session,
        offer.at,
        offer.account,
        offer.region,
        offer.sandbox,
        offer.choices,
        read,
        tuple(warnings),
    )


def offer_for(journal: Journal, factory: Any, account: str, region: str, sandbox: bool) -> ResumeOffer | None:
    offer = find_offer(journal, account, region, sandbox)
    return read_status(offer, factory) if offer else None


def restore(state: WizardState, offer: ResumeOffer) -> dict[str, Any]:
    """Put the offer's choices into the state; jobs that are gone are not restored as current.
    Returns what changed."""
    values = {k: v for k, v in offer.choices.items() if k in RESTORABLE}
    gone = {FIELD_OF[a.type] for a in offer.activities if a.status == "gone" and a.type in FIELD_OF}
    for attr in gone:
        values.pop(attr, None)
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
        journal.append("choice", **changed)
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
