"""The Tune step's live dashboard: counters, the best job, the objective chart and the children table.

The table only renders visible rows and is updated cell by cell: a poll of hundreds of children
costs only the few that moved. Rows are keyed by the child's job name, and the job cell carries
that name (a `ChildCell`), so sorting reads the typed child, never the rendered label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from services.durations import duration
from services.terminal_text import safe
from services.tuning.dashboard import ChildJob, TuningSnapshot, best_child
from tui.widgets.objective_chart import ObjectiveChart

_CHILD_SUFFIX = re.compile(r"-(\d{3}-[0-9a-f]{8})$")

STATUS_STYLE = {
    "Completed": "green",
    "InProgress": "yellow",
    "Stopping": "yellow",
    "Stopped": "dim",
    "Failed": "red",
}

HELP_NOTE = "Enter: child's log · o/s/c: sort · x: stop tuning job · m: model from best · f: new tuning job"


def is_tuning_child(name: str) -> bool:
    """A tuning child's name ends in `-NNN-xxxxxxxx`; the Train step's own job does not."""
    return _CHILD_SUFFIX.search(name) is not None


def fmt_objective(value: float | None) -> str:
    return "-" if value is None else f"{value:.5g}"


def short_name(name: str, tuning: str) -> str:
    """`xgb-tune-003-4c5f1d3e` -> `003-4c5f1d3e` (the part that differs between children)."""
    m = _CHILD_SUFFIX.search(name)
    if m and name.startswith(tuning):
        return m.group(1)
    return name


@dataclass(frozen=True)
class ChildCell:
    """The job cell: renders the short label (★ for the best), keeps the child's full name."""

    name: str
    text: Text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.text

    def __str__(self) -> str:
        return self.text.plain


