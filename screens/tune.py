"""The Tune step: ranges and strategy, a plan to confirm, then a live dashboard of the children.

Two views in one screen: the form (what to tune and how; checked as you type, with the cost
upper bound) and the dashboard (counters, a child table that only renders visible rows and is
updated cell by cell, the objective over time, the best job). Every AWS call runs in a thread
worker; the poller waits on the worker's cancel event, so leaving the screen stops it at once.
"""

from __future__ import annotations

import contextlib
import re
import time
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import (
    Button,
    Checkbox,
    ContentSwitcher,
    DataTable,
    Input,
    Label,
    Select,
    Static,
    Switch,
)
from textual.worker import get_current_worker

from screens.base import StepScreen
from screens.confirm_plan import ConfirmPlanScreen
from services.errors import ErrorInfo, SagewizError, translate
from services.journal_events import Change, ChoiceMade, ResourceChanged
from services.resource_kinds import ResourceKind
from services.tuning.catalog import AlgorithmCatalog, catalog_for
from services.tuning.config import STRATEGIES, WARM_START_TYPES, TrainingBase, TuningConfig
from services.tuning.dashboard import ChildJob, TuningSnapshot, best_child
from services.tuning.ranges import CATEGORICAL, SCALINGS, Problem, parse_values
from tui.steps import StepState

POLL_SECONDS = 2.0
_CHILD_SUFFIX = re.compile(r"-(\d{3}-[0-9a-f]{8})$")


# -- messages from workers ---------------------------------------------------------------------------
class BaseLoaded(Message):
    def __init__(self, base: TrainingBase | None, note: str, error: ErrorInfo | None = None) -> None:
        super().__init__()
        self.base, self.note, self.error = base, note, error


class PlanReady(Message):
    def __init__(self, plan: Any, config: TuningConfig | None, purpose: str) -> None:
        super().__init__()
        self.plan, self.config, self.purpose = plan, config, purpose


class ProblemsFound(Message):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__()
        self.problems = problems


class TuningCreated(Message):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class ActionDone(Message):
    def __init__(self, purpose: str, detail: str) -> None:
        super().__init__()
        self.purpose, self.detail = purpose, detail


class ActionFailed(Message):
    def __init__(self, error: ErrorInfo, purpose: str) -> None:
        super().__init__()
        self.error, self.purpose = error, purpose


