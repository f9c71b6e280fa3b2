"""The Connect step's form for real accounts: profile, region and endpoint."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from services.profiles import list_profiles
from services.regions import known_regions, region_problem
from services.session import AwsTarget

DEFAULT_CHAIN = "__default_chain__"


class ConnectForm(Vertical):
    def compose(self) -> ComposeResult:
        yield Static("Choose how to reach AWS", classes="section")
        with Horizontal(classes="row"):
            yield Label("Profile", classes="field-label")
            yield Select[str](
                [("(default credential chain)", DEFAULT_CHAIN)], id="profile", allow_blank=False
            )
        yield Static("", id="profile-hint", classes="hint")
        with Horizontal(classes="row"):
            yield Label("Region", classes="field-label")
            yield Select[str]([(r, r) for r in known_regions()], id="region", prompt="(from the profile)")
        with Horizontal(classes="row"):
            yield Label("Endpoint", classes="field-label")
            yield Input(placeholder="optional, e.g. http://127.0.0.1:5000 (AWS_ENDPOINT_URL)", id="endpoint")
        yield Static("", id="endpoint-error", classes="field-error")
        with Horizontal(classes="row buttons-row"):
            yield Button("Connect (c)", id="connect", variant="primary")
            yield Button("Use the sandbox", id="use-sandbox")

    def on_mount(self) -> None:
        app: Any = self.app
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
        if app.target.region in known_regions():
            region.value = app.target.region
        if app.target.endpoint_url:
            self.query_one("#endpoint", Input).value = app.target.endpoint_url

    def target(self) -> AwsTarget | None:
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
