"""The Tune step: ranges and strategy, a plan to confirm, then a live dashboard of the children.

Two views in one screen: the form (`screens/tune_form.py`) and the dashboard
(`screens/tune_dashboard.py`, with its chart in `tui/widgets/objective_chart.py`). This module holds
what joins them: the keys, every AWS call (each in a thread worker, its result back as a WorkDone or
WorkFailed message), plan and confirm, and the poller, which waits on the worker's cancel event so
leaving the screen stops it at once.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.widgets import Button, ContentSwitcher, DataTable, Input, Static
from textual.worker import get_current_worker

from screens.base import StepScreen
from screens.confirm_plan import ConfirmPlanScreen
from screens.tune_dashboard import TuneDashboard, is_tuning_child
from screens.tune_form import TuneForm
from services.errors import ErrorInfo, SagewizError, translate
from services.flow import marks
from services.flow.outcome import Verdict
from services.flow.tune import TuneChoices
from services.journal_events import Change, ChoiceMade, ResourceChanged
from services.remedy import Face
from services.resource_kinds import ResourceKind
from services.tuning.config import TrainingBase, TuningConfig
from services.tuning.dashboard import TuningSnapshot, best_child
from services.tuning.ranges import Problem
from services.tuning.warm_start import ParentJob
from tui.messages import StatusSeen, Work, WorkDone, WorkFailed

if TYPE_CHECKING:
    from services.plan import Plan
    from services.session import SessionFactory

POLL_SECONDS = 2.0


@dataclass(frozen=True)
class LoadedBase:
    base: TrainingBase
    note: str  # where the settings came from, said to the person


# -- the work this screen hands to workers -----------------------------------------------------------
BASE: Work[LoadedBase] = Work("tune: load the training job's settings")
PARENTS: Work[list[ParentJob]] = Work("tune: find earlier tuning jobs to warm start from")
PROBLEMS: Work[list[Problem]] = Work("tune: botocore found problems in the request")
CREATE_PLAN: Work[tuple[Plan, TuningConfig]] = Work("tune: plan the tuning job")
CREATED: Work[str] = Work("tune: create the tuning job")
MODEL_PLAN: Work[Plan] = Work("tune: plan a model from the best child")
MODEL_CREATED: Work[str] = Work("tune: create the model")
STOPPED: Work[str] = Work("tune: stop the tuning job")
SNAPSHOT: Work[TuningSnapshot] = Work("tune: poll the tuning job")


class TuneStep(StepScreen):
    STEP_ID = "tune"
    BODY_SCROLLS = False
    CSS_PATH = "tune.tcss"

    BINDINGS = [
        Binding("ctrl+r", "review", "Review plan"),
        Binding("o", "sort('objective')", "Sort by objective"),
        Binding("s", "sort('status')", "Sort by status"),
        Binding("c", "sort('created')", "Sort by start"),
        Binding("x", "stop_tuning", "Stop tuning job"),
        Binding("m", "create_model", "Model from best"),
        Binding("f", "new_form", "New tuning job"),
        Binding("d", "doctor", "Doctor", show=False),  # said on the dashboard when the job failed
    ]

    # Tests replace these to keep names and times stable.
    clock = staticmethod(lambda: datetime.now().astimezone())
    algorithm_id: ClassVar[str] = "xgboost"

    def __init__(self) -> None:
        super().__init__()
        self.watching: str = ""
        self.snapshot: TuningSnapshot | None = None
        self.last_render_ms = 0.0  # how long applying the newest snapshot took (bench, tests)
        self._limiter: Any = None
        self._pollers: dict[str, Any] = {}

    # -- layout ------------------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        yield Static("Tune: automatic model tuning", classes="step-title")
        with ContentSwitcher(initial="tune-form", id="tune-views"):
            yield TuneForm(self.algorithm_id, self._default_name(self.algorithm_id), id="tune-form")
            yield TuneDashboard(id="tune-dashboard")

    @property
    def form(self) -> TuneForm:
        return self.query_one(TuneForm)

    @property
    def dashboard(self) -> TuneDashboard:
        return self.query_one(TuneDashboard)

    @property
    def base(self) -> TrainingBase | None:
        return self.form.base

    # -- startup -----------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.query_one("#base-job", Input).value = self.state.training_job
        self.on_identity_ready(self._start)

    def _start(self, _identity: Any) -> None:
        if self.state.tuning_job and not self.watching:
            self.watch_tuning_job(self.state.tuning_job)
        if self.base is None:
            self._load_base(self.state.training_job)

    def _default_name(self, algorithm_id: str) -> str:
        from services.flow.tune import name_prefix

        return f"{name_prefix(algorithm_id)}-tune-" + self.clock().strftime("%m%d-%H%M%S")

    @on(TuneForm.AlgorithmChanged)
    def _algorithm_changed(self, event: TuneForm.AlgorithmChanged) -> None:
        # A name the person typed stays; the one sagewiz proposed follows the algorithm.
        from services.flow.tune import NAME_PREFIXES

        name = self.form.value("#tuning-name")
        if not name or name.split("-tune-", 1)[0] in NAME_PREFIXES.values():
            self.form.new_name(self._default_name(event.algorithm_id))

    # -- results from workers ----------------------------------------------------------------------
    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(
            BASE.to(self._base_loaded),
            PARENTS.to(self._parents_found),
            PROBLEMS.to(self._problems_found),
            CREATE_PLAN.to(lambda planned: self._confirm(planned[0], lambda: self._create(*planned))),
            MODEL_PLAN.to(lambda plan: self._confirm(plan, lambda: self._apply(plan, MODEL_CREATED))),
            CREATED.to(self._tuning_created),
            MODEL_CREATED.to(self._model_created),
            STOPPED.to(self._stopped),
            SNAPSHOT.to(self.show_snapshot),
        )

    def on_work_failed(self, message: WorkFailed) -> None:
        if not message.route(
            BASE.on_failure(self._base_failed),
            PARENTS.on_failure(lambda failed: self.form.show_parents_error(failed.error)),
            SNAPSHOT.on_failure(self._poll_failed),
        ):
            self.wizard.show_error(message.error)

    # -- loading the Train step's settings -----------------------------------------------------------
    @work(thread=True, exclusive=True, group="tune-base", exit_on_error=False)
    def _load_base(self, job_name: str) -> None:
        from services.tuning.request import base_from_state, load_base

        factory = self.factory
        if factory is None:
            return
        try:
            if job_name:
                found = LoadedBase(load_base(factory, job_name), f"Settings of training job {job_name}.")
                self.post_message(BASE.done(found))
                return
            saved = base_from_state(self.state.extra)
            if saved is not None:
                self.post_message(BASE.done(LoadedBase(saved, "Settings saved by the Train step.")))
                return
            recent = self._recent_training_job(factory)
            if recent:
                newest = LoadedBase(
                    load_base(factory, recent), f"Settings of the newest training job, {recent}."
                )
                self.post_message(BASE.done(newest))
                return
            self.post_message(BASE.done(self._without_training_job(factory.region)))
        except Exception as exc:
            err = exc if isinstance(exc, SagewizError) else translate(exc, "sagemaker:DescribeTrainingJob")
            self.post_message(BASE.failed(ErrorInfo.of(err)))

    def _without_training_job(self, region: str) -> LoadedBase:
        """No training job to start from: the algorithm chosen in the Train step when there is one,
        else nothing assumed (tuning needs a completed training job's image, data and settings)."""
        from services.algorithms import algorithms, get
        from services.training import image_uri

        trained = self.state.extra.get("training")
        chosen = trained.get("algorithm") if isinstance(trained, dict) else None
        output = f"s3://{self.state.default_bucket}/tuning/output/" if self.state.default_bucket else ""
        empty = TrainingBase(
            image="", role_arn=self.state.role_arn, input_channels=(), output_path=output, source="none"
        )
        if not isinstance(chosen, str) or chosen not in algorithms():
            note = (
                "Tuning starts from a completed training job, and none was found: run the Train step "
                "first, or type a training job's name above and press Load."
            )
            return LoadedBase(empty, note)
        hps = trained.get("hyperparameters") if isinstance(trained, dict) else None
        base = empty.with_(
            image=image_uri(chosen, region),
            static_hyperparameters={str(k): str(v) for k, v in (hps or {}).items()},
            source="the Train step's algorithm",
        )
        note = (
            f"No training job yet: settings for {get(chosen).title}, the algorithm chosen in the Train "
            "step. Run that step first (tuning starts best from a completed job), or fill in the data below."
        )
        return LoadedBase(base, note)

    @staticmethod
    def _recent_training_job(factory: SessionFactory) -> str:
        resp = factory.client("sagemaker").list_training_jobs(
            MaxResults=20, SortBy="CreationTime", SortOrder="Descending"
        )
        for s in resp.get("TrainingJobSummaries", []):
            name = s.get("TrainingJobName", "")
            if not is_tuning_child(name):  # a tuning child is not the Train step's job
                return str(name)
        return ""

    def _base_loaded(self, loaded: LoadedBase) -> None:
        self.form.show_base(loaded.base, loaded.note)
        if loaded.base.image:
            self._load_parents(loaded.base.image)

    def _parents_found(self, parents: list[ParentJob]) -> None:
        self.form.show_parents(parents)

    @work(thread=True, exclusive=True, group="tune-parents", exit_on_error=False)
    def _load_parents(self, image: str) -> None:
        from services.tuning.warm_start import find_parents

        factory = self.factory
        if factory is None:
            return
        try:
            self.post_message(PARENTS.done(find_parents(factory, image)))
        except Exception as exc:
            err = (
                exc
                if isinstance(exc, SagewizError)
                else translate(exc, "sagemaker:ListHyperParameterTuningJobs")
            )
            self.post_message(PARENTS.failed(ErrorInfo.of(err)))

    def _base_failed(self, failed: WorkFailed) -> None:
        self.form.show_base_error(failed.error)
        if failed.error.kind == "access-denied":
            self.wizard.show_error(failed.error)

    @on(Button.Pressed, "#base-load")
    def _base_load_pressed(self) -> None:
        name = self.form.value("#base-job")
        if not name:
            self.notify(
                "Type the name of a training job to copy its settings.", severity="warning", markup=False
            )
            return
        self._load_base(name)

    @on(Input.Submitted, "#base-job")
    def _base_job_submitted(self) -> None:
        self._base_load_pressed()

    @on(Button.Pressed, "#review")
    def _review_pressed(self) -> None:
        self.action_review()

    @on(Button.Pressed, "#watch-existing")
    def _watch_pressed(self) -> None:
        name = self.form.value("#tuning-name")
        if name:
            self.watch_tuning_job(name)

    # -- plan, confirm, create -----------------------------------------------------------------------
    def action_review(self) -> None:
        if self._view() != "tune-form":
            return
        choices = self.form.read_choices()
        problems = self.form.problems()
        if problems:  # bad input: said before any AWS call
            self._problems_found(problems)
            return
        self._build_plan(choices)

    @work(thread=True, exclusive=True, group="tune-plan", exit_on_error=False)
    def _build_plan(self, choices: TuneChoices) -> None:
        from services.flow import tune as flow_tune
        from services.tuning.request import check

        assert choices.base is not None
        problems = check(flow_tune.build_config(choices, choices.base))  # with botocore's model
        if problems:
            self.post_message(PROBLEMS.done(problems))
            return
        try:
            planned = flow_tune.plan(self.flow_context, self.state, choices)
        except SagewizError as err:
            self.post_message(CREATE_PLAN.failed(ErrorInfo.of(err)))
            return
        if planned.problem is not None:  # e.g. a warm start AWS would refuse
            self.post_message(CREATE_PLAN.failed(ErrorInfo.of(planned.problem)))
            return
        if planned.requests is None or planned.config is None:  # the flow said why nothing is sent
            taken = planned.verdict is Verdict.UNCHANGED
            hint = "Pick another job name, or follow that one with Watch tuning job." if taken else ""
            info = ErrorInfo("Not sent", planned.message, hint, "conflict" if taken else "validation")
            self.post_message(CREATE_PLAN.failed(info))
            return
        self.post_message(CREATE_PLAN.done((planned.requests, planned.config)))

    def _problems_found(self, problems: list[Problem]) -> None:
        self.form.show_problems(problems)
        self.notify(problems[0].text(), title="Fix before submitting", severity="error", markup=False)

    def _confirm(self, plan: Plan, apply: Callable[[], object]) -> None:
        """Show `plan`; `apply()` once the person confirms it."""

        def confirmed(ok: bool | None) -> None:
            if ok:
                apply()

        self.app.push_screen(ConfirmPlanScreen(plan), confirmed)

    @work(thread=True, exclusive=True, group="tune-apply", exit_on_error=False)
    def _create(self, plan: Plan, cfg: TuningConfig) -> None:
        from services.plan import apply_plan

        try:
            apply_plan(plan, self.factory, self.journal)
        except Exception as exc:
            err = (
                exc
                if isinstance(exc, SagewizError)
                else translate(exc, "sagemaker:CreateHyperParameterTuningJob")
            )
            self.post_message(CREATED.failed(ErrorInfo.of(err)))
            return
        self.post_message(CREATED.done(cfg.name))

    def _tuning_created(self, name: str) -> None:
        self.state.update(tuning_job=name)
        with contextlib.suppress(OSError):
            self.journal.append(ChoiceMade(dict(tuning_job=name)))
        self.notify(f"Tuning job {name} started.", markup=False)
        self.watch_tuning_job(name)

    @work(thread=True, exclusive=True, group="tune-apply", exit_on_error=False)
    def _apply(self, plan: Plan, done: Work[str]) -> None:
        """Apply a one-action plan; `done` carries the resource it acted on."""
        from services.plan import apply_plan

        try:
            applied = apply_plan(plan, self.factory, self.journal)
        except Exception as exc:
            err = exc if isinstance(exc, SagewizError) else translate(exc, plan.actions[0].api_call())
            self.post_message(done.failed(ErrorInfo.of(err)))
            return
        self.post_message(done.done(plan.actions[0].resource or str(applied[-1].result)))

    def _model_created(self, model: str) -> None:
        self.state.update(model_name=model)
        self.notify(f"Model {model} created from the best training job.", markup=False)

    def _stopped(self, tuning: str) -> None:
        self.notify(f"Stopping tuning job {tuning}; running children are being stopped.", markup=False)
        self._poll_now()

    # -- the dashboard -------------------------------------------------------------------------------
    def _view(self) -> str:
        return str(self.query_one("#tune-views", ContentSwitcher).current)

    def watch_tuning_job(self, name: str) -> None:
        """Switch to the dashboard and poll `name` until it ends (or the screen goes)."""
        if name != self.watching:
            self.dashboard.reset()
        self.watching = name
        self.query_one("#tune-views", ContentSwitcher).current = "tune-dashboard"
        self.dashboard.reading(name)
        self.dashboard.table.focus()
        self.refresh_bindings()
        self._poll(name)

    def _poll_now(self) -> None:
        if self.watching:
            self._poll(self.watching)

    @work(thread=True, exclusive=True, group="tune-poll", exit_on_error=False)
    def _poll(self, name: str) -> None:
        from services.tuning.dashboard import PollCancelled, RateLimiter, TuningPoller

        worker = get_current_worker()
        if self._limiter is None:
            # One limiter for the screen: a restarted poll (after a stop) still keeps to 2 lists a second.
            self._limiter = RateLimiter(wait=lambda s: get_current_worker().cancelled_event.wait(s))
        poller = self._pollers.get(name)
        if poller is None:  # kept per job, so a restarted poll stays incremental
            poller = self._pollers[name] = TuningPoller(self.factory, name, limiter=self._limiter)
        delay = POLL_SECONDS
        while not worker.is_cancelled:
            try:
                snap = poller.poll()
            except PollCancelled:
                return
            except Exception as exc:
                err = (
                    exc
                    if isinstance(exc, SagewizError)
                    else translate(exc, "sagemaker:DescribeHyperParameterTuningJob")
                )
                self.post_message(SNAPSHOT.failed(ErrorInfo.of(err)))
                if err.kind in ("access-denied", "not-found"):
                    return
                delay = min(delay * 2, 30.0)  # throttled or network: back off, keep trying
            else:
                delay = POLL_SECONDS
                self.post_message(SNAPSHOT.done(snap))
                if snap.done and not any(not c.terminal for c in snap.children):
                    return
            if worker.cancelled_event.wait(delay):
                return

    def _poll_failed(self, failed: WorkFailed) -> None:
        err = failed.error
        self.dashboard.note(Text(f"{err.title}: {err.message} {err.advice(Face.TUI)}".strip(), style="red"))
        if err.kind in ("access-denied", "not-found"):
            self.wizard.show_error(err)

    def show_snapshot(self, snap: TuningSnapshot) -> None:
        """Bring the dashboard up to date with `snap`: only changed cells are touched."""
        started = time.perf_counter()
        before = self.snapshot
        if before is None or (before.status, before.counters) != (snap.status, snap.counters):
            self.app.post_message(StatusSeen())  # a child started or ended: the header's cost follows
        self.snapshot = snap
        if snap.name != self.watching:
            self.dashboard.reset()
            self.watching = snap.name
            self.query_one("#tune-views", ContentSwitcher).current = "tune-dashboard"
        self.dashboard.show(snap, sandbox=self.state.sandbox)
        if snap.name == self.state.tuning_job or not self.state.tuning_job:
            self.mark(marks.tune(snap.status if snap.done else "InProgress", best_job=snap.best_name or ""))
        self.last_render_ms = (time.perf_counter() - started) * 1000

    # -- dashboard actions ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        dashboard = ("sort", "open_log", "stop_tuning", "create_model", "new_form")
        try:
            view = self._view()
        except NoMatches:
            return True
        if action in dashboard:
            return view == "tune-dashboard"
        if action == "review":
            return view == "tune-form"
        return True

    def action_sort(self, column: str) -> None:
        self.dashboard.sort_by(column)

    def action_open_log(self) -> None:
        name = self.dashboard.selected_child()
        if name is None:
            return
        self.open_child_log(name)

    @on(DataTable.RowSelected, "#children")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.open_child_log(str(event.row_key.value))

    def open_child_log(self, name: str) -> None:
        """The Train step's live panel (status, metrics, log pane) for one child."""
        from screens.job_panel import JobPanelScreen

        self.app.push_screen(JobPanelScreen(name))

    def action_stop_tuning(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        if snap.status != "InProgress":
            self.notify(f"The tuning job is {snap.status}; only a running one can be stopped.", markup=False)
            return
        from services.plan import Action, Plan

        running = sum(1 for c in snap.children if not c.terminal)
        action = Action(
            service="sagemaker",
            operation="stop_hyper_parameter_tuning_job",
            params={"HyperParameterTuningJobName": snap.name},
            description=f"Stop tuning job {snap.name} and its {running} running training job(s)",
            undo="none: a stopped tuning job cannot be resumed (start a new one with warm start from it)",
            resource=snap.name,
            journal=ResourceChanged(ResourceKind.TUNING_JOB, snap.name, change=Change.STOPPED),
        )
        plan = Plan(f"Stop tuning job {snap.name}", (action,))
        self._confirm(plan, lambda: self._apply(plan, STOPPED))

    def action_doctor(self) -> None:
        snap = self.snapshot
        if snap is None or snap.status != "Failed":
            self.notify("The doctor is offered once the tuning job has failed.", markup=False)
            return
        from services.denied import DeniedCall

        self.wizard.open_doctor(
            DeniedCall(error_text=snap.failure_reason or "", source_step="tune", job_name=snap.name)
        )

    def action_create_model(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        best = snap.best_name or (b.name if (b := best_child(snap.children, snap.objective_type)) else None)
        if best is None:
            self.notify("No child has an objective value yet, so there is no best job.", markup=False)
            return
        self._model_plan(best, snap.name)

    @work(thread=True, exclusive=True, group="tune-plan", exit_on_error=False)
    def _model_plan(self, best: str, tuning: str) -> None:
        from services.job_status import describe
        from services.training import plan_create_model

        try:
            factory, _identity = self.connection
            job = describe(factory.client("sagemaker"), best, factory.region)
            plan = plan_create_model(job, f"{tuning}-best")
        except Exception as exc:
            err = exc if isinstance(exc, SagewizError) else translate(exc, "sagemaker:DescribeTrainingJob")
            self.post_message(MODEL_PLAN.failed(ErrorInfo.of(err)))
            return
        self.post_message(MODEL_PLAN.done(plan))

    def action_new_form(self) -> None:
        self.workers.cancel_group(self, "tune-poll")
        self.query_one("#tune-views", ContentSwitcher).current = "tune-form"
        self.form.new_name(self._default_name(self.form.algorithm_id))
        if self.base is not None and self.base.image:  # the job just watched may now be a parent
            self._load_parents(self.base.image)
        self.refresh_bindings()
