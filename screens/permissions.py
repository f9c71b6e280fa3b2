"""Step 5, Permissions: Block Public Access, bucket policy and role policy, each shown as
current state -> finding -> proposed change as a diff -> confirm -> backup -> apply -> re-check,
with a real proof of the role's access before and after, and `u` to undo the last change (planned
and confirmed like any change). The role is given by name or ARN, or picked from a list (`l`).

About 600 lines and one concern: the read state, its findings and the proposed fixes, shown together
because each fix is reviewed against the finding and proof it changes. What the tables show is in
permissions_render, a fix's review in permissions_review; deciding is in services.permissions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Collapsible, DataTable, Input, Label, LoadingIndicator, Static

from screens.base import StepScreen
from screens.permissions_render import fix_name, proof_view, settings_table
from services.errors import ErrorInfo, SagewizError, translate
from services.flow import marks
from services.remedy import Face
from services.terminal_text import safe
from tui.messages import Work, WorkDone, WorkFailed
from tui.widgets.policy_view import PolicyView

if TYPE_CHECKING:
    from services.permissions.apply import UndoPlan
    from services.permissions.findings import Finding, Proposal
    from services.permissions.proof import Proof
    from services.permissions.state import PermissionsState

SEVERITY_STYLE = {
    "error": ("✗ error", "bold red"),
    "warning": ("! warning", "yellow"),
    "info": ("i info", "cyan"),
}


@dataclass(frozen=True)
class Checked:
    state: PermissionsState
    findings: list[Finding]
    proposals: list[Proposal]
    proof: Proof | None
    after_change: bool


@dataclass(frozen=True)
class Applied:
    title: str
    took_effect: bool  # the document read back is the one written


@dataclass(frozen=True)
class Restored:
    what: str
    exact: bool  # the document read back is the one saved in the journal


# -- the work this screen hands to workers -------------------------------------------------------------
CHECK: Work[Checked] = Work("permissions: read and check")
APPLY: Work[Applied] = Work("permissions: apply a change")
# The policy changed between plan and apply: not an error to show, a reason to plan again.
APPLY_STALE: Work[Applied] = Work("permissions: apply a change over a policy that changed")
UNDO_PLAN: Work[UndoPlan] = Work("permissions: plan the undo of the last change")
UNDO: Work[Restored] = Work("permissions: undo the last change")


class PermissionsStep(StepScreen):
    STEP_ID = "permissions"
    CSS_PATH = "permissions.tcss"
    BINDINGS = [
        Binding("r", "recheck", "Re-check"),
        Binding("f", "review_fix", "Review fix"),
        Binding("u", "undo", "Undo last change"),
        Binding("l", "pick_role", "Pick role", show=False),  # the button beside the field says it
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
            yield Input(
                id="perm-role",
                placeholder="role name or arn:aws:iam::<account>:role/<path>/<name>",
                compact=True,
            )
            yield Button("Pick (l)", id="perm-pick-role", compact=True)
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
                    "Enter the execution role's name or ARN (the Notebook step sets it), then press r.",
                    style="yellow",
                )
            )

    # -- checking -------------------------------------------------------------------------------
    def _inputs(self) -> tuple[str, str] | None:
        from services.buckets.naming import naming_problem
        from services.roles.naming import parse_role

        bucket = self.query_one("#perm-bucket", Input).value.strip()
        role = self.query_one("#perm-role", Input).value.strip()
        err = self.query_one("#perm-input-error", Static)
        problem = naming_problem(bucket)
        if problem:
            err.update(Text(f"Bucket: {problem.message} {problem.hint}"))
            return None
        try:
            parse_role(role)
        except SagewizError as exc:
            err.update(Text(f"Role: {exc.message} {exc.hint}"))
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
        # The role goes to the wizard's state once resolved (a name or an ARN without its path is
        # not what the later steps must pass to SageMaker).
        self.state.update(bucket=bucket)
        self._show_busy("Reading Block Public Access, policies, encryption and ownership…")
        self._check_worker(bucket, role, after_change)

    @on(Button.Pressed, "#perm-check")
    def _check_pressed(self) -> None:
        self.action_recheck()

    @on(Button.Pressed, "#perm-pick-role")
    def _pick_pressed(self) -> None:
        self.action_pick_role()

    def action_pick_role(self) -> None:
        """Pick from the roles SageMaker can assume (the Notebook step's list, without creating one)."""
        if self.identity is None or self.factory is None or self.changing:
            return
        from screens.notebook_role import RoleChoice, RolePicker

        def chosen(choice: RoleChoice | None) -> None:
            if choice is not None:
                self.query_one("#perm-role", Input).value = choice.arn
                self.action_recheck()

        bucket = self.query_one("#perm-bucket", Input).value.strip()
        picker = RolePicker(
            self.factory, self.identity.account, self.identity.region, bucket, "", offer_new=False
        )
        self.app.push_screen(picker, chosen)

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
            self.post_message(CHECK.failed(ErrorInfo.of(translate(exc, "check permissions"))))
            return
        self.post_message(CHECK.done(Checked(state, found, proposals, proof, after_change)))

    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(
            CHECK.to(self._checked),
            APPLY.to(self._change_applied),
            UNDO_PLAN.to(self._undo_planned),
            UNDO.to(self._undone),
        )

    def on_work_failed(self, message: WorkFailed) -> None:
        message.route(
            CHECK.on_failure(self._check_failed),
            APPLY_STALE.on_failure(self._policy_changed_meanwhile),
            APPLY.on_failure(self._change_refused),
            UNDO_PLAN.on_failure(self._undo_not_planned),
            UNDO.on_failure(self._change_refused),
        )

    def _checked(self, msg: Checked) -> None:
        self.busy = False
        self.checks_done += 1
        self.perm_state, self.findings, self.proposals = msg.state, msg.findings, msg.proposals
        if msg.state.role_exists:
            self.state.update(role_arn=msg.state.role_arn)
        if msg.proof is not None:
            if self.proof_before is None:
                self.proof_before = msg.proof
            self.proof_now = msg.proof
        self._show_busy(None)
        self._render_all()
        errors = [f for f in msg.findings if f.severity == "error"]
        proof = self.proof_now
        ran = (
            None
            if proof is None
            else marks.ProofResult(
                ran=proof.method != "unavailable",
                allowed=sum(s.ok for s in proof.steps),
                total=len(proof.steps),
            )
        )
        self.mark(marks.permissions(errors=len(errors), proof=ran))

    def _check_failed(self, msg: WorkFailed) -> None:
        self.busy = False
        self._show_busy(None)
        self.query_one("#perm-status", Static).update(
            Text.assemble((safe(msg.error.title), "bold red"), "\n", safe(msg.error.message))
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
            said = "1 problem blocks" if errors == 1 else f"{errors} problems block"
            text.append(f"{said} the role", style="bold red")
        else:
            text.append("Nothing blocks the role", style="bold green")
        text.append(f" · {warnings} warning(s) · {pending} fix(es) proposed")
        if pending:
            text.append(" · press f to review the first fix", style="dim")
        self.query_one("#perm-status", Static).update(text)

    def _render_proof(self) -> None:
        self.query_one("#perm-proof", Static).update(proof_view(self.proof_before, self.proof_now))

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
            text.append(f"\nFixed by: {fix_name(f.fix)}", style="green")
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
        table = settings_table(st)
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
            self.post_message(APPLY_STALE.failed(ErrorInfo.of(exc)))
            return
        except Exception as exc:
            self.post_message(APPLY.failed(ErrorInfo.of(translate(exc, change.title))))
            return
        self.post_message(APPLY.done(Applied(change.title, result.took_effect)))

    def _change_applied(self, msg: Applied) -> None:
        note = (
            "Applied and re-read"
            if msg.took_effect
            else "Applied, but the re-read shows a different document"
        )
        self.notify(f"{note}: {msg.title}. The old document is in the journal (u undoes).", markup=False)
        self.changing = False
        self.action_recheck(after_change=True)

    def _policy_changed_meanwhile(self, msg: WorkFailed) -> None:
        self.changing = False
        self._show_busy(None)
        self.notify(f"{msg.error.message} Re-planning.", severity="warning", markup=False, timeout=8)
        self.action_recheck()

    def _change_refused(self, msg: WorkFailed) -> None:
        self.changing = False
        self._show_busy(None)
        self._render_status()
        self.wizard.show_error(msg.error)

    # -- undo, proof, public access -----------------------------------------------------------
    def action_undo(self) -> None:
        """Undo is a change like any other: its plan (the diff back to the journaled document) is
        confirmed first, then applied and re-checked."""
        if self.factory is None or self.busy or self.changing:
            return
        if self.journal.last_policy_change() is None:
            self.notify(
                "Nothing to undo: the journal holds no policy change that is not undone yet.", markup=False
            )
            return
        self._show_busy("Reading the document the last change replaced, to plan its undo…")
        self._plan_undo_worker()

    @work(
        thread=True,
        exclusive=True,
        group="permissions-change",
        exit_on_error=False,
        description="plan the undo of a policy change",
    )
    def _plan_undo_worker(self) -> None:
        from services.permissions.apply import plan_undo

        try:
            undo = plan_undo(self.factory, self.journal)
        except Exception as exc:
            self.post_message(UNDO_PLAN.failed(ErrorInfo.of(translate(exc, "plan the undo"))))
            return
        self.post_message(UNDO_PLAN.done(undo))

    def _undo_planned(self, undo: UndoPlan) -> None:
        from screens.confirm_plan import ConfirmPlanScreen
        from services.permissions.apply import confirmation, undo_to_plan

        self._show_busy(None)
        self._render_status()

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._show_busy(f"Restoring the previous document from the journal: {undo.change.title}…")
                self.changing = True
                self._undo_worker(undo)

        where = confirmation(undo.change, self.identity).line()
        self.app.push_screen(ConfirmPlanScreen(undo_to_plan(undo, Face.TUI), where=where), confirmed)

    def _undo_not_planned(self, msg: WorkFailed) -> None:
        self._show_busy(None)
        self._render_status()
        self.wizard.show_error(msg.error)

    @work(
        thread=True,
        exclusive=True,
        group="permissions-change",
        exit_on_error=False,
        description="undo a policy change",
    )
    def _undo_worker(self, undo: UndoPlan) -> None:
        from services.permissions.apply import PolicyChangedError, apply_undo

        try:
            result = apply_undo(self.factory, self.journal, undo)
        except PolicyChangedError as exc:
            self.post_message(APPLY_STALE.failed(ErrorInfo.of(exc)))
            return
        except Exception as exc:
            self.post_message(UNDO.failed(ErrorInfo.of(translate(exc, "undo"))))
            return
        what = result.target.describe()
        self.post_message(
            UNDO.done(
                Restored(
                    what if result.restored_text is not None else f"{what} (deleted: there was none)",
                    result.exact,
                )
            )
        )

    def _undone(self, msg: Restored) -> None:
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
