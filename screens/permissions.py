"""Step 5, Permissions: Block Public Access, bucket policy and role policy, each shown as
current state -> finding -> proposed change as a diff -> confirm -> backup -> apply -> re-check,
with a real proof of the role's access before and after, and `u` to undo the last change."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Collapsible, DataTable, Input, Label, LoadingIndicator, Static

from screens.base import StepScreen
from services.errors import ErrorInfo, SagewizError, translate
from services.remedy import Face
from tui.steps import StepState
from tui.widgets.policy_view import PolicyView

SEVERITY_STYLE = {
    "error": ("✗ error", "bold red"),
    "warning": ("! warning", "yellow"),
    "info": ("i info", "cyan"),
}


@dataclass
class Checked(Message):
    state: Any  # services.permissions.state.PermissionsState
    findings: list[Any]
    proposals: list[Any]
    proof: Any  # services.permissions.proof.Proof | None
    after_change: bool


@dataclass
class CheckFailed(Message):
    error: ErrorInfo


@dataclass
class ChangeApplied(Message):
    title: str
    took_effect: bool


@dataclass
class ChangeRefused(Message):
    error: ErrorInfo
    concurrent: bool


@dataclass
class Undone(Message):
    what: str
    exact: bool


class PermissionsStep(StepScreen):
    STEP_ID = "permissions"
    CSS_PATH = "permissions.tcss"
    BINDINGS = [
        Binding("r", "recheck", "Re-check"),
        Binding("f", "review_fix", "Review fix"),
        Binding("u", "undo", "Undo last change"),
        Binding("p", "prove", "Prove access"),
        Binding("P", "public", "I need public access", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.perm_state: Any = None
        self.findings: list[Any] = []
        self.proposals: list[Any] = []
        self.proof_before: Any = None
        self.proof_now: Any = None
        self.busy = False
        self.checks_done = 0  # completed checks (tests wait on it)
        self.changing = False  # an apply or undo is running: other actions wait

    # -- layout ---------------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        yield Static("Permissions", classes="step-title")
        yield Static(id="perm-intro", classes="hint")
        with Horizontal(classes="perm-row"):
            yield Label("Bucket", classes="field-label")
            yield Input(id="perm-bucket", placeholder="sagemaker-<region>-<account>", compact=True)
            yield Button("Check (r)", id="perm-check", variant="primary", compact=True)
        with Horizontal(classes="perm-row"):
            yield Label("Role", classes="field-label")
            yield Input(id="perm-role", placeholder="arn:aws:iam::<account>:role/<path>/<name>", compact=True)
        yield Static("", id="perm-input-error", classes="field-error")
        yield LoadingIndicator(id="perm-loading")
        yield Static(id="perm-status")
        yield Static("Can the role use the bucket?", classes="section")
        yield Static(id="perm-proof")
        yield Static("Findings", classes="section")
        yield DataTable(id="perm-findings", cursor_type="row", zebra_stripes=True)
        with Vertical(id="perm-detail"):
            yield Static(id="perm-finding-text")
            yield PolicyView(None, id="perm-evidence", absent="")
        yield Static("Proposed fixes", classes="section")
        yield DataTable(id="perm-fixes", cursor_type="row")
        yield Static(id="perm-fix-hint", classes="hint")
        yield Static("Current state", classes="section")
        yield Static(id="perm-settings")
        with Collapsible(title="Bucket policy", id="perm-bucket-policy-box", collapsed=True):
            yield PolicyView(None, id="perm-bucket-policy", absent="(no bucket policy)")
        yield Vertical(id="perm-role-policies")

    def on_mount(self) -> None:
        findings = self.query_one("#perm-findings", DataTable)
        findings.add_columns("Severity", "Finding", "Concerns")
        fixes = self.query_one("#perm-fixes", DataTable)
        fixes.add_columns("#", "Proposed change", "Target")
        self._show_busy("Waiting for the connection…")
        self.on_identity_ready(self._connected)

    def _connected(self, identity: Any) -> None:
        app = self.wizard
        bucket = self.query_one("#perm-bucket", Input)
        role = self.query_one("#perm-role", Input)
        world = app.world
        if not bucket.value:
            bucket.value = self.state.bucket or f"sagemaker-{identity.region}-{identity.account}"
        if not role.value:
            role.value = self.state.role_arn or (world.role_arn if world is not None and app.sandbox else "")
        intro = Text(
            "What decides whether the execution role may use the bucket, what is wrong, and fixes shown as diffs, "
            "confirmed, backed up in the journal, applied and re-checked (u undoes)."
        )
        if app.sandbox:
            intro.append(
                "\nSandbox: the proof signs real requests as the role; the sandbox decides them as S3 does "
                "(the role's policies, the bucket policy and Block Public Access).",
                style="yellow",
            )
        self.query_one("#perm-intro", Static).update(intro)
        if role.value:
            self.action_recheck()
        else:
            self._show_busy(None)
            self.query_one("#perm-status", Static).update(
                Text(
                    "Enter the execution role's ARN (the Notebook step sets it), then press r.",
                    style="yellow",
                )
            )

    # -- checking -------------------------------------------------------------------------------
    def _inputs(self) -> tuple[str, str] | None:
        from services.buckets.naming import naming_problem
        from services.roles.listing import role_arn_problem

        bucket = self.query_one("#perm-bucket", Input).value.strip()
        role = self.query_one("#perm-role", Input).value.strip()
        err = self.query_one("#perm-input-error", Static)
        problem = naming_problem(bucket)
        if problem:
            err.update(Text(f"Bucket: {problem.message} {problem.hint}"))
            return None
        arn_problem = role_arn_problem(role)
        if arn_problem:
            err.update(Text(f"Role: {arn_problem}"))
            return None
        err.update("")
        return bucket, role

    def action_recheck(self, after_change: bool = False) -> None:
        if self.identity is None or self.factory is None or (self.changing and not after_change):
            return
        values = self._inputs()
        if values is None:
            return
        bucket, role = values
        self.state.update(bucket=bucket, role_arn=role)
        self._show_busy("Reading Block Public Access, policies, encryption and ownership…")
        self._check_worker(bucket, role, after_change)

    @on(Button.Pressed, "#perm-check")
    def _check_pressed(self) -> None:
        self.action_recheck()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_recheck()

    @work(
        thread=True, exclusive=True, group="permissions", exit_on_error=False, description="check permissions"
    )
    def _check_worker(self, bucket: str, role_arn: str, after_change: bool, prove: bool = True) -> None:
        from services.flow import permissions as flow_permissions
        from services.permissions.proof import prove as run_proof

        try:
            read = flow_permissions.inspect(
                self.flow_context, flow_permissions.PermissionsChoices(bucket=bucket, role_arn=role_arn)
            )
            state, found, proposals = read.state, list(read.findings), list(read.proposals)
            proof = (
                run_proof(self.factory, state, world=self.wizard.world)
                if prove and state.bucket_exists
                else None
            )
        except Exception as exc:
            self.post_message(CheckFailed(ErrorInfo.of(translate(exc, "check permissions"))))
            return
        self.post_message(Checked(state, found, proposals, proof, after_change))

    def on_checked(self, msg: Checked) -> None:
        self.busy = False
        self.checks_done += 1
        self.perm_state, self.findings, self.proposals = msg.state, msg.findings, msg.proposals
        if msg.proof is not None:
            if self.proof_before is None:
                self.proof_before = msg.proof
            self.proof_now = msg.proof
        self._show_busy(None)
        self._render_all()
        errors = [f for f in msg.findings if f.severity == "error"]
        proof_ok = self.proof_now is None or self.proof_now.ok or self.proof_now.method == "unavailable"
        self.mark(StepState.DONE if not errors and proof_ok else StepState.ATTENTION)

    def on_check_failed(self, msg: CheckFailed) -> None:
        self.busy = False
        self._show_busy(None)
        self.query_one("#perm-status", Static).update(
            Text.assemble((msg.error.title, "bold red"), "\n", msg.error.message)
        )
        self.wizard.show_error(msg.error)

    def _show_busy(self, text: str | None) -> None:
        self.busy = text is not None
        self.query_one("#perm-loading").display = text is not None
        if text is not None:
            self.query_one("#perm-status", Static).update(Text(text))

    # -- rendering ------------------------------------------------------------------------------
    def _render_all(self) -> None:
        self._render_status()
        self._render_proof()
        self._render_findings()
        self._render_fixes()
        self._render_settings()

    def _render_status(self) -> None:
        errors = sum(f.severity == "error" for f in self.findings)
        warnings = sum(f.severity == "warning" for f in self.findings)
        pending = sum(p.change is not None for p in self.proposals)
        text = Text()
        if errors:
            text.append(f"{errors} problem(s) block the role", style="bold red")
        else:
            text.append("Nothing blocks the role", style="bold green")
        text.append(f" · {warnings} warning(s) · {pending} fix(es) proposed")
        if pending:
            text.append(" · press f to review the first fix", style="dim")
        self.query_one("#perm-status", Static).update(text)

    def _render_proof(self) -> None:
        widget = self.query_one("#perm-proof", Static)
        now = self.proof_now
        if now is None:
            widget.update(Text("Not proven yet (p runs the proof).", style="dim"))
            return
        if now.method == "unavailable":
            widget.update(Text(f"The proof could not run: {now.note}.", style="yellow"))
            return
        before = self.proof_before
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        table.add_column("Action")
        table.add_column("On")
        compare = before is not None and before is not now
        if compare:
            table.add_column("Before")
        table.add_column("Now" if compare else "Result")
        earlier = {(s.action, s.resource): s for s in before.steps} if compare else {}
        for step in now.steps:
            cells: list[Any] = [step.action, Text(_short_resource(step.resource))]
            if compare:
                prev = earlier.get((step.action, step.resource))
                cells.append(_verdict(prev) if prev is not None else Text("—", style="dim"))
            cells.append(_verdict(step))
            table.add_row(*cells)
        how = "Real requests as the role" if now.method == "marker-object" else "IAM policy simulator"
        caption = Text(f"{how}, {now.note.removeprefix('as the role, ')}: ", style="dim")
        caption.append(
            "the role can use the bucket" if now.ok else "the role is denied",
            style="bold green" if now.ok else "bold red",
        )
        widget.update(_stack(table, caption))

    def _render_findings(self) -> None:
        table = self.query_one("#perm-findings", DataTable)
        table.clear()
        for n, f in enumerate(self.findings):
            label, style = SEVERITY_STYLE.get(f.severity, (f.severity, ""))
            table.add_row(Text(label, style=style), Text(f.title), Text(f.where), key=str(n))
        if self.findings:
            self._show_finding(0)
        else:
            self.query_one("#perm-finding-text", Static).update(Text("No findings.", style="green"))
            self.query_one("#perm-evidence", PolicyView).set_policy(None)

    def _show_finding(self, n: int) -> None:
        if not (0 <= n < len(self.findings)):
            return
        f = self.findings[n]
        text = Text.assemble((f.title, "bold"), "\n", f.explanation)
        if f.fix:
            text.append(f"\nFixed by: {_fix_name(f.fix)}", style="green")
        text.append(f"\nCause: {f.cause}", style="dim")
        self.query_one("#perm-finding-text", Static).update(text)
        self.query_one("#perm-evidence", PolicyView).set_policy(f.evidence or None)

    @on(DataTable.RowHighlighted, "#perm-findings")
    def _finding_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_finding(event.cursor_row)

    def _render_fixes(self) -> None:
        table = self.query_one("#perm-fixes", DataTable)
        table.clear()
        for n, p in enumerate(self.proposals, 1):
            if p.change is None:
                table.add_row(
                    str(n),
                    Text(f"{p.title}: not proposed: {p.refused}", style="yellow"),
                    Text("—"),
                    key=str(n - 1),
                )
            else:
                table.add_row(str(n), Text(p.change.title), Text(p.change.target.describe()), key=str(n - 1))
        hint = "Enter on a fix (or f for the first) shows its diff; u undoes the last applied change."
        if not self.proposals:
            hint = "No change to propose." + (
                " u undoes the last applied change." if self.journal.last_policy_change() else ""
            )
        self.query_one("#perm-fix-hint", Static).update(Text(hint))

    def _render_settings(self) -> None:
        st = self.perm_state
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="dim")
        table.add_column()
        table.add_row(
            "Bucket", Text(f"{st.bucket}" + ("" if st.bucket_exists is not False else " (does not exist)"))
        )
        table.add_row("Role", Text(st.role_arn))
        for bpa, label in (
            (st.account_bpa, "Block Public Access (account)"),
            (st.bucket_bpa, "Block Public Access (bucket)"),
        ):
            if bpa is None:
                table.add_row(label, Text("could not read", style="yellow"))
            elif bpa.all_on:
                table.add_row(label, Text("on (all four settings)", style="green"))
            else:
                table.add_row(label, Text("off: " + ", ".join(bpa.off), style="yellow"))
        if st.policy_public is None:
            table.add_row("Bucket policy status", Text("could not read", style="yellow"))
        else:
            src = "" if st.policy_public_source == "s3" else " (computed by sagewiz)"
            table.add_row(
                "Bucket policy status", Text(("public" if st.policy_public else "not public") + src)
            )
        enc = st.encryption
        if enc is None:
            table.add_row("Default encryption", Text("could not read", style="yellow"))
        else:
            desc = {"AES256": "SSE-S3 (AES256)", "aws:kms": "SSE-KMS", "aws:kms:dsse": "DSSE-KMS"}.get(
                enc.algorithm, enc.algorithm
            )
            if enc.kms_key_id:
                desc += f", key {enc.kms_key_id}"
            if enc.default:
                desc += " (not configured: S3's default)"
            table.add_row("Default encryption", Text(desc))
        table.add_row("Object Ownership", Text(st.object_ownership or "not configured"))
        table.add_row(
            "Permissions boundary",
            Text(st.boundary.arn if st.boundary else ("set, could not read" if st.has_boundary else "none")),
        )
        for u in st.unreadable:
            table.add_row("Could not read", Text(u.line(), style="yellow"))
        self.query_one("#perm-settings", Static).update(table)
        self.query_one("#perm-bucket-policy", PolicyView).set_policy(
            st.bucket_policy.text if st.bucket_policy else None
        )
        box = self.query_one("#perm-role-policies", Vertical)
        box.remove_children()
        boxes = []
        for p in (*st.role_policies, *([st.boundary] if st.boundary else [])):
            title = p.label + (f" ({p.version})" if p.version else "")
            boxes.append(Collapsible(PolicyView(p.text), title=title, collapsed=True))
        if boxes:
            box.mount_all(boxes)

    # -- fixes ----------------------------------------------------------------------------------
    def action_review_fix(self, index: int | None = None) -> None:
        if self.busy:
            self.notify("Still working; try again in a moment.", markup=False)
            return
        usable = [p for p in self.proposals if p.change is not None]
        if index is not None:
            chosen = self.proposals[index] if 0 <= index < len(self.proposals) else None
        else:
            chosen = usable[0] if usable else None
        if chosen is None:
            self.notify("No fix to review.", markup=False)
            return
        if chosen.change is None:
            self.notify(f"Not proposed: {chosen.refused}", severity="warning", markup=False)
            return
        from screens.permissions_review import FixReviewScreen

        change = chosen.change

        def reviewed(go: bool | None) -> None:
            if go:
                self._confirm_and_apply(change)

        self.app.push_screen(FixReviewScreen(change), reviewed)

    @on(DataTable.RowSelected, "#perm-fixes")
    def _fix_selected(self, event: DataTable.RowSelected) -> None:
        self.action_review_fix(event.cursor_row)

    def _confirm_and_apply(self, change: Any, *, typed: str | None = None, warning: str = "") -> None:
        from screens.confirm_plan import ConfirmPlanScreen
        from services.permissions.apply import confirmation, to_plan

        where = confirmation(change, self.identity).line()

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._show_busy(f"Saving the old document to the journal, then applying: {change.title}…")
                self.changing = True
                self._apply_worker(change)

        plan = to_plan(change, Face.TUI)
        # The diff was just reviewed on the previous screen; the confirmation stays short so its
        # buttons and the account/region/resource/caller line are always in view.
        plan = replace(plan, actions=tuple(replace(a, diff="") for a in plan.actions))
        self.app.push_screen(ConfirmPlanScreen(plan, where=where, typed=typed, warning=warning), confirmed)

    @work(
        thread=True,
        exclusive=True,
        group="permissions-change",
        exit_on_error=False,
        description="apply a policy change",
    )
    def _apply_worker(self, change: Any) -> None:
        from services.permissions.apply import PolicyChangedError, apply_change

        try:
            result = apply_change(self.factory, self.journal, change)
        except PolicyChangedError as exc:
            self.post_message(ChangeRefused(ErrorInfo.of(exc), True))
            return
        except Exception as exc:
            self.post_message(ChangeRefused(ErrorInfo.of(translate(exc, change.title)), False))
            return
        self.post_message(ChangeApplied(change.title, result.took_effect))

    def on_change_applied(self, msg: ChangeApplied) -> None:
        note = (
            "Applied and re-read"
            if msg.took_effect
            else "Applied, but the re-read shows a different document"
        )
        self.notify(f"{note}: {msg.title}. The old document is in the journal (u undoes).", markup=False)
        self.changing = False
        self.action_recheck(after_change=True)

    def on_change_refused(self, msg: ChangeRefused) -> None:
        self.changing = False
        self._show_busy(None)
        if msg.concurrent:
            self.notify(f"{msg.error.message} Re-planning.", severity="warning", markup=False, timeout=8)
            self.action_recheck()
            return
        self._render_status()
        self.wizard.show_error(msg.error)

    # -- undo, proof, public access -----------------------------------------------------------
    def action_undo(self) -> None:
        if self.factory is None or self.busy:
            return
        if self.journal.last_policy_change() is None:
            self.notify(
                "Nothing to undo: the journal holds no policy change that is not undone yet.", markup=False
            )
            return
        self._show_busy("Restoring the previous document from the journal…")
        self.changing = True
        self._undo_worker()

    @work(
        thread=True,
        exclusive=True,
        group="permissions-change",
        exit_on_error=False,
        description="undo a policy change",
    )
    def _undo_worker(self) -> None:
        from services.permissions.apply import undo_last

        try:
            result = undo_last(self.factory, self.journal)
        except Exception as exc:
            self.post_message(ChangeRefused(ErrorInfo.of(translate(exc, "undo")), False))
            return
        what = result.target.describe()
        self.post_message(
            Undone(
                what if result.restored_text is not None else f"{what} (deleted: there was none)",
                result.exact,
            )
        )

    def on_undone(self, msg: Undone) -> None:
        self.notify(
            f"Restored the {msg.what}" + (" exactly." if msg.exact else ", but it reads back differently."),
            markup=False,
        )
        self.changing = False
        self.action_recheck(after_change=True)

    def action_prove(self) -> None:
        self.action_recheck()

    def action_public(self) -> None:
        """Only when the user says the bucket must be public: typed confirmation and a warning."""
        st = self.perm_state
        if st is None or self.busy:
            return
        from services.permissions.fixes.public_access import public_access_change

        try:
            change = public_access_change(
                st.bucket, st.bucket_bpa.text() if st.bucket_bpa else None, want_public=True
            )
        except SagewizError as exc:
            self.wizard.show_error(exc)
            return
        self._confirm_and_apply(
            change,
            typed="PUBLIC",
            warning=(
                "SECURITY WARNING: this lets a public bucket policy expose the bucket to anyone on the internet. "
                "It is never needed for the SageMaker role's own access; Block Public Access does not cause a "
                "same-account AccessDenied."
            ),
        )


def _short_resource(arn: str) -> str:
    rest = arn.removeprefix("arn:aws:s3:::")
    return "the bucket" if "/" not in rest else f"object {rest.split('/', 1)[1]}"


def _verdict(step: Any) -> Text:
    if step.ok:
        return Text("✓ allowed", style="green")
    return Text(f"✗ {step.detail}", style="red")


def _stack(*parts: Any) -> Any:
    from rich.console import Group

    return Group(*parts)


def _fix_name(fix: str) -> str:
    return {
        "bucket-policy": "the bucket policy merge",
        "role-policy": "the role policy repair",
        "narrow-grant": "narrowing the over-broad grant",
        "narrow-deny": "an exception to the Deny",
        "bpa-on": "turning Block Public Access back on",
    }.get(fix, fix)
