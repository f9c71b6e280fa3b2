"""Step 10, Clean up: everything sagewiz created, with its state and hourly cost; stop or delete
one, several or all of it behind a typed confirmation (and a second one per bucket)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, LoadingIndicator, Static
from textual.worker import get_current_worker

from screens.base import StepScreen
from screens.confirm_plan import ConfirmPlanScreen, where_line
from services.errors import ErrorInfo, SagewizError, translate
from services.flow import marks
from services.plan import Plan
from services.pricing import PRICE_DATE
from tui.messages import Work, WorkDone, WorkFailed
from tui.text_fit import middle_ellipsis

if TYPE_CHECKING:
    from services.flow.cleanup import CleanupStepPlan, Inventory, Resource


# -- the work this screen hands to workers -------------------------------------------------------------
READ: Work[Inventory] = Work("cleanup: read the inventory")
LOOKUP: Work[Resource] = Work("cleanup: look up a resource by name")
DELETE_PLAN: Work[CleanupStepPlan] = Work("cleanup: plan the deletion")
APPLY_STEP: Work[str] = Work("cleanup: one step applied")  # "n/total: what it did"
APPLY: Work[int] = Work("cleanup: apply")  # how many steps were applied


TRANSITIONS = {"Pending", "Stopping", "Deleting", "Updating"}


class CleanupStep(StepScreen):
    STEP_ID = "cleanup"
    CSS_PATH = "cleanup.tcss"
    BINDINGS = [
        Binding("space", "select", "Select"),
        Binding("a", "select_all", "All/none"),
        Binding("s", "stop", "Stop"),
        Binding("d", "delete", "Delete"),
        Binding("r", "refresh", "Refresh"),
        Binding("plus", "add", "Add by name", key_display="+"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.resources: list[Any] = []
        self.selected: set[tuple[str, str]] = set()
        self.busy = False
        # Whether a clean-up was applied from this screen: reading the inventory alone marks nothing.
        self.cleanup_ran = False
        self.cleanup_failed = False
        self.name_width = self.NAME_MIN
        self.with_source = True
        self._laid_out_for = 0

    def compose_body(self) -> ComposeResult:
        yield Static("Clean up", classes="step-title")
        yield Static(
            "Everything sagewiz created in this account and region: from the journal on this machine and "
            "the sagewiz:created-by tag. Nothing else is touched unless you add it by name.",
            classes="hint",
            id="cleanup-intro",
        )
        yield LoadingIndicator(id="cleanup-loading")
        yield Static("", id="cleanup-summary")
        table: DataTable[Any] = DataTable(id="cleanup-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="cleanup-warnings", classes="warning-text")
        yield Static("", id="cleanup-status")
        yield Input(placeholder="type:name, e.g. notebook:my-notebook or bucket:my-bucket", id="cleanup-add")
        yield Static(
            "space select · a all/none · s stop · d delete · r refresh · + add a resource by name",
            classes="hint",
            id="cleanup-keys",
        )

    def on_mount(self) -> None:
        self._laid_out_for = self._table_room()
        self._columns(self._laid_out_for)
        self.query_one("#cleanup-add", Input).display = False
        self.on_identity_ready(lambda _ident: self.action_refresh())

    # -- reading -----------------------------------------------------------------------------
    def action_refresh(self) -> None:
        if self.factory is None or self.busy:
            return
        self.query_one("#cleanup-loading").display = True
        self._read_inventory()

    @work(thread=True, exclusive=True, group="cleanup-read", exit_on_error=False)
    def _read_inventory(self) -> None:
        from services.flow import cleanup

        try:
            inv = cleanup.inspect(self.flow_context, self.state)
        except Exception as exc:
            self.post_message(READ.failed(ErrorInfo.of(translate(exc))))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(READ.done(inv))

    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(
            READ.to(self._inventory_read),
            LOOKUP.to(self._resource_found),
            DELETE_PLAN.to(self._confirm),
            APPLY_STEP.to(self._applied_one),
            APPLY.to(self._cleanup_done),
        )

    def on_work_failed(self, message: WorkFailed) -> None:
        self.busy = False
        self.query_one("#cleanup-loading").display = False
        if message.work is APPLY:
            self.cleanup_ran, self.cleanup_failed = True, True
            self.query_one("#cleanup-status", Static).update(
                Text("Stopped at a failure; what was done is in the journal.", style="yellow")
            )
            self.action_refresh()
        self.wizard.show_error(message.error)

    def _inventory_read(self, inv: Inventory) -> None:
        explicit = [r for r in self.resources if r.selected_explicitly and inv.find(r.type, r.id) is None]
        self.resources = list(inv.resources) + explicit
        keys = {r.key for r in self.resources}
        self.selected &= keys
        self.query_one("#cleanup-loading").display = False
        self.query_one("#cleanup-warnings", Static).update(Text("\n".join(inv.warnings)))
        self._render_table()
        billing = sum(r.running for r in self.resources)
        if self.cleanup_ran:
            self.mark(marks.cleanup(ran=self.cleanup_ran, failed=self.cleanup_failed, billing_left=billing))
        if any(r.state in TRANSITIONS for r in self.resources):
            # Something is on its way (starting, stopping, being deleted): look again soon.
            self.set_timer(1.0 if self.wizard.sandbox else 10.0, self.action_refresh)

    # Fixed columns (key, title, width) in the order they are given up on a narrow screen: "Known
    # from" goes first; the name column takes the rest of the room and is cut in the middle.
    COLUMNS = (("sel", "", 3), ("type", "Type", 13), ("state", "State", 11), ("cost", "Cost now", 18))
    OPTIONAL = ("source", "Known from", 11)
    NAME_MIN = 20

    def _columns(self, width: int) -> None:
        table = self.query_one("#cleanup-table", DataTable)
        fixed = sum(w + 2 for _, _, w in self.COLUMNS)  # a cell is padded by one on each side
        with_source = width - fixed - (self.OPTIONAL[2] + 2) - 2 >= self.NAME_MIN + 4
        room = width - fixed - ((self.OPTIONAL[2] + 2) if with_source else 0) - 2
        self.name_width = max(self.NAME_MIN, room)
        self.with_source = with_source
        table.clear(columns=True)
        for key, title, w in self.COLUMNS[:2]:
            table.add_column(title, key=key, width=w)
        table.add_column("Name", key="name", width=self.name_width)
        for key, title, w in self.COLUMNS[2:]:
            table.add_column(title, key=key, width=w)
        if with_source:
            key, title, w = self.OPTIONAL
            table.add_column(title, key=key, width=w)

    def _table_room(self) -> int:
        # The terminal less the step bar (24 and its edge), the body's padding and a scrollbar.
        return max(60, self.app.size.width - 31)

    def on_resize(self, _: events.Resize) -> None:
        wanted = self._table_room()
        if self._laid_out_for != wanted:
            self._laid_out_for = wanted
            self._columns(wanted)
            self._render_table()

    def _render_table(self) -> None:
        self.refresh_bindings()
        table = self.query_one("#cleanup-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        for r in self.resources:
            mark = "[x]" if r.key in self.selected else "[ ]"
            note = "" if r.ours else " (not sagewiz's)"
            name = Text(middle_ellipsis(r.id, max(8, self.name_width - len(note))))
            if note:
                name.append(note, style="italic yellow")
            state_style = "bold green" if r.running else ("dim" if r.gone else "")
            cost = Text(r.hourly_label(), style="bold" if (r.hourly or 0) > 0 else "dim")
            cells = [Text(mark), Text(r.type.short_noun), name, Text(r.state or "?", style=state_style), cost]
            if self.with_source:
                cells.append(Text(r.source))
            table.add_row(*cells, key=f"{r.type}|{r.key[1]}")
        if self.resources:
            table.move_cursor(row=min(max(cursor, 0), len(self.resources) - 1))
        total = sum(r.hourly or 0.0 for r in self.resources)
        running = sum(1 for r in self.resources if r.running)
        if not self.resources:
            summary = Text("Nothing sagewiz created is left here.", style="green")
        else:
            summary = Text.assemble(
                (f"{len(self.resources)} resources", "bold"),
                f" · {running} running · ",
                (f"~${total:.3f}/h now", "bold"),
                f" (estimate, prices of {PRICE_DATE}) · {len(self.selected)} selected",
            )
        self.query_one("#cleanup-summary", Static).update(summary)

    # -- selecting ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Stop and Delete are offered only when one of the chosen rows can be stopped or deleted
        in the state it is in (shown greyed otherwise)."""
        if action not in ("stop", "delete"):
            return True
        from services.cleanup.plans import can_delete, can_stop

        able = can_stop if action == "stop" else can_delete
        return True if any(able(r) for r in self._chosen()) else None

    @on(DataTable.RowHighlighted, "#cleanup-table")
    def _row_highlighted(self) -> None:
        self.refresh_bindings()

    def _current(self) -> Any | None:
        table = self.query_one("#cleanup-table", DataTable)
        if not self.resources or table.cursor_row < 0 or table.cursor_row >= len(self.resources):
            return None
        return self.resources[table.cursor_row]

    def action_select(self) -> None:
        r = self._current()
        if r is None:
            return
        self.selected ^= {r.key}
        self._render_table()

    @on(DataTable.RowSelected, "#cleanup-table")
    def _row_selected(self) -> None:
        self.action_select()

    def action_select_all(self) -> None:
        # "All" means all that sagewiz created; a resource added by name is selected only by hand.
        ours = {r.key for r in self.resources if r.ours}
        self.selected = set() if ours and ours <= self.selected else ours | {k for k in self.selected}
        self._render_table()

    def _chosen(self) -> list[Any]:
        chosen = [r for r in self.resources if r.key in self.selected]
        if not chosen and self._current() is not None:
            chosen = [self._current()]  # nothing selected: act on the row under the cursor
        return chosen

    # -- adding by name ------------------------------------------------------------------------
    def action_add(self) -> None:
        box = self.query_one("#cleanup-add", Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#cleanup-add")
    def _add_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.display = False
        event.input.value = ""
        self.query_one("#cleanup-table", DataTable).focus()
        if not text:
            return
        kind, _, name = text.partition(":")
        if not name:
            from services.errors import ValidationError

            self.wizard.show_error(
                ValidationError(
                    "resource", f"'{text}' has no type", "Write type:name, e.g. notebook:my-notebook."
                )
            )
            return
        self._lookup(kind, name)

    @work(thread=True, exclusive=True, group="cleanup-lookup", exit_on_error=False)
    def _lookup(self, kind: str, name: str) -> None:
        from services.flow import cleanup

        try:
            self.post_message(LOOKUP.done(cleanup.lookup_named(self.flow_context, kind, name)))
        except Exception as exc:
            self.post_message(LOOKUP.failed(ErrorInfo.of(translate(exc))))

    def _resource_found(self, r: Resource) -> None:
        if all(x.key != r.key for x in self.resources):
            self.resources.append(r)
        self.selected.add(r.key)
        self._render_table()

    # -- stop / delete -------------------------------------------------------------------------
    def action_stop(self) -> None:
        chosen = self._chosen()
        if not chosen or self.busy:
            return
        from services.flow import cleanup

        try:
            choices = cleanup.CleanupChoices(cleanup.CleanupAction.STOP, tuple(chosen))
            self._confirm(cleanup.plan(self.flow_context, self.state, choices))
        except SagewizError as err:
            self.wizard.show_error(err)

    def action_delete(self) -> None:
        chosen = self._chosen()
        if not chosen or self.busy:
            return
        self._plan_delete(chosen)

    @work(thread=True, exclusive=True, group="cleanup-plan", exit_on_error=False)
    def _plan_delete(self, chosen: list[Any]) -> None:
        from services.flow import cleanup

        try:
            choices = cleanup.CleanupChoices(cleanup.CleanupAction.DELETE, tuple(chosen))
            self.post_message(DELETE_PLAN.done(cleanup.plan(self.flow_context, self.state, choices)))
        except Exception as exc:
            self.post_message(DELETE_PLAN.failed(ErrorInfo.of(translate(exc))))

    def _confirm(self, cplan: CleanupStepPlan) -> None:
        if cplan.requests is None:
            self.notify(cplan.message, markup=False)
            return
        plan = cplan.requests
        verb = cplan.action.value
        if cplan.skipped:
            plan = Plan(
                plan.title, plan.actions, plan.warnings + tuple(f"skipped: {s}" for s in cplan.skipped)
            )

        def first(ok: bool | None) -> None:
            if ok:
                self._confirm_buckets(cplan, list(cplan.buckets), [])

        self.app.push_screen(ConfirmPlanScreen(plan, typed=verb), first)

    def _confirm_buckets(self, cplan: CleanupStepPlan, pending: list[str], confirmed: list[str]) -> None:
        if not pending:
            self._apply(cplan, confirmed)
            return
        bucket = pending[0]
        assert cplan.requests is not None
        actions = tuple(a for a in cplan.requests.actions if a.params.get("Bucket") == bucket)
        plan = Plan(f"Empty and delete the bucket {bucket}", actions)

        def answered(ok: bool | None) -> None:
            if ok:
                self._confirm_buckets(cplan, pending[1:], [*confirmed, bucket])
            else:
                self.notify(f"Nothing was changed: bucket {bucket} was not confirmed.", markup=False)

        self.app.push_screen(
            ConfirmPlanScreen(
                plan,
                where=where_line(self.app),
                typed=bucket,
                warning=f"Every object and every version in {bucket} will be deleted. This cannot be undone.",
            ),
            answered,
        )

    def _apply(self, cplan: CleanupStepPlan, confirmed: list[str]) -> None:
        self.busy = True
        self.query_one("#cleanup-loading").display = True
        self._apply_worker(cplan, confirmed)

    @work(thread=True, exclusive=True, group="cleanup-apply", exit_on_error=False)
    def _apply_worker(self, cplan: CleanupStepPlan, confirmed: list[str]) -> None:
        from services.flow import cleanup

        worker = get_current_worker()
        total = len(cplan.requests.actions) if cplan.requests else 0

        def progress(n: int, action: Any) -> None:
            self.post_message(APPLY_STEP.done(f"{n + 1}/{total}: {action.description}"))

        try:
            done = cleanup.apply(
                self.flow_context,
                cplan,
                confirmed_buckets=confirmed,
                on_progress=progress,
                cancel=worker.cancelled_event,
            )
        except Exception as exc:
            self.post_message(APPLY.failed(ErrorInfo.of(translate(exc))))
            return
        self.post_message(APPLY.done(len(done)))

    def _applied_one(self, text: str) -> None:
        self.query_one("#cleanup-status", Static).update(Text(text))

    def _cleanup_done(self, count: int) -> None:
        self.busy = False
        self.cleanup_ran, self.cleanup_failed = True, False
        self.selected.clear()
        self.query_one("#cleanup-status", Static).update(
            Text(f"Done: {count} steps applied and journaled.", style="green")
        )
        self.action_refresh()
