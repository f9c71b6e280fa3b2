"""The live panel of a labeling job: status, counters as a progress bar, elapsed time, cost so far."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, ProgressBar, Static
from textual.worker import get_current_worker

from screens.confirm_plan import ConfirmPlanScreen
from screens.labels_sub import LabelsSubScreen
from screens.labels_work import POLL, STOP
from services.durations import clock
from services.flow import marks
from services.journal_events import Change, ChoiceMade, ResourceChanged
from services.labeling import rules
from services.plan import Action, Plan
from services.remedy import Face
from services.resource_kinds import ResourceKind
from services.terminal_text import safe
from tui.messages import WorkDone, WorkFailed

if TYPE_CHECKING:
    from services.labeling.jobs import JobStatus

STATUS_STYLE = {"Completed": "bold green", "Failed": "bold red", "Stopped": "bold yellow", "Stopping": "yellow",
                "InProgress": "bold cyan", "Initializing": "cyan"}  # fmt: skip


class LiveJobScreen(LabelsSubScreen):
    BINDINGS = [
        *LabelsSubScreen.BINDINGS,
        Binding("s", "stop", "Stop job"),
        Binding("r", "results", "Results"),
        Binding("t", "terminal", "Label here instead"),
    ]

    def __init__(
        self, job_name: str, *, clock: Callable[[], datetime] | None = None, interval: float | None = None
    ) -> None:
        super().__init__()
        self.job_name = job_name
        self.clock = clock
        self.interval = interval
        self.status: JobStatus | None = None
        self._handed_over = False

    def compose_body(self) -> ComposeResult:
        yield Static(Text(f"Labels · labeling job {self.job_name}"), classes="step-title")
        yield Static(id="live-status")
        yield ProgressBar(id="live-progress", show_eta=False)
        yield Static(id="live-stack")
        yield Static(id="live-counters")
        yield Static(id="live-failure", classes="error-text")
        with Horizontal(classes="row buttons-row"):
            yield Button("Results (r)", id="live-results", variant="primary", disabled=True)
            yield Button("Stop the job (s)", id="live-stop", variant="error")

    def on_mount(self) -> None:
        self.query_one("#live-status", Static).update(Text("Reading the job..."))
        self.on_identity_ready(lambda _i: self._poll())

    @work(thread=True, exclusive=True, group="labels-live-poll", exit_on_error=False)
    def _poll(self) -> None:
        from services.labeling.jobs import describe_job

        worker = get_current_worker()
        interval = self.interval or (0.5 if self.state.sandbox else 5.0)
        while not worker.is_cancelled:
            try:
                status = describe_job(self.factory, self.job_name)
            except Exception as exc:
                self.fail(exc, POLL)
                return
            self.post_message(POLL.done(status))
            if status.finished:
                return
            if worker.cancelled_event.wait(interval):
                return

    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(POLL.to(self._polled))

    def _polled(self, st: JobStatus) -> None:
        self.status = st
        now = self.clock() if self.clock else None
        head = Table(box=None, show_header=False, padding=(0, 1))
        head.add_column(style="dim", no_wrap=True)
        head.add_column()
        head.add_row("Status", Text(st.status, style=STATUS_STYLE.get(st.status, "")))
        head.add_row("Elapsed", Text(clock(st.elapsed_seconds(now))))
        if st.price_mills:
            head.add_row("Cost so far", Text(
                f"${st.cost_so_far:.2f} paid to workers ({st.human} images x {st.workers_per_object} workers x "
                f"{rules.price_label(st.price_mills)}; the Ground Truth per-object fee is extra)"))  # fmt: skip
        else:
            head.add_row(
                "Cost so far",
                Text("no per-task price (private team); the Ground Truth per-object fee applies"),
            )
        head.add_row("Output", Text(st.output_manifest))
        self.query_one("#live-status", Static).update(head)
        bar = self.query_one("#live-progress", ProgressBar)
        bar.update(total=max(st.total, 1), progress=st.labeled + st.failed)
        counters = Text.assemble(
            ("Labeled ", "dim"), (str(st.labeled), "bold green"), ("   Unlabeled ", "dim"), (str(st.unlabeled), "bold"),
            ("   Failed ", "dim"), (str(st.failed), "bold red" if st.failed else "bold"),
            ("   Human ", "dim"), str(st.human), ("   Machine ", "dim"), str(st.machine),
            ("   Total ", "dim"), str(st.total),
        )  # fmt: skip
        self.query_one("#live-counters", Static).update(counters)
        self.query_one("#live-stack", Static).update(stacked_bar(st.labeled, st.failed, st.unlabeled))
        self.query_one("#live-failure", Static).update(Text(safe(st.failure_reason)))
        self.query_one("#live-stop", Button).disabled = st.finished or st.status == "Stopping"
        has_output = st.finished and st.status != "Failed" or (st.status == "Failed" and st.labeled > 0)
        self.query_one("#live-results", Button).disabled = not has_output
        if st.finished and not self._handed_over:
            self._handed_over = True
            if has_output:
                self.state.update(output_manifest=st.output_manifest, labeling_job=st.name)
                self.state.extra["label_attribute"] = st.label_attribute
                self.journal.append(ChoiceMade(dict(output_manifest=st.output_manifest, extra={"label_attribute": st.label_attribute},
                                    labeling_job=st.name, source="labeling-job")))  # fmt: skip
            self.mark(marks.labels(st.status, labeled=st.labeled, total=st.total))

    def on_work_failed(self, message: WorkFailed) -> None:
        err = message.error
        self.query_one("#live-status", Static).update(
            Text.assemble(
                ("Could not read the job: ", "bold red"),
                f"{err.title}. {err.message}",
                "\n",
                (err.advice(Face.TUI), "dim"),
            )
        )

    @on(Button.Pressed, "#live-stop")
    def action_stop(self) -> None:
        if self.status is None or self.status.finished:
            return
        plan = Plan("Stop the labeling job", (Action(
            service="sagemaker", operation="stop_labeling_job", params={"LabelingJobName": self.job_name},
            description=f"Stop {self.job_name}: objects labeled so far are kept in the output manifest",
            undo="none: a stopped labeling job cannot be restarted (create a new one)",
            resource=self.job_name,
            journal=ResourceChanged(ResourceKind.LABELING_JOB, self.job_name, change=Change.STOPPED)),))  # fmt: skip

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._stop(plan)

        self.app.push_screen(ConfirmPlanScreen(plan), confirmed)

    @work(thread=True, exclusive=True, group="labels-live-stop", exit_on_error=False)
    def _stop(self, plan: Plan) -> None:
        from services.plan import apply_plan

        try:
            apply_plan(plan, self.factory, self.journal)
        except Exception as exc:
            self.fail(exc, STOP)
            return
        self.app.call_from_thread(self._poll)

    def action_terminal(self) -> None:
        from screens.labels_terminal import TerminalLabelScreen

        self.app.switch_screen(TerminalLabelScreen(self.state.images_prefix(), tuple(self.state.labels)))

    @on(Button.Pressed, "#live-results")
    def action_results(self) -> None:
        st = self.status
        if st is None or self.query_one("#live-results", Button).disabled:
            return
        from screens.labels_results import ResultsScreen

        self.app.push_screen(ResultsScreen(st.output_manifest, categories_uri=st.categories_uri))


def stacked_bar(labeled: int, failed: int, unlabeled: int, width: int = 60) -> Text:
    """One bar, three colours: labeled (green), failed (red), still unlabeled (dim)."""
    total = labeled + failed + unlabeled
    if total <= 0:
        return Text("")
    cells = [round(width * labeled / total), round(width * failed / total)]
    if failed and not cells[1]:
        cells[1] = 1  # a failure is never invisible
    cells.append(max(0, width - cells[0] - cells[1]))
    return Text.assemble(("█" * cells[0], "green"), ("█" * cells[1], "red"), ("░" * cells[2], "dim"),
                         ("  labeled / failed / unlabeled", "dim"))  # fmt: skip
