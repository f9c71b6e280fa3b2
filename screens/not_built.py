"""Shown for a step that this version does not have yet: says so plainly, pretends nothing."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from screens.base import StepScreen
from tui.steps import StepInfo


class NotBuiltStep(StepScreen):
    def __init__(self, info: StepInfo) -> None:
        super().__init__()
        self.info = info
        self.STEP_ID = info.id  # type: ignore[misc]

    def compose_body(self) -> ComposeResult:
        yield Static(self.info.title, classes="step-title")
        yield Static("This step is not built yet in this version of sagewiz.", id="not-built")
        yield Static(f"When it is, it will: {self.info.summary}", classes="hint")
        yield Static("Press n for the next step, b to go back, or g to pick another step.", classes="hint")