class SnapshotReady(Message):
    def __init__(self, snapshot: TuningSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot


class PollFailed(Message):
    def __init__(self, error: ErrorInfo) -> None:
        super().__init__()
        self.error = error


# -- small renderers (pure; tested through the screen) ----------------------------------------------
def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def fmt_objective(value: float | None) -> str:
    return "-" if value is None else f"{value:.5g}"


def short_name(name: str, tuning: str) -> str:
    """`xgb-tune-003-4c5f1d3e` -> `003-4c5f1d3e` (the part that differs between children)."""
    m = _CHILD_SUFFIX.search(name)
    if m and name.startswith(tuning):
        return m.group(1)
    return name


_STATUS_STYLE = {
    "Completed": "green",
    "InProgress": "yellow",
    "Stopping": "yellow",
    "Stopped": "dim",
    "Failed": "red",
}


def chart_lines(points: list[tuple[float, float]], direction: str, width: int, height: int) -> list[Text]:
    """Objective (y) over finish time (x): one dot a child, a line for the best so far."""
    if width < 20 or height < 3:
        return [Text("")]
    if not points:
        return [Text("no objective values yet", style="dim")] + [Text("") for _ in range(height - 1)]
    label_w = 9
    plot_w = width - label_w - 1
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    if x1 == x0:
        x1 = x0 + 1
    grid = [[" "] * plot_w for _ in range(height)]
    styles = [[""] * plot_w for _ in range(height)]

    def cell(x: float, y: float) -> tuple[int, int]:
        col = int(round((x - x0) / (x1 - x0) * (plot_w - 1)))
        row = height - 1 - int(round((y - y0) / (y1 - y0) * (height - 1)))
        return row, col

    best: float | None = None
    best_cells: list[tuple[int, int]] = []
    for x, y in sorted(points):
        if best is None or (y > best if direction == "Maximize" else y < best):
            best = y
        best_cells.append(cell(x, best))
    # the best-so-far line, as a step line across the plot
    for (r, c), nxt in zip(best_cells, best_cells[1:] + [(best_cells[-1][0], plot_w)], strict=True):
        for cc in range(c, max(c + 1, nxt[1])):
            if 0 <= cc < plot_w and grid[r][cc] == " ":
                grid[r][cc], styles[r][cc] = "─", "green"
    for x, y in points:
        r, c = cell(x, y)
        grid[r][c], styles[r][c] = "●", "bold cyan"
    out: list[Text] = []
    for i, row in enumerate(grid):
        label = f"{y1:.4g}" if i == 0 else f"{y0:.4g}" if i == height - 1 else ""
        line = Text(f"{label:>{label_w}}│", style="dim")
        for ch, st in zip(row, styles[i], strict=True):
            line.append(ch, style=st or None)
        out.append(line)
    return out


class ObjectiveChart(Static):
    """The objective of every finished child over time, with the best so far."""

    DEFAULT_CSS = "ObjectiveChart { height: 8; }"

    def __init__(self, **kw: Any) -> None:
        super().__init__("", **kw)
        self.points: list[tuple[float, float]] = []
        self.direction = "Minimize"

    def set_points(self, points: list[tuple[float, float]], direction: str) -> None:
        if points == self.points and direction == self.direction:
            return
        self.points, self.direction = points, direction
        self.refresh()

    def render(self) -> Text:
        lines = chart_lines(self.points, self.direction, self.size.width, max(3, self.size.height))
        return Text("\n").join(lines)


# -- the step ---------------------------------------------------------------------------------------
class TuneStep(StepScreen):
    STEP_ID = "tune"
    BODY_SCROLLS = False
    CSS_PATH = "tune.tcss"

    BINDINGS = [
        Binding("ctrl+r", "review", "Review plan"),
        Binding("o", "sort('objective')", "Sort by objective"),
        Binding("s", "sort('status')", "Sort by status"),
        Binding("c", "sort('created')", "Sort by start"),
        Binding("x", "stop_tuning", "Stop tuning job"),
        Binding("m", "create_model", "Model from best"),
        Binding("f", "new_form", "New tuning job"),
    ]

    # Tests replace these to keep names and times stable.
    clock = staticmethod(lambda: datetime.now().astimezone())
    algorithm_id: ClassVar[str] = "xgboost"

    def __init__(self) -> None:
        super().__init__()
        self.base: TrainingBase | None = None
        self.catalog: AlgorithmCatalog = catalog_for(self.algorithm_id)
        self.watching: str = ""
        self.snapshot: TuningSnapshot | None = None
        self._rows: dict[str, tuple[Any, ...]] = {}
        self._columns: tuple[str, ...] = ()
        self._sort: tuple[str, bool] | None = None  # (column, reverse)
        self._best: str | None = None
        self._children: dict[str, ChildJob] = {}
        self._label_to_name: dict[str, str] = {}
        self._pending_config: TuningConfig | None = None
        self.last_render_ms = 0.0  # how long applying the newest snapshot took (bench, tests)
        self._limiter: Any = None
        self._pollers: dict[str, Any] = {}

    # -- layout ------------------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        yield Static("Tune: automatic model tuning", classes="step-title")
        with ContentSwitcher(initial="tune-form", id="tune-views"):
            with VerticalScroll(id="tune-form"):
                yield from self._compose_form()
            with Vertical(id="tune-dashboard"):
                yield from self._compose_dashboard()

    def _compose_form(self) -> ComposeResult:
        yield Static(
            Text(
                "Tuning trains many variants of the model within the ranges you choose and keeps the best. "
                "It pays off for classical models like XGBoost on modest data.",
            ),
            classes="hint",
        )
        yield Static("Based on", classes="section")
        with Horizontal(classes="row"):
            yield Label("Training job", classes="field-label")
            yield Input(placeholder="the Train step's job name", id="base-job", compact=True)
            yield Button("Load", id="base-load", compact=True)
        yield Static("", id="base-note", classes="hint")
        with Horizontal(classes="row"):
            yield Label("Image", classes="field-label")
            yield Input(id="base-image", placeholder="training image URI", compact=True)
        with Horizontal(classes="row"):
            yield Label("Role ARN", classes="field-label")
            yield Input(id="base-role", placeholder="arn:aws:iam::<account>:role/<name>", compact=True)
        with Horizontal(classes="row"):
            yield Label("Train data", classes="field-label")
            yield Input(id="base-train", placeholder="s3://bucket/prefix/train/", compact=True)
        with Horizontal(classes="row"):
            yield Label("Validation", classes="field-label")
            yield Input(
                id="base-validation",
                placeholder="s3://bucket/prefix/validation/ (needed for validation:*)",
                compact=True,
            )
        with Horizontal(classes="row"):
            yield Label("Output", classes="field-label")
            yield Input(id="base-output", placeholder="s3://bucket/prefix/output/", compact=True)
        with Horizontal(classes="row"):
            yield Label("Instance", classes="field-label")
            yield Input("ml.m5.large", id="base-instance", classes="short", compact=True)
            yield Label("count", classes="inline-label")
            yield Input("1", id="base-count", classes="tiny", type="integer", compact=True)
            yield Label("max runtime s", classes="inline-label")
            yield Input("3600", id="base-runtime", classes="short", type="integer", compact=True)
        with Horizontal(classes="row"):
            yield Label("Static", classes="field-label")
            yield Input(
                id="base-static",
                placeholder="objective=multi:softmax, num_class=5, num_round=100",
                compact=True,
            )

        yield Static(
            "Ranges (ticked ones are tuned; prefilled with the documented recommended ranges)",
            classes="section",
        )
        yield Static(
            "The docs name alpha, min_child_weight, subsample, eta and num_round as the most influential; "
            "on a few dozen rows, wide alpha or min_child_weight ranges stop every split, so they start unticked.",
            classes="hint",
        )
        for spec in self.catalog.tunable:
            with Horizontal(classes="range-row", id=f"row-{spec.name}"):
                yield Checkbox(
                    spec.name, spec.suggested, id=f"on-{spec.name}", classes="range-on", compact=True
                )
                if spec.kind == CATEGORICAL:
                    yield Label("categorical", classes="range-kind")
                    yield Input(
                        ", ".join(spec.values), id=f"values-{spec.name}", classes="range-values", compact=True
                    )
                else:
                    yield Label(spec.kind, classes="range-kind")
                    yield Input(
                        spec.recommended_min, id=f"min-{spec.name}", classes="range-num", compact=True
                    )
                    yield Input(
                        spec.recommended_max, id=f"max-{spec.name}", classes="range-num", compact=True
                    )
                    yield Select(
                        [(s, s) for s in SCALINGS],
                        value=spec.scaling,
                        allow_blank=False,
                        id=f"scaling-{spec.name}",
                        classes="range-scaling",
                        compact=True,
                    )
                yield Label(Text(spec.description[:60]), classes="range-desc hint")

        yield Static("Objective and strategy", classes="section")
        with Horizontal(classes="row"):
            yield Label("Objective", classes="field-label")
            yield Select(self._objective_options(), allow_blank=False, id="objective", compact=True)
            yield Static("", id="objective-direction", classes="inline-note")
        with Horizontal(classes="row"):
            yield Label("Strategy", classes="field-label")
            yield Select(
                [(s, s) for s in STRATEGIES], value="Bayesian", allow_blank=False, id="strategy", compact=True
            )
            yield Label("early stopping", classes="inline-label")
            yield Switch(False, id="early-stopping")
        with Horizontal(classes="row", id="hyperband-row"):
            yield Label("Hyperband", classes="field-label")
            yield Label("min resource", classes="inline-label")
            yield Input("1", id="hb-min", classes="tiny", type="integer", compact=True)
            yield Label("max resource", classes="inline-label")
            yield Input(
                "", id="hb-max", classes="short", type="integer", placeholder="e.g. num_round", compact=True
            )
        with Horizontal(classes="row"):
            yield Label("Jobs", classes="field-label")
            yield Input("10", id="max-jobs", classes="tiny", type="integer", compact=True)
            yield Label("in parallel", classes="inline-label")
            yield Input("2", id="max-parallel", classes="tiny", type="integer", compact=True)
            yield Label("tuning max runtime s", classes="inline-label")
            yield Input(
                "", id="tuning-runtime", classes="short", type="integer", placeholder="optional", compact=True
            )
        with Horizontal(classes="row"):
            yield Label("Warm start", classes="field-label")
            yield Input(
                "",
                id="warm-parents",
                placeholder="parent tuning jobs, comma separated (optional)",
                compact=True,
            )
            yield Select(
                [(t, t) for t in WARM_START_TYPES],
                value=WARM_START_TYPES[0],
                allow_blank=False,
                id="warm-type",
                compact=True,
            )
        with Horizontal(classes="row"):
            yield Label("Job name", classes="field-label")
            yield Input(self._default_name(), id="tuning-name", classes="medium", compact=True)
        yield Static("", id="cost", classes="cost-line")
        yield Static("", id="problems")
        with Horizontal(classes="buttons-row"):
            yield Button("Review plan (ctrl+r)", id="review", variant="primary", compact=True)
            yield Button("Watch tuning job", id="watch-existing", compact=True)

    def _compose_dashboard(self) -> ComposeResult:
        yield Static("", id="dash-title")
        yield Static("", id="dash-counters")
        yield Static("", id="dash-best")
        yield ObjectiveChart(id="dash-chart")
        table: DataTable[Any] = DataTable(id="children", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="dash-note", classes="hint")

    # -- startup -----------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._toggle_hyperband()
        self.query_one("#base-job", Input).value = self.state.training_job
        self._refresh_checks()
        self.on_identity_ready(self._start)

    def _start(self, _identity: Any) -> None:
        if self.state.tuning_job and not self.watching:
            self.watch_tuning_job(self.state.tuning_job)
        if self.base is None:
            self._load_base(self.state.training_job)

    def _default_name(self) -> str:
        return "xgb-tune-" + self.clock().strftime("%m%d-%H%M%S")

    def _objective_options(self) -> list[tuple[str, str]]:
        return [(f"{o.metric} ({o.direction.lower()})", o.metric) for o in self.catalog.objectives]

    # -- loading the Train step's settings -----------------------------------------------------------
    @work(thread=True, exclusive=True, group="tune-base", exit_on_error=False)
    def _load_base(self, job_name: str) -> None:
        from services.tuning.request import base_from_state, load_base

        factory = self.factory
        if factory is None:
            return
        try:
            if job_name:
                self.post_message(
                    BaseLoaded(load_base(factory, job_name), f"Settings of training job {job_name}.")
                )
                return
            saved = base_from_state(self.state.extra)
            if saved is not None:
                self.post_message(BaseLoaded(saved, "Settings saved by the Train step."))
                return
            recent = self._recent_training_job(factory)
            if recent:
                self.post_message(
                    BaseLoaded(load_base(factory, recent), f"Settings of the newest training job, {recent}.")
                )
                return
            from services.training import image_uri

            image = image_uri(self.algorithm_id, factory.region)
            base = TrainingBase(
                image=image,
                role_arn=self.state.role_arn,
                input_channels=(),
                output_path=f"s3://{self.state.default_bucket}/tuning/output/"
                if self.state.default_bucket
                else "",
                static_hyperparameters={"objective": "multi:softmax", "num_class": "5", "num_round": "100"},
                source="defaults",
            )
            self.post_message(
                BaseLoaded(
                    base, "No training job found: run the Train step first, or fill in the data below."
                )
            )
        except Exception as exc:
            err = exc if isinstance(exc, SagewizError) else translate(exc, "sagemaker:DescribeTrainingJob")
            self.post_message(BaseLoaded(None, "", ErrorInfo.of(err)))

    @staticmethod
    def _recent_training_job(factory: Any) -> str:
        resp = factory.client("sagemaker").list_training_jobs(
            MaxResults=20, SortBy="CreationTime", SortOrder="Descending"
        )
        for s in resp.get("TrainingJobSummaries", []):
            name = s.get("TrainingJobName", "")
            if not _CHILD_SUFFIX.search(name):  # a tuning child is not the Train step's job
                return str(name)
        return ""

    def on_base_loaded(self, message: BaseLoaded) -> None:
        if message.error is not None:
            self.query_one("#base-note", Static).update(
                Text(f"{message.error.title}: {message.error.message}", style="red")
            )
            if message.error.kind == "access-denied":
                self.wizard.show_error(message.error)
            return
        base = message.base
        assert base is not None
        self.base = base
        self.query_one("#base-note", Static).update(Text(message.note))
        channels = {c.get("ChannelName"): c for c in base.input_channels}

        def uri(name: str) -> str:
            c = channels.get(name) or {}
            return str(((c.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri", ""))

        values = {
            "#base-image": base.image,
            "#base-role": base.role_arn,
            "#base-train": uri("train"),
            "#base-validation": uri("validation"),
            "#base-output": base.output_path,
            "#base-instance": base.instance_type,
            "#base-count": str(base.instance_count),
            "#base-runtime": str(base.max_runtime_s),
            "#base-static": ", ".join(f"{k}={v}" for k, v in base.static_hyperparameters.items()),
        }
        for selector, value in values.items():
            self.query_one(selector, Input).value = value
        # Objectives that fit the job's objective (multiclass -> merror, mlogloss, accuracy).
        self.catalog = catalog_for(self.algorithm_id, base.static_hyperparameters)
        select = self.query_one("#objective", Select)
        select.set_options(self._objective_options())
        if self.catalog.objectives:
            select.value = self.catalog.objectives[0].metric
        self._refresh_checks()

    # -- reading the form ----------------------------------------------------------------------------
    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _int(self, selector: str, default: int | None = None) -> int | None:
        text = self._value(selector)
        if not text:
            return default
        try:
            return int(text)
        except ValueError:
            return None

    def read_config(self) -> TuningConfig:
        """The form as a TuningConfig (unchecked: validate_config says what is wrong)."""
        static: dict[str, str] = {}
        for part in self._value("#base-static").split(","):
            if "=" in part:
                k, _, v = part.partition("=")
                if k.strip():
                    static[k.strip()] = v.strip()
        previous = {c.get("ChannelName"): c for c in (self.base.input_channels if self.base else ())}
        channels = []
        for name, selector in (("train", "#base-train"), ("validation", "#base-validation")):
            uri = self._value(selector)
            if uri:
                channels.append(_channel(name, uri, previous.get(name)))
        template = self.base or TrainingBase("", "", (), "")
        base = template.with_(
            image=self._value("#base-image"),
            role_arn=self._value("#base-role"),
            input_channels=tuple(channels),
            output_path=self._value("#base-output"),
            instance_type=self._value("#base-instance"),
            instance_count=self._int("#base-count", 1) or 0,
            max_runtime_s=self._int("#base-runtime", 3600) or 0,
            static_hyperparameters=static,
        )
        ranges = []
        for spec in self.catalog.tunable:
            try:
                if not self.query_one(f"#on-{spec.name}", Checkbox).value:
                    continue
            except NoMatches:
                continue
            if spec.kind == CATEGORICAL:
                r = spec.default_range().with_(values=parse_values(self._value(f"#values-{spec.name}")))
            else:
                scaling = self.query_one(f"#scaling-{spec.name}", Select).value
                r = spec.default_range().with_(
                    min_value=self._value(f"#min-{spec.name}"),
                    max_value=self._value(f"#max-{spec.name}"),
                    scaling=str(scaling),
                )
            ranges.append(r)
        metric = str(self.query_one("#objective", Select).value or "")
        objective = self.catalog.objective(metric)
        strategy = str(self.query_one("#strategy", Select).value)
        parents = tuple(p.strip() for p in self._value("#warm-parents").split(",") if p.strip())
        max_jobs_text = self._value("#max-jobs")
        return TuningConfig(
            name=self._value("#tuning-name"),
            base=base,
            ranges=tuple(ranges),
            objective_metric=metric,
            objective_type=objective.direction if objective else "Minimize",
            strategy=strategy,
            max_jobs=(None if strategy == "Grid" and not max_jobs_text else self._int("#max-jobs", 0) or 0),
            max_parallel=self._int("#max-parallel", 1) or 0,
            early_stopping=self.query_one("#early-stopping", Switch).value,
            hyperband_min_resource=self._int("#hb-min") if strategy == "Hyperband" else None,
            hyperband_max_resource=self._int("#hb-max") if strategy == "Hyperband" else None,
            max_runtime_s=self._int("#tuning-runtime"),
            warm_start_parents=parents,
            warm_start_type=str(self.query_one("#warm-type", Select).value),
        )

    def _refresh_checks(self) -> None:
        from services.tuning.config import validate_config
        from services.tuning.request import estimate_cost

        cfg = self.read_config()
        problems = validate_config(cfg)
        metric = self.catalog.objective(cfg.objective_metric)
        self.query_one("#objective-direction", Static).update(
            Text(f"{metric.direction}: {metric.description}" if metric else "", style="dim")
        )
        cost = estimate_cost(cfg, self.state.region or "us-east-1")
        self.query_one("#cost", Static).update(Text(cost.text()))
        self._show_problems(problems)

    def _show_problems(self, problems: list[Problem]) -> None:
        box = self.query_one("#problems", Static)
        if not problems:
            box.update(Text("Ready: every check passes.", style="green"))
            return
        text = Text(f"{len(problems)} to fix before submitting:\n", style="bold red")
        for p in problems[:12]:
            text.append(f"  • {p.field}: ", style="red")
            text.append(p.message)
            if p.hint:
                text.append(f" ({p.hint})", style="dim")
            text.append("\n")
        if len(problems) > 12:
            text.append(f"  … and {len(problems) - 12} more\n", style="dim")
        box.update(text)

    def _toggle_hyperband(self) -> None:
        strategy = self.query_one("#strategy", Select).value
        self.query_one("#hyperband-row").display = strategy == "Hyperband"

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(Switch.Changed)
    def _form_changed(self, event: Message) -> None:
        control = getattr(event, "control", None)
        if control is not None and control.id == "base-job":
            return
        self._refresh_checks()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "strategy":
            self._toggle_hyperband()
        self._refresh_checks()

    @on(Button.Pressed, "#base-load")
    def _base_load_pressed(self) -> None:
        name = self._value("#base-job")
        if not name:
            self.notify(
                "Type the name of a training job to copy its settings.", severity="warning", markup=False
            )
            return
        self._load_base(name)

    @on(Input.Submitted, "#base-job")
    def _base_job_submitted(self) -> None:
        self._base_load_pressed()

    @on(Button.Pressed, "#review")
    def _review_pressed(self) -> None:
        self.action_review()

    @on(Button.Pressed, "#watch-existing")
    def _watch_pressed(self) -> None:
        name = self._value("#tuning-name")
        if name:
            self.watch_tuning_job(name)

    # -- plan, confirm, create -----------------------------------------------------------------------
    def action_review(self) -> None:
        if self._view() != "tune-form":
            return
        cfg = self.read_config()
        from services.tuning.config import validate_config

        problems = validate_config(cfg)
        if problems:  # bad input: said before any AWS call
            self._show_problems(problems)
            self.notify(problems[0].text(), title="Fix before submitting", severity="error", markup=False)
            return
        self._build_plan(cfg)

    @work(thread=True, exclusive=True, group="tune-plan", exit_on_error=False)
    def _build_plan(self, cfg: TuningConfig) -> None:
        from services.flow import tune as flow_tune
        from services.tuning.request import check

        problems = check(cfg)  # includes botocore's model of the request
        if problems:
            self.post_message(ProblemsFound(problems))
            return
        try:
            plan = flow_tune.plan_config(self.flow_context, cfg).requests
        except SagewizError as err:
            self.post_message(ActionFailed(ErrorInfo.of(err), "plan"))
            return
        self.post_message(PlanReady(plan, cfg, "create"))

    def on_problems_found(self, message: ProblemsFound) -> None:
        self._show_problems(message.problems)
        self.notify(message.problems[0].text(), title="Fix before submitting", severity="error", markup=False)

    def on_plan_ready(self, message: PlanReady) -> None:
        def confirmed(ok: bool | None) -> None:
            if not ok:
                return
            if message.purpose == "create" and message.config is not None:
                self._create(message.config, message.plan)
            else:
                self._apply(message.plan, message.purpose)

        self.app.push_screen(ConfirmPlanScreen(message.plan), confirmed)

    @work(thread=True, exclusive=True, group="tune-apply", exit_on_error=False)
    def _create(self, cfg: TuningConfig, plan: Any) -> None:
        from services.plan import apply_plan

        try:
            apply_plan(plan, self.factory, self.journal)
        except Exception as exc:
            err = (
                exc
                if isinstance(exc, SagewizError)
                else translate(exc, "sagemaker:CreateHyperParameterTuningJob")
            )
            self.post_message(ActionFailed(ErrorInfo.of(err), "create"))
            return
        self.post_message(TuningCreated(cfg.name))

    def on_tuning_created(self, message: TuningCreated) -> None:
        self.state.update(tuning_job=message.name)
        with contextlib.suppress(OSError):
            self.journal.append(ChoiceMade(dict(tuning_job=message.name)))
        self.notify(f"Tuning job {message.name} started.", markup=False)
        self.watch_tuning_job(message.name)

    @work(thread=True, exclusive=True, group="tune-apply", exit_on_error=False)
    def _apply(self, plan: Any, purpose: str) -> None:
        from services.plan import apply_plan

        try:
            done = apply_plan(plan, self.factory, self.journal)
        except Exception as exc:
            err = exc if isinstance(exc, SagewizError) else translate(exc, plan.actions[0].api_call())
            self.post_message(ActionFailed(ErrorInfo.of(err), purpose))
            return
        self.post_message(ActionDone(purpose, plan.actions[0].resource or str(done[-1].result)))

    def on_action_done(self, message: ActionDone) -> None:
        if message.purpose == "model":
            self.state.update(model_name=message.detail)
            self.notify(f"Model {message.detail} created from the best training job.", markup=False)
            self.mark(StepState.DONE)
        elif message.purpose == "stop":
            self.notify(
                f"Stopping tuning job {message.detail}; running children are being stopped.", markup=False
            )
            self._poll_now()

    def on_action_failed(self, message: ActionFailed) -> None:
        self.wizard.show_error(message.error)

    # -- the dashboard -------------------------------------------------------------------------------
    def _view(self) -> str:
        return str(self.query_one("#tune-views", ContentSwitcher).current)

    def watch_tuning_job(self, name: str) -> None:
        """Switch to the dashboard and poll `name` until it ends (or the screen goes)."""
        if name != self.watching:
            self._reset_table()
        self.watching = name
        self.query_one("#tune-views", ContentSwitcher).current = "tune-dashboard"
        self.query_one("#dash-title", Static).update(Text(f"Tuning job {name}: reading…", style="bold"))
        self.query_one("#children", DataTable).focus()
        self.refresh_bindings()
        self._poll(name)

    def _poll_now(self) -> None:
        if self.watching:
            self._poll(self.watching)

    @work(thread=True, exclusive=True, group="tune-poll", exit_on_error=False)
    def _poll(self, name: str) -> None:
        from services.tuning.dashboard import PollCancelled, RateLimiter, TuningPoller

        worker = get_current_worker()
        if self._limiter is None:
            # One limiter for the screen: a restarted poll (after a stop) still keeps to 2 lists a second.
            self._limiter = RateLimiter(wait=lambda s: get_current_worker().cancelled_event.wait(s))
        poller = self._pollers.get(name)
        if poller is None:  # kept per job, so a restarted poll stays incremental
            poller = self._pollers[name] = TuningPoller(self.factory, name, limiter=self._limiter)
        delay = POLL_SECONDS
        while not worker.is_cancelled:
            try:
                snap = poller.poll()
            except PollCancelled:
                return
            except Exception as exc:
                err = (
                    exc
                    if isinstance(exc, SagewizError)
                    else translate(exc, "sagemaker:DescribeHyperParameterTuningJob")
                )
                self.post_message(PollFailed(ErrorInfo.of(err)))
                if err.kind in ("access-denied", "not-found"):
                    return
                delay = min(delay * 2, 30.0)  # throttled or network: back off, keep trying
            else:
                delay = POLL_SECONDS
                self.post_message(SnapshotReady(snap))
                if snap.done and not any(not c.terminal for c in snap.children):
                    return
            if worker.cancelled_event.wait(delay):
                return

    def on_poll_failed(self, message: PollFailed) -> None:
        err = message.error
        self.query_one("#dash-note", Static).update(
            Text(f"{err.title}: {err.message} {err.hint}".strip(), style="red")
        )
        if err.kind in ("access-denied", "not-found"):
            self.wizard.show_error(err)

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self.show_snapshot(message.snapshot)

    def show_snapshot(self, snap: TuningSnapshot) -> None:
        """Bring the dashboard up to date with `snap`: only changed cells are touched."""
        started = time.perf_counter()
        self.snapshot = snap
        if snap.name != self.watching:
            self._reset_table()
            self.watching = snap.name
            self.query_one("#tune-views", ContentSwitcher).current = "tune-dashboard"
        title = Text.assemble(
            (f"Tuning job {snap.name}", "bold"),
            "  ",
            (snap.status, _STATUS_STYLE.get(snap.status, "")),
            f"  ·  {snap.strategy}  ·  {snap.objective_type.lower()} {snap.objective_metric}",
            f"  ·  {len(snap.children)}/{snap.max_jobs or '?'} jobs, {snap.max_parallel} at once",
        )
        if self.state.sandbox:
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
        best = snap.best_name
        if best is None:
            found = best_child(snap.children, snap.objective_type)
            best = found.name if found else None
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
        note = (
            "Enter: child's log · o/s/c: sort · x: stop tuning job · m: model from best · f: new tuning job"
        )
        text = Text(note)
        if snap.done:
            text = Text(f"The tuning job is {snap.status}. ") + text
            if snap.status == "Completed":
                self.mark(StepState.DONE)
            elif snap.status == "Failed":
                self.mark(StepState.ATTENTION)
        failed = next((c for c in snap.children if c.status == "Failed" and c.failure_reason), None)
        if snap.failure_reason or failed is not None:
            reason = snap.failure_reason or f"{failed.name}: {failed.failure_reason}"  # type: ignore[union-attr]
            text = Text(reason + "\n", style="red") + text
            if "AccessDenied" in reason or "Access Denied" in reason:
                text.append(
                    "\nThe execution role may not read the data: the Permissions step or the doctor fixes that.",
                    style="yellow",
                )
        self.query_one("#dash-note", Static).update(text)
        self.last_render_ms = (time.perf_counter() - started) * 1000

    def _reset_table(self) -> None:
        table = self.query_one("#children", DataTable)
        table.clear(columns=True)
        self._rows.clear()
        self._children.clear()
        self._label_to_name.clear()
        self._columns = ()
        self._best = None

    def _cells(self, c: ChildJob, snap: TuningSnapshot, best: str | None) -> tuple[Any, ...]:
        is_best = c.name == best
        label = short_name(c.name, snap.name)
        style = "bold green" if is_best else ""
        tuned = dict(c.tuned)
        status = c.status + (f" ({c.secondary_status})" if c.secondary_status and not c.terminal else "")
        return (
            Text(("★ " if is_best else "  ") + label, style=style),
            Text(status, style=_STATUS_STYLE.get(c.status, "")),
            *(Text(tuned.get(n, ""), style=style) for n in snap.tuned_names),
            Text(fmt_objective(c.objective), style=style or ("dim" if c.objective is None else "")),
            Text(fmt_duration(c.duration_s(snap.polled_at))),
        )

    def _update_table(self, snap: TuningSnapshot, best: str | None) -> None:
        table = self.query_one("#children", DataTable)
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
                and self._children.get(c.name) == c
                and (c.name == best) == (c.name == self._best)
            ):
                continue
            cells = self._cells(c, snap, best)
            old = self._rows.get(c.name)
            self._children[c.name] = c
            self._label_to_name[short_name(c.name, snap.name)] = c.name
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

    # -- table actions -------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        dashboard = ("sort", "open_log", "stop_tuning", "create_model", "new_form")
        try:
            view = self._view()
        except NoMatches:
            return True
        if action in dashboard:
            return view == "tune-dashboard"
        if action == "review":
            return view == "tune-form"
        return True

    def action_sort(self, column: str) -> None:
        reverse = False
        if self._sort is not None and self._sort[0] == column:
            reverse = not self._sort[1]
        self._sort = (column, reverse)
        self._apply_sort()
        direction = "descending" if reverse else "ascending"
        self.query_one("#dash-note", Static).update(Text(f"Sorted by {column}, {direction}."))

    def _apply_sort(self) -> None:
        assert self._sort is not None
        column, reverse = self._sort
        table = self.query_one("#children", DataTable)
        maximize = self.snapshot is not None and self.snapshot.objective_type == "Maximize"

        def child_of(cell: Any) -> ChildJob:
            label = str(cell).removeprefix("★").strip()
            return self._children[self._label_to_name[label]]

        def key(cell: Any) -> Any:
            c = child_of(cell)
            if column == "objective":
                # Best first by default; children without a value always last.
                if c.objective is None:
                    return (1, 0.0, c.name)
                v = -c.objective if maximize else c.objective
                return (0, -v if reverse else v, c.name)
            if column == "status":
                return (c.status, c.created, c.name)
            return (c.created, c.name)

        table.sort("job", key=key, reverse=reverse and column != "objective")

    def _selected_child(self) -> str | None:
        table = self.query_one("#children", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(row_key.value) if row_key is not None else None

    def action_open_log(self) -> None:
        name = self._selected_child()
        if name is None:
            return
        self.open_child_log(name)

    @on(DataTable.RowSelected, "#children")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.open_child_log(str(event.row_key.value))

    def open_child_log(self, name: str) -> None:
        """The Train step's live panel (status, metrics, log pane) for one child."""
        from screens.job_panel import JobPanelScreen

        self.app.push_screen(JobPanelScreen(name))

    def action_stop_tuning(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        if snap.status != "InProgress":
            self.notify(f"The tuning job is {snap.status}; only a running one can be stopped.", markup=False)
            return
        from services.plan import Action, Plan

        running = sum(1 for c in snap.children if not c.terminal)
        action = Action(
            service="sagemaker",
            operation="stop_hyper_parameter_tuning_job",
            params={"HyperParameterTuningJobName": snap.name},
            description=f"Stop tuning job {snap.name} and its {running} running training job(s)",
            undo="none: a stopped tuning job cannot be resumed (start a new one with warm start from it)",
            resource=snap.name,
            journal=ResourceChanged(ResourceKind.TUNING_JOB, snap.name, change=Change.STOPPED),
        )
        self.on_plan_ready(PlanReady(Plan(f"Stop tuning job {snap.name}", (action,)), None, "stop"))

    def action_create_model(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        best = snap.best_name or (b.name if (b := best_child(snap.children, snap.objective_type)) else None)
        if best is None:
            self.notify("No child has an objective value yet, so there is no best job.", markup=False)
            return
        self._model_plan(best, snap.name)

    @work(thread=True, exclusive=True, group="tune-plan", exit_on_error=False)
    def _model_plan(self, best: str, tuning: str) -> None:
        from services.job_status import describe
        from services.training import plan_create_model

        try:
            factory, _identity = self.connection
            job = describe(factory.client("sagemaker"), best, factory.region)
            plan = plan_create_model(job, f"{tuning}-best")
        except Exception as exc:
            err = exc if isinstance(exc, SagewizError) else translate(exc, "sagemaker:DescribeTrainingJob")
            self.post_message(ActionFailed(ErrorInfo.of(err), "model"))
            return
        self.post_message(PlanReady(plan, None, "model"))

    def action_new_form(self) -> None:
        self.workers.cancel_group(self, "tune-poll")
        self.query_one("#tune-views", ContentSwitcher).current = "tune-form"
        self.query_one("#tuning-name", Input).value = self._default_name()
        self.refresh_bindings()


def _channel(name: str, uri: str, previous: dict[str, Any] | None) -> dict[str, Any]:
    """A channel for `uri`, keeping the Train step's content type and data type when it had one."""
    old = previous or {}
    source = dict((old.get("DataSource") or {}).get("S3DataSource") or {})
    source.update(S3Uri=uri)
    source.setdefault("S3DataType", "S3Prefix")
    source.setdefault("S3DataDistributionType", "FullyReplicated")
    channel = {k: v for k, v in old.items() if k != "DataSource"} or {"ContentType": "text/csv"}
    channel.update(ChannelName=name, DataSource={"S3DataSource": source})
    return channel
