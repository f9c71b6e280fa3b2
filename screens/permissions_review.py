"""Review one proposed policy change: why, what was checked, and the highlighted diff."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from tui.dialog import Dialog
from tui.widgets.diff_view import DiffView


class FixReviewScreen(Dialog[bool]):
    """Returns True when the user wants to go on to the confirmation."""

    CSS_PATH = "permissions.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("a", "apply", "Apply…")]

    def __init__(self, change: Any) -> None:
        super().__init__()
        self.change = change

    def compose(self) -> ComposeResult:
        c = self.change
        with Vertical(classes="dialog", id="review-dialog"):
            yield Static(Text(c.title, style="bold"), id="review-title")
            yield Static(Text(f"Target: {c.target.describe()}"), id="review-target", classes="hint")
            yield Static(Text(c.reason), id="review-reason")
            if c.checks:
                yield Static(Text("Checked: " + " · ".join(c.checks), style="green"), id="review-checks")
            for w in c.warnings:
                yield Static(Text(w, style="yellow"), classes="review-warning")
            with VerticalScroll(id="review-diff-box"):
                yield DiffView(c.diff, id="review-diff")
            with Horizontal(classes="buttons"):
                yield Button("Apply… (a)", id="review-apply", variant="warning")
                yield Button("Cancel (esc)", id="review-cancel")

    def on_mount(self) -> None:
        self.query_one("#review-cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "review-apply")

    def action_apply(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
