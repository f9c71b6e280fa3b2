"""Step 4, Data: copy the sample images (or any s3:// prefix, or a local folder) into the bucket.

Inputs are validated as typed (no AWS call). The copy runs in a thread worker: destination checked
(exists, same region), both sides listed, unchanged files skipped, the rest copied in parallel with a
progress bar; leaving the screen or pressing x cancels cleanly. At the end the three locations the
later steps use are shown, as the seed's notebook printed them.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, ProgressBar, Static

from screens.base import StepScreen
from services.errors import ErrorInfo, SagewizError, ValidationError, translate
from services.flow import marks
from services.flow.outcome import Verdict
from services.journal_events import ChoiceMade, ResourceCreated
from services.remedy import Face
from services.resource_kinds import ResourceKind
from services.state import OUTPUT_PREFIX, default_data_prefix
from services.terminal_text import safe
from tui.messages import Work, WorkDone, WorkFailed

if TYPE_CHECKING:
    # Imported when the copy starts, not with the screen.
    from services.sync.plan import SyncPlan
    from services.sync.progress import SyncProgress, SyncResult


# -- the work this screen hands to workers: one copy plans, reports progress, then finishes ---------
PLANNED: Work[SyncPlan] = Work("data: plan the copy")
PROGRESSED: Work[SyncProgress] = Work("data: copy progress")
COPY: Work[SyncResult] = Work("data: copy")


class DataStep(StepScreen):
    STEP_ID = "data"
    CSS_PATH = "data.tcss"
    FOCUS_HOME = "#step-body"  # the step's keys (c, x, d) act at once; Tab reaches the fields
    BINDINGS = [
        Binding("c", "copy", "Copy"),
        Binding("x", "cancel_copy", "Cancel copy"),
        Binding("d", "doctor", "Doctor", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.running = False
        self.cancel_event: threading.Event | None = None
        self.planned: SyncPlan | None = None  # the last copy's plan (services.flow.data)
        self.denied: Any = None

    def compose_body(self) -> ComposeResult:
        yield Static("Data", classes="step-title")
        yield Static(
            "Copy the images the labeling and training steps use into your bucket. The source is an "
            "s3:// prefix (server-side copy: nothing passes through this machine) or a local folder "
            "(parallel, multipart for large files). Files already there and unchanged are skipped, so "
            "running it again after an interruption copies only what is missing.",
            classes="hint",
            id="data-intro",
        )
        with Horizontal(classes="row"):
            yield Label("Source", classes="field-label")
            yield Input(id="source", placeholder="s3://bucket/prefix/ or /path/to/folder")
        with Horizontal(classes="row"):
            yield Label("Destination", classes="field-label")
            yield Input(id="dest", placeholder="s3://bucket/ground-truth-demo/images/")
        yield Static(id="data-error", classes="field-error")
        with Horizontal(classes="row buttons-row"):
            yield Button("Copy (c)", id="copy", variant="primary")
            yield Button("Cancel copy (x)", id="cancel-copy", variant="warning")
            yield Button("Open the doctor (d)", id="doctor", variant="error")
        yield Static(id="data-plan")
        yield ProgressBar(id="data-progress", show_eta=False, show_percentage=True)
        yield Static(id="data-progress-text")
        yield Static(id="data-result")

    def on_mount(self) -> None:
        self.query_one("#data-progress").display = False
        self._buttons()
        self.on_identity_ready(self._ready)

    def on_unmount(self) -> None:
        if self.cancel_event is not None:
            self.cancel_event.set()

    def _ready(self, identity: Any) -> None:
        source = self.query_one("#source", Input)
        dest = self.query_one("#dest", Input)
        if not (source.value and dest.value):
            from services.flow import data as flow_data

            chosen = flow_data.choices_from_state(self.state)
            source.value = source.value or chosen.source or flow_data.default_source(self.flow_context)
            dest.value = dest.value or chosen.prefix or default_data_prefix(self.state.default_bucket)
        if self.state.data_prefix:
            self.query_one("#data-plan", Static).update(
                Text(
                    f"Already copied this session to {self.state.data_prefix}; copying again only adds what changed."
                )
            )

    # -- validation, before any call ------------------------------------------------------------
    def _inputs(self) -> tuple[Any, Any] | None:
        from services.sync.locations import parse_destination, parse_source

        error = self.query_one("#data-error", Static)
        src_in, dst_in = self.query_one("#source", Input), self.query_one("#dest", Input)
        src_in.set_class(False, "-invalid")
        dst_in.set_class(False, "-invalid")
        try:
            source = parse_source(src_in.value)
        except ValidationError as exc:
            src_in.set_class(True, "-invalid")
            error.update(
                Text(
                    f"Source: {exc.message}"
                    + (f"\nHow to fix: {hint}" if (hint := exc.advice(Face.TUI)) else "")
                )
            )
            return None
        try:
            dest = parse_destination(dst_in.value)
        except ValidationError as exc:
            dst_in.set_class(True, "-invalid")
            error.update(
                Text(
                    f"Destination: {exc.message}"
                    + (f"\nHow to fix: {hint}" if (hint := exc.advice(Face.TUI)) else "")
                )
            )
            return None
        error.update("")
        return source, dest

    @on(Input.Changed)
    def _edited(self) -> None:
        self.query_one("#data-error", Static).update("")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_copy()

    # -- copying -------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy":
            return not self.running
        if action == "cancel_copy":
            return self.running
        if action == "doctor":
            return self.denied is not None
        return True

    def action_copy(self) -> None:
        if self.running or self.factory is None or self.identity is None:
            return
        parsed = self._inputs()
        if parsed is None:
            return
        source, dest = parsed
        self.running = True
        self.denied = None
        self.cancel_event = threading.Event()
        self.query_one("#data-result", Static).update("")
        self.query_one("#data-plan", Static).update(Text(f"Checking {dest.uri} and listing both sides…"))
        bar = self.query_one("#data-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self.query_one("#data-progress-text", Static).update("")
        self._buttons()
        self.park()  # x (cancel) works while it copies; a dialog closing brings the field back
        self._copy_worker(source, dest, self.cancel_event)

    def _progressed(self, progress: SyncProgress) -> None:
        self.post_message(PROGRESSED.done(progress))

    @work(thread=True, exclusive=True, group="data-sync", exit_on_error=False, description="copy the data")
    def _copy_worker(self, source: Any, dest: Any, cancel: threading.Event) -> None:
        from services.flow import data as flow_data
        from services.sync.engine import run_sync

        ident = self.identity
        account = ident.account if ident else None
        principal = ident.arn if ident else None
        try:
            planned = flow_data.plan_locations(self.flow_context, source, dest)
            if planned.verdict is not Verdict.UNCHANGED:
                planned.raise_problem()  # e.g. the bucket does not exist, or is another account's
            plan, cache = planned.sync, planned.cache
            assert plan is not None
        except SagewizError as exc:
            denied = exc.details.get("denied")
            if denied is not None and principal and not denied.principal_arn:
                from dataclasses import replace

                denied = replace(denied, principal_arn=principal)
            self.post_message(COPY.failed(ErrorInfo.of(exc), denied=denied))
            return
        except Exception as exc:
            self.post_message(COPY.failed(ErrorInfo.of(translate(exc, "data sync"))))
            return
        self.post_message(PLANNED.done(plan))
        try:
            result = run_sync(
                self.factory,
                plan,
                on_progress=self._progressed,
                cancel=cancel,
                account=account,
                principal_arn=principal,
                cache=cache,
            )
        except Exception as exc:
            self.post_message(COPY.failed(ErrorInfo.of(translate(exc, "data sync"))))
            return
        self.post_message(COPY.done(result))

    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(PLANNED.to(self._planned), PROGRESSED.to(self._show_progress), COPY.to(self._finished))

    def on_work_failed(self, message: WorkFailed) -> None:
        message.route(COPY.on_failure(self._failed))

    def _planned(self, plan: SyncPlan) -> None:
        from services.sync import human_bytes

        self.planned = plan
        how = "server-side copy" if not plan.source.is_local else "upload"
        self.query_one("#data-plan", Static).update(
            Text(
                f"{len(plan.to_copy)} file(s) to copy ({human_bytes(plan.bytes_to_copy)}, {how}); "
                f"{len(plan.skipped)} already there and unchanged"
                + (f"; {len(plan.problems)} cannot be copied" if plan.problems else "")
            )
        )
        bar = self.query_one("#data-progress", ProgressBar)
        bar.update(total=max(plan.bytes_to_copy, 1), progress=0 if plan.to_copy else 1)

    def _show_progress(self, p: SyncProgress) -> None:
        from services.durations import clock
        from services.sync import human_bytes

        self.query_one("#data-progress", ProgressBar).update(
            total=max(p.bytes_total, 1), progress=p.bytes_done
        )
        text = (
            f"{p.files_done}/{p.files_total} files · {human_bytes(p.bytes_done)} of {human_bytes(p.bytes_total)}"
            f" · {human_bytes(p.rate)}/s · {clock(p.eta)} left"
        )
        if p.failed:
            text += f" · {p.failed} failed"
        self.query_one("#data-progress-text", Static).update(Text(text))

    def _failed(self, failed: WorkFailed) -> None:
        self.running = False
        self.query_one("#data-progress").display = False
        self.query_one("#data-plan", Static).update(
            Text.assemble((safe(failed.error.title), "bold red"), "\n", safe(failed.error.message))
        )
        self.denied = failed.denied
        self._buttons()
        self.mark(marks.data(copied_all=False, failed=True))
        if failed.denied is not None:
            self._show_denied(failed.denied)
        else:
            self.wizard.show_error(failed.error)

    def _finished(self, result: SyncResult) -> None:
        from services.sync import human_bytes
        from services.sync.formatting import shown_name

        self.running = False
        self.cancel_event = None
        total = result.plan.bytes_to_copy
        bar = self.query_one("#data-progress", ProgressBar)
        bar.update(total=max(total, 1), progress=result.bytes_copied if total else 1)
        self.query_one("#data-progress-text", Static).update(
            Text(
                f"{result.copied}/{len(result.plan.to_copy)} files · {human_bytes(result.bytes_copied)} of "
                f"{human_bytes(total)} · " + ("cancelled" if result.cancelled else "finished")
            )
        )
        lines = Text()
        if result.cancelled:
            lines.append("Stopped. ", style="bold yellow")
            left = len(result.not_copied) + len(result.in_flight)
            lines.append(
                f"{result.copied} file(s) were copied whole, {left} not copied; nothing partial is left."
                " Press c to copy the rest."
            )
        else:
            lines.append(
                f"Copied {result.copied} file(s) ({human_bytes(result.bytes_copied)}), skipped {result.skipped} unchanged.",
                style="bold green" if result.ok else "bold",
            )
        if result.aborted_uploads:
            lines.append(
                f"\nAborted {result.aborted_uploads} multipart upload(s) left open by an earlier run,"
                f" reclaiming {human_bytes(result.reclaimed_bytes)}."
            )
        for failure in list(result.plan.problems) + list(result.failed[:10]):
            lines.append(f"\nfailed {shown_name(failure.rel)}: {failure.reason}", style="red")
        if len(result.failed) > 10:
            lines.append(f"\n… and {len(result.failed) - 10} more failed", style="red")
        self.query_one("#data-plan", Static).update(lines)
        self.denied = result.denied
        self._buttons()
        if result.denied is not None:
            self.mark(marks.data(copied_all=False, failed=True))
            self._show_denied(result.denied)
            return
        if result.ok:
            self._done(result)

    def _show_denied(self, denied: Any) -> None:
        who = denied.principal_arn or "your caller"
        resource = f"arn:aws:s3:::{denied.bucket}" + (f"/{denied.key}" if denied.key else "")
        body = Text.assemble(
            ("Access denied", "bold red"),
            "\nPrincipal: ",
            (who, "bold"),
            "\nAction:    ",
            (denied.action or "?", "bold"),
            "\nResource:  ",
            (resource, "bold"),
            "\nAWS said:  ",
            denied.error_text or "Access Denied",
            "\nPress d to open the permissions doctor with these filled in.",
        )
        self.query_one("#data-result", Static).update(body)

    def _done(self, result: Any) -> None:
        from services.s3uri import S3Uri, console_url

        dest = result.plan.dest
        output = S3Uri(dest.bucket, OUTPUT_PREFIX)
        region = self.identity.region if self.identity else ""
        changed = self.state.update(bucket=dest.bucket, data_prefix=dest.uri)
        self.state.extra["labels_output"] = output.uri
        if result.copied:
            try:  # what the copy wrote, so Clean up can list the prefix with its size and delete it
                self.journal.append(ResourceCreated(ResourceKind.PREFIX, dest.uri,
                                                    attributes={"files": result.copied, "bytes": result.bytes_copied}))  # fmt: skip
            except OSError as exc:
                self.notify(f"The journal could not be written: {exc}", severity="warning", markup=False)
        if changed or not result.skipped:
            try:
                self.journal.append(ChoiceMade(dict(
                    step="data", bucket=dest.bucket, data_prefix=dest.uri, source=result.plan.source.text,
                    labels_output=output.uri,
                )))  # fmt: skip
            except OSError as exc:
                self.notify(f"The journal could not be written: {exc}", severity="warning", markup=False)
        table = Table(
            box=None,
            show_header=False,
            title=Text("The locations the next steps use", style="bold"),
            title_justify="left",
        )
        table.add_column(style="dim", no_wrap=True)
        table.add_column(overflow="fold")
        table.add_row("Input images", Text(dest.uri))
        table.add_row("Labeled data output", Text(output.uri))
        table.add_row("Console", Text(console_url(dest, region)))
        if self.wizard.sandbox:
            table.add_row(
                "", Text("(sandbox: the console link shows where this would be in real AWS)", style="yellow")
            )
        self.query_one("#data-result", Static).update(table)
        self.mark(marks.data(copied_all=True, failed=False))

    def _buttons(self) -> None:
        self.query_one("#copy", Button).display = not self.running
        self.query_one("#cancel-copy", Button).display = self.running
        self.query_one("#doctor", Button).display = self.denied is not None
        self.refresh_bindings()

    def working(self) -> bool:
        return self.running

    def action_cancel_copy(self) -> None:
        if self.cancel_event is not None:
            self.cancel_event.set()
            self.query_one("#data-progress-text", Static).update(
                Text("Cancelling: letting the files in flight finish…")
            )

    def action_doctor(self) -> None:
        if self.denied is not None:
            self.wizard.open_doctor(self.denied)

    @on(Button.Pressed, "#copy")
    def _copy_pressed(self) -> None:
        self.action_copy()

    @on(Button.Pressed, "#cancel-copy")
    def _cancel_pressed(self) -> None:
        self.action_cancel_copy()

    @on(Button.Pressed, "#doctor")
    def _doctor_pressed(self) -> None:
        self.action_doctor()
