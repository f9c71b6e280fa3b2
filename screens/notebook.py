"""Step 2, Notebook: list, create, watch, open, stop, start and delete notebook instances.

About 530 lines and one concern: the list of instances and what is done to the selected one. The
table, the live panel and every action share the list's state (instances, status history, the one
followed, the poll that gets faster while something moves); the form (notebook_form), the role
picker (notebook_role) and the live panel's rendering (notebook_live) are their own modules.

The list refreshes in a cancellable thread worker (fast while anything is Pending/Stopping/
Deleting, slow otherwise); the live panel follows the selected instance and shows how long its
current status has lasted. Every change is a plan, confirmed, then journaled.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from screens.base import StepScreen
from screens.confirm_plan import ConfirmPlanScreen
from screens.notebook_form import FormResult, NotebookForm
from screens.notebook_live import LivePanel, NotebookUrlScreen, render_live, status_text
from screens.notebook_role import RoleChoice
from services import notebooks as nb
from services.denied import DeniedCall
from services.errors import ConflictError, ErrorInfo, SagewizError, ValidationError, translate
from services.flow import marks
from services.journal_events import ChoiceMade
from services.plan import Plan
from services.pricing import PRICE_DATE, PRICE_SOURCE
from services.remedy import Face
from tui.messages import Work, WorkDone, WorkFailed


@dataclass(frozen=True)
class CreatePlan:
    plan: Plan
    form: FormResult
    notes: tuple[str, ...]  # what the preflight found worth saying before the person confirms


@dataclass(frozen=True)
class Changed:
    text: str  # what is happening now, said to the person
    name: str  # the instance, followed in the live panel


@dataclass(frozen=True)
class OpenUrl:
    name: str
    url: str


# -- the work this screen hands to workers -------------------------------------------------------------
LIST: Work[list[nb.NotebookInfo]] = Work("notebook: list instances")
CREATE_PLAN: Work[CreatePlan] = Work("notebook: check and plan the new instance")
CREATE: Work[FormResult] = Work("notebook: create")
URL: Work[OpenUrl] = Work("notebook: presigned URL")
CHANGE: Work[Changed] = Work("notebook: stop, start or delete")


class NotebookStep(StepScreen):
    STEP_ID = "notebook"
    CSS_PATH = "notebook.tcss"
    BINDINGS = [
        Binding("c", "create", "Create"),
        Binding("o", "open", "Open URL"),
        Binding("s", "stop", "Stop"),
        Binding("t", "start", "Start"),
        Binding("x", "delete", "Delete"),
        Binding("u", "use", "Use"),
        Binding("r", "refresh", "Refresh"),
    ]

    # Poll intervals (seconds): fast while a status is moving, slow when everything is settled.
    POLL_FAST: ClassVar[float] = 2.0
    POLL_SLOW: ClassVar[float] = 15.0
    # Injectable clocks, so snapshots can freeze ages and elapsed times.
    wall_clock = staticmethod(nb.now_utc)
    monotonic = staticmethod(time.monotonic)

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, nb.NotebookInfo] = {}
        self.followed: str | None = None
        self.history: dict[str, list[str]] = {}
        self.since: dict[str, float] = {}
        self.gone: set[str] = set()
        self.loaded = False
        self.busy = False
        self._last_form: FormResult | None = None
        self._denied_shown = False

    def compose_body(self) -> ComposeResult:
        yield Static("Notebook", classes="step-title")
        yield Static("", id="nb-intro", classes="hint")
        yield DataTable(id="nb-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="nb-empty", classes="hint")
        yield Static("", id="nb-cost-note", classes="hint")
        yield Static("", id="nb-problem", classes="field-error")
        yield LivePanel(render_live(None, [], None), id="nb-live")

    def on_mount(self) -> None:
        table = self.query_one("#nb-table", DataTable)
        for label, key in (("Name", "name"), ("Status", "status"), ("Type", "type"), ("Role", "role"),
                           ("Age", "age"), ("Est. cost", "cost")):  # fmt: skip
            table.add_column(label, key=key)
        self.query_one("#nb-intro", Static).update(Text("Connecting…"))
        self.set_interval(1.0, self._tick)
        self.on_identity_ready(self._connected)

    def _connected(self, identity: Any) -> None:
        sandbox = " (sandbox)" if identity.sandbox else ""
        self.query_one("#nb-intro", Static).update(
            Text(
                f"Notebook instances in {identity.region}{sandbox}. c create · ↑/↓ select · o open · s stop · "
                "t start · x delete · u use it for the next steps · r refresh"
            )
        )
        note = f"Est. cost: on-demand prices of {PRICE_DATE} for {identity.region} ({PRICE_SOURCE}); an estimate, not a bill."
        if identity.sandbox:
            note += " Sandbox: nothing is billed."
        self.query_one("#nb-cost-note", Static).update(Text(note))
        self.start_polling()

    # -- polling -------------------------------------------------------------------------------------
    def start_polling(self) -> None:
        if self.factory is not None:
            self._poll(self.factory)

    @work(
        thread=True,
        exclusive=True,
        group="nb-poll",
        exit_on_error=False,
        description="watch notebook instances",
    )
    def _poll(self, factory: Any) -> None:
        worker = get_current_worker()
        delay = self.POLL_FAST
        while not worker.is_cancelled:
            try:
                items = nb.list_notebooks(factory)
            except SagewizError as exc:
                self.post_message(LIST.failed(ErrorInfo.of(exc)))
                if exc.kind in ("access-denied", "connect"):
                    return  # polling again cannot fix it
                delay = min(max(delay, self.POLL_FAST) * 2, 60.0)  # back off (throttling, network)
            except Exception as exc:  # never a traceback
                self.post_message(LIST.failed(ErrorInfo.of(translate(exc, "ListNotebookInstances"))))
                return
            else:
                self.post_message(LIST.done(items))
                moving = any(i.status in nb.TRANSIENT for i in items)
                delay = self.POLL_FAST if moving else self.POLL_SLOW
            if worker.cancelled_event.wait(delay):
                return

    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(
            LIST.to(self._listed),
            CREATE_PLAN.to(self._confirm_create),
            CREATE.to(self._created),
            URL.to(self._show_url),
            CHANGE.to(self._changed),
        )

    def on_work_failed(self, message: WorkFailed) -> None:
        if message.route(LIST.on_failure(self._list_failed)):
            return
        self.busy = False
        if message.work in (CREATE_PLAN, CREATE):
            self.notify("Nothing was created. Press c to edit the form and try again.", markup=False)
        self.wizard.show_error(message.error, message.denied)

    def _listed(self, items: list[nb.NotebookInfo]) -> None:
        now = self.monotonic()
        self.query_one("#nb-problem", Static).update("")
        fresh = {i.name: i for i in items}
        for name in set(self.items) - set(fresh):
            if name not in self.gone:
                self.gone.add(name)
                self.notify(f"{name} is deleted.", markup=False)
        for info in items:
            hist = self.history.setdefault(info.name, [])
            if not hist or hist[-1] != info.status:
                hist.append(info.status)
                self.since[info.name] = now
            self.gone.discard(info.name)
        self.items.update(fresh)
        first = not self.loaded
        self.loaded = True
        self._render_table()
        if first and self.followed is None and items:
            self.followed = items[0].name
        self._render_live()
        self._update_step_state()

    def _list_failed(self, failed: WorkFailed) -> None:
        err = failed.error
        self.query_one("#nb-problem", Static).update(
            Text(
                f"Could not read the notebook instances: {err.title}. {err.message} {err.advice(Face.TUI)}".strip()
            )
        )
        if err.kind == "access-denied" and not self._denied_shown:
            self._denied_shown = True
            self.wizard.show_error(err, self._denied(err, "sagemaker:ListNotebookInstances"))

    def _render_table(self) -> None:
        table = self.query_one("#nb-table", DataTable)
        now = self.wall_clock()
        existing = {k.value for k in table.rows}
        for name, info in self.items.items():
            status = Text("deleted", style="dim") if name in self.gone else status_text(info.status)
            cells = {
                "name": Text(name),
                "status": status,
                "type": Text(info.instance_type),
                "role": Text(info.role_name),
                "age": Text(info.age(now)),
                "cost": Text(_cost_cell(info)),
            }
            if name in existing:
                for key, value in cells.items():
                    table.update_cell(name, key, value, update_width=True)
            else:
                table.add_row(*cells.values(), key=name)
        if self.followed in self.items and table.row_count:
            row = table.get_row_index(self.followed)
            if table.cursor_row != row:
                table.move_cursor(row=row)
        empty = self.query_one("#nb-empty", Static)
        empty.update("" if self.items else "No notebook instances in this region yet. Press c to create one.")
        empty.display = not self.items
        table.display = bool(self.items)

    def _render_live(self) -> None:
        name = self.followed
        info = self.items.get(name) if name else None
        elapsed = None
        if info is not None and info.last_modified is not None:
            # AWS's LastModifiedTime is when the status last changed: true even across restarts.
            elapsed = (self.wall_clock() - info.last_modified).total_seconds()
        elif name in self.since:
            elapsed = self.monotonic() - self.since[name]
        sandbox = bool(self.identity and self.identity.sandbox)
        self.query_one("#nb-live", LivePanel).update(
            render_live(
                info, self.history.get(name or "", []), elapsed, gone=name in self.gone, sandbox=sandbox
            )
        )

    def _tick(self) -> None:
        info = self.items.get(self.followed or "")
        if info is not None and self.followed not in self.gone:
            self._render_live()

    @on(DataTable.RowHighlighted, "#nb-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value if event.row_key else None
        if key and key != self.followed and key in self.items:
            self.followed = str(key)
            self._render_live()

    def _update_step_state(self) -> None:
        chosen = self.items.get(self.state.notebook_name) if self.state.notebook_name else None
        if chosen is not None:
            self.mark(marks.notebook(chosen.status, gone=chosen.name in self.gone))

    # -- create -----------------------------------------------------------------------------------------
    def action_create(self) -> None:
        if not self._ready():
            return
        ident = self.identity
        assert ident is not None
        bucket = self.state.bucket or self.state.default_bucket
        role = None
        if self.state.role_arn:
            role = RoleChoice(self.state.role_arn, self.state.role_arn.rsplit("/", 1)[-1])
        form = NotebookForm(
            self.factory,
            ident.account,
            ident.region,
            bucket,
            self.wall_clock().strftime("%Y%m%dT%H%M%S"),
            initial=self._last_form,
            role=role,
        )
        self.app.push_screen(form, self._form_done)

    def _form_done(self, result: FormResult | None) -> None:
        if result is None:
            return
        self._last_form = result
        self.busy = True
        self.notify("Checking: name, role, iam:PassRole…", markup=False)
        self._preflight(result)

    @work(
        thread=True,
        exclusive=True,
        group="nb-action",
        exit_on_error=False,
        description="check the notebook plan",
    )
    def _preflight(self, form: FormResult) -> None:
        from services.flow import notebook as flow_notebook

        factory, ident = self.factory, self.identity
        assert factory is not None and ident is not None
        try:
            if form.role.new is not None:
                _role_name_free(factory, form.role.new.name)
            pre = nb.preflight(factory, ident.arn, form.spec, role_is_new=form.role.new is not None)
            choices = flow_notebook.NotebookChoices(form.spec, form.role.new)
            planned = flow_notebook.plan(self.flow_context, self.state, choices)
            if planned.requests is None:
                raise ValidationError("notebook name", planned.message, "Choose another name.")
            plan = planned.requests
        except SagewizError as exc:
            action = exc.details.get("action") or exc.operation or "sagemaker:CreateNotebookInstance"
            denied = self._denied(ErrorInfo.of(exc), action, resource=form.spec.role_arn)
            self.post_message(CREATE_PLAN.failed(ErrorInfo.of(exc), denied=denied))
            return
        except Exception as exc:  # never a traceback
            self.post_message(CREATE_PLAN.failed(ErrorInfo.of(translate(exc, "preflight"))))
            return
        self.post_message(CREATE_PLAN.done(CreatePlan(plan, form, pre.notes)))

    def _confirm_create(self, planned: CreatePlan) -> None:
        self.busy = False

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.busy = True
                self._apply_create(planned.plan, planned.form)
            else:
                self.action_create()  # back to the form, every value as it was (self._last_form)

        warning = "\n".join(planned.notes)
        self.app.push_screen(ConfirmPlanScreen(planned.plan, warning=warning), confirmed)

    @work(
        thread=True, exclusive=True, group="nb-action", exit_on_error=False, description="create the notebook"
    )
    def _apply_create(self, plan: Plan, form: FormResult) -> None:
        try:
            nb.apply_create(
                plan, self.factory, self.journal, name=form.spec.name, instance_type=form.spec.instance_type
            )
        except SagewizError as exc:
            self.post_message(CREATE.failed(ErrorInfo.of(exc), denied=self._denied(ErrorInfo.of(exc))))
            return
        except Exception as exc:
            self.post_message(CREATE.failed(ErrorInfo.of(translate(exc, "CreateNotebookInstance"))))
            return
        self.post_message(CREATE.done(form))

    # -- actions on the selected instance ---------------------------------------------------------------------
    def _selected(self) -> nb.NotebookInfo | None:
        if not self._ready():
            return None
        info = self.items.get(self.followed or "")
        if info is None or self.followed in self.gone:
            self.notify("Select a notebook instance first (↑/↓).", severity="warning", markup=False)
            return None
        return info

    def action_open(self) -> None:
        info = self._selected()
        if info is None:
            return
        if info.status != "InService":
            hint = (
                "Start it (t) and wait for InService."
                if info.status in ("Stopped", "Failed")
                else "Wait for InService."
            )
            self.wizard.show_error(ConflictError("Not running", f"{info.name} is {info.status}; only an InService "
                                                 "notebook can be opened.", hint))  # fmt: skip
            return
        self._get_url(info.name)

    @work(thread=True, exclusive=True, group="nb-action", exit_on_error=False, description="presigned URL")
    def _get_url(self, name: str) -> None:
        try:
            url = nb.presigned_url(self.factory, name)
        except SagewizError as exc:
            info = ErrorInfo.of(exc)
            self.post_message(
                URL.failed(info, denied=self._denied(info, "sagemaker:CreatePresignedNotebookInstanceUrl"))
            )
            return
        self.post_message(URL.done(OpenUrl(name, url)))

    def _show_url(self, opened: OpenUrl) -> None:
        sandbox = bool(self.identity and self.identity.sandbox)
        self.app.push_screen(NotebookUrlScreen(opened.name, opened.url, sandbox))

    def action_stop(self) -> None:
        self._change("stop", nb.plan_stop)

    def action_start(self) -> None:
        self._change("start", nb.plan_start)

    def action_delete(self) -> None:
        self._change("delete", nb.plan_delete)

    def _change(self, verb: str, planner: Callable[..., Plan]) -> None:
        info = self._selected()
        if info is None:
            return
        try:
            plan = planner(info.name, info)
        except SagewizError as exc:
            self.wizard.show_error(exc)
            return
        typed = info.name if verb == "delete" else None
        warning = ""
        if verb == "delete":
            warning = f"Deleting {info.name} deletes its storage volume and every file on it. Type the name to confirm."

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._apply_change(plan, info.name, verb)

        screen = ConfirmPlanScreen(plan, typed=typed, warning=warning)
        self.app.push_screen(screen, confirmed)

    @work(
        thread=True, exclusive=True, group="nb-action", exit_on_error=False, description="change a notebook"
    )
    def _apply_change(self, plan: Plan, name: str, verb: str) -> None:
        try:
            nb.apply(plan, self.factory, self.journal, name=name)
        except SagewizError as exc:
            info = ErrorInfo.of(exc)
            self.post_message(
                CHANGE.failed(
                    info, denied=self._denied(info, f"sagemaker:{verb.capitalize()}NotebookInstance")
                )
            )
            return
        past = {"stop": "Stopping", "start": "Starting", "delete": "Deleting"}[verb]
        self.post_message(CHANGE.done(Changed(f"{past} {name}.", name)))

    def action_use(self) -> None:
        info = self._selected()
        if info is None:
            return
        changed = self.state.update(notebook_name=info.name, role_arn=info.role_arn)
        if changed:
            self.journal.append(ChoiceMade(changed))
        self.notify(f"The next steps use {info.name} and its role {info.role_name}.", markup=False)
        self._update_step_state()

    def action_refresh(self) -> None:
        if not self._ready():
            return
        self.gone.clear()
        table = self.query_one("#nb-table", DataTable)
        table.clear()
        self.items.clear()
        self.start_polling()

    def _created(self, form: FormResult) -> None:
        self.busy = False
        spec = form.spec
        self.notify(f"Creating {spec.name}: it is Pending and followed below.", markup=False)
        changed = self.state.update(notebook_name=spec.name, role_arn=spec.role_arn)
        if changed:
            self.journal.append(ChoiceMade(changed))
        # What `sagewiz export` writes to [notebook] so the setup can be applied again.
        settings = {
            "instance_type": spec.instance_type,
            "volume_gb": spec.volume_gb,
            "platform": spec.platform,
        }
        if spec.idle_minutes is not None:
            settings["idle_minutes"] = spec.idle_minutes
        self.state.extra["notebook"] = settings
        self._last_form = None
        self.mark(marks.notebook("Pending"))
        self.followed = spec.name
        self.start_polling()

    def _changed(self, change: Changed) -> None:
        self.busy = False
        self.notify(change.text, markup=False)
        self.followed = change.name
        self.start_polling()

    # -- helpers -------------------------------------------------------------------------------------------------
    def _ready(self) -> bool:
        if self.factory is None or self.identity is None:
            self.notify("Not connected yet.", severity="warning", markup=False)
            return False
        if self.busy:
            self.notify("Busy: wait for the current action to finish.", severity="warning", markup=False)
            return False
        return True

    def _denied(
        self, err: ErrorInfo, action: str | None = None, resource: str | None = None
    ) -> DeniedCall | None:
        if err.kind != "access-denied":
            return None
        return DeniedCall(
            error_text=str(err.details.get("raw") or err.message),
            principal_arn=self.identity.arn if self.identity else None,
            action=action or err.operation,
            operation=(err.operation or "").split(":")[-1] or None,
            source_step="notebook",
        )


def _cost_cell(info: nb.NotebookInfo) -> str:
    if info.billing is nb.Billing.NOTHING:
        return "$0"
    if info.billing is nb.Billing.VOLUME:
        hourly = info.volume_hourly
        return "volume only" if hourly is None else f"~${hourly:.4f}/h volume"
    if info.price is None or not info.price.known:
        return "unknown"
    return f"~${info.price.usd_per_hour:.3f}/h"


def _role_name_free(factory: Any, name: str) -> None:
    """A new role's name must not be taken (checked before the plan is shown)."""
    try:
        factory.client("iam").get_role(RoleName=name)
    except Exception as exc:
        err = translate(exc, "iam:GetRole")
        if err.kind == "not-found":
            return
        raise err from exc
    raise ValidationError(
        "role name", f"A role named {name} already exists.", "Pick it from the list, or choose another name."
    )
