"""The step bar: every step of the flow with its state; click or press its number to jump."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widget import Widget

from tui.context import wizard_of
from tui.steps import STEPS, StepState

GLYPH = {StepState.NOT_STARTED: "○", StepState.ATTENTION: "!", StepState.DONE: "✓"}
STYLE = {StepState.NOT_STARTED: "dim", StepState.ATTENTION: "bold yellow", StepState.DONE: "bold green"}


class StepBar(Widget):
    can_focus = False

    def __init__(self, current: str, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.current = current

    def on_mount(self) -> None:
        self.watch(self.app, "step_version", self._steps_changed, init=False)

    def _steps_changed(self) -> None:
        self.refresh()

    def render(self) -> Text:
        states = wizard_of(self.app).step_states
        text = Text()
        text.append("Steps\n", style="bold underline")
        for n, info in enumerate(STEPS, start=1):
            state = states.get(info.id, StepState.NOT_STARTED)
            key = str(n % 10)
            line = Text()
            line.append(f" {key} ", style="dim")
            line.append(f"{GLYPH[state]} ", style=STYLE[state])
            line.append(info.title, style="reverse bold" if info.id == self.current else "")
            text.append_text(line)
            text.append("\n")
        text.append("\n")
        text.append("○ not started\n! needs attention\n✓ done", style="dim")
        return text

    async def on_click(self, event: events.Click) -> None:
        index = event.y - 1  # first line is the heading
        if 0 <= index < len(STEPS):
            await self.app.run_action(f"goto('{STEPS[index].id}')")
