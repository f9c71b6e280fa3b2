"""The base of every dialog: a modal screen that shows its own keys in a footer.

Without it the footer of the screen beneath stays visible and lists keys that do nothing while
the dialog is open. Focus goes back to what opened the dialog when it closes (tui/focus.py).
"""

from __future__ import annotations

from typing import TypeVar

from textual import events, on
from textual.screen import ModalScreen
from textual.widgets import Footer

ResultType = TypeVar("ResultType")


class Dialog(ModalScreen[ResultType]):
    @on(events.Mount)
    def _own_footer(self) -> None:
        self.mount(Footer(id="dialog-footer"))
