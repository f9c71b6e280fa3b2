"""When CreateLabelingJob fails: what happened, that Ground Truth is closed to new customers, and
the way forward (label in the terminal, or the doctor when the role cannot read the files)."""

from __future__ import annotations

import re

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from services.denied import DeniedCall
from services.errors import ErrorInfo
from services.labeling.jobs import CLOSED_NOTICE
from services.remedy import Face
from services.terminal_text import safe
from tui.context import Wizard, wizard_of
from tui.dialog import Dialog

_ROLE_CANNOT_READ = re.compile(r"role (arn:\S+) cannot read the .*? (s3://([^/\s]+)/(\S+?))[:\s]")


def denied_call(error: ErrorInfo) -> DeniedCall | None:
    """A DeniedCall for the doctor when the failure is the role being refused an S3 object."""
    m = _ROLE_CANNOT_READ.search(error.message + " ")
    if m:
        return DeniedCall(error_text=error.message, principal_arn=m.group(1), action="s3:GetObject",
                          bucket=m.group(3), key=m.group(4), operation="CreateLabelingJob", source_step="labels")  # fmt: skip
    if error.kind == "access-denied":
        return DeniedCall(error_text=error.details.get("raw") or error.message, operation=error.operation,
                          source_step="labels")  # fmt: skip
    return None


class CreateFailedScreen(Dialog[str | None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Back"),
        Binding("t", "choose('terminal')", "Label in the terminal"),
        Binding("d", "doctor", "Open doctor"),
    ]

    @property
    def wizard(self) -> Wizard:
        return wizard_of(self.app)

    def __init__(self, error: ErrorInfo, spec: object | None = None) -> None:
        super().__init__()
        self.error = error
        self.spec = spec
        self.denied = denied_call(error)

    def compose(self) -> ComposeResult:
        err = self.error
        with Vertical(classes="dialog", id="create-failed"):
            yield Static(Text("The labeling job was not created"), classes="step-title error-text")
            yield Static(
                Text.assemble((safe(err.title) + ": ", "bold"), safe(err.message)), id="create-failed-message"
            )
            if hint := err.advice(Face.TUI):
                yield Static(Text("What to do: " + hint), classes="hint")
            if self.denied is not None:
                yield Static(Text("The execution role may not read the job's files in S3. The doctor shows "
                                  "which policy is missing and fixes it."), classes="hint")  # fmt: skip
            yield Static(Text(CLOSED_NOTICE), classes="warning-text")
            with Horizontal(classes="buttons"):
                yield Button("Label in the terminal (t)", id="terminal", variant="primary")
                if self.denied is not None:
                    yield Button("Open the doctor (d)", id="doctor")
                yield Button("Back (esc)", id="back")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "doctor":
            return self.denied is not None
        return True

    def action_doctor(self) -> None:
        denied = self.denied
        self.dismiss("doctor")
        if denied is not None:
            self.wizard.open_doctor(denied)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "doctor":
            self.action_doctor()
        else:
            self.dismiss(event.button.id if event.button.id == "terminal" else None)
