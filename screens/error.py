"""A failure, said for people: what happened, what to do, and the doctor on a 403."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from services.errors import ErrorInfo
from services.remedy import Face
from services.terminal_text import safe
from tui.dialog import Dialog


class ErrorScreen(Dialog[str | None]):
    BINDINGS = [Binding("escape,enter", "dismiss(None)", "Close"), Binding("d", "doctor", "Open doctor")]

    def __init__(self, error: ErrorInfo, offer_doctor: bool = False) -> None:
        super().__init__()
        self.error = error
        self.offer_doctor = offer_doctor

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="error-dialog"):
            # An error's words come from AWS or the user: escaped before they reach the terminal.
            yield Static(Text(safe(self.error.title, 300)), classes="step-title error-text")
            if self.error.message:
                yield Static(Text(safe(self.error.message, 4000)), id="error-message")
            if hint := self.error.advice(Face.TUI):
                yield Static(Text("What to do: " + safe(hint, 2000)), classes="hint", id="error-hint")
            if self.error.code:
                yield Static(Text(f"AWS error code: {safe(self.error.code, 100)}"), classes="hint")
            with Horizontal(classes="buttons"):
                if self.offer_doctor:
                    yield Button("Open the doctor (d)", id="doctor", variant="primary")
                yield Button("Close", id="close")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "doctor":
            return self.offer_doctor
        return True

    def action_doctor(self) -> None:
        self.dismiss("doctor")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss("doctor" if event.button.id == "doctor" else None)
