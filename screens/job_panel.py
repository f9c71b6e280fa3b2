"""The live panel of one training job: status, secondary-status timeline, time and cost, metrics, log.

Opened from the Train step, the Tune dashboard (Enter on a child) or anywhere with a job name.
Two thread workers feed it: one describes the job (every 2 s until it ends), one follows its
CloudWatch log (services.logs.LogFollower). Leaving the screen cancels both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from services.errors import ErrorInfo, SagewizError, translate
from services.flow import marks
from services.job_failure import explain_failure
from services.job_status import JobSnapshot, MetricParser, metric_definitions_for
from services.terminal_text import safe, safe_line
from tui.context import Wizard, wizard_of
from tui.focus import FocusScreen
from tui.messages import StatusSeen, StepMarked, Work, WorkDone, WorkFailed
from tui.widgets.header import AwsHeader
from tui.widgets.log_pane import LogPane

_STATUS_STYLE = {"InProgress": "bold yellow", "Completed": "bold green", "Failed": "bold red",
                 "Stopping": "bold magenta", "Stopped": "bold magenta"}  # fmt: skip
_SPARK = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class LogBatch:
    lines: list[tuple[str, str]]  # (host, message)
    metrics: list[tuple[str, float]]


# -- the work this screen hands to workers -------------------------------------------------------------
STATUS: Work[JobSnapshot] = Work("job panel: describe the job")
LOG: Work[LogBatch] = Work("job panel: follow the log")
LOG_PROBLEM: Work[str] = Work("job panel: what keeps the log from being read")  # "" once it is read again
STOP: Work[None] = Work("job panel: stop the job")
MODEL: Work[str] = Work("job panel: create a model")  # its name


def sparkline(values: list[float], width: int = 24) -> str:
    vals = values[-width:]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    span = hi - lo or 1.0
    return "".join(_SPARK[min(7, int((v - lo) / span * 7.999))] for v in vals)


class JobPanelScreen(FocusScreen[None]):
    """JobPanelScreen(job_name): the live panel for any training job."""

    CSS_PATH = "job_panel.tcss"
    FOCUS_HOME = "#jp-log"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("s", "stop", "Stop job"),
        Binding("slash", "search", "Search log", key_display="/"),
        Binding("f3", "next_match", "Next match"),
        Binding("shift+f3", "prev_match", "Prev match"),
        Binding("d", "doctor", "Doctor"),
        Binding("m", "create_model", "Create model"),
    ]

    @property
    def wizard(self) -> Wizard:
        return wizard_of(self.app)

    def __init__(
        self,
        job_name: str,
        *,
        now: Callable[[], datetime] | None = None,
        poll_seconds: float = 2.0,
        max_log_lines: int = 20_000,
    ) -> None:
        super().__init__()
        self.job_name = job_name
        self.snapshot: JobSnapshot | None = None
        self.now = now or (lambda: datetime.now(UTC))
        self.poll_seconds = poll_seconds
        self.max_log_lines = max_log_lines
        self.parser: MetricParser | None = None
        self.series: dict[str, list[float]] = {}
        self._status = "InProgress"
        self.model_created = ""

    # -- layout --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield AwsHeader()
        with Vertical(id="jp-main"):
            yield Static(Text(f"Training job {self.job_name}", style="bold"), id="jp-title")
            with Horizontal(id="jp-top"):
                with Vertical(id="jp-left"):
                    yield Static(Text("reading the job ...", style="dim"), id="jp-status")
                    yield Static("", id="jp-cost")
                with Vertical(id="jp-middle"):
                    yield Static(Text("Timeline", style="bold"), classes="jp-head")
                    yield Static("", id="jp-timeline")
                with Vertical(id="jp-right"):
                    yield Static(Text("Metrics", style="bold"), classes="jp-head")
                    yield Static(Text("none yet", style="dim"), id="jp-metrics")
            yield Static("", id="jp-failure")
            yield Input(placeholder="search the log (Enter: next, Esc: close)", id="jp-search")
            yield LogPane(max_lines=self.max_log_lines, id="jp-log")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#jp-search", Input).display = False
        pane = self.query_one(LogPane)
        pane.border_title = "log"
        pane.focus()
        if self.wizard.factory is None:
            self.query_one("#jp-status", Static).update(Text("not connected yet", style="yellow"))
            self.watch(self.app, "identity", self._start_when_connected, init=False)
        else:
            self._start()
        self.set_interval(1.0, self._tick)

    def _start_when_connected(self, identity: object) -> None:
        if identity is not None:
            self._start()

    def _start(self) -> None:
        self._poll_status()

    # -- workers ---------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="job-status", exit_on_error=False)
    def _poll_status(self) -> None:
        from services.job_status import describe

        worker = get_current_worker()
        factory = self.wizard.factory
        if factory is None:  # started once connected; nothing to poll without a connection
            return
        sm = factory.client("sagemaker")
        failures = 0
        while not worker.is_cancelled:
            try:
                snap = describe(sm, self.job_name, factory.region)
                failures = 0
            except SagewizError as err:
                failures += 1
                if err.kind in ("not-found", "access-denied") or failures >= 5:
                    self.post_message(STATUS.failed(ErrorInfo.of(err)))
                    return
                worker.cancelled_event.wait(min(10.0, self.poll_seconds * 2**failures))
                continue
            except Exception as exc:  # never a traceback on screen
                self.post_message(STATUS.failed(ErrorInfo.of(translate(exc, "DescribeTrainingJob"))))
                return
            self._status = snap.status
            self.post_message(STATUS.done(snap))
            if snap.terminal:
                return
            worker.cancelled_event.wait(self.poll_seconds)

    @work(thread=True, exclusive=True, group="job-logs", exit_on_error=False)
    def _follow_logs(self, snap: JobSnapshot) -> None:
        from services.logs import LogFollower

        worker = get_current_worker()
        factory = self.wizard.factory
        if factory is None:  # started once connected; nothing to follow without a connection
            return
        follower = LogFollower(factory.client("logs"), self.job_name, expected_streams=snap.instance_count)
        parser = MetricParser(metric_definitions_for(snap))
        problem = ""
        try:
            for batch in follower.follow(lambda: self._status, worker.cancelled_event, status_every=0.5):
                metrics: list[tuple[str, float]] = []
                for ln in batch:
                    metrics.extend(parser.feed(ln.message))
                self.post_message(LOG.done(LogBatch([(ln.host, ln.message) for ln in batch], metrics)))
                if follower.stats.last_problem != problem:
                    problem = follower.stats.last_problem
                    self.post_message(LOG_PROBLEM.done(problem))
        except SagewizError as err:
            self.post_message(LOG_PROBLEM.done(f"{err.title}: {err.message}"))
        except Exception as exc:
            info = translate(exc, "GetLogEvents")
            self.post_message(LOG_PROBLEM.done(f"{info.title}: {info.message}"))

    # -- results from workers --------------------------------------------------------------------
    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(
            STATUS.to(self._status_read),
            LOG.to(self._log_batch),
            LOG_PROBLEM.to(self._log_problem),
            STOP.to(lambda _: self.notify(f"Stopping {self.job_name} ...", markup=False)),
            MODEL.to(self._model_created),
        )

    def on_work_failed(self, message: WorkFailed) -> None:
        if not message.route(STATUS.on_failure(self._status_failed)):
            self.wizard.show_error(message.error)

    def _status_read(self, snap: JobSnapshot) -> None:
        first = self.snapshot is None
        if self.snapshot is None or snap.status != self.snapshot.status:
            self.app.post_message(StatusSeen())  # the header's running cost follows at once
        self.snapshot = snap
        if snap.name == self.wizard.state.training_job:
            # The Train step's own job: its mark follows what this panel sees, whichever step opened it.
            self.app.post_message(
                StepMarked("train", marks.train(snap.status, model_artifact=snap.model_artifact))
            )
        if first:
            self._follow_logs(snap)
        self._render_status(snap)

    def _status_failed(self, failed: WorkFailed) -> None:
        info = failed.error
        self.query_one("#jp-status", Static).update(
            Text(safe(f"{info.title}: {info.message}", 2000), style="red")
        )
        if info.kind == "access-denied":
            self.wizard.show_error(info)

    def _log_batch(self, message: LogBatch) -> None:
        self.query_one(LogPane).write_lines(message.lines)
        if message.metrics:
            for name, value in message.metrics:
                self.series.setdefault(name, []).append(value)
            self._render_metrics()

    def _log_problem(self, text: str) -> None:
        pane = self.query_one(LogPane)
        pane.border_title = f"log - {text}" if text else "log"

    # -- rendering -------------------------------------------------------------------------------
    def _render_status(self, snap: JobSnapshot) -> None:
        t = Text()
        t.append(snap.status, style=_STATUS_STYLE.get(snap.status, "bold"))
        t.append(f" / {safe_line(snap.secondary, 80)}\n")
        hosts = f"{snap.instance_count} x {snap.instance_type}" + (
            " (distributed)" if snap.instance_count > 1 else ""
        )
        t.append(hosts + (" · managed spot" if snap.spot else "") + "\n", style="dim")
        if snap.model_artifact:
            t.append("model: ", style="bold")
            t.append(safe_line(snap.model_artifact, 400) + "\n")
        if self.model_created:
            t.append("created model: ", style="bold")
            t.append(self.model_created + "\n", style="green")
        if self.wizard.sandbox:
            t.append("sandbox: this job runs on this machine\n", style="italic dim")
        self.query_one("#jp-status", Static).update(t)
        self._render_cost()
        tl = Text()
        for tr in snap.transitions:
            start = tr.start.strftime("%H:%M:%S") if tr.start else "--:--:--"
            tl.append(f"{start} ", style="dim")
            tl.append(f"{tr.status:<12}", style="bold")
            tl.append(f" {safe_line(tr.message, 400)}\n")
        self.query_one("#jp-timeline", Static).update(tl)
        fail = Text()
        if snap.failure_reason:
            fail.append("FailureReason: ", style="bold red")
            fail.append(safe(snap.failure_reason, 4000))
            explained = explain_failure(snap.failure_reason, snap.region, snap.instance_type)
            if explained is not None:
                fail.append(f"\n{explained.summary}", style="bold yellow")
                fail.append(f"\nNext: {explained.next_action}", style="yellow")
            if not (explained and explained.doctor) and snap.status == "Failed":
                fail.append(
                    "\nd: the doctor reads the job (role, channels, output, VPC) and diagnoses it.",
                    style="dim",
                )
        self.query_one("#jp-failure", Static).update(fail)
        if snap.final_metrics:
            for m in snap.final_metrics:
                if m.name not in self.series:
                    self.series[m.name] = [m.value]
            self._render_metrics()

    def _render_cost(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        secs = snap.running_seconds(self.now())
        t = Text()
        what = (
            "billable seconds"
            if snap.terminal and snap.billable_seconds is not None
            else "instance seconds so far"
        )
        t.append(f"{what}: {secs if secs is not None else '-'}\n")
        t.append(snap.cost_line(self.now()), style="dim")
        self.query_one("#jp-cost", Static).update(t)

    def _render_metrics(self) -> None:
        t = Text()
        final = {m.name: m.value for m in self.snapshot.final_metrics} if self.snapshot else {}
        names = sorted(self.series, key=lambda n: (not n.startswith("validation"), n))[:6]
        width = max((len(n) for n in names), default=0)
        for name in names:
            vals = self.series[name]
            t.append(f"{name:<{width}} ", style="bold")
            t.append(f"{vals[-1]:<10.5g}")
            t.append(sparkline(vals), style="cyan")
            if name in final:
                t.append(" final", style="green")
            t.append("\n")
        self.query_one("#jp-metrics", Static).update(t)

    def _tick(self) -> None:
        if self.snapshot is not None and not self.snapshot.terminal:
            self._render_cost()

    # -- actions ---------------------------------------------------------------------------------
    def action_back(self) -> None:
        search = self.query_one("#jp-search", Input)
        if search.display:
            search.display = False
            self.query_one(LogPane).focus()
            return
        self.dismiss(None)

    def leave_field(self) -> None:
        self.action_back()  # the only field is the search: Esc closes it

    def action_search(self) -> None:
        search = self.query_one("#jp-search", Input)
        search.display = True
        search.focus()

    @on(Input.Submitted, "#jp-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        found = self.query_one(LogPane).search(event.value)
        if not found and event.value:
            self.notify(f"not found: {event.value}", severity="warning", markup=False)

    def action_next_match(self) -> None:
        self.query_one(LogPane).search(self.query_one("#jp-search", Input).value)

    def action_prev_match(self) -> None:
        self.query_one(LogPane).search(self.query_one("#jp-search", Input).value, backwards=True)

    def action_stop(self) -> None:
        snap = self.snapshot
        if snap is None or snap.status != "InProgress":
            self.notify("Only a job in progress can be stopped.", markup=False)
            return
        from screens.confirm_plan import ConfirmPlanScreen
        from services.plan import Action, Plan

        plan = Plan(
            f"Stop training job {snap.name}",
            (Action("sagemaker", "stop_training_job", {"TrainingJobName": snap.name},
                    f"Stop {snap.name}; what it trained so far is lost unless the algorithm saves on stop",
                    undo="none: a stopped job cannot be resumed (start a new one)", resource=snap.name),),
        )  # fmt: skip

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._stop_job()

        self.app.push_screen(ConfirmPlanScreen(plan), confirmed)

    @work(thread=True, exclusive=True, group="job-stop", exit_on_error=False)
    def _stop_job(self) -> None:
        from services.training import stop

        # Results go back as messages: call_from_thread would block if the app closed meanwhile.
        try:
            stop(self.wizard.factory, self.job_name)
        except SagewizError as err:
            self.post_message(STOP.failed(ErrorInfo.of(err)))
            return
        self.post_message(STOP.done(None))

    def action_doctor(self) -> None:
        snap = self.snapshot
        if snap is None or snap.status != "Failed":
            self.notify("The doctor is offered once the job has failed.", markup=False)
            return
        from services.denied import DeniedCall
        from services.policy.arns import session_arn

        # The doctor reads the job itself (role, channels, output, VPC); the refused request, when
        # the reason names one, also fills its fields so a later ctrl+r re-checks just that.
        explained = explain_failure(snap.failure_reason)
        denial = explained.denial if explained is not None and explained.doctor else None
        self.wizard.open_doctor(
            DeniedCall(
                error_text=snap.failure_reason,
                principal_arn=session_arn(snap.role_arn, "SageMaker") if denial else None,
                action=denial.action if denial else None,
                bucket=denial.bucket if denial else None,
                key=(denial.key or None) if denial else None,
                operation=denial.action.split(":")[1] if denial else None,
                source_step="train",
                job_name=self.job_name,
            )  # fmt: skip
        )

    def action_create_model(self) -> None:
        snap = self.snapshot
        if snap is None or snap.status != "Completed":
            self.notify("A model can be created once the job has completed.", markup=False)
            return
        from screens.confirm_plan import ConfirmPlanScreen
        from services.training import plan_create_model

        try:
            plan = plan_create_model(snap)
        except SagewizError as err:
            self.wizard.show_error(ErrorInfo.of(err))
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._create_model(plan)

        self.app.push_screen(ConfirmPlanScreen(plan), confirmed)

    @work(thread=True, exclusive=True, group="job-model", exit_on_error=False)
    def _create_model(self, plan: Any) -> None:
        from services.plan import apply_plan

        try:
            apply_plan(plan, self.wizard.factory, self.wizard.journal)
        except SagewizError as err:
            self.post_message(MODEL.failed(ErrorInfo.of(err)))
            return
        self.post_message(MODEL.done(plan.actions[0].params["ModelName"]))

    def _model_created(self, name: str) -> None:
        self.model_created = name
        self.wizard.state.model_name = name
        self.notify(f"Model {name} created.", markup=False)
        if self.snapshot is not None:
            self._render_status(self.snapshot)
