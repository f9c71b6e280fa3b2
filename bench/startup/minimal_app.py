"""The baseline: a minimal Textual app showing one static screen (exits once painted)."""

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static


class Minimal(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Hello from a minimal Textual app")
        yield Footer()

    def on_mount(self) -> None:
        self.call_after_refresh(self._ready)

    def _ready(self) -> None:
        import os
        import time

        with open(os.environ["SAGEWIZ_EXIT_WHEN_READY"], "w") as f:
            f.write(f"{time.time()}\n")
        self.exit()


if __name__ == "__main__":
    Minimal().run()
