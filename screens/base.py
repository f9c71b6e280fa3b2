"""The base of every step screen: header, step bar, body, footer, and access to the App's context."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer

from services.errors import ConnectError
from tui.context import Wizard, wizard_of
from tui.focus import FocusScreen
from tui.steps import StepState
from tui.widgets.header import AwsHeader
from tui.widgets.stepbar import StepBar

if TYPE_CHECKING:
    from services.flow.context import FlowContext
    from services.journal import Journal
    from services.session import Identity, SessionFactory
    from services.state import WizardState


class StepScreen(FocusScreen[Any]):
    """Subclasses set STEP_ID and implement compose_body()."""

    STEP_ID: ClassVar[str] = ""
    BODY_SCROLLS: ClassVar[bool] = True
    # The App's ? and q, declared again here so the footer lists them first: a narrow footer is
    # cut on the right, and these two must stay (the help lists them under "Everywhere").
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "app.help", "Help", key_display="?"),
        Binding("q", "app.quit", "Quit", tooltip="Running AWS jobs keep running; sagewiz can reattach."),
        # Shown (first) only while a text field has focus; the App's priority binding does it.
        Binding("escape", "app.leave_field", "Leave field"),
    ]

    def compose(self) -> ComposeResult:
        yield AwsHeader()
        with Horizontal(id="step-main"):
            yield StepBar(current=self.STEP_ID)
            body = VerticalScroll(id="step-body") if self.BODY_SCROLLS else Vertical(id="step-body")
            with body:
                yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    # -- the App's context --------------------------------------------------------------------
    @property
    def wizard(self) -> Wizard:
        return wizard_of(self.app)

    @property
    def factory(self) -> SessionFactory | None:
        return self.wizard.factory

    @property
    def identity(self) -> Identity | None:
        return self.wizard.identity

    @property
    def connection(self) -> tuple[SessionFactory, Identity]:
        """The connection, for workers that run only once connected; raises a person's error if it is gone."""
        factory, identity = self.wizard.factory, self.wizard.identity
        if factory is None or identity is None:
            raise ConnectError(
                "not-connected", "Not connected", "The AWS connection is not made yet.", "Go to Connect (1)."
            )
        return factory, identity

    @property
    def flow_context(self) -> FlowContext:
        """What services.flow's steps need, for plans built from this screen's choices."""
        from services.flow.context import FlowContext

        factory, identity = self.connection
        return FlowContext(
            factory=factory,
            account=identity.account,
            region=identity.region,
            journal=self.journal,
            caller_arn=identity.arn,
            sandbox=identity.sandbox,
            world=self.wizard.world,
        )

    @property
    def state(self) -> WizardState:
        return self.wizard.state

    @property
    def journal(self) -> Journal:
        return self.wizard.journal

    def mark(self, state: StepState, step_id: str = "") -> None:
        """Tell the App this step's mark (or `step_id`'s), computed by services.flow.marks."""
        from tui.messages import StepMarked

        self.app.post_message(StepMarked(step_id or self.STEP_ID, state))

    def on_identity_ready(self, callback: Any) -> None:
        """Call `callback(identity)` now if connected, else as soon as the connection is made."""

        def connected(identity: Identity | None) -> None:
            if identity is not None:
                callback(identity)

        self.watch(self.app, "identity", connected, init=True)
