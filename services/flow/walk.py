"""The steps walked headless, for `--plain` and `sagewiz apply`: for each step, read the choices
the session holds, plan, show the plan, confirm, apply and record. A step whose state already
matches plans nothing, which is what makes a second `apply` change nothing and say so."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from services.errors import SagewizError, translate
from services.flow import bucket, data, labels, notebook, permissions, role, train, tune
from services.flow.context import FlowContext
from services.flow.outcome import Status, StepOutcome, StepPlan, Verdict
from services.plan import Plan
from services.remedy import Face
from services.state import WizardState

STEP_ORDER = ("bucket", "role", "notebook", "data", "permissions", "labels", "train", "tune")

Confirm = Callable[[str, str], bool]  # (title, plan text) -> go ahead?
Say = Callable[[str], None]
P = TypeVar("P", bound=StepPlan)


def error_line(err: SagewizError, face: Face = Face.CLI) -> str:
    """The error on one line, for `--plain` and `apply`: no key works there, so the remedy is a
    command (apply) or a sentence (plain mode)."""
    line = f"{err.title}: {err.message}" if err.message else err.title
    return line + (f" (what to do: {hint})" if (hint := err.advice(face)) else "")


def requests_json(plan: Plan) -> str:
    """Each request exactly as it is sent, as JSON: the screen folds these under the plan; a
    command line prints them after it, so what it shows is what apply sends."""
    out = []
    for n, action in enumerate(plan.actions, 1):
        body = action.request.to_json().replace("\n", "\n     ")
        out.append(f"  {n}. {action.service}:{action.request.name} request (JSON):\n     {body}")
    return "\n".join(out)


@dataclass
class Walk:
    ctx: FlowContext
    state: WizardState
    confirm: Confirm
    say: Say
    dry_run: bool = False
    face: Face = Face.CLI  # how remedies in errors are worded: plain mode asks for a sentence
    _snapshot: dict[str, object] | None = field(default=None, repr=False)
    _planned: bool = field(default=False, repr=False)

    def run(self, steps: tuple[str, ...] = STEP_ORDER) -> list[StepOutcome]:
        outcomes = []
        for name in steps:
            outcome = self.run_step(name)
            outcomes.append(outcome)
            if outcome.status is Status.FAILED:
                break
        return outcomes

    def run_step(self, name: str) -> StepOutcome:
        self.say(f"\n== {name} ==")
        try:
            outcome = self._steps()[name]()
        except SagewizError as err:
            if self.dry_run and self._planned:
                # It reads what an earlier planned step would have made (the bucket, the images).
                outcome = StepOutcome(
                    name,
                    Status.PLANNED,
                    f"planned once the earlier steps have run (now: {err.title.lower()})",
                )
            else:
                outcome = StepOutcome(name, Status.FAILED, error_line(err, self.face))
        except Exception as exc:  # a person gets a sentence, not a traceback
            outcome = StepOutcome(name, Status.FAILED, error_line(translate(exc), self.face))
        self.say(f"-> {outcome.message}")
        self._planned = self._planned or outcome.status is Status.PLANNED
        self.journal_choices()
        return outcome

    def journal_choices(self) -> None:
        """Journal what changed in the choices since the last call (all of them the first time), so
        `sagewiz export` and resume find them even if the run stops at the next step."""
        if self.dry_run:
            return
        from services.resume import journal_choices

        try:
            self._snapshot = journal_choices(self.ctx.journal, self.state, self._snapshot)
        except (OSError, ValueError) as exc:
            self.say(f"note: the journal could not be written ({exc})")

    # -- one step ----------------------------------------------------------------------------------
    def carry(
        self,
        step: str,
        plan: P,
        apply: Callable[[FlowContext, WizardState, P], str],
        record: Callable[[WizardState, P], None] | None = None,
    ) -> StepOutcome:
        """Turn a step's plan into its outcome: show and confirm what would be sent, then apply."""
        verdict = plan.verdict
        if verdict is Verdict.CANNOT:
            plan.raise_problem()
        if verdict is Verdict.UNCHANGED:
            if record is not None:
                record(self.state, plan)
            return StepOutcome(step, Status.UNCHANGED, plan.message)
        if verdict is Verdict.SKIPPED:
            return StepOutcome(step, Status.SKIPPED, plan.message)
        if verdict is Verdict.WAITING:
            if self.dry_run:
                return StepOutcome(step, Status.PLANNED, f"{plan.preview or plan.message} (dry run)")
            return StepOutcome(step, Status.WAITING, plan.message)
        if verdict is Verdict.AFTER_EARLIER:
            if not self.dry_run:
                plan.raise_problem()
            if plan.preview:
                self.say(plan.preview)
            return StepOutcome(step, Status.PLANNED, f"{plan.message} (dry run)")
        stop = self._show(step, plan)
        if stop is not None:
            return stop
        return StepOutcome(step, Status.CHANGED, apply(self.ctx, self.state, plan))

    def _show(self, step: str, plan: StepPlan) -> StepOutcome | None:
        """Show a plan; None means go ahead, else the outcome that ends the step."""
        self.say(plan.render_text())
        if plan.requests is not None:
            self.say(requests_json(plan.requests))
        if self.dry_run:
            return StepOutcome(step, Status.PLANNED, f"{plan.message}: planned (dry run, nothing changed)")
        if not self.confirm(plan.message, plan.render_text()):
            return StepOutcome(step, Status.DECLINED, f"{plan.message}: not applied (declined)")
        return None

    def _steps(self) -> dict[str, Callable[[], StepOutcome]]:
        return {
            "bucket": self.bucket,
            "role": self.role,
            "notebook": self.notebook,
            "data": self.data,
            "permissions": self.permissions,
            "labels": self.labels,
            "train": self.train,
            "tune": self.tune,
        }

    def bucket(self) -> StepOutcome:
        p = bucket.plan(self.ctx, self.state, bucket.choices_from_state(self.state))
        return self.carry("bucket", p, bucket.apply, bucket.record)

    def role(self) -> StepOutcome:
        p = role.plan(self.ctx, self.state, role.choices_from_state(self.state))
        return self.carry("role", p, role.apply, role.record)

    def notebook(self) -> StepOutcome:
        p = notebook.plan(self.ctx, self.state, notebook.choices_from_state(self.state))
        return self.carry("notebook", p, notebook.apply)

    def data(self) -> StepOutcome:
        if not self.state.bucket:
            return StepOutcome("data", Status.SKIPPED, "no bucket chosen")
        p = data.plan(self.ctx, self.state, data.choices_from_state(self.state))
        return self.carry("data", p, data.apply, data.record)

    def permissions(self) -> StepOutcome:
        choices = permissions.choices_from_state(self.state)
        applied = 0
        for round_ in range(permissions.ROUNDS):  # each fix re-reads: a later fix sees the earlier one
            p = permissions.plan(self.ctx, self.state, choices)
            if round_ == 0:
                for line in p.refused:
                    self.say(line)
            if p.verdict is not Verdict.SEND:
                if applied:
                    break
                return self.carry("permissions", p, permissions.apply)
            outcome = self.carry("permissions", p, permissions.apply)
            if outcome.status is not Status.CHANGED:
                return outcome
            applied += 1
        return StepOutcome("permissions", Status.CHANGED, permissions.applied_message(applied))

    def labels(self) -> StepOutcome:
        p = labels.plan(self.ctx, self.state, labels.choices_from_state(self.state, self.ctx.region))
        return self.carry("labels", p, labels.apply, labels.record)

    def train(self) -> StepOutcome:
        choices = train.choices_from_state(self.state)
        if choices is None:
            return StepOutcome("train", Status.SKIPPED, "no training job chosen")
        probe = train.plan_existing(self.ctx, self.state, choices)
        if probe is not None:
            return self.carry("train", probe, train.apply)
        if train.needs_derived_dataset(choices):
            if self.dry_run:
                self.say(train.derive_preview(self.state, choices.algorithm))
                choices = train.pending_channels(choices, self.state, self.ctx, self.say)
            else:
                choices = train.derive_dataset(self.ctx, self.state, choices, self.say)
        p = train.plan(self.ctx, self.state, choices)
        return self.carry("train", p, train.apply)

    def tune(self) -> StepOutcome:
        choices = tune.choices_from_state(self.state)
        if choices is None:
            return StepOutcome("tune", Status.SKIPPED, "no tuning job chosen")
        p = tune.plan(self.ctx, self.state, choices)
        return self.carry("tune", p, tune.apply)
