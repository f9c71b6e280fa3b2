"""A connection problem on a screen of its own: what happened and exactly what to do next."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Static

from services.errors import ErrorInfo
from services.remedy import Face
from services.terminal_text import safe
from tui.context import Wizard, wizard_of
from tui.focus import FocusScreen
from tui.widgets.header import AwsHeader

TITLES = {
    "no-credentials": "No AWS credentials found",
    "sso-expired": "Your SSO sign-in has expired",
    "invalid-credentials": "The AWS credentials were refused",
    "expired-credentials": "The AWS credentials have expired",
    "unknown-profile": "Unknown AWS profile",
    "invalid-region": "Invalid region name",
    "no-region": "No region set",
    "endpoint-unreachable": "The endpoint refuses connections",
}


class ConnectProblemScreen(FocusScreen[None]):
    CSS_PATH = "connect_problem.tcss"
    BINDINGS = [
        Binding("r", "retry", "Retry"),
        Binding("p", "change", "Change profile/region"),
        Binding("s", "sandbox", "Use the sandbox"),
        Binding("q", "app.quit", "Quit"),
    ]

    @property
    def wizard(self) -> Wizard:
        return wizard_of(self.app)

    def __init__(self, reason: str, error: ErrorInfo) -> None:
        super().__init__()
        self.reason = reason
        self.error = error

    def compose(self) -> ComposeResult:
        yield AwsHeader()
        with Vertical(id="problem"):
            yield Static(Text(TITLES.get(self.reason, self.error.title)), id="problem-title")
            yield Static(Text(safe(self.error.message, 4000)), id="problem-message")
            yield Static("What to do next", classes="section")
            yield Static(Text(safe(self.error.advice(Face.TUI), 2000)), id="problem-hint")
            if self.reason == "no-credentials":
                yield Static(
                    "No account yet, or just looking? The sandbox runs the whole flow against an embedded "
                    "AWS emulator on this machine: press s.",
                    classes="hint",
                )
            with Horizontal(id="problem-buttons"):
                yield Button("Retry (r)", id="retry", variant="primary")
                yield Button("Change profile or region (p)", id="change")
                yield Button("Use the sandbox (s)", id="sandbox")
                yield Button("Quit (q)", id="quit", variant="error")
        yield Footer()

    def action_retry(self) -> None:
        self.app.pop_screen()
        self.wizard.reconnect()

    def action_change(self) -> None:
        self.app.pop_screen()
        self.wizard.action_goto("connect")

    def action_sandbox(self) -> None:
        from services.session import AwsTarget

        self.app.pop_screen()
        self.wizard.action_goto("connect")
        self.wizard.reconnect(AwsTarget(sandbox=True), sandbox=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"retry": self.action_retry, "change": self.action_change, "sandbox": self.action_sandbox}
        if event.button.id == "quit":
            self.app.exit(2)
        elif event.button.id in actions:
            actions[event.button.id]()
