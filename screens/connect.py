"""Step 1, Connect: profile, region and endpoint; shows who and where sagewiz is talking to."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, LoadingIndicator, Select, Static

import tui.widgets.header as header_module
from screens.base import StepScreen
from services.profiles import list_profiles
from services.regions import KNOWN_REGIONS, region_problem
from services.session import AwsTarget

DEFAULT_CHAIN = "__default_chain__"


class ConnectStep(StepScreen):
    STEP_ID = "connect"
    CSS_PATH = "connect.tcss"
    BINDINGS = [Binding("c", "connect", "Connect"), Binding("r", "connect", "Retry", show=False)]

    def compose_body(self) -> ComposeResult:
        yield Static("Connect", classes="step-title")
        yield LoadingIndicator(id="connect-loading")
        yield Static(id="connect-status")
        if self.wizard.sandbox:
            # The form is for real accounts; the sandbox starts without it (and paints faster).
            yield Static("Press c to reconnect to the sandbox.", classes="hint", id="sandbox-hint")
            return
        with Vertical(id="connect-form"):
            yield Static("Choose how to reach AWS", classes="section")
            with Horizontal(classes="row"):
                yield Label("Profile", classes="field-label")
                yield Select[str](
                    [("(default credential chain)", DEFAULT_CHAIN)], id="profile", allow_blank=False
                )
            yield Static("", id="profile-hint", classes="hint")
            with Horizontal(classes="row"):
                yield Label("Region", classes="field-label")
                yield Select[str]([(r, r) for r in KNOWN_REGIONS], id="region", prompt="(from the profile)")
            with Horizontal(classes="row"):
                yield Label("Endpoint", classes="field-label")
                yield Input(
                    placeholder="optional, e.g. http://127.0.0.1:5000 (AWS_ENDPOINT_URL)", id="endpoint"
                )
            yield Static("", id="endpoint-error", classes="field-error")
            with Horizontal(classes="row buttons-row"):
                yield Button("Connect (c)", id="connect", variant="primary")
                yield Button("Use the sandbox", id="use-sandbox")

    def on_mount(self) -> None:
        if not self.wizard.sandbox:
            self._fill_form()
        self.watch(self.app, "identity", self._refresh_status, init=True)
        self.watch(self.app, "connecting", lambda _c: self._refresh_status(self.wizard.identity), init=False)

    def _fill_form(self) -> None:
        app = self.wizard
        profiles = list_profiles()
        options = [("(default credential chain: environment, default profile, instance role)", DEFAULT_CHAIN)]
        options += [(f"{p.name}  ({p.describe})", p.name) for p in profiles]
        sel = self.query_one("#profile", Select)
        sel.set_options(options)
        names = {p.name for p in profiles}
        if app.target.profile and app.target.profile in names:
            sel.value = app.target.profile
        else:
            sel.value = DEFAULT_CHAIN
        hint = f"{len(profiles)} profile(s) found in the AWS config and credentials files."
        if not profiles:
            hint = "No profiles found in ~/.aws/config or ~/.aws/credentials."
        self.query_one("#profile-hint", Static).update(hint)
        region = self.query_one("#region", Select)
        if app.target.region in KNOWN_REGIONS:
            region.value = app.target.region
        if app.target.endpoint_url:
            self.query_one("#endpoint", Input).value = app.target.endpoint_url

    def _refresh_status(self, identity: object) -> None:
        app = self.wizard
        self.query_one("#connect-loading").display = app.connecting
        status = self.query_one("#connect-status", Static)
        if app.connecting:
            status.update(Text("Starting the embedded AWS and connecting…" if app.sandbox else "Connecting…"))
            return
        if identity is None:
            if app.connect_problem is not None:
                err = app.connect_problem.error
                status.update(
                    Text.assemble((err.title, "bold red"), "\n", err.message, "\n", (err.hint, "dim"))
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
        status.update(Text.assemble(("Connected ✓", "bold green")))
        status.update(table)
        self.set_focus(None)

    def _target_from_form(self) -> AwsTarget | None:
        profile = self.query_one("#profile", Select).value
        region = self.query_one("#region", Select).value
        endpoint = self.query_one("#endpoint", Input).value.strip()
        error = self.query_one("#endpoint-error", Static)
        error.update("")
        if endpoint and not endpoint.startswith(("http://", "https://")):
            error.update("The endpoint must start with http:// or https://, e.g. http://127.0.0.1:5000")
            self.query_one("#endpoint", Input).focus()
            return None
        region_value = region if isinstance(region, str) else None
        if region_value and region_problem(region_value):
            error.update(region_problem(region_value) or "")
            return None
        return AwsTarget(
            profile=None if profile in (DEFAULT_CHAIN, Select.BLANK) else str(profile),
            region=region_value or None,
            endpoint_url=endpoint or None,
        )

    def action_connect(self) -> None:
        if self.wizard.sandbox:
            self.wizard.reconnect(self.wizard.target)
            return
        target = self._target_from_form()
        if target is not None:
            self.wizard.reconnect(target, sandbox=False)

    @on(Button.Pressed, "#connect")
    def _connect_pressed(self) -> None:
        self.action_connect()

    @on(Button.Pressed, "#use-sandbox")
    def _sandbox_pressed(self) -> None:
        self.wizard.reconnect(AwsTarget(sandbox=True), sandbox=True)
        self.query_one("#connect-form").display = False
        self.app.action_goto("connect")  # recompose in sandbox form
