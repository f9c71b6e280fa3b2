"""The baseline: a minimal Textual app showing one static screen (quit with ctrl+q)."""

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static


class Minimal(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Hello from a minimal Textual app")
        yield Footer()


if __name__ == "__main__":
    Minimal().run()
