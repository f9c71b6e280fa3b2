"""The permissions doctor: paste an "access forbidden" error (or fill the fields, or arrive from a
failed call on another screen) and learn which policy or setting denies it, with the evidence, the
smallest safe fix (applied after confirmation, with a backup and undo), a live re-check and a
redacted report to send to an administrator.

Every AWS call runs in a thread worker; results arrive as messages. AWS text is never markup.
How a diagnosis is drawn, and the report for an administrator, live in screens/doctor_report.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Collapsible, Input, Label, LoadingIndicator, Static, TextArea

from screens.base import StepScreen
from screens.doctor_report import VERDICT_STYLE, AdminReportScreen, render_diagnosis
from services.errors import ErrorInfo, SagewizError, translate
from services.flow import marks
from services.remedy import Face
from services.terminal_text import safe
from tui.focus import CONTENT
from tui.messages import Work, WorkDone, WorkFailed

if TYPE_CHECKING:
    from services.doctor.job import JobDiagnosis
    from services.doctor.model import Diagnosis
    from services.flow.doctor import DoctorPlan, FixOutcome


@dataclass(frozen=True)
class DoctorKept:
    """What the doctor keeps when the person leaves it: pasted text, fields and the last results."""

    error_text: str
    fields: tuple[tuple[str, str], ...]
    diagnosis: Diagnosis | None
    before_after: Group | None


FIELDS = ("principal", "bucket", "key", "action")


# -- the work this screen hands to workers -------------------------------------------------------------
DIAGNOSE: Work[Diagnosis] = Work("doctor: diagnose")
DIAGNOSE_JOB: Work[JobDiagnosis] = Work("doctor: diagnose a failed job")
FIX: Work[FixOutcome] = Work("doctor: fix and re-check")
UNDO: Work[str] = Work("doctor: undo the last fix")  # what was restored, said to the person


class DoctorStep(StepScreen):
    STEP_ID = "doctor"
    CSS_PATH = "doctor.tcss"
    BINDINGS = [
        Binding("ctrl+r", "diagnose", "Diagnose"),
        Binding("f", "fix", "Fix"),
        Binding("a", "admin", "Send to admin"),
        Binding("u", "undo", "Undo last fix"),
        Binding("t", "trace", "Trace", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.diagnosis: Any = None
        self.busy = False
        self._pending: Any = None
        self._before_after: Group | None = None
        self._job: str | None = None  # a failed job handed over: diagnosed by reading the job

    def compose_body(self) -> ComposeResult:
        yield Static("Permissions doctor", classes="step-title")
        yield Static(
            'Paste an AccessDenied / "access is forbidden" error, or name the principal, bucket and action. '
            "The doctor reads the policies and settings involved (read-only), says which one denies the request "
            "and why, and proposes the smallest safe fix. Block Public Access is never blamed for a same-account "
            "request, and a Deny is never deleted or switched off.",
            classes="hint",
            id="doctor-intro",
        )
        yield Static("", id="doctor-sandbox", classes="hint")
        yield TextArea("", id="error-text", soft_wrap=True, show_line_numbers=False)
        with Horizontal(classes="row"):
            yield Label("Principal", classes="field-label")
            yield Input(id="principal", placeholder="role, user or assumed-role ARN")
        with Horizontal(classes="row"):
            yield Label("Bucket", classes="field-label")
            yield Input(id="bucket", placeholder="bucket name")
        # Key and action on a row of their own: beside the bucket, at 100 columns, each field
        # showed eight characters of a bucket name.
        with Horizontal(classes="row"):
            yield Label("Key", classes="field-label")
            yield Input(id="key", placeholder="object key (optional)")
            yield Label("Action", classes="field-label short")
            yield Input(id="action", placeholder="e.g. s3:PutObject")
        yield Static("", id="doctor-error", classes="field-error")
        with Horizontal(classes="row buttons-row"):
            yield Button("Diagnose (ctrl+r)", id="diagnose", variant="primary")
            yield Button("Fix (f)", id="fix", variant="success")
            yield Button("Send to admin (a)", id="admin")
            yield Button("Undo last fix (u)", id="undo")
        yield LoadingIndicator(id="doctor-loading")
        with Vertical(id="doctor-results"):
            yield Static("", id="doctor-job")
            yield Static("", id="doctor-before-after")
            yield Static("", id="doctor-verdict")
            with Collapsible(title="Statement trace (t)", id="doctor-trace-box", collapsed=True):
                yield Static("", id="doctor-trace")

    def focus_home(self) -> str:
        # An empty doctor is opened to paste an error: the paste (and typing) goes straight into the
        # box. With text in it or a result (kept from a visit, or a call or job handed over by a
        # failed step) the person comes to read the results or press ctrl+r, f or a step digit:
        # focus rests on the content, so those keys act instead of being typed into the box.
        handed = self._pending is not None or self.diagnosis is not None
        if handed or self.query_one("#error-text", TextArea).text.strip():
            return CONTENT
        return "#error-text"

    # -- lifecycle ------------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.query_one("#doctor-loading").display = False
        self.query_one("#doctor-results").display = False
        self.query_one("#doctor-job").display = False  # only for a job handed over
        pending = self.wizard.take_pending_doctor()
        if pending is not None:
            self._pending = pending
            self._job = getattr(pending, "job_name", None)
            self.query_one("#error-text", TextArea).text = getattr(pending, "error_text", "") or ""
            for field, attr in (
                ("principal", "principal_arn"),
                ("bucket", "bucket"),
                ("key", "key"),
                ("action", "action"),
            ):
                value = getattr(pending, attr, None)
                if value:
                    self.query_one(f"#{field}", Input).value = value
        elif isinstance(kept := self.wizard.kept.get(self.STEP_ID), DoctorKept):
            self._restore(kept)
        self._buttons()
        self.on_identity_ready(self._ready)

    @on(TextArea.Changed)
    @on(Input.Changed)
    def _keep(self) -> None:
        # Kept as it changes: by the time the screen unmounts its fields are gone.
        self.wizard.kept[self.STEP_ID] = DoctorKept(
            self.query_one("#error-text", TextArea).text,
            tuple((f, self.query_one(f"#{f}", Input).value) for f in FIELDS),
            self.diagnosis,
            self._before_after,
        )

    def _restore(self, kept: DoctorKept) -> None:
        self.query_one("#error-text", TextArea).text = kept.error_text
        for field, value in kept.fields:
            self.query_one(f"#{field}", Input).value = value
        if kept.diagnosis is not None:
            self._show(kept.diagnosis)
        if kept.before_after is not None:
            self._before_after = kept.before_after
            self.query_one("#doctor-before-after", Static).update(kept.before_after)
        self._keep()

    def _ready(self, identity: Any) -> None:
        if identity.sandbox:
            self.query_one("#doctor-sandbox", Static).update(
                Text(
                    "SANDBOX: the embedded AWS emulator. Its seeded role SageMaker-tt cannot write the bucket; "
                    "paste the error you got, or press ctrl+r to diagnose the role's upload."
                )  # fmt: skip
            )
        principal, bucket = self._defaults()
        if principal:
            self.query_one("#principal", Input).placeholder = f"{principal} (default)"
        if bucket:
            self.query_one("#bucket", Input).placeholder = f"{bucket} (default)"
        if self._pending is not None:
            self._pending = None
            self.action_diagnose()

    def _defaults(self) -> tuple[str | None, str | None]:
        world = self.wizard.world
        principal = self.state.role_arn or (getattr(world, "role_arn", None) if world is not None else None)
        bucket = self.state.bucket or (getattr(world, "default_bucket", None) if world is not None else None)
        return principal, bucket

    def _request(self) -> Any:
        from services.doctor.model import DoctorRequest

        def val(field: str) -> str | None:
            v = self.query_one(f"#{field}", Input).value.strip()
            return v or None

        principal, bucket = self._defaults()
        action = val("action")
        req = DoctorRequest(
            error_text=self.query_one("#error-text", TextArea).text,
            principal=val("principal"),
            bucket=val("bucket"),
            key=val("key"),
            action=action,
            default_principal=principal,
            default_bucket=bucket,
            source_step=getattr(self._pending, "source_step", None),
            notebook_name=self.state.notebook_name or None,
        )
        if (
            not req.error_text.strip()
            and not req.action
            and self.identity is not None
            and self.identity.sandbox
        ):
            # The sandbox's story: the role's upload into the bucket.
            req = req.with_(action="s3:PutObject", key=req.key or "ground-truth-demo/images/upload-test.jpg")
        return req

    # -- actions ----------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("fix",):
            return self._fix_available() is not None and not self.busy
        if action in ("admin", "trace"):
            return self.diagnosis is not None
        if action in ("diagnose", "undo"):
            return not self.busy
        return True

    def _fix_available(self) -> Any:
        from services.flow.doctor import recommended_fix

        return recommended_fix(self.diagnosis) if self.diagnosis is not None else None

    def _buttons(self) -> None:
        self.query_one("#fix", Button).disabled = self._fix_available() is None or self.busy
        self.query_one("#admin", Button).disabled = self.diagnosis is None
        self.query_one("#diagnose", Button).disabled = self.busy
        self.query_one("#undo", Button).disabled = self.busy
        self.refresh_bindings()

    def _set_busy(self, busy: bool, what: str = "") -> None:
        self.busy = busy
        self.query_one("#doctor-loading").display = busy
        if what:
            self.query_one("#doctor-error", Static).update(Text(what, style="dim"))
        self._buttons()

    @on(Button.Pressed, "#diagnose")
    def action_diagnose(self) -> None:
        if self.busy:
            return
        if self.factory is None or self.identity is None:
            self.query_one("#doctor-error", Static).update(
                Text("Not connected yet: wait for the connection (or press 1 for Connect).")
            )
            return
        if self._job is not None:
            name, self._job = self._job, None  # once: a later ctrl+r re-checks the fields
            self._set_busy(True, f"Reading the job {name} and diagnosing its failure (read-only)…")
            self._diagnose_job_worker(name)
            return
        from services.doctor.engine import precheck

        req = self._request()
        early = precheck(req, principal_from_caller=True)
        if early is not None and early.verdict == "unknown":
            # Bad input: said before any AWS call.
            self._show(early)
            self.query_one("#doctor-error", Static).update(
                Text(early.needs[0].render(Face.TUI) if early.needs else early.headline)
            )
            return
        self.query_one("#doctor-error", Static).update("")
        self._set_busy(True, "Reading the policies and settings involved (read-only)…")
        self._diagnose_worker(req)

    @work(thread=True, exclusive=True, group="doctor", exit_on_error=False, description="diagnose")
    def _diagnose_worker(self, req: Any) -> None:
        from services.flow import doctor

        try:
            d = doctor.inspect(self.flow_context, self.state, doctor.DoctorChoices(req))
        except Exception as exc:  # diagnose never raises; this guards the worker anyway
            err = exc if isinstance(exc, SagewizError) else translate(exc, "diagnose")
            self.post_message(DIAGNOSE.failed(ErrorInfo.of(err)))
            return
        self.post_message(DIAGNOSE.done(d))

    @work(thread=True, exclusive=True, group="doctor", exit_on_error=False, description="diagnose a job")
    def _diagnose_job_worker(self, name: str) -> None:
        from services.flow import doctor

        try:
            jd = doctor.inspect_job(self.flow_context, name)
        except Exception as exc:  # no such job, or a name two kinds hold: said in the error modal
            err = exc if isinstance(exc, SagewizError) else translate(exc, "diagnose the job")
            self.post_message(DIAGNOSE_JOB.failed(ErrorInfo.of(err)))
            return
        self.post_message(DIAGNOSE_JOB.done(jd))

    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(
            DIAGNOSE.to(self._diagnosed),
            DIAGNOSE_JOB.to(self._job_diagnosed),
            FIX.to(self._fix_done),
            UNDO.to(self._undo_done),
        )

    def _job_diagnosed(self, jd: JobDiagnosis) -> None:
        lines = [Text("The job, as SageMaker describes it", style="bold")]
        lines += [Text(f"  {safe(line, 4000)}") for line in jd.facts.lines()]  # AWS's text, escaped
        if jd.explanation is not None:
            lines.append(Text(f"What happened: {jd.explanation.summary}", style="bold yellow"))
            if not jd.explanation.doctor:
                lines.append(Text(f"Next: {jd.explanation.next_action}", style="yellow"))
        self._diagnosed(jd.diagnosis)
        self.query_one("#doctor-job", Static).update(Group(*lines))
        self.query_one("#doctor-job").display = True

    def on_work_failed(self, message: WorkFailed) -> None:
        self._set_busy(False)
        self.query_one("#doctor-error", Static).update("")
        self.wizard.show_error(message.error)

    def _diagnosed(self, diagnosis: Diagnosis) -> None:
        self._set_busy(False)
        self.query_one("#doctor-error", Static).update("")
        self.query_one("#doctor-before-after", Static).update("")
        self.query_one("#doctor-job").display = False
        self._before_after = None
        self._show(diagnosis)

    def _show(self, d: Any) -> None:
        self.diagnosis = d
        self.query_one("#doctor-results").display = True
        self.query_one("#doctor-verdict", Static).update(render_diagnosis(d))
        self.query_one("#doctor-trace", Static).update(
            Text("\n".join(d.trace) or "(no policies were evaluated)")
        )
        self.mark(marks.doctor(d.verdict))
        self._buttons()
        self._keep()

    # -- fix --------------------------------------------------------------------------------------------
    @on(Button.Pressed, "#fix")
    def action_fix(self) -> None:
        from services.flow import doctor

        if self.diagnosis is None or self.busy:
            return
        plan = doctor.decide(self.diagnosis, Face.TUI)
        if plan.fix is None:
            return
        if plan.requests is None:
            # A change to how the request is made: nothing in AWS changes; re-check with it.
            self._set_busy(True, "Re-checking with the request changed as the fix says…")
            self._fix_worker(plan, apply=False)
            return
        from screens.confirm_plan import ConfirmPlanScreen

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._set_busy(True, "Applying (old documents are saved to the journal first)…")
                self._fix_worker(plan, apply=True)

        self.app.push_screen(ConfirmPlanScreen(plan.requests), confirmed)

    @work(thread=True, exclusive=True, group="doctor", exit_on_error=False, description="apply the fix")
    def _fix_worker(self, plan: DoctorPlan, apply: bool) -> None:
        from services.flow import doctor

        try:
            outcome = doctor.fix_and_recheck(self.flow_context, self.state, plan, apply_it=apply)
        except Exception as exc:
            err = exc if isinstance(exc, SagewizError) else translate(exc, "apply the fix")
            self.post_message(FIX.failed(ErrorInfo.of(err)))
            return
        self.post_message(FIX.done(outcome))

    def _fix_done(self, outcome: FixOutcome) -> None:
        self._set_busy(False)
        self.query_one("#doctor-error", Static).update("")
        b, a = outcome.before, outcome.after
        lines = [Text("Before → after", style="bold")]
        lines.append(
            Text.assemble(
                ("before: ", "dim"), (b.verdict.upper(), VERDICT_STYLE.get(b.verdict, "")), f"  {b.headline}"
            )
        )
        for t in outcome.applied:
            lines.append(Text(f"applied: {t} (backup in the journal; u undoes it)", style="green"))
        lines.append(
            Text.assemble(
                ("after:  ", "dim"), (a.verdict.upper(), VERDICT_STYLE.get(a.verdict, "")), f"  {a.headline}"
            )
        )
        if outcome.probe is not None:
            style = "green" if outcome.probe.allowed else "red"
            lines.append(Text(f"live check as the principal: {outcome.probe.message}", style=style))
        else:
            lines.append(
                Text(
                    "live check: not possible here (sagewiz cannot sign as this principal); the verdict is from the policies read back",
                    style="dim",
                )
            )
        self._show(a)
        self._before_after = Group(*lines)
        self.query_one("#doctor-before-after", Static).update(self._before_after)
        self._keep()

    # -- admin report, undo, trace ---------------------------------------------------------------------
    @on(Button.Pressed, "#admin")
    def action_admin(self) -> None:
        if self.diagnosis is None:
            return
        from services.doctor.report import admin_report
        from services.journal import default_path

        md = admin_report(self.diagnosis, when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
        self.app.push_screen(AdminReportScreen(md, default_path().parent))

    @on(Button.Pressed, "#undo")
    def action_undo(self) -> None:
        if self.busy or self.factory is None:
            return
        self._set_busy(True, "Restoring the document the last fix replaced…")
        self._undo_worker()

    @work(thread=True, exclusive=True, group="doctor", exit_on_error=False, description="undo")
    def _undo_worker(self) -> None:
        from services.permissions.apply import undo_last

        try:
            result = undo_last(self.factory, self.journal)
        except Exception as exc:
            err = exc if isinstance(exc, SagewizError) else translate(exc, "undo")
            self.post_message(UNDO.failed(ErrorInfo.of(err)))
            return
        self.post_message(UNDO.done(f"Restored the {result.target.describe()} as it was before the fix."))

    def _undo_done(self, text: str) -> None:
        self._set_busy(False)
        self.query_one("#doctor-error", Static).update("")
        self.notify(text, title="Undo", markup=False)

    def action_trace(self) -> None:
        box = self.query_one("#doctor-trace-box", Collapsible)
        box.collapsed = not box.collapsed


__all__ = ["AdminReportScreen", "DoctorStep", "render_diagnosis"]
