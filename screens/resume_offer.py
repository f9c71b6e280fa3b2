"""The offer, on start, to resume the last session: its choices, and the jobs it left running."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from services.resume import ResumeOffer
from tui.dialog import Dialog


class ResumeOfferScreen(Dialog[bool]):
    """Returns True to resume (restore the choices, open the running job's step), False to start fresh."""

    BINDINGS = [Binding("escape", "fresh", "Start fresh"), Binding("r", "resume", "Resume")]
    DEFAULT_CSS = """
    ResumeOfferScreen #resume-lines { height: auto; margin-bottom: 1; }
    ResumeOfferScreen #resume-attach { height: auto; color: $success; }
    ResumeOfferScreen #resume-missing { height: auto; margin-bottom: 1; }
    """

    def __init__(self, offer: ResumeOffer) -> None:
        super().__init__()
        self.offer = offer

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="resume-dialog"):
            yield Static(Text("Resume the last session?", style="bold"))
            yield Static(Text("\n".join(self.offer.summary())), id="resume-lines")
            attach = self.offer.attach_to
            if attach is not None:
                yield Static(
                    Text(
                        f"Resuming re-attaches to {attach.type} {attach.name} ({attach.status}) in its step."
                    ),
                    id="resume-attach",
                )
            if self.offer.missing:
                yield Static(
                    Text(
                        "No longer there (checked just now; not restored):\n"
                        + "\n".join(f"  {line}" for line in self.offer.missing),
                        style="yellow",
                    ),
                    id="resume-missing",
                )
            for warning in self.offer.warnings:
                yield Static(Text(f"could not check: {warning}", style="yellow"))
            with Horizontal(classes="buttons"):
                yield Button("Resume (r)", id="resume", variant="primary")
                yield Button("Start fresh (esc)", id="fresh")

    def on_mount(self) -> None:
        self.query_one("#resume", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "resume")

    def action_resume(self) -> None:
        self.dismiss(True)

    def action_fresh(self) -> None:
        self.dismiss(False)
