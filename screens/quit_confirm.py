"""Asked on `q` while something sagewiz can see still runs and bills: what keeps running, its
hourly cost, and how to re-attach to it or stop it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class QuitConfirmScreen(ModalScreen[bool]):
    """Returns True to quit anyway (it keeps running), False to stay."""

    BINDINGS = [Binding("escape", "stay", "Stay"), Binding("q", "quit_anyway", "Quit anyway")]
    DEFAULT_CSS = """
    QuitConfirmScreen #quit-lines { height: auto; margin: 1 0; }
    """

    def __init__(self, lines: list[str], hourly: float) -> None:
        super().__init__()
        self.lines = lines
        self.hourly = hourly

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="quit-dialog"):
            yield Static(
                Text(
                    f"Still running in AWS, ~${self.hourly:.2f}/h in all (estimate); quitting does not stop it:",
                    style="bold yellow",
                )
            )
            yield Static(Text("\n".join(f"• {line}" for line in self.lines)), id="quit-lines")
            with Horizontal(classes="buttons"):
                yield Button("Quit, leave it running (q)", id="quit", variant="warning")
                yield Button("Stay (esc)", id="stay")

    def on_mount(self) -> None:
        self.query_one("#stay", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "quit")

    def action_stay(self) -> None:
        self.dismiss(False)

    def action_quit_anyway(self) -> None:
        self.dismiss(True)
