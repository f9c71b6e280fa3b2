"""The header on every screen: who, where, and whether it is the sandbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from tui.context import wizard_of
from tui.text_fit import middle_ellipsis

if TYPE_CHECKING:
    from services.session import Identity


def format_endpoint(url: str) -> str:
    """How an endpoint is shown (tests pin the sandbox's per-process port through this)."""
    return url.removeprefix("https://").removeprefix("http://")


def identity_line(identity: Identity, width: int) -> Text:
    """Account · region · caller · endpoint in `width` cells: the endpoint goes first, then the
    caller ARN is shortened in the middle; account and region always stay."""
    sep = " · "
    endpoint = format_endpoint(identity.endpoint)
    fixed = len(identity.account) + len(sep) + len(identity.region) + len(sep)
    show_endpoint = fixed + len(identity.arn) + len(sep) + len(endpoint) <= width
    room = width - fixed - (len(sep) + len(endpoint) if show_endpoint else 0)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(identity.account, style="bold")
    text.append(sep, style="dim")
    text.append(identity.region, style="bold")
    text.append(sep, style="dim")
    text.append(middle_ellipsis(identity.arn, max(room, 12)))
    if show_endpoint:
        text.append(sep, style="dim")
        text.append(endpoint)
    return text


class AwsHeader(Horizontal):
    """Account, region, caller ARN and endpoint, read from the App's identity."""

    def compose(self) -> ComposeResult:
        yield Static("sagewiz", id="hdr-title")
        yield Static("SANDBOX", id="hdr-sandbox")
        # Identity and cost share one widget, so a new cost is a repaint and not a re-layout: a
        # screen beneath a dialog repaints, but its re-layout waited until the dialog closed.
        yield Static("", id="hdr-identity")

    def on_mount(self) -> None:
        self.watch(self.app, "identity", self._show, init=True)
        self.watch(self.app, "connecting", self._show_connecting, init=False)
        self.watch(self.app, "cost_line", self._show_cost, init=True)

    def _show_connecting(self, connecting: bool) -> None:
        self._show(wizard_of(self.app).identity)

    def on_resize(self) -> None:
        self.call_after_refresh(self._show, wizard_of(self.app).identity)

    cost_text = ""

    def _show_cost(self, line: str) -> None:
        self.cost_text = line or ""
        self._show(wizard_of(self.app).identity)

    def _show(self, identity: Identity | None) -> None:
        app = wizard_of(self.app)
        sandbox = app.sandbox
        badge = self.query_one("#hdr-sandbox", Static)
        badge.display = sandbox
        origin = ""
        world = app.world
        if sandbox and identity is not None and world is not None:
            origin = world.origin()
        # The world's origin is a nicety; on a narrow terminal the caller needs the room.
        badge_text = "SANDBOX" + (f" · {origin}" if origin and self.app.size.width >= 140 else "")
        badge.update(badge_text)
        text = Text()
        if identity is None:
            if app.connecting:
                text.append("connecting…", style="italic")
            else:
                text.append("not connected", style="italic")
            if app.target.region:
                text.append(f"   region {app.target.region}")
        else:
            # The room left by the title, the badge and the cost (each padded by one on both sides).
            used = len("sagewiz") + 2 + (len(badge_text) + 2 if sandbox else 0) + len(self.cost_text) + 2
            text = identity_line(identity, max(self.app.size.width - used - 2, 40))
        line = Table.grid(expand=True)
        line.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        line.add_column(justify="right", no_wrap=True, style="dim")
        line.add_row(text, Text(self.cost_text))
        self.query_one("#hdr-identity", Static).update(line)
