"""Step 1, Connect: profile, region and endpoint; shows who and where sagewiz is talking to."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

import tui.widgets.header as header_module
from screens.base import StepScreen
from services.remedy import Face
from services.session import AwsTarget


class ConnectStep(StepScreen):
    STEP_ID = "connect"
    CSS_PATH = "connect.tcss"
    BINDINGS = [Binding("c", "connect", "Connect"), Binding("r", "connect", "Retry", show=False)]

    def compose_body(self) -> ComposeResult:
        yield Static("Connect", classes="step-title")
        yield Static(id="connect-status")
        if self.wizard.sandbox:
            # The form is for real accounts; the sandbox starts without it (and paints faster).
            yield Static("Press c to reconnect to the sandbox.", classes="hint", id="sandbox-hint")
            return
        # Imported here: the form's widgets are not needed (nor loaded) on the sandbox's first screen.
        from screens.connect_form import ConnectForm

        yield ConnectForm(id="connect-form")

    def on_mount(self) -> None:
        self.watch(self.app, "identity", self._refresh_status, init=True)
        self.watch(self.app, "connecting", lambda _c: self._refresh_status(self.wizard.identity), init=False)

    def _refresh_status(self, identity: object) -> None:
        app = self.wizard
        self._show_spinner(app.connecting)
        status = self.query_one("#connect-status", Static)
        if app.connecting:
            status.update(Text("Starting the embedded AWS and connecting…" if app.sandbox else "Connecting…"))
            return
        if identity is None:
            if app.connect_problem is not None:
                err = app.connect_problem.error
                status.update(
                    Text.assemble(
                        (err.title, "bold red"), "\n", err.message, "\n", (err.advice(Face.TUI), "dim")
                    )
                )
            else:
                status.update("Not connected yet.")
            return
        table = Table(box=None, show_header=False)
        table.add_column(style="dim")
        table.add_column()
        ident = identity
        table.add_row("Account", ident.account)  # type: ignore[attr-defined]
        table.add_row("Caller", ident.arn)  # type: ignore[attr-defined]
        table.add_row("Region", ident.region)  # type: ignore[attr-defined]
        table.add_row("Endpoint", header_module.format_endpoint(ident.endpoint))  # type: ignore[attr-defined]
        table.add_row("Profile", ident.profile or "(default chain)")  # type: ignore[attr-defined]
        if app.sandbox:
            table.add_row(
                "Sandbox",
                Text(
                    "Embedded AWS emulator on this machine. Nothing here reaches a real AWS account. "
                    "It is seeded with the classic broken setup: role SageMaker-tt cannot write the "
                    "default bucket, a bucket policy without /*, Block Public Access on, sample images "
                    "in sagemaker-sample-files.",
                    style="yellow",
                ),
            )
            where = _world_line(app.world)
            if where:
                table.add_row("World", Text(where))
        status.update(Text.assemble(("Connected ✓", "bold green")))
        status.update(table)
        self.set_focus(None)

    def action_connect(self) -> None:
        if self.wizard.sandbox:
            self.wizard.reconnect(self.wizard.target)
            return
        from screens.connect_form import ConnectForm

        target = self.query_one(ConnectForm).target()
        if target is not None:
            self.wizard.reconnect(target, sandbox=False)

    def revisit(self) -> None:
        """The user came back to Connect (the base screen): show the current state, with the form
        only for real accounts (the sandbox may have been switched on or off meanwhile)."""
        has_form = bool(self.query("#connect-form"))
        if has_form == self.wizard.sandbox:
            self.refresh(recompose=True)
        self.call_after_refresh(lambda: self._refresh_status(self.wizard.identity))

    def _show_spinner(self, on: bool) -> None:
        # Mounted only while connecting, so the first screen paints without it.
        spinners = self.query("#connect-loading")
        if on and not spinners:
            from textual.widgets import LoadingIndicator

            self.query_one("#step-body").mount(
                LoadingIndicator(id="connect-loading"), before="#connect-status"
            )
        elif not on:
            spinners.remove()

    def on_button_pressed(self, event: Any) -> None:
        if event.button.id == "connect":
            self.action_connect()
        elif event.button.id == "use-sandbox":
            self.wizard.reconnect(AwsTarget(sandbox=True), sandbox=True)
            self.wizard.action_goto("connect")  # composed again, in its sandbox form


def _world_line(world: Any) -> str:
    """Where the sandbox world lives and whether it was kept from an earlier run."""
    if world is None or not getattr(world, "started_at", ""):
        return ""
    when = world.started_local("%Y-%m-%d %H:%M")
    if world.in_process:
        return f"Fresh world, seeded {when} inside this run; it ends when sagewiz exits."
    kept = (
        f"It keeps running in the background (process {world.pid}) until `sagewiz sandbox stop`; "
        "`sagewiz --sandbox --fresh` seeds a new one."
    )
    if world.resumed:
        return f"Resumed the world seeded {when}: what you did in it is still there. " + kept
    return f"Fresh world, seeded {when}. " + kept
