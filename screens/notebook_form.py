"""The create-notebook form. Every field is checked with the API's rules before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from screens.notebook_role import RoleChoice, RolePicker
from services import notebooks as nb
from services.errors import SagewizError, ValidationError
from services.notebook_autostop import list_lifecycle_configs
from services.pricing import notebook_price
from services.remedy import Face
from services.roles.creation import RoleSpec
from tui.dialog import Dialog
from tui.messages import Work, WorkDone

NO_LC = "none"
IDLE_LC = "idle"
DEFAULT_IDLE_MINUTES = 60

# Which error line shows a ValidationError, by its field.
_ERROR_LINE = {
    "name": "#nb-name-error",
    "instance type": "#nb-type-error",
    "volume size": "#nb-volume-error",
    "platform": "#nb-platform-warning",
    "execution role": "#nb-role-error",
    "lifecycle configuration": "#nb-lc-error",
    "idle minutes": "#nb-lc-error",
    "subnet": "#nb-subnet-error",
    "security groups": "#nb-sgs-error",
    "internet access": "#nb-vpc-error",
}
_FIELD_OF = {
    "nb-name": ("name",),
    "nb-type": ("instance type",),
    "nb-volume": ("volume size",),
    "nb-platform": ("platform",),
    "nb-lifecycle": ("lifecycle configuration", "idle minutes"),
    "nb-idle": ("idle minutes",),
    "nb-subnet": ("subnet", "security groups", "internet access"),
    "nb-sgs": ("subnet", "security groups", "internet access"),
    "nb-internet": ("subnet", "security groups", "internet access"),
}
"""The rules a change of each widget may break or mend: checked as it changes."""
_FOCUS = {
    "name": "#nb-name",
    "instance type": "#nb-type",
    "volume size": "#nb-volume",
    "platform": "#nb-platform",
    "execution role": "#nb-role-btn",
    "lifecycle configuration": "#nb-lifecycle",
    "idle minutes": "#nb-idle",
    "subnet": "#nb-subnet",
    "security groups": "#nb-sgs",
    "internet access": "#nb-internet",
}


@dataclass(frozen=True)
class FormResult:
    spec: nb.NotebookSpec
    role: RoleChoice

    @property
    def role_spec(self) -> RoleSpec | None:
        return self.role.new


LIFECYCLE_CONFIGS: Work[list[str]] = Work("notebook: list lifecycle configurations")


class NotebookForm(Dialog[FormResult | None]):
    CSS_PATH = "notebook.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Review plan"),
        Binding("ctrl+r", "pick_role", "Choose role"),
    ]

    def __init__(
        self,
        factory: Any,
        account: str,
        region: str,
        bucket: str,
        stamp: str,
        initial: FormResult | None = None,
        role: RoleChoice | None = None,
    ) -> None:
        super().__init__()
        self.factory = factory
        self.aws_account = account
        self.aws_region = region
        self.bucket = bucket
        self.stamp = stamp
        self.initial = initial
        self.role: RoleChoice | None = initial.role if initial else role
        # The rules whose fields the person changed: checked at each change (every rule after a submit).
        self.touched: set[str] = set(_ERROR_LINE) if initial else set()

    # -- layout --------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        spec = self.initial.spec if self.initial else None
        types = [
            (f"{o.instance_type:<16} {_short_price(o)}", o.instance_type)
            for o in nb.type_options(self.aws_region)
        ]
        platforms = [(p.label(), p.id) for p in nb.PLATFORMS]
        with Vertical(classes="dialog", id="nb-form-dialog"):
            yield Static("Create a notebook instance", classes="step-title")
            with VerticalScroll(id="nb-form-fields"):
                with Horizontal(classes="row"):
                    yield Label("Name", classes="field-label")
                    yield Input(
                        compact=True,
                        value=spec.name if spec else "",
                        placeholder="e.g. my-notebook",
                        id="nb-name",
                    )
                yield Static("", id="nb-name-error", classes="field-error")
                with Horizontal(classes="row"):
                    yield Label("Instance type", classes="field-label")
                    yield Select(types, compact=True, value=spec.instance_type if spec else nb.DEFAULT_TYPE, allow_blank=False,
                                 id="nb-type")  # fmt: skip
                yield Static("", id="nb-type-note", classes="hint")
                yield Static("", id="nb-type-error", classes="field-error")
                with Horizontal(classes="row"):
                    yield Label("Volume (GB)", classes="field-label")
                    yield Input(
                        compact=True,
                        value=str(spec.volume_gb if spec else nb.DEFAULT_VOLUME_GB),
                        id="nb-volume",
                    )
                yield Static("", id="nb-volume-error", classes="field-error")
                with Horizontal(classes="row"):
                    yield Label("Platform", classes="field-label")
                    yield Select(platforms, compact=True, value=spec.platform if spec else nb.DEFAULT_PLATFORM, allow_blank=False,
                                 id="nb-platform")  # fmt: skip
                yield Static("", id="nb-platform-warning", classes="warning-text")
                with Horizontal(classes="row"):
                    yield Label("Lifecycle", classes="field-label")
                    yield Select(
                        self._lc_options([]),
                        compact=True,
                        value=self._initial_lc(),
                        allow_blank=False,
                        id="nb-lifecycle",
                    )
                with Horizontal(classes="row", id="nb-idle-row"):
                    yield Label("Idle minutes", classes="field-label")
                    yield Input(
                        compact=True,
                        value=str((spec.idle_minutes if spec else None) or DEFAULT_IDLE_MINUTES),
                        id="nb-idle",
                    )
                yield Static("", id="nb-lc-note", classes="hint")
                yield Static("", id="nb-lc-error", classes="field-error")
                with Horizontal(classes="row"):
                    yield Label("VPC subnet", classes="field-label")
                    yield Input(compact=True, value=(spec.subnet_id or "") if spec else "", placeholder="optional, subnet-…",
                                id="nb-subnet")  # fmt: skip
                yield Static("", id="nb-subnet-error", classes="field-error")
                with Horizontal(classes="row"):
                    yield Label("Security groups", classes="field-label")
                    yield Input(compact=True, value=",".join(spec.security_group_ids) if spec else "",
                                placeholder="with a subnet: sg-…, comma separated", id="nb-sgs")  # fmt: skip
                yield Static("", id="nb-sgs-error", classes="field-error")
                with Horizontal(classes="row"):
                    yield Label("Internet", classes="field-label")
                    yield Checkbox("Direct internet access", compact=True, value=spec.direct_internet_access if spec else True,
                                   id="nb-internet")  # fmt: skip
                yield Static("", id="nb-vpc-error", classes="field-error")
                with Horizontal(classes="row"):
                    yield Label("Execution role", classes="field-label")
                    yield Static(self._role_text(), id="nb-role")
                with Horizontal(classes="row"):
                    yield Label("", classes="field-label")
                    yield Button("Choose or create role (ctrl+r)", id="nb-role-btn")
                yield Static("", id="nb-role-error", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Review plan (ctrl+s)", id="nb-submit", variant="primary")
                yield Button("Cancel (esc)", id="nb-cancel")

    def _initial_lc(self) -> str:
        spec = self.initial.spec if self.initial else None
        if spec is None:
            return NO_LC
        if spec.idle_minutes is not None:
            return IDLE_LC
        return f"lc:{spec.lifecycle_config}" if spec.lifecycle_config else NO_LC

    def _lc_options(self, names: list[str]) -> list[tuple[str, str]]:
        opts = [("None", NO_LC), ("Idle auto-stop (sagewiz creates it)", IDLE_LC)]
        return opts + [(f"Existing: {n}", f"lc:{n}") for n in names]

    def on_mount(self) -> None:
        for line in set(_ERROR_LINE.values()) - {"#nb-platform-warning"}:
            _line(self, line, "")
        self._type_changed()
        self._platform_changed()
        self._lc_changed()
        self.query_one("#nb-name", Input).focus()
        if self.factory is not None:
            self._load_lifecycle_configs()

    @work(
        thread=True,
        exclusive=True,
        group="nb-form-lc",
        exit_on_error=False,
        description="list lifecycle configs",
    )
    def _load_lifecycle_configs(self) -> None:
        try:
            names = list_lifecycle_configs(self.factory)
        except SagewizError:
            return  # the list is a convenience; the form works without it
        self.post_message(LIFECYCLE_CONFIGS.done(names))

    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(LIFECYCLE_CONFIGS.to(self._lifecycle_configs_read))

    def _lifecycle_configs_read(self, names: list[str]) -> None:
        sel = self.query_one("#nb-lifecycle", Select)
        current = sel.value
        sel.set_options(self._lc_options(names))
        valid = {v for _, v in self._lc_options(names)}
        sel.value = current if current in valid else NO_LC

    # -- live feedback ---------------------------------------------------------------------------------
    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _changed(self, event: Input.Changed | Select.Changed | Checkbox.Changed) -> None:
        widget_id = event.control.id or "" if event.control is not None else ""
        fields = _FIELD_OF.get(widget_id, ())
        if not fields:
            return
        if not (isinstance(event, Input.Changed) and not event.value and widget_id == "nb-name"):
            self.touched.update(fields)
        self._show_problems(self.collect()[1], only=self.touched)

    def _show_problems(
        self, errors: list[ValidationError], only: set[str] | None = None
    ) -> dict[str, list[str]]:
        """Each rule's message under its own field; a line whose rules now hold is cleared."""
        lines = {
            line
            for field, line in _ERROR_LINE.items()
            if line != "#nb-platform-warning" and (only is None or field in only)
        }
        shown: dict[str, list[str]] = {}
        for err in errors:
            if only is not None and err.field not in only:
                continue
            line = _ERROR_LINE.get(err.field, "#nb-name-error")
            text = err.message + (f" {hint}" if (hint := err.advice(Face.TUI)) else "")
            shown.setdefault(line, []).append(text)
        for line in lines - set(shown):
            _line(self, line, "")
        for line, texts in shown.items():
            _line(self, line, "\n".join(texts), "bold red")
        return shown

    @on(Select.Changed, "#nb-type")
    def _type_changed(self) -> None:
        itype = str(self.query_one("#nb-type", Select).value)
        _line(self, "#nb-type-note", f"Cost: {notebook_price(itype, self.aws_region).label()}")

    @on(Select.Changed, "#nb-platform")
    def _platform_changed(self) -> None:
        warning = nb.platform_warning(str(self.query_one("#nb-platform", Select).value))
        _line(self, "#nb-platform-warning", f"Warning: {warning}" if warning else "")

    @on(Select.Changed, "#nb-lifecycle")
    def _lc_changed(self) -> None:
        value = str(self.query_one("#nb-lifecycle", Select).value)
        self.query_one("#nb-idle-row").display = value == IDLE_LC
        note = ""
        if value == IDLE_LC:
            note = (
                "An on-start script checks Jupyter every 5 minutes and stops the instance after this many "
                "idle minutes. It runs as the execution role, which needs sagemaker:StopNotebookInstance "
                "(a new role from sagewiz gets it)."
            )
        _line(self, "#nb-lc-note", note)

    def _role_text(self) -> Text:
        if self.role is None:
            return Text("(none chosen)", style="dim")
        return Text(self.role.label())

    # -- role -------------------------------------------------------------------------------------------
    def action_pick_role(self) -> None:
        def chosen(choice: RoleChoice | None) -> None:
            if choice is not None:
                self.role = choice
                self.query_one("#nb-role", Static).update(self._role_text())
                _line(self, "#nb-role-error", "")
                self.query_one("#nb-submit", Button).focus()

        self.app.push_screen(
            RolePicker(self.factory, self.aws_account, self.aws_region, self.bucket, self.stamp), chosen
        )

    # -- submit ---------------------------------------------------------------------------------------------
    def collect(self) -> tuple[nb.NotebookSpec | None, list[ValidationError]]:
        """The spec the form describes, and every rule it breaks (no AWS call)."""
        errors: list[ValidationError] = []
        volume_text = self.query_one("#nb-volume", Input).value.strip()
        try:
            volume = int(volume_text)
        except ValueError:
            errors.append(ValidationError("volume size", f"{volume_text!r} is not a whole number of GB."))
            volume = nb.DEFAULT_VOLUME_GB
        lc_value = str(self.query_one("#nb-lifecycle", Select).value)
        idle: int | None = None
        if lc_value == IDLE_LC:
            idle_text = self.query_one("#nb-idle", Input).value.strip()
            try:
                idle = int(idle_text)
            except ValueError:
                errors.append(
                    ValidationError("idle minutes", f"{idle_text!r} is not a whole number of minutes.")
                )
                idle = DEFAULT_IDLE_MINUTES
        sgs = tuple(s.strip() for s in self.query_one("#nb-sgs", Input).value.split(",") if s.strip())
        spec = nb.NotebookSpec(
            name=self.query_one("#nb-name", Input).value.strip(),
            role_arn=self.role.arn if self.role else "",
            instance_type=str(self.query_one("#nb-type", Select).value),
            volume_gb=volume,
            platform=str(self.query_one("#nb-platform", Select).value),
            lifecycle_config=lc_value[3:] if lc_value.startswith("lc:") else None,
            idle_minutes=idle,
            subnet_id=self.query_one("#nb-subnet", Input).value.strip() or None,
            security_group_ids=sgs,
            direct_internet_access=self.query_one("#nb-internet", Checkbox).value,
        )
        seen = {e.field for e in errors}
        errors += [e for e in nb.validate_spec(spec) if e.field not in seen]
        return spec, errors

    def action_submit(self) -> None:
        spec, errors = self.collect()
        self.touched = set(_ERROR_LINE)  # from now on every rule is checked as fields change
        self._show_problems(errors)
        self._platform_changed()
        if errors:
            self.query_one(_FOCUS.get(errors[0].field, "#nb-name")).focus()
            self.notify(
                f"{len(errors)} problem(s) to fix before anything is sent to AWS.",
                severity="error",
                markup=False,
            )
            return
        assert spec is not None and self.role is not None
        role = self.role
        if role.new is not None:
            # Let the idle auto-stop script stop this notebook (and nothing else).
            role = replace(
                role, new=replace(role.new, autostop_notebook=spec.name if spec.idle_minutes else None)
            )
        self.dismiss(FormResult(spec, role))

    @on(Input.Submitted)
    def _enter(self) -> None:
        self.action_submit()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        if event.button.id == "nb-submit":
            self.action_submit()
        elif event.button.id == "nb-role-btn":
            self.action_pick_role()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _line(screen: Dialog[Any], selector: str, text: str | Text, style: str = "") -> None:
    """Set a note/error line; it takes no room while empty."""
    widget = screen.query_one(selector, Static)
    widget.update(Text(text, style=style) if isinstance(text, str) else text)
    widget.display = bool(str(text))


def _short_price(option: nb.TypeOption) -> str:
    p = option.price.usd_per_hour
    return f"~${p:.3f}/h" if p is not None else "no price listed"
