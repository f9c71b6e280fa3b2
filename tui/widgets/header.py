"""The header on every screen: who, where, and whether it is the sandbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from tui.context import wizard_of

if TYPE_CHECKING:
    from services.session import Identity


def format_endpoint(url: str) -> str:
    """How an endpoint is shown (tests pin the sandbox's per-process port through this)."""
    return url.removeprefix("https://").removeprefix("http://")


class AwsHeader(Horizontal):
    """Account, region, caller ARN and endpoint, read from the App's identity."""

    def compose(self) -> ComposeResult:
        yield Static("sagewiz", id="hdr-title")
        yield Static("SANDBOX", id="hdr-sandbox")
        yield Static("", id="hdr-identity")
        yield Static("", id="hdr-cost")

    def on_mount(self) -> None:
        self.watch(self.app, "identity", self._show, init=True)
        self.watch(self.app, "connecting", self._show_connecting, init=False)
        self.watch(self.app, "cost_line", self._show_cost, init=True)

    def _show_connecting(self, connecting: bool) -> None:
        self._show(wizard_of(self.app).identity)

    def _show_cost(self, line: str) -> None:
        self.query_one("#hdr-cost", Static).update(Text(line or ""))

    def _show(self, identity: Identity | None) -> None:
        app = wizard_of(self.app)
        sandbox = app.sandbox
        badge = self.query_one("#hdr-sandbox", Static)
        badge.display = sandbox
        origin = ""
        world = app.world
        if sandbox and identity is not None and world is not None:
            origin = world.origin()
        badge.update("SANDBOX" + (f" · {origin}" if origin else ""))
        text = Text()
        if identity is None:
            if app.connecting:
                text.append("connecting…", style="italic")
            else:
                text.append("not connected", style="italic")
            if app.target.region:
                text.append(f"   region {app.target.region}")
        else:
            text.append(identity.account, style="bold")
            text.append(" · ", style="dim")
            text.append(identity.region, style="bold")
            text.append(" · ", style="dim")
            text.append(identity.arn)
            text.append(" · ", style="dim")
            text.append(format_endpoint(identity.endpoint))
        self.query_one("#hdr-identity", Static).update(text)
