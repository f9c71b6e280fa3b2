"""The sagewiz App: owns the AWS connection, the wizard state, the journal and step navigation."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from services.errors import ConnectError, ErrorInfo, translate
from services.journal import Journal
from services.journal_events import SessionStarted
from services.session import AwsTarget, Identity, SessionFactory
from services.state import WizardState
from tui.context import Wizard
from tui.focus import FocusScreen, in_full_screen_field
from tui.messages import Connected, ConnectFailed, StatusSeen, StepMarked
from tui.steps import STEP_IDS, STEPS, StepInfo, StepState, load_screen_class, neighbour, step

if TYPE_CHECKING:
    from services.costs import CostSnapshot
    from services.denied import DeniedCall
    from services.sandbox.world import SandboxWorld


class SagewizApp(App[int]):
    TITLE = "sagewiz"
    CSS_PATH = ["theme.tcss"]
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        # Checked before the screen's keys, and only while a text field on a full screen has focus.
        Binding("escape", "leave_field", "Leave field", priority=True),
        Binding("n", "next_step", "Next step"),
        Binding("b", "prev_step", "Back"),
        Binding("g", "pick_step", "Go to"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit", tooltip="Running AWS jobs keep running; sagewiz can reattach."),
        *[
            Binding(str(n % 10), f"goto('{s.id}')", f"Go to {s.title}", show=False)
            for n, s in enumerate(STEPS, 1)
        ],
    ]

    identity: reactive[Identity | None] = reactive(None, always_update=True)
    connecting: reactive[bool] = reactive(False)
    step_version: reactive[int] = reactive(0)
    cost_line: reactive[str] = reactive("")

    def __init__(
        self,
        target: AwsTarget | None = None,
        *,
        sandbox: bool = False,
        world: SandboxWorld | None = None,
        journal: Journal | None = None,
        start_step: str = "connect",
        auto_connect: bool = True,
        fresh: bool = False,
        background_work: bool = False,
    ) -> None:
        """`background_work`: once connected, poll the running cost of what sagewiz started and
        offer to resume the last session. The wizard's command line turns it on; an App made for
        one screen or one scripted check leaves it off, so what it shows depends only on its input."""
        super().__init__()
        # --fresh: the first sandbox connection seeds a new world; later ones reuse it.
        self._fresh_sandbox = fresh
        self.target = target or AwsTarget.from_env()
        self.sandbox = sandbox or self.target.sandbox
        self.world = world
        self.journal = journal or Journal()
        self.state = WizardState(sandbox=self.sandbox)
        self.factory: SessionFactory | None = None
        self.step_states: dict[str, StepState] = {s: StepState.NOT_STARTED for s in STEP_IDS}
        self.current_step = start_step
        # What a step's screen keeps across visits (a step's screen is made anew on each visit):
        # text the person typed or pasted and the last results, keyed by step id.
        self.kept: dict[str, object] = {}
        self.connect_problem: ConnectFailed | None = None
        self._pending_doctor: DeniedCall | None = None  # a failed call handed to the doctor
        self._auto_connect = auto_connect
        self._background_work = background_work
        self._resume_offered = False
        self._cost_nudge = threading.Event()
        self._choices_lock = threading.Lock()
        self._last_choices: dict[str, Any] | None = None
        self.last_costs: CostSnapshot | None = None  # what the header's cost line was read from
        self.exit_summary: list[str] = []  # printed by the command line once the screen is gone
        self.journal.on_append = self._journal_appended

    # -- lifecycle ----------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self.current_step != "connect":
            self.push_screen(self._make_step_screen(step(self.current_step)))
        # Paint the first screen before any AWS work starts competing for the interpreter.
        self.call_after_refresh(self._first_screen_shown)

    def get_default_screen(self) -> Screen[Any]:
        # The Connect step is the base of the screen stack (other steps are pushed over it): no
        # empty default screen is composed and painted first, which cost a third of the start-up.
        return self._make_step_screen(step("connect"))

    def _first_screen_shown(self) -> None:
        if self._auto_connect:
            self.reconnect(self.target)

    # -- connection ---------------------------------------------------------------------------
    def reconnect(self, target: AwsTarget | None = None, *, sandbox: bool | None = None) -> None:
        if target is not None:
            self.target = target
        if sandbox is not None:
            self.sandbox = sandbox
        self.connecting = True
        self.identity = None
        self._connect_worker(self.target, self.sandbox)

    @work(thread=True, exclusive=True, group="connect", exit_on_error=False, description="connect to AWS")
    def _connect_worker(self, target: AwsTarget, sandbox: bool) -> None:
        from services.flow import connect

        fresh = sandbox and target.endpoint_url is None and self._fresh_sandbox
        if fresh:
            self._fresh_sandbox = False  # only the first connection seeds a new world
        try:
            found = connect.inspect(connect.ConnectChoices(target, sandbox, fresh, self.world))
        except ConnectError as exc:
            self.post_message(ConnectFailed(exc.reason, ErrorInfo.of(exc)))
            return
        except Exception as exc:  # anything else still becomes a message, never a traceback
            err = translate(exc, "connect")
            self.post_message(ConnectFailed("aws-error", ErrorInfo.of(err)))
            return
        self.post_message(Connected(found.identity, found.factory, found.world))

    def on_connected(self, message: Connected) -> None:
        self.factory = message.factory
        self.world = message.world
        self.target = message.factory.target
        self.connect_problem = None
        self.connecting = False
        ident: Identity = message.identity
        from services.flow import connect

        connect.record(self.state, ident)
        self.journal.bind(ident.account, ident.region, ident.sandbox)
        try:
            self.journal.append(
                SessionStarted(
                    caller=ident.arn,
                    endpoint=ident.endpoint,
                    sandbox=ident.sandbox,
                    profile=ident.profile or "",
                )
            )
        except OSError as exc:
            self.notify(f"The journal could not be written: {exc}", severity="warning", markup=False)
        for warning in self.journal.read().warnings:
            self.notify(warning, title="Journal", severity="warning", markup=False)
        self.identity = ident
        self.set_step_state("connect", StepState.DONE)
        self._start_running_extras()

    def on_connect_failed(self, message: ConnectFailed) -> None:
        self.connecting = False
        self.connect_problem = message
        self.identity = None
        self.set_step_state("connect", StepState.ATTENTION)
        from screens.connect_problem import ConnectProblemScreen

        self.push_screen(ConnectProblemScreen(message.reason, message.error))

    # -- running cost and resume -----------------------------------------------------------------
    COST_POLL_SECONDS = 60.0

    def _start_running_extras(self) -> None:
        if not self._background_work:
            return
        self._cost_worker()
        self._marks_worker()
        if not self._resume_offered and self.current_step == "connect":
            self._resume_offered = True
            self._resume_worker()

    @work(thread=True, exclusive=True, group="cost", exit_on_error=False, description="running cost")
    def _cost_worker(self) -> None:
        from textual.worker import get_current_worker

        from services.costs import running_costs

        worker = get_current_worker()
        factory = self.factory
        self._choices_tracked = True
        while not worker.is_cancelled and factory is self.factory:
            try:
                snap: CostSnapshot | None = running_costs(factory)
                line = snap.line() if snap is not None else ""
            except Exception:
                snap, line = None, "running cost unknown"
            self._journal_choices()  # for a later session to resume
            try:
                self.call_from_thread(self._costs_read, snap, line)
            except RuntimeError:
                return  # the app has closed
            if self._wait_for_cost_poll(worker):
                self._journal_choices()  # leaving: the last choices too
                return

    def _costs_read(self, snap: CostSnapshot | None, line: str) -> None:
        self.last_costs = snap
        self.cost_line = line

    def nudge_costs(self) -> None:
        """Read the running cost again now: a panel saw a status change."""
        self._cost_nudge.set()

    def on_status_seen(self, _: StatusSeen) -> None:
        self.nudge_costs()

    async def action_quit(self) -> None:
        """Quit; when something still runs and bills, say what, its cost and how to get back to it
        or stop it, and ask first."""
        from services.costs import CommandContext

        snap = self.last_costs
        region = self.identity.region if self.identity is not None else (self.target.region or "")
        where = CommandContext(region, self.target.profile, self.target.endpoint_url, self.sandbox)
        billing = snap.still_billing(where) if snap is not None else []
        if snap is None or not billing:
            self.exit()
            return
        from screens.quit_confirm import QuitConfirmScreen

        def answered(quit_anyway: bool | None) -> None:
            if quit_anyway:
                self.exit_summary = [
                    f"Still running in AWS after sagewiz exits (~${snap.hourly:.2f}/h, estimate, prices of {snap.price_date}):",
                    *(f"  {line}" for line in billing),
                ]
                self.exit()

        self.push_screen(QuitConfirmScreen(billing, snap.hourly), answered)

    def _journal_choices(self) -> None:
        """Journal what changed in the wizard's choices since the last time (any thread)."""
        from services.resume import journal_choices

        with self._choices_lock, contextlib.suppress(OSError, ValueError):
            self._last_choices = journal_choices(self.journal, self.state, self._last_choices)

    def on_unmount(self) -> None:
        # The cost worker's thread may still be winding down when the app closes; write the
        # final choices here, on the way out, so they are in the journal before the process ends.
        if getattr(self, "_choices_tracked", False):
            self._journal_choices()

    def _wait_for_cost_poll(self, worker: Any) -> bool:
        """Wait until the next poll is due, or sooner when the journal says something started,
        stopped or was deleted. True when the worker was cancelled."""
        deadline = time.monotonic() + self.COST_POLL_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            if worker.cancelled_event.wait(min(1.0, left)):
                return True
            if self._cost_nudge.is_set():
                self._cost_nudge.clear()
                return False
        return False

    def _journal_appended(self, entry: Any) -> None:
        if entry.kind in {"resource-created", "resource-deleted", "resource-changed", "job-started"}:
            self._cost_nudge.set()

    @work(thread=True, exclusive=True, group="marks", exit_on_error=False, description="step marks")
    def _marks_worker(self, gone: tuple[str, ...] = ()) -> None:
        """Mark the steps whose resources the state has chosen from what AWS says of them, not only
        from what this session did."""
        from services.flow.marks import marks_for

        factory = self.factory
        if factory is None:
            return
        try:
            found = marks_for(factory, self.state, gone=gone)
        except Exception:
            return  # marks are read again when each step is opened
        for step_id, mark in found.items():
            self.post_message(StepMarked(step_id, mark))

    @work(thread=True, exclusive=True, group="resume", exit_on_error=False, description="resume offer")
    def _resume_worker(self) -> None:
        from services.resume import offer_for

        ident = self.identity
        if ident is None or self.factory is None:
            return
        try:
            offer = offer_for(self.journal, self.factory, ident.account, ident.region, ident.sandbox)
        except Exception:
            return  # an offer is a convenience; never an error on start
        if offer is not None:
            self.call_from_thread(self._offer_resume, offer)

    def _offer_resume(self, offer: Any) -> None:
        from screens.resume_offer import ResumeOfferScreen
        from services.resume import resume

        def answered(wanted: bool | None) -> None:
            if not wanted:
                return
            self.notify(resume(self.state, offer).line(), markup=False)
            self._marks_worker(offer.gone_steps)  # the restored choices' marks, as AWS has them now
            attach = offer.attach_to
            if attach is not None:
                self.action_goto(attach.step)
                # Open the step's live view of that job (train: the job panel, labels: watch).
                live = {"training-job": "action_open_panel", "labeling-job": "action_watch"}.get(attach.type)
                if live:
                    self.call_after_refresh(lambda: getattr(self.screen, live, lambda: None)())

        self.push_screen(ResumeOfferScreen(offer), answered)

    # -- focus (tui/focus.py) ---------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_field":
            return in_full_screen_field(self.screen)
        return True

    def action_leave_field(self) -> None:
        screen = self.screen
        if isinstance(screen, FocusScreen):
            screen.leave_field()
        else:
            screen.set_focus(None)

    # -- steps ----------------------------------------------------------------------------------
    def set_step_state(self, step_id: str, state: StepState) -> None:
        if self.step_states.get(step_id) != state:
            self.step_states[step_id] = state
            self.step_version += 1

    def on_step_marked(self, message: StepMarked) -> None:
        if self.step_states.get(message.step) != message.mark:
            self.nudge_costs()  # a mark changes with a status: what bills may have changed too
        self.set_step_state(message.step, message.mark)

    def _make_step_screen(self, info: StepInfo) -> Screen[Any]:
        return load_screen_class(info)()

    def action_goto(self, step_id: str) -> None:
        if step_id not in STEP_IDS:
            return
        # Modal screens on top (help, pickers) and the current step close; the Connect step is the
        # stack's base, every other step is pushed over it.
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.current_step = step_id
        if step_id == "connect":
            revisit = getattr(self.screen_stack[0], "revisit", None)
            if revisit is not None:
                revisit()
        else:
            self.push_screen(self._make_step_screen(step(step_id)))

    def action_next_step(self) -> None:
        nxt = neighbour(self.current_step, 1)
        if nxt:
            self.action_goto(nxt.id)
        else:
            self.notify("This is the last step.", markup=False)

    def action_prev_step(self) -> None:
        prev = neighbour(self.current_step, -1)
        if prev:
            self.action_goto(prev.id)
        else:
            self.notify("This is the first step.", markup=False)

    def action_pick_step(self) -> None:
        from screens.step_picker import StepPicker

        def chosen(step_id: str | None) -> None:
            if step_id:
                self.action_goto(step_id)

        self.push_screen(StepPicker(self.current_step), chosen)

    def action_help(self) -> None:
        from screens.help import HelpScreen

        self.push_screen(HelpScreen(self.screen))

    def open_doctor(self, denied: DeniedCall | None) -> None:
        """Hand a failed call to the doctor and open it."""
        self._pending_doctor = denied
        self.action_goto("doctor")

    def take_pending_doctor(self) -> DeniedCall | None:
        """The failed call handed to the doctor, once: a later visit starts clean."""
        pending, self._pending_doctor = self._pending_doctor, None
        return pending

    def show_error(self, error: ErrorInfo | BaseException, denied: DeniedCall | None = None) -> None:
        """The one way screens show a failure: a clear modal, with the doctor offered on a 403."""
        from screens.error import ErrorScreen

        info = error if isinstance(error, ErrorInfo) else ErrorInfo.of(translate(error))

        def done(choice: str | None) -> None:
            if choice == "doctor":
                from services.denied import DeniedCall

                self.open_doctor(denied or DeniedCall(error_text=info.details.get("raw") or info.message))

        self.push_screen(ErrorScreen(info, offer_doctor=info.kind == "access-denied"), done)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for n, info in enumerate(STEPS, start=1):
            yield SystemCommand(
                f"Step {n}: {info.title}", info.summary, lambda sid=info.id: self.action_goto(sid)
            )


def _is_the_wizard(app: SagewizApp) -> Wizard:
    # For the type checker: screens and widgets reach the App through the Wizard protocol.
    return app
