"""One resource as clean-up sees it: its kind and name, its state as read from AWS, what it costs
in that state, and where sagewiz learned of it."""

from __future__ import annotations

from dataclasses import dataclass

from services.resource_kinds import ResourceKind

RUNNING_STATES = frozenset({"InService", "Pending", "Updating", "InProgress", "Stopping"})


@dataclass(frozen=True)
class Resource:
    type: ResourceKind
    id: str  # name (bucket, notebook, job, role), ARN (policy), s3:// URI (object)
    arn: str = ""
    state: str = ""  # as read from AWS: InService, InProgress, Stopped, exists, gone, unknown
    instance_type: str = ""
    count: int = 1  # instances per job
    volume_gb: int = 0  # a notebook instance's storage volume (billed also when it is stopped)
    lifecycle_config: str = ""  # a notebook instance's lifecycle configuration, if it has one
    parallel: int = 1  # jobs running at once on those instances (a tuning job's running children)
    hourly: float | None = 0.0  # USD/h now; None = not estimated (per-task, storage, unpriced)
    cost_note: str = ""  # why there is no hourly figure, or what it covers
    ours: bool = True
    source: str = ""  # "journal", "tag", "journal+tag", "selected"
    selected_explicitly: bool = False
    detail: str = ""
    # A bucket change (CORS, lifecycle): the configuration before sagewiz changed it, as JSON text
    # from the journal; "" when there was none (a revert then deletes the configuration).
    previous_config: str = ""
    previous_absent: bool = False  # a policy change: there was no document before sagewiz's
    journal_entry: str = ""  # a policy change: the journal entry a revert undoes

    @property
    def key(self) -> tuple[ResourceKind, str]:
        return (self.type, self.id.lower() if self.type.case_insensitive else self.id)

    @property
    def title(self) -> str:
        return f"{self.type.noun} {self.id}"

    @property
    def gone(self) -> bool:
        return self.state == "gone"

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES

    def hourly_label(self) -> str:
        if self.hourly is None:
            return self.cost_note or "not estimated"
        if self.type.free:
            return "no charge"
        if self.hourly == 0:
            return "not billing"  # finished, stopped or gone: no rate is shown for what does not run
        rate = f"${self.hourly:.4f}/h" if self.hourly < 0.01 else f"${self.hourly:.3f}/h"
        return f"{rate} ({self.cost_note})" if self.cost_note else rate
