"""g : pick a step from the list."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.dialog import Dialog
from tui.steps import STEPS


class StepPicker(Dialog[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Go to step", classes="step-title")
            options = [Option(f"{n % 10}  {s.title} — {s.summary}", id=s.id) for n, s in enumerate(STEPS, 1)]
            yield OptionList(*options, id="step-options")

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        ol.highlighted = [s.id for s in STEPS].index(self.current)
        ol.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
