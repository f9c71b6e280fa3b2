"""Pick the notebook's execution role, or describe a new one (created with the notebook's plan).

Only roles whose trust policy lets sagemaker.amazonaws.com assume them are offered; the others are
listed with the reason they are excluded. A new role gets a trust policy scoped by aws:SourceAccount
and either the least-privilege policy (recommended) or AmazonSageMakerFullAccess (explained).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, LoadingIndicator, RadioButton, RadioSet, Static

from services.errors import ErrorInfo, SagewizError, translate
from services.roles.abilities import ability_lines
from services.roles.creation import FULL_ACCESS_EXPLAINED, RoleSpec, spec_problems
from services.roles.documents import least_privilege_policy, trust_policy
from services.roles.listing import RoleListing
from tui.dialog import Dialog
from tui.messages import Work, WorkDone, WorkFailed


@dataclass(frozen=True)
class RoleChoice:
    arn: str
    name: str
    new: RoleSpec | None = None  # set when the role is to be created with the notebook

    def label(self) -> str:
        if self.new is None:
            return f"{self.name}  ({self.arn})"
        kind = (
            "AmazonSageMakerFullAccess"
            if self.new.full_access
            else f"least privilege on s3://{self.new.bucket}/{self.new.prefix or ''}"
        )
        return f"{self.name}  (new: {kind})"


ROLES: Work[RoleListing] = Work("notebook: list execution roles")

_ROLE_ERROR_LINE = {
    "role name": "#role-name-error",
    "bucket": "#role-bucket-error",
    "prefix": "#role-prefix-error",
}
"""Where each rule of a new role is said: under its own field, in reading order."""


class RolePicker(Dialog[RoleChoice | None]):
    """Returns the chosen role, a new role to create, or None on cancel."""

    CSS_PATH = "notebook.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+n", "new_role", "New role"),
        Binding("ctrl+s", "use_new", "Use new role", show=False),
    ]

    def __init__(
        self, factory: Any, account: str, region: str, bucket: str, stamp: str, *, offer_new: bool = True
    ) -> None:
        super().__init__()
        # Off where a new role could not be created with the step's plan (Permissions picks only).
        self.offer_new = offer_new
        self.factory = factory
        self.aws_account = account
        self.aws_region = region
        self.bucket = bucket
        self.stamp = stamp
        self.listing: RoleListing | None = None
        self._typed: set[str] = set()  # the new role's fields changed so far: checked as they change

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="role-dialog"):
            yield Static("Execution role", classes="step-title")
            yield Static(
                ("The notebook runs as this role. " if self.offer_new else "")
                + "Only roles SageMaker can assume are listed; Enter picks one.",
                classes="hint",
            )
            with VerticalScroll(id="role-scroll"):
                yield LoadingIndicator(id="role-loading")
                yield DataTable(id="role-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="role-excluded")
                yield Static("", id="role-error", classes="field-error")
                with Vertical(id="role-new"):
                    yield Static("New role", classes="section")
                    with Horizontal(classes="row"):
                        yield Label("Role name", classes="field-label")
                        yield Input(id="role-name", compact=True)
                    yield Static("", id="role-name-error", classes="field-error")
                    with Horizontal(classes="row"):
                        yield Label("Bucket", classes="field-label")
                        yield Input(
                            value=self.bucket,
                            id="role-bucket",
                            placeholder="bucket the role may use",
                            compact=True,
                        )
                    yield Static("", id="role-bucket-error", classes="field-error")
                    with Horizontal(classes="row"):
                        yield Label("Prefix", classes="field-label")
                        yield Input(
                            id="role-prefix", placeholder="optional, e.g. ground-truth-demo/", compact=True
                        )
                    yield Static("", id="role-prefix-error", classes="field-error")
                    with RadioSet(id="role-policy", compact=True):
                        yield RadioButton(
                            "Least privilege, scoped to the bucket (recommended)", value=True, id="lp"
                        )
                        yield RadioButton("AmazonSageMakerFullAccess (broad, AWS managed)", id="full")
                    yield Static("", id="role-policy-text")
            with Horizontal(classes="buttons"):
                yield Button("New role (ctrl+n)", id="new-role")
                yield Button("Use new role (ctrl+s)", id="use-new", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#role-new").display = False
        self.query_one("#use-new").display = False
        self.query_one("#new-role").display = self.offer_new
        table = self.query_one("#role-table", DataTable)
        table.add_column("Role", key="name")
        table.add_column("Path", key="path")
        table.add_column("Created", key="created")
        table.display = False
        self.query_one("#role-name", Input).value = f"AmazonSageMaker-ExecutionRole-{self.stamp}"
        self._load()

    @work(thread=True, exclusive=True, group="nb-roles", exit_on_error=False, description="list roles")
    def _load(self) -> None:
        from services.roles.listing import list_execution_roles

        try:
            self.post_message(ROLES.done(list_execution_roles(self.factory)))
        except SagewizError as exc:
            self.post_message(ROLES.failed(ErrorInfo.of(exc)))
        except Exception as exc:  # never a traceback
            self.post_message(ROLES.failed(ErrorInfo.of(translate(exc, "iam:ListRoles"))))

    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(ROLES.to(self._roles_read))

    def on_work_failed(self, message: WorkFailed) -> None:
        message.route(ROLES.on_failure(self._roles_failed))

    def _roles_read(self, listing: RoleListing) -> None:
        self.listing = listing
        self.query_one("#role-loading").display = False
        table = self.query_one("#role-table", DataTable)
        table.clear()
        for r in listing.usable:
            table.add_row(Text(r.name), Text(r.path), Text(r.created), key=r.arn)
        table.display = bool(listing.usable)
        excluded = Text()
        if not listing.usable:
            create = "create one (ctrl+n)" if self.offer_new else "the Notebook step can create one"
            excluded.append(f"No role in this account lets SageMaker assume it: {create}.\n", "yellow")
        if listing.excluded:
            excluded.append(f"Not offered ({len(listing.excluded)}):\n", "bold")
            for r in listing.excluded[:12]:
                excluded.append(f"  {r.name}: ", "dim")
                excluded.append(f"{r.reason}\n")
            if len(listing.excluded) > 12:
                excluded.append(f"  … and {len(listing.excluded) - 12} more\n", "dim")
        self.query_one("#role-excluded", Static).update(excluded)
        if listing.usable:
            table.focus()
        elif self.offer_new:
            self.action_new_role()

    def _roles_failed(self, failed: WorkFailed) -> None:
        self.query_one("#role-loading").display = False
        err = failed.error
        self.query_one("#role-error", Static).update(
            Text(
                f"Could not list roles: {err.title}. {err.message}"
                + ("\nYou can still create a new role (ctrl+n)." if self.offer_new else "")
            )
        )

    @on(DataTable.RowSelected, "#role-table")
    def _picked(self, event: DataTable.RowSelected) -> None:
        arn = str(event.row_key.value)
        self.dismiss(RoleChoice(arn, arn.rsplit("/", 1)[-1]))

    # -- a new role ------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.offer_new or action not in ("new_role", "use_new")

    def action_new_role(self) -> None:
        if not self.offer_new:
            return
        self.query_one("#role-new").display = True
        self.query_one("#use-new").display = True
        self.query_one("#new-role").display = False
        self._show_policy()
        self.query_one("#role-name", Input).focus()

    @on(RadioSet.Changed, "#role-policy")
    @on(Input.Changed, "#role-bucket")
    @on(Input.Changed, "#role-prefix")
    def _show_policy(self) -> None:
        if not self.query_one("#role-new").display:
            return
        full = self._full_access()
        bucket = self.query_one("#role-bucket", Input).value.strip()
        prefix = self.query_one("#role-prefix", Input).value.strip() or None
        trust = json.dumps(trust_policy(self.aws_account), indent=2)
        parts: list[Any] = [Text("Trust policy (only SageMaker, only for this account):", style="bold"),
                            Syntax(trust, "json", theme="ansi_dark", background_color="default")]  # fmt: skip
        role_arn = self._spec().arn
        can = Text("The role will be able to:\n", style="bold")
        for line in ability_lines(self.aws_account, self.aws_region, role_arn, full_access=full):
            can.append(f"  {line}\n")
        if not full:
            where = f"s3://{bucket or 'BUCKET'}/{prefix or ''}"
            can.append(f"  ✓ read and write {where}, write job logs, pull SageMaker's images\n")
        parts.append(can)
        if full:
            parts.append(Text(FULL_ACCESS_EXPLAINED, style="yellow"))
        else:
            policy = json.dumps(
                least_privilege_policy(
                    self.aws_account, self.aws_region, bucket or "BUCKET", prefix, role_arn
                ),
                indent=2,
            )
            parts += [
                Text("Permissions (inline policy):", style="bold"),
                Syntax(policy, "json", theme="ansi_dark", background_color="default"),
            ]
        self.query_one("#role-policy-text", Static).update(Group(*parts))

    def _full_access(self) -> bool:
        return self.query_one("#full", RadioButton).value

    def _spec(self) -> RoleSpec:
        name = self.query_one("#role-name", Input).value.strip()
        bucket = self.query_one("#role-bucket", Input).value.strip()
        prefix = self.query_one("#role-prefix", Input).value.strip() or None
        return RoleSpec(
            name, self.aws_account, self.aws_region, bucket, prefix, full_access=self._full_access()
        )

    def _problems(self, spec: RoleSpec, fields: set[str]) -> dict[str, str]:
        """The rules (services.roles.creation.spec_problems, and a taken name) under their own
        fields; a field's line is cleared as soon as its value is fixed."""
        problems = spec_problems(spec)
        if self.listing is not None and spec.name in {
            r.name for r in (*self.listing.usable, *self.listing.excluded)
        }:
            problems["role name"] = (
                f"A role named {spec.name} already exists: pick it from the list, or choose another name."
            )
        for field, line in _ROLE_ERROR_LINE.items():
            if field in fields:
                self.query_one(line, Static).update(Text(problems.get(field, "")))
        return problems

    @on(Input.Changed, "#role-name")
    @on(Input.Changed, "#role-bucket")
    @on(Input.Changed, "#role-prefix")
    @on(RadioSet.Changed, "#role-policy")
    def _check_as_typed(self, event: Input.Changed | RadioSet.Changed) -> None:
        if not self.query_one("#role-new").display:
            return
        field = {"role-name": "role name", "role-bucket": "bucket", "role-prefix": "prefix"}.get(
            event.control.id or "" if event.control is not None else "", ""
        )
        if field:
            self._typed.add(field)
        self._problems(self._spec(), self._typed if field else self._typed | {"bucket", "prefix"})

    def action_use_new(self) -> None:
        if not self.query_one("#role-new").display:
            return
        spec = self._spec()
        self._typed = set(_ROLE_ERROR_LINE)
        problems = self._problems(spec, self._typed)
        for field, line in _ROLE_ERROR_LINE.items():
            if field in problems:
                self.query_one(line.removesuffix("-error"), Input).focus()
                return
        self.dismiss(RoleChoice(spec.arn, spec.name, spec))

    @on(Input.Submitted, "#role-name, #role-bucket, #role-prefix")
    def _submitted(self) -> None:
        self.action_use_new()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        if event.button.id == "new-role":
            self.action_new_role()
        elif event.button.id == "use-new":
            self.action_use_new()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
