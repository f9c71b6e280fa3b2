"""Step 7, Labels: a Ground Truth image-classification job, or labeling right here in the terminal,
or importing a manifest someone already labeled; then the results, handed to the Train step.

Ground Truth is closed to new customers, so the screen says so first and keeps the terminal path
one key away.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Static

from screens.base import StepScreen
from screens.labels_work import IMAGES, JOBS, ImageList
from services.flow import marks
from services.labeling.jobs import CLOSED_NOTICE, JobSummary
from tui.messages import WorkDone, WorkFailed


class LabelsStep(StepScreen):
    STEP_ID = "labels"
    CSS_PATH = "labels.tcss"
    BINDINGS = [
        Binding("j", "job", "Ground Truth job"),
        Binding("t", "terminal", "Label here"),
        Binding("i", "import_manifest", "Import manifest"),
        Binding("r", "results", "Results"),
        Binding("w", "watch", "Watch job", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.images_error = ""
        self.labeled: int | None = None  # images the output manifest labels, once read

    def compose_body(self) -> ComposeResult:
        yield Static("Labels", classes="step-title")
        yield Static(Text(CLOSED_NOTICE), id="labels-closed", classes="warning-text")
        yield Static(id="labels-sandbox", classes="hint")
        yield Static(id="labels-summary")
        with Horizontal(id="labels-actions"):
            yield Button("Ground Truth job (j)", id="go-job", variant="primary")
            yield Button("Label here (t)", id="go-terminal")
            yield Button("Import (i)", id="go-import")
            yield Button("Results (r)", id="go-results")
        yield Static("Labeling jobs in this account and region", classes="section")
        yield DataTable(id="labels-jobs", cursor_type="row", zebra_stripes=True)
        yield Static(id="labels-jobs-note", classes="hint")

    def on_mount(self) -> None:
        table = self.query_one("#labels-jobs", DataTable)
        table.add_columns("Job", "Status", "Labeled", "Created")
        self.on_identity_ready(lambda _ident: self.refresh_data())
        self._render_summary()

    def on_screen_resume(self) -> None:
        # A save, an import or a job seen from a sub-screen may have changed the manifest: its
        # count is read again, never carried over.
        self.labeled = None
        self._render_summary()
        if self.identity is not None:
            prefix = self.state.images_prefix()
            if prefix:
                self._list_images(prefix, self.state.output_manifest)
            self._list_jobs()

    def refresh_data(self) -> None:
        if self.state.sandbox:
            self.query_one("#labels-sandbox", Static).update(
                Text(
                    "Sandbox: labeling jobs run on this machine. A simulated workforce labels the images "
                    "(it recognises the class from the pixels and is right about 92% of the time)."
                )  # fmt: skip
            )
        self._render_summary()
        prefix = self.state.images_prefix()
        if prefix:
            self._list_images(prefix, self.state.output_manifest)
        self._list_jobs()

    @work(thread=True, exclusive=True, group="labels-hub-images", exit_on_error=False)
    def _list_images(self, prefix: str, manifest: str) -> None:
        from services.labeling.jobs import labeled_images
        from services.labeling.setup import list_images

        try:
            images = list_images(self.factory, prefix)
        except Exception as exc:
            from services.errors import ErrorInfo, translate

            self.post_message(IMAGES.failed(ErrorInfo.of(translate(exc))))
            return
        labeled = None
        if manifest:
            try:
                labeled = labeled_images(self.factory, manifest)
            except Exception:
                labeled = None  # an unreadable manifest counts nothing; Results says why
        self.post_message(IMAGES.done(ImageList(prefix, images, labeled)))

    @work(thread=True, exclusive=True, group="labels-hub-jobs", exit_on_error=False)
    def _list_jobs(self) -> None:
        from services.labeling.jobs import list_jobs

        try:
            self.post_message(JOBS.done(list_jobs(self.factory)))
        except Exception as exc:
            from services.errors import ErrorInfo, translate

            self.post_message(JOBS.failed(ErrorInfo.of(translate(exc))))

    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(IMAGES.to(self._images_listed), JOBS.to(self._jobs_listed))

    def on_work_failed(self, message: WorkFailed) -> None:
        message.route(IMAGES.on_failure(self._images_failed), JOBS.on_failure(self._jobs_failed))

    def _images_listed(self, listed: ImageList) -> None:
        self.images = listed.images
        self.images_error = ""
        self.labeled = listed.labeled
        self._render_summary()
        if listed.labeled is not None:
            # The labels Train will read, against every image under the prefix.
            self.mark(marks.labels(None, labeled=listed.labeled, total=len(listed.images)))

    def _jobs_listed(self, jobs: list[JobSummary]) -> None:
        table = self.query_one("#labels-jobs", DataTable)
        table.clear()
        for job in jobs:
            created = job.created.strftime("%Y-%m-%d %H:%M") if job.created else ""
            table.add_row(
                Text(job.name), Text(job.status), f"{job.labeled}/{job.total}", created, key=job.name
            )
        note = "Enter on a job opens its live panel." if jobs else "No labeling jobs yet."
        self.query_one("#labels-jobs-note", Static).update(note)

    def _images_failed(self, failed: WorkFailed) -> None:
        err = failed.error
        self.images = []
        self.images_error = f"{err.title}: {err.message}"
        self._render_summary()

    def _jobs_failed(self, failed: WorkFailed) -> None:
        err = failed.error
        self.query_one("#labels-jobs-note", Static).update(
            Text(f"Could not list labeling jobs: {err.title}. {err.message}", style="yellow")
        )

    def _render_summary(self) -> None:
        st = self.state
        prefix = st.images_prefix()
        t = Table(box=None, show_header=False, padding=(0, 1))
        t.add_column(style="dim", no_wrap=True)
        t.add_column()
        if self.images:
            images = Text(f"{prefix}  ({len(self.images)} images)")
        elif self.images_error:
            images = Text.assemble(prefix + "  ", (self.images_error, "yellow"))
        else:
            images = Text(prefix or "(connect first)")
        t.add_row("Images", images)
        t.add_row("Labels", Text(", ".join(st.labels)))
        t.add_row(
            "Labeling job", Text(f"{st.labeling_job}  (w: live panel)" if st.labeling_job else "(none yet)")
        )
        manifest = Text(st.output_manifest or "(none yet: create a job, label here, or import)")
        if st.output_manifest and self.labeled is not None and self.images:
            whole = self.labeled >= len(self.images)
            manifest.append(
                f"  ({self.labeled} of {len(self.images)} images labeled)",
                style="green" if whole else "yellow",
            )
        t.add_row("Output manifest", manifest)
        self.query_one("#labels-summary", Static).update(t)

    # -- actions ---------------------------------------------------------------------------
    def action_job(self) -> None:
        from screens.labels_builder import LabelsBuilderScreen

        self.app.push_screen(LabelsBuilderScreen(images=list(self.images)))

    def action_terminal(self) -> None:
        from screens.labels_terminal import TerminalLabelScreen

        self.app.push_screen(TerminalLabelScreen(self.state.images_prefix(), tuple(self.state.labels)))

    def action_import_manifest(self) -> None:
        from screens.labels_import import ImportManifestScreen

        self.app.push_screen(ImportManifestScreen())

    def action_results(self) -> None:
        if not self.state.output_manifest:
            self.notify(
                "No output manifest yet: create a job, label here (t) or import one (i).", markup=False
            )
            return
        from screens.labels_results import ResultsScreen

        self.app.push_screen(ResultsScreen(self.state.output_manifest))

    def action_watch(self, name: str | None = None) -> None:
        name = name or self.state.labeling_job
        if not name:
            self.notify("No labeling job to watch yet.", markup=False)
            return
        from screens.labels_live import LiveJobScreen

        self.app.push_screen(LiveJobScreen(name))

    @on(Button.Pressed, "#go-job")
    def _b_job(self) -> None:
        self.action_job()

    @on(Button.Pressed, "#go-terminal")
    def _b_terminal(self) -> None:
        self.action_terminal()

    @on(Button.Pressed, "#go-import")
    def _b_import(self) -> None:
        self.action_import_manifest()

    @on(Button.Pressed, "#go-results")
    def _b_results(self) -> None:
        self.action_results()

    @on(DataTable.RowSelected, "#labels-jobs")
    def _job_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.action_watch(str(event.row_key.value))
