"""Step 3, Bucket: the default bucket `sagemaker-<region>-<account>`: valid, existing, ours, and how it is set.

The name is checked against the S3 naming rules as it is typed (no AWS call). Existence and ownership
are read with HeadBucket + ExpectedBucketOwner and ListBuckets; a bucket of another account is never
used. Creating it is a plan, confirmed, then journaled. Settings are shown read-only: changing them is
the Permissions step's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, LoadingIndicator, Static

from screens.base import StepScreen
from services.buckets.facts import BucketFacts
from services.buckets.naming import (
    alternative_names,
    expected_bucket_name,
    naming_problems,
    sagemaker_warning,
)
from services.buckets.ownership import BucketCheck, BucketStatus
from services.errors import ErrorInfo, SagewizError, translate
from services.flow import marks
from services.journal_events import ChoiceMade
from services.terminal_text import safe
from tui.messages import Work, WorkDone, WorkFailed


@dataclass(frozen=True)
class CheckedBucket:
    check: BucketCheck
    facts: BucketFacts | None


# -- the work this screen hands to workers (a failure's subject is the bucket's name) ----------------
CHECK: Work[CheckedBucket] = Work("bucket: check")
CREATE: Work[str] = Work("bucket: create")


class BucketStep(StepScreen):
    STEP_ID = "bucket"
    CSS_PATH = "bucket.tcss"
    FOCUS_HOME = "#step-body"  # the step's keys (c, k, u, a) act at once; Tab reaches the name field
    BINDINGS = [
        Binding("c", "check", "Check"),
        Binding("k", "create", "Create"),
        Binding("u", "use", "Use it"),
        Binding("a", "alternative", "Other name", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.check: BucketCheck | None = None
        self.facts: BucketFacts | None = None
        self.checking: str | None = None  # the name whose check is running or shown

    def compose_body(self) -> ComposeResult:
        yield Static("Bucket", classes="step-title")
        yield Static(id="bucket-intro", classes="hint")
        with Horizontal(classes="row"):
            yield Label("Bucket name", classes="field-label")
            yield Input(id="bucket-name", placeholder="sagemaker-<region>-<account>")
            yield Button("Check (c)", id="check")
        yield Static(id="name-error", classes="field-error")
        yield Static(id="name-warning", classes="warning-text")
        yield LoadingIndicator(id="bucket-loading")
        yield Static(id="bucket-status")
        yield Static(id="bucket-facts")
        with Horizontal(classes="row buttons-row"):
            yield Button("Create bucket (k)", id="create", variant="primary")
            yield Button("Use this bucket (u)", id="use", variant="success")
            yield Button("Use another name (a)", id="alternative")

    def on_mount(self) -> None:
        self.query_one("#bucket-loading").display = False
        self._buttons()
        self.on_identity_ready(self._ready)

    # -- naming, before any call ----------------------------------------------------------------
    def _expected(self) -> str:
        ident = self.identity
        return expected_bucket_name(ident.region, ident.account) if ident else ""

    def _ready(self, identity: Any) -> None:
        expected = self._expected()
        self.query_one("#bucket-intro", Static).update(
            Text(
                f"The SageMaker SDK's default bucket for this account and region is {expected} "
                "(sagemaker-<region>-<account>). sagewiz checks that it exists and that your account "
                "owns it, since bucket names are global and anyone could have taken it."
            )
        )
        field = self.query_one("#bucket-name", Input)
        if not field.value:
            from services.flow import bucket as flow_bucket

            field.value = flow_bucket.default_name(self.flow_context, self.state)
        self.action_check()

    def _name_ok(self, name: str) -> bool:
        problems = naming_problems(name)
        error = self.query_one("#name-error", Static)
        warning = self.query_one("#name-warning", Static)
        field = self.query_one("#bucket-name", Input)
        field.set_class(bool(problems), "-invalid")
        if problems:
            first = problems[0]
            more = f" (and {len(problems) - 1} more rule(s))" if len(problems) > 1 else ""
            error.update(
                Text(f"'{name}' {first.message} Rule: {first.rule.text}{more}\nHow to fix: {first.hint}")
            )
            warning.update("")
            return False
        error.update("")
        warn = sagemaker_warning(name)
        warning.update(Text(warn) if warn else "")
        return True

    @on(Input.Changed, "#bucket-name")
    def _typed(self, event: Input.Changed) -> None:
        name = event.value.strip()
        if name == self.checking:
            return  # our own fill-in (or the name being checked): keep its result
        self.checking = None
        self.check = None
        self.facts = None
        self._buttons()
        if name:
            self._name_ok(name)

    @on(Input.Submitted, "#bucket-name")
    def _submitted(self) -> None:
        self.park()  # Enter hands the keys to the step (c, k, u); a dialog closing brings the field back
        self.action_check()

    # -- checking -------------------------------------------------------------------------------
    def action_check(self) -> None:
        name = self.query_one("#bucket-name", Input).value.strip()
        if not name or not self._name_ok(name) or self.factory is None or self.identity is None:
            return
        self.checking = name
        self.query_one("#bucket-loading").display = True
        self.query_one("#bucket-status", Static).update(Text(f"Checking {name}…"))
        self.query_one("#bucket-facts", Static).update("")
        self._check_worker(name, self.identity.account)

    @work(thread=True, exclusive=True, group="bucket", exit_on_error=False, description="check the bucket")
    def _check_worker(self, name: str, account: str) -> None:
        from services.buckets.facts import read_facts
        from services.buckets.ownership import check_bucket

        try:
            check = check_bucket(self.factory, name, account)
            facts = read_facts(self.factory, name, account) if check.usable else None
        except Exception as exc:
            self.post_message(CHECK.failed(ErrorInfo.of(translate(exc, "check bucket")), subject=name))
            return
        self.post_message(CHECK.done(CheckedBucket(check, facts)))

    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(CHECK.to(self._checked), CREATE.to(self._created))

    def on_work_failed(self, message: WorkFailed) -> None:
        message.route(CHECK.on_failure(self._failed), CREATE.on_failure(self._failed))

    def _checked(self, checked: CheckedBucket) -> None:
        self.query_one("#bucket-loading").display = False
        self.check, self.facts = checked.check, checked.facts
        self._show_check(checked.check)
        self._show_facts(checked.facts)
        self._buttons()
        self.mark(marks.bucket(
            usable=checked.check.usable,
            chosen=self.state.bucket == checked.check.name,
            refused=checked.check.status in (BucketStatus.OTHER_ACCOUNT, BucketStatus.FORBIDDEN),
        ))  # fmt: skip

    def _failed(self, failed: WorkFailed) -> None:
        error = failed.error
        self.query_one("#bucket-loading").display = False
        self.query_one("#bucket-status", Static).update(
            Text.assemble((safe(error.title), "bold red"), "\n", safe(error.message))
        )
        self._buttons()
        denied = None
        if error.kind == "access-denied":
            from services.denied import DeniedCall

            denied = DeniedCall(
                error_text=error.details.get("raw") or error.message,
                principal_arn=self.identity.arn if self.identity else None,
                action="s3:ListBucket",
                bucket=failed.subject,
                operation=error.operation or "HeadBucket",
                source_step="bucket",
            )
        self.wizard.show_error(error, denied=denied)

    def _show_check(self, check: BucketCheck) -> None:
        status = self.query_one("#bucket-status", Static)
        expected = self._expected()
        default = " (the SDK's default name)" if check.name == expected else ""
        if check.status is BucketStatus.MISSING:
            body = Text.assemble(
                (f"{check.name}{default} does not exist yet.", "bold"),
                "\nPress k to create it in ",
                (self.identity.region if self.identity else "", "bold"),
                ": you will see the exact calls first.",
            )
        elif check.status is BucketStatus.OWNED:
            body = Text.assemble(
                (f"{check.name}{default} exists and belongs to your account ✓", "bold green"),
                "\n",
                ("How we know: " + check.ownership_evidence, "dim"),
            )
            here = self.identity.region if self.identity else ""
            if check.region and here and check.region != here:
                body.append(
                    f"\nIt is in {check.region}, not {here}: SageMaker jobs in {here} read data from their own "
                    f"region, so pick or create a bucket in {here}.",
                    style="yellow",
                )
            if self.state.bucket == check.name:
                body.append("\nIt is the bucket the next steps use.", style="green")
            else:
                body.append("\nPress u to use it for the next steps.")
        elif check.status is BucketStatus.OTHER_ACCOUNT:
            alts = ", ".join(alternative_names(*self._region_account()))
            body = Text.assemble(
                ("Owned by another AWS account: not used", "bold red"),
                "\n",
                check.problem,
                "\n",
                ("How we know: " + check.ownership_evidence, "dim"),
                "\nPress a to use another name, for example: ",
                (alts, "bold"),
            )
        else:
            body = Text.assemble(("Exists, but cannot be checked", "bold yellow"), "\n", check.problem)
        status.update(body)

    def _region_account(self) -> tuple[str, str]:
        ident = self.identity
        return (ident.region, ident.account) if ident else ("", "")

    def _show_facts(self, facts: BucketFacts | None) -> None:
        widget = self.query_one("#bucket-facts", Static)
        if facts is None:
            widget.update("")
            return
        table = Table(box=None, show_header=True, header_style="bold", title_justify="left")
        table.title = Text("Settings (read-only here; the Permissions step changes them)", style="bold")
        table.add_column("Setting")
        table.add_column("Value")
        table.add_column("Where it comes from", style="dim")
        for fact in facts.all():
            source = {"read": "read from S3", "default": "AWS default", "unreadable": "not readable"}[
                fact.source
            ]
            note = f"{source}: {fact.note}" if fact.note else source
            style = "yellow" if fact.source == "unreadable" else ""
            table.add_row(fact.label, Text(fact.value, style=style), Text(note))
        table.add_row(
            "Created by sagewiz", "yes" if facts.created_by_sagewiz else "no", Text("tag sagewiz:created-by")
        )
        widget.update(table)

    def _buttons(self) -> None:
        status = self.check.status if self.check else None
        self.query_one("#create", Button).display = status is BucketStatus.MISSING
        self.query_one("#use", Button).display = status is BucketStatus.OWNED
        self.query_one("#alternative", Button).display = status is BucketStatus.OTHER_ACCOUNT
        # The footer shows the keys check_action allows: they follow the check's result too.
        self.refresh_bindings()

    # -- actions --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        status = self.check.status if self.check else None
        if action == "create":
            return status is BucketStatus.MISSING
        if action == "use":
            return status is BucketStatus.OWNED
        if action == "alternative":
            return status is BucketStatus.OTHER_ACCOUNT
        return True

    def action_create(self) -> None:
        if self.check is None or self.check.status is not BucketStatus.MISSING or self.identity is None:
            return
        from screens.confirm_plan import ConfirmPlanScreen
        from services.flow import bucket as flow_bucket

        try:
            planned = flow_bucket.decide(self.flow_context, flow_bucket.BucketFindings(self.check))
            planned.raise_problem()
        except SagewizError as exc:
            self.wizard.show_error(exc)
            return
        plan = planned.requests
        if plan is None:
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.query_one("#bucket-loading").display = True
                self.query_one("#bucket-status", Static).update(
                    Text(f"Creating {plan.actions[0].params['Bucket']}…")
                )
                self._create_worker(plan)

        self.app.push_screen(ConfirmPlanScreen(plan), confirmed)

    @work(thread=True, exclusive=True, group="bucket", exit_on_error=False, description="create the bucket")
    def _create_worker(self, plan: Any) -> None:
        from services.buckets.creation import create_bucket

        name = plan.actions[0].params["Bucket"]
        try:
            create_bucket(self.factory, plan, self.journal)
        except Exception as exc:
            self.post_message(CREATE.failed(ErrorInfo.of(translate(exc, "s3:CreateBucket")), subject=name))
            return
        self.post_message(CREATE.done(name))

    def _created(self, name: str) -> None:
        self.notify(f"Created {name}", markup=False)
        self._use(name)
        self.action_check()

    def action_use(self) -> None:
        if self.check is not None and self.check.usable:
            self._use(self.check.name)
            self._show_check(self.check)

    def _use(self, name: str) -> None:
        changed = self.state.update(bucket=name)
        if changed:
            try:
                self.journal.append(ChoiceMade(dict(step="bucket", bucket=name)))
            except OSError as exc:
                self.notify(f"The journal could not be written: {exc}", severity="warning", markup=False)
        self.mark(marks.bucket(usable=True, chosen=True, refused=False))
        self.notify(f"The next steps use s3://{name}/", markup=False)

    def action_alternative(self) -> None:
        region, account = self._region_account()
        field = self.query_one("#bucket-name", Input)
        names = alternative_names(region, account)
        current = field.value.strip()
        field.value = names[(names.index(current) + 1) % len(names)] if current in names else names[0]
        self.action_check()

    @on(Button.Pressed, "#check")
    def _check_pressed(self) -> None:
        self.action_check()

    @on(Button.Pressed, "#create")
    def _create_pressed(self) -> None:
        self.action_create()

    @on(Button.Pressed, "#use")
    def _use_pressed(self) -> None:
        self.action_use()

    @on(Button.Pressed, "#alternative")
    def _alternative_pressed(self) -> None:
        self.action_alternative()
