"""? : every key of the current screen and of the App, read from their bindings.

Nothing here names a key: the rows come from the live bindings of the screen below (the keys its
`check_action` allows now) and of the App, so a binding added, changed or removed shows here at
once. A binding's `tooltip`, when it has one, is the longer explanation shown beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Static

from tui.dialog import Dialog


@dataclass(frozen=True)
class HelpRow:
    keys: str  # every key of one binding, as the footer shows them: "escape / q"
    description: str
    tooltip: str


def help_rows(screen: Screen[object]) -> tuple[list[HelpRow], list[HelpRow]]:
    """The screen's own keys and the App's keys, each in declaration order, one row a binding."""
    app = screen.app
    rows: dict[DOMNode, dict[int, tuple[Binding, list[str]]]] = {screen: {}, app: {}}
    for active in screen.active_bindings.values():
        if not _listed(active) or active.node not in rows:
            continue  # a focused widget's own keys (an Input's cursor keys) are the widget's business
        # A screen's "app.…" binding is the App's key, repeated on the screen to be listed first.
        node = app if active.binding.action.startswith("app.") else active.node
        by_binding = rows[node]
        binding, keys = by_binding.setdefault(id(active.binding), (active.binding, []))
        keys.append(app.get_key_display(binding))

    def as_rows(node: DOMNode) -> list[HelpRow]:
        return [
            HelpRow(" / ".join(keys), binding.description, binding.tooltip)
            for binding, keys in rows[node].values()
        ]

    return as_rows(screen), as_rows(app)


def _listed(active: ActiveBinding) -> bool:
    # A binding without a description has nothing to tell (Textual's own ctrl+c, for one).
    return bool(active.binding.description)


class HelpScreen(Dialog[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def __init__(self, below: Screen[object]) -> None:
        super().__init__()
        self.below = below

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="help-dialog"):
            yield Static("Keys", classes="step-title")
            yield Static(self._table())

    def _table(self) -> Table:
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        screen_rows, app_rows = help_rows(self.below)
        for heading, rows in (("This screen", screen_rows), ("Everywhere", app_rows)):
            if not rows:
                continue
            table.add_row(Text(heading, style="bold"), "")
            for row in rows:
                text = Text(row.description)
                if row.tooltip:
                    text.append(f"  {row.tooltip}", style="dim")
                table.add_row(row.keys, text)
        return table
