"""What screens and widgets may ask of the App: the connection, the wizard's state, the journal, navigation.

Screens and widgets sit below the App in the import layers (they never import `tui.app`), so they
reach it through this protocol. `tui.app` checks, for the type checker, that SagewizApp satisfies it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from textual.app import App

    from services.denied import DeniedCall
    from services.errors import ErrorInfo
    from services.journal import Journal
    from services.sandbox.world import SandboxWorld
    from services.session import AwsTarget, Identity, SessionFactory
    from services.state import WizardState
    from tui.messages import ConnectFailed
    from tui.steps import StepState


class Wizard(Protocol):
    @property
    def target(self) -> AwsTarget: ...
    @property
    def sandbox(self) -> bool: ...
    @property
    def world(self) -> SandboxWorld | None: ...
    @property
    def journal(self) -> Journal: ...
    @property
    def state(self) -> WizardState: ...
    @property
    def factory(self) -> SessionFactory | None: ...
    @property
    def identity(self) -> Identity | None: ...
    @property
    def connecting(self) -> bool: ...
    @property
    def connect_problem(self) -> ConnectFailed | None: ...
    @property
    def step_states(self) -> dict[str, StepState]: ...
    @property
    def kept(self) -> dict[str, object]: ...

    def reconnect(self, target: AwsTarget | None = None, *, sandbox: bool | None = None) -> None: ...
    def action_goto(self, step_id: str) -> None: ...
    def set_step_state(self, step_id: str, state: StepState) -> None: ...
    def show_error(self, error: ErrorInfo | BaseException, denied: DeniedCall | None = None) -> None: ...
    def open_doctor(self, denied: DeniedCall | None) -> None: ...
    def take_pending_doctor(self) -> DeniedCall | None: ...


def wizard_of(app: App[Any]) -> Wizard:
    """The running App as the wizard; every screen and widget runs inside SagewizApp."""
    return cast("Wizard", app)
