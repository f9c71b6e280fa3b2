"""What a step's plan says, and how a step ended, as values every face reads the same way."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from services.errors import SagewizError
from services.plan import Plan


class Verdict(enum.Enum):
    """What `plan` found for a step."""

    SEND = "send"  # the requests in `requests` would make AWS match the choices
    UNCHANGED = "unchanged"  # AWS already matches: nothing to send
    SKIPPED = "skipped"  # nothing was chosen for this step
    WAITING = "waiting"  # something still running has to finish first
    AFTER_EARLIER = "after-earlier"  # depends on what an earlier, not yet applied, step makes
    CANNOT = "cannot"  # the choices cannot be carried out; `problem` says why


@dataclass(frozen=True, kw_only=True)
class StepPlan:
    """A step's plan. Each step extends it with what its `apply` needs."""

    verdict: Verdict
    message: str  # one line: what is sent ("Create bucket x"), or why nothing is
    requests: Plan | None = None  # the exact requests, when verdict is SEND
    problem: SagewizError | None = None  # why not, when verdict is CANNOT
    preview: str = ""  # printed instead of the requests when the step plans after an earlier one

    def render_text(self) -> str:
        """What a face shows before asking: the exact requests, else the one line."""
        if self.requests is not None:
            return self.requests.render_text()
        return self.preview or self.message

    def raise_problem(self) -> None:
        if self.problem is not None:
            raise self.problem


class Status(enum.Enum):
    """How a step ended in a headless run."""

    UNCHANGED = "unchanged"
    CHANGED = "changed"
    PLANNED = "planned"
    WAITING = "waiting"
    SKIPPED = "skipped"
    UNAVAILABLE = "unavailable"
    DECLINED = "declined"
    FAILED = "failed"


@dataclass(frozen=True)
class StepOutcome:
    step: str
    status: Status
    message: str

    @property
    def changed(self) -> bool:
        return self.status is Status.CHANGED


def summary_line(outcomes: list[StepOutcome]) -> str:
    """The run's last line: what changed, what waits, or that nothing had to."""
    changed = [o for o in outcomes if o.changed]
    if any(o.status is Status.FAILED for o in outcomes):
        return "Stopped at a failure; the journal lists everything done before it."
    waiting = [o.step for o in outcomes if o.status is Status.WAITING]
    later = (
        f" {', '.join(waiting)}: waiting for earlier work to finish; run apply again later."
        if waiting
        else ""
    )
    if not changed:
        planned = [o for o in outcomes if o.status is Status.PLANNED]
        if planned:
            return f"Dry run: {len(planned)} steps would change something; nothing was changed."
        declined = [o.step for o in outcomes if o.status is Status.DECLINED]
        if declined:
            return (
                f"Nothing changed: you declined {', '.join(declined)}; AWS does not match the plan yet."
                + later
            )
        if waiting:
            return "Nothing changed this time." + later
        return "Nothing to change: AWS already matches the configuration."
    return f"{len(changed)} steps changed something: " + ", ".join(o.step for o in changed) + "." + later