class TuneDashboard(Vertical):
    """Shows one TuningSnapshot after another; the screen owns polling and actions."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.children_by_name: dict[str, ChildJob] = {}
        self._rows: dict[str, tuple[Any, ...]] = {}
        self._columns: tuple[str, ...] = ()
        self._sort: tuple[str, bool] | None = None  # (column, reverse)
        self._best: str | None = None
        self._maximize = False

    def compose(self) -> ComposeResult:
        yield Static("", id="dash-title")
        yield Static("", id="dash-counters")
        yield Static("", id="dash-best")
        yield ObjectiveChart(id="dash-chart")
        table: DataTable[Any] = DataTable(id="children", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="dash-note", classes="hint")

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#children", DataTable)

    def note(self, text: Text) -> None:
        self.query_one("#dash-note", Static).update(text)

    def reading(self, name: str) -> None:
        """Before the first poll answers."""
        self.query_one("#dash-title", Static).update(Text(f"Tuning job {name}: reading…", style="bold"))

    def reset(self) -> None:
        self.table.clear(columns=True)
        self._rows.clear()
        self.children_by_name.clear()
        self._columns = ()
        self._best = None

    # -- one snapshot ------------------------------------------------------------------------------
    def show(self, snap: TuningSnapshot, *, sandbox: bool) -> None:
        """Bring every part up to date with `snap`: only changed cells are touched."""
        self._maximize = snap.objective_type == "Maximize"
        title = Text.assemble(
            (f"Tuning job {snap.name}", "bold"),
            "  ",
            (snap.status, STATUS_STYLE.get(snap.status, "")),
            f"  ·  {snap.strategy}  ·  {snap.objective_type.lower()} {snap.objective_metric}",
            f"  ·  {len(snap.children)}/{snap.max_jobs or '?'} jobs, {snap.max_parallel} at once",
        )
        if sandbox:
            title.append("  (sandbox: children train on this machine)", style="dim")
        self.query_one("#dash-title", Static).update(title)
        k, o = snap.counters, snap.objective_counters
        counters = Text.assemble(
            ("Completed ", "dim"), (str(k.completed), "green"),
            ("  In progress ", "dim"), (str(k.in_progress), "yellow"),
            ("  Stopped ", "dim"), str(k.stopped),
            ("  Failed ", "dim"), (str(k.failed), "red" if k.failed else ""),
            ("   │  Objective: succeeded ", "dim"), str(o.succeeded),
            ("  pending ", "dim"), str(o.pending),
            ("  failed ", "dim"), str(o.failed),
        )  # fmt: skip
        self.query_one("#dash-counters", Static).update(counters)
        best = best_name(snap)
        best_job = snap.child(best) if best else None
        if best_job is not None:
            tuned = ", ".join(f"{k}={v}" for k, v in best_job.tuned)
            value = snap.best_value if snap.best_value is not None else best_job.objective
            self.query_one("#dash-best", Static).update(
                Text.assemble(
                    ("★ Best ", "bold green"),
                    (best_job.name, "bold"),
                    f"  {snap.objective_metric} = {fmt_objective(value)}  ",
                    (tuned, "dim"),
                )  # fmt: skip
            )
        else:
            self.query_one("#dash-best", Static).update(Text("No objective value yet.", style="dim"))
        self._update_table(snap, best)
        self._update_chart(snap)
        self.note(_note(snap))

    def _cells(self, c: ChildJob, snap: TuningSnapshot, best: str | None) -> tuple[Any, ...]:
        is_best = c.name == best
        label = short_name(c.name, snap.name)
        style = "bold green" if is_best else ""
        tuned = dict(c.tuned)
        status = c.status + (f" ({c.secondary_status})" if c.secondary_status and not c.terminal else "")
        return (
            ChildCell(c.name, Text(("★ " if is_best else "  ") + label, style=style)),
            Text(status, style=STATUS_STYLE.get(c.status, "")),
            *(Text(tuned.get(n, ""), style=style) for n in snap.tuned_names),
            Text(fmt_objective(c.objective), style=style or ("dim" if c.objective is None else "")),
            Text(duration(c.duration_s(snap.polled_at))),
        )

    def _update_table(self, snap: TuningSnapshot, best: str | None) -> None:
        table = self.table
        columns = ("job", "status", *snap.tuned_names, "objective", "duration")
        if columns != self._columns:
            table.clear(columns=True)
            self._rows.clear()
            # Fixed widths: a finishing child then never forces every row to be measured again.
            widths = {
                "job": 15,
                "status": 24,
                "objective": max(12, len(snap.objective_metric)),
                "duration": 9,
            }
            for col in columns:
                label = snap.objective_metric if col == "objective" else col
                width = widths.get(col, max(10, len(col)))
                table.add_column(Text(label, style="bold"), key=col, width=width)
            self._columns = columns
        changed = False
        for c in snap.children:
            # A finished child that did not change (and did not gain or lose "best") keeps its
            # cells: with hundreds of children a poll then costs only the few that moved.
            if (
                c.terminal
                and c.name in self._rows
                and self.children_by_name.get(c.name) == c
                and (c.name == best) == (c.name == self._best)
            ):
                continue
            cells = self._cells(c, snap, best)
            old = self._rows.get(c.name)
            self.children_by_name[c.name] = c
            if old is None:
                table.add_row(*cells, key=c.name)
                changed = True
            elif old != cells:
                for col, before, after in zip(columns, old, cells, strict=True):
                    if before != after:
                        table.update_cell(c.name, col, after)
                changed = True
            self._rows[c.name] = cells
        self._best = best
        if changed and self._sort is not None:
            self._apply_sort()

    def _update_chart(self, snap: TuningSnapshot) -> None:
        t0 = snap.created or min((c.created for c in snap.children), default=snap.polled_at)
        points = [
            ((c.ended - t0).total_seconds(), c.objective)
            for c in snap.children
            if c.objective is not None and c.ended is not None and c.objective_status != "Failed"
        ]
        self.query_one(ObjectiveChart).set_points(points, snap.objective_type)

    # -- sorting and selection ---------------------------------------------------------------------
    def sort_by(self, column: str) -> None:
        """Sort by `column`; the same column again reverses the order."""
        reverse = False
        if self._sort is not None and self._sort[0] == column:
            reverse = not self._sort[1]
        self._sort = (column, reverse)
        self._apply_sort()
        direction = "descending" if reverse else "ascending"
        self.note(Text(f"Sorted by {column}, {direction}."))

    def _apply_sort(self) -> None:
        assert self._sort is not None
        column, reverse = self._sort
        maximize = self._maximize

        def key(cell: ChildCell) -> tuple[Any, ...]:
            c = self.children_by_name[cell.name]
            if column == "objective":
                # Best first by default; children without a value always last.
                if c.objective is None:
                    return (1, 0.0, c.name)
                v = -c.objective if maximize else c.objective
                return (0, -v if reverse else v, c.name)
            if column == "status":
                return (c.status, c.created, c.name)
            return (c.created, c.name)

        self.table.sort("job", key=key, reverse=reverse and column != "objective")

    def selected_child(self) -> str | None:
        table = self.table
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(row_key.value) if row_key is not None else None


def best_name(snap: TuningSnapshot) -> str | None:
    """The best child as the tuning job reports it, or as its objective values say."""
    if snap.best_name is not None:
        return snap.best_name
    found = best_child(snap.children, snap.objective_type)
    return found.name if found else None


def _note(snap: TuningSnapshot) -> Text:
    text = Text(HELP_NOTE)
    if snap.done:
        text = Text(f"The tuning job is {snap.status}. ") + text
    failed = next((c for c in snap.children if c.status == "Failed" and c.failure_reason), None)
    reason = snap.failure_reason or (f"{failed.name}: {failed.failure_reason}" if failed else "")
    if reason:
        text = Text(safe(reason) + "\n", style="red") + text
        if "AccessDenied" in reason or "Access Denied" in reason:
            text.append(
                "\nThe execution role may not read the data: the Permissions step or the doctor fixes that.",
                style="yellow",
            )
    if snap.status == "Failed":
        text.append(
            "\nd: the doctor reads the tuning job (role, channels, output, VPC) and diagnoses it.",
            style="dim",
        )
    return text
