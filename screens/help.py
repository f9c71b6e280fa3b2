"""? : every key of the App and of the current screen."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.steps import STEPS


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="help-dialog"):
            yield Static("Keys", classes="step-title")
            yield Static(self._table())

    def _table(self) -> Table:
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        below = self.app.screen_stack[-2] if len(self.app.screen_stack) > 1 else None
        if below is not None:
            for b in getattr(below, "BINDINGS", []):
                if isinstance(b, Binding) and b.show:
                    table.add_row(b.key_display or b.key, b.description)
        table.add_row("n / b", "next step / back")
        table.add_row("g", "go to a step (list)")
        table.add_row(
            "1 … 9, 0", "jump to step " + ", ".join(f"{(n % 10)} {s.title}" for n, s in enumerate(STEPS, 1))
        )
        table.add_row("ctrl+p", "command palette: every step, theme, quit …")
        table.add_row("tab / shift+tab", "move between fields and buttons")
        table.add_row("?", "this help")
        table.add_row("q", "quit (running AWS jobs keep running; sagewiz can reattach)")
        return table
