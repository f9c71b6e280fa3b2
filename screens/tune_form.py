"""The Tune step's form: what to tune and how, checked as you type, with the cost upper bound.

The form reads itself into the Tune step's typed choices (`read_choices`), which the flow
(`services/flow/tune.py`) turns into a TuningConfig and a plan exactly as for `--plain` and `apply`;
its defaults are the flow's. The screen owns the workers that load
the Train step's settings, build the plan and create the job.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, Switch

from services.errors import ErrorInfo
from services.flow import tune as flow_tune
from services.tuning.algorithm_rules import algorithm_of
from services.tuning.catalog import AlgorithmCatalog, catalog_for
from services.tuning.config import STRATEGIES, WARM_START_TYPES, TrainingBase, TuningConfig
from services.tuning.ranges import CATEGORICAL, SCALINGS, Problem, parse_values
from services.tuning.warm_start import ParentJob, advise, warm_start_problems
from tui.context import wizard_of

_RANGES_HINT = {
    "xgboost": "The docs name alpha, min_child_weight, subsample, eta and num_round as the most influential; "
    "on a few dozen rows, wide alpha or min_child_weight ranges stop every split, so they start unticked.",
    "image-classification": "The docs name mini_batch_size, learning_rate and optimizer as the most "
    "influential; tune momentum, weight_decay, beta_1, beta_2, eps and gamma only with the optimizer that uses them.",
}


class TuneForm(VerticalScroll):
    """Ranges, objective, strategy and limits over a training job's settings (the base)."""

    def __init__(self, algorithm_id: str, initial_name: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.algorithm_id = algorithm_id
        self._initial_name = initial_name
        self.base: TrainingBase | None = None
        self.catalog: AlgorithmCatalog = catalog_for(algorithm_id)
        # Earlier tuning jobs this one can warm start from, by name (the screen loads them).
        self.parents: dict[str, ParentJob] = {}

    def compose(self) -> ComposeResult:
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
            yield Input(TrainingBase.instance_type, id="base-instance", classes="short", compact=True)
            yield Label("count", classes="inline-label")
            yield Input(
                str(TrainingBase.instance_count),
                id="base-count",
                classes="tiny",
                type="integer",
                compact=True,
            )
            yield Label("max runtime s", classes="inline-label")
            yield Input(
                str(TrainingBase.max_runtime_s),
                id="base-runtime",
                classes="short",
                type="integer",
                compact=True,
            )
        with Horizontal(classes="row"):
            yield Label("Static", classes="field-label")
            yield Input(
                id="base-static",
                placeholder="name=value, ... (the training job's fixed hyperparameters)",
                compact=True,
            )

        yield Static(
            "Ranges (ticked ones are tuned; prefilled with the documented recommended ranges)",
            classes="section",
        )
        yield Static(_RANGES_HINT.get(self.algorithm_id, ""), id="ranges-hint", classes="hint")
        with Vertical(id="ranges"):
            yield from self._range_rows()

        yield Static("Objective and strategy", classes="section")
        with Horizontal(classes="row"):
            yield Label("Objective", classes="field-label")
            yield Select(self._objective_options(), allow_blank=False, id="objective", compact=True)
            yield Static("", id="objective-direction", classes="inline-note")
        with Horizontal(classes="row"):
            yield Label("Strategy", classes="field-label")
            yield Select(
                [(s, s) for s in STRATEGIES],
                value=flow_tune.DEFAULT_STRATEGY,
                allow_blank=False,
                id="strategy",
                compact=True,
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
            yield Input(
                str(flow_tune.DEFAULT_MAX_JOBS), id="max-jobs", classes="tiny", type="integer", compact=True
            )
            yield Label("in parallel", classes="inline-label")
            yield Input(
                str(flow_tune.DEFAULT_MAX_PARALLEL),
                id="max-parallel",
                classes="tiny",
                type="integer",
                compact=True,
            )
            yield Label("tuning max runtime s", classes="inline-label")
            yield Input(
                "", id="tuning-runtime", classes="short", type="integer", placeholder="optional", compact=True
            )
        with Horizontal(classes="row"):
            yield Label("Warm start", classes="field-label")
            yield Select[str]([], prompt="none", allow_blank=True, id="warm-parent", compact=True)
            yield Select(
                [(t, t) for t in WARM_START_TYPES],
                value=WARM_START_TYPES[0],
                allow_blank=False,
                id="warm-type",
                compact=True,
            )
        yield Static("", id="warm-note", classes="hint")
        with Horizontal(classes="row"):
            yield Label("Job name", classes="field-label")
            yield Input(self._initial_name, id="tuning-name", classes="medium", compact=True)
        yield Static("", id="cost", classes="cost-line")
        yield Static("", id="problems")
        with Horizontal(classes="buttons-row"):
            yield Button("Review plan (ctrl+r)", id="review", variant="primary", compact=True)
            yield Button("Watch tuning job", id="watch-existing", compact=True)

    def _range_rows(self) -> ComposeResult:
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

    def on_mount(self) -> None:
        self._toggle_hyperband()
        self.refresh_checks()

    def _objective_options(self) -> list[tuple[str, str]]:
        return [(f"{o.metric} ({o.direction.lower()})", o.metric) for o in self.catalog.objectives]

    # -- the training job the tuning job is based on -------------------------------------------------
    def show_base_error(self, error: ErrorInfo) -> None:
        self.query_one("#base-note", Static).update(Text(f"{error.title}: {error.message}", style="red"))

    def show_base(self, base: TrainingBase, note: str) -> None:
        """Fill the form from `base` and offer the objectives that fit its hyperparameters."""
        self.base = base
        self.query_one("#base-note", Static).update(Text(note))
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
            # What is ticked to be tuned is not also static (AWS refuses both): the job's value
            # gives way to the range, as in --plain and apply.
        }
        for selector, value in values.items():
            self.query_one(selector, Input).value = value
        # The base job's algorithm decides the ranges and objectives; objectives that fit the
        # job's own objective (multiclass -> merror, mlogloss, accuracy).
        algo = algorithm_of(base.image)
        changed = algo is not None and algo.id != self.algorithm_id
        if algo is not None:
            self.algorithm_id = algo.id
        self.catalog = catalog_for(self.algorithm_id, base.static_hyperparameters)
        self.show_parents([])  # another base may be another algorithm: the screen looks again
        if not base.image:  # nothing says which algorithm: say whose ranges these are
            self.query_one("#ranges-hint", Static).update(
                Text(
                    f"No training job loaded: the ranges below are those of {self.catalog.title} until "
                    "one is; the loaded job's algorithm decides."
                )
            )
            self.query_one("#warm-note", Static).update(
                Text(
                    "Warm start needs a training job first: its algorithm decides which tuning jobs "
                    "can seed this one."
                )
            )
        if changed:
            self.call_later(self._switch_algorithm)
        else:
            self._show_catalog()

    async def _switch_algorithm(self) -> None:
        """New range rows for the base job's algorithm (the old rows go first: names like gamma
        exist in both algorithms)."""
        box = self.query_one("#ranges", Vertical)
        await box.remove_children()
        await box.mount_compose(self._range_rows())
        self.query_one("#ranges-hint", Static).update(_RANGES_HINT.get(self.algorithm_id, ""))
        self.post_message(self.AlgorithmChanged(self.algorithm_id))
        self._show_catalog()

    class AlgorithmChanged(Message):
        """The form now offers another algorithm's ranges (the screen renames the job)."""

        def __init__(self, algorithm_id: str) -> None:
            super().__init__()
            self.algorithm_id = algorithm_id

    def _show_catalog(self) -> None:
        select = self.query_one("#objective", Select)
        select.set_options(self._objective_options())
        if self.catalog.objectives:
            select.value = self.catalog.objectives[0].metric
        self._show_static(self._ticked())
        self.refresh_checks()

    def _show_static(self, ticked: set[str]) -> None:
        """The base job's hyperparameters minus the tuned ones (AWS refuses one both static and
        tuned): the job's value gives way to the range, as in --plain and apply."""
        if self.base is None:
            return
        self.query_one("#base-static", Input).value = ", ".join(
            f"{k}={v}" for k, v in self.base.static_hyperparameters.items() if k not in ticked
        )

    def _static_follows_tick(self, name: str, ticked: bool) -> None:
        """Ticking a range takes its fixed value out of Static; unticking puts the job's back."""
        if self.base is None:
            return
        field = self.query_one("#base-static", Input)
        parts = [p.strip() for p in field.value.split(",") if p.strip()]
        keys = [p.partition("=")[0].strip() for p in parts]
        if ticked and name in keys:
            parts = [p for p, k in zip(parts, keys, strict=True) if k != name]
        elif not ticked and name not in keys and name in self.base.static_hyperparameters:
            parts.append(f"{name}={self.base.static_hyperparameters[name]}")
        else:
            return
        field.value = ", ".join(parts)

    def _ticked(self) -> set[str]:
        return {
            box.id.removeprefix("on-")
            for box in self.query(".range-on").results(Checkbox)
            if box.value and box.id
        }

    # -- reading the form ----------------------------------------------------------------------------
    def value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _int(self, selector: str, default: int | None = None) -> int | None:
        text = self.value(selector)
        if not text:
            return default
        try:
            return int(text)
        except ValueError:
            return None

    def read_choices(self) -> flow_tune.TuneChoices:
        """The form as the Tune step's choices, its base as the form shows it (unchecked)."""
        static: dict[str, str] = {}
        for part in self.value("#base-static").split(","):
            if "=" in part:
                k, _, v = part.partition("=")
                if k.strip():
                    static[k.strip()] = v.strip()
        previous = {c.get("ChannelName"): c for c in (self.base.input_channels if self.base else ())}
        channels = []
        for name, selector in (("train", "#base-train"), ("validation", "#base-validation")):
            uri = self.value(selector)
            if uri:
                channels.append(_channel(name, uri, previous.get(name)))
        template = self.base or TrainingBase("", "", (), "")
        base = template.with_(
            image=self.value("#base-image"),
            role_arn=self.value("#base-role"),
            input_channels=tuple(channels),
            output_path=self.value("#base-output"),
            instance_type=self.value("#base-instance"),
            instance_count=self._int("#base-count", TrainingBase.instance_count) or 0,
            max_runtime_s=self._int("#base-runtime", TrainingBase.max_runtime_s) or 0,
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
                r = flow_tune.RangeChoice(spec.name, values=parse_values(self.value(f"#values-{spec.name}")))
            else:
                r = flow_tune.RangeChoice(
                    spec.name,
                    min_value=self.value(f"#min-{spec.name}"),
                    max_value=self.value(f"#max-{spec.name}"),
                    scaling=str(self.query_one(f"#scaling-{spec.name}", Select).value),
                )
            ranges.append(r)
        strategy = str(self.query_one("#strategy", Select).value)
        grid_inferred = strategy == "Grid" and not self.value("#max-jobs")
        return flow_tune.TuneChoices(
            name=self.value("#tuning-name"),
            training_job=self.value("#base-job"),
            algorithm=self.algorithm_id,
            strategy=strategy,
            max_jobs=None if grid_inferred else self._int("#max-jobs", 0) or 0,
            max_parallel=self._int("#max-parallel", 1) or 0,
            objective=str(self.query_one("#objective", Select).value or ""),
            ranges=tuple(ranges),
            early_stopping=self.query_one("#early-stopping", Switch).value,
            base=base,
            hyperband_min_resource=self._int("#hb-min"),
            hyperband_max_resource=self._int("#hb-max"),
            max_runtime_s=self._int("#tuning-runtime"),
            warm_start_parents=(parent.name,) if (parent := self.warm_parent()) else (),
            warm_start_type=str(self.query_one("#warm-type", Select).value),
        )

    def read_config(self) -> TuningConfig:
        """The form as the flow builds it into a TuningConfig (validate_config says what is wrong)."""
        choices = self.read_choices()
        assert choices.base is not None
        return flow_tune.build_config(choices, choices.base)

    def problems(self, cfg: TuningConfig | None = None) -> list[Problem]:
        """Every rule the form's tuning job breaks, the chosen warm start parent's included."""
        from services.tuning.config import validate_config

        cfg = cfg or self.read_config()
        parent = self.warm_parent()
        return validate_config(cfg) + (warm_start_problems(cfg, [parent]) if parent else [])

    def refresh_checks(self) -> None:
        from services.tuning.request import estimate_cost

        cfg = self.read_config()
        problems = self.problems(cfg)
        parent = self.warm_parent()
        if parent is not None:
            self.query_one("#warm-note", Static).update(
                Text(f"{parent.label()}. Fits {advise(cfg, [parent]).text()}")
            )
        metric = self.catalog.objective(cfg.objective_metric)
        self.query_one("#objective-direction", Static).update(
            Text(f"{metric.direction}: {metric.description}" if metric else "", style="dim")
        )
        cost = estimate_cost(cfg, wizard_of(self.app).state.region or "us-east-1")
        self.query_one("#cost", Static).update(Text(cost.text()))
        self.show_problems(problems)

    def show_problems(self, problems: list[Problem]) -> None:
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
        if isinstance(control, Checkbox) and control.has_class("range-on") and control.id:
            self._static_follows_tick(control.id.removeprefix("on-"), control.value)
        self.refresh_checks()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "strategy":
            self._toggle_hyperband()
        if event.select.id == "warm-parent":
            self._parent_chosen()
        self.refresh_checks()

    # -- warm start --------------------------------------------------------------------------------
    def show_parents(self, parents: list[ParentJob]) -> None:
        """Offer `parents` (finished tuning jobs of this algorithm) as warm start sources."""
        self.parents = {p.name: p for p in parents}
        select = self.query_one("#warm-parent", Select)
        select.set_options([(p.label(), p.name) for p in parents])
        self._show_warm_note()

    def show_parents_error(self, error: ErrorInfo) -> None:
        self.query_one("#warm-note", Static).update(
            Text(
                f"Earlier tuning jobs could not be read ({error.title}: {error.message}); warm start is off."
            )
        )

    def warm_parent(self) -> ParentJob | None:
        value = self.query_one("#warm-parent", Select).value
        return self.parents.get(value) if isinstance(value, str) else None

    def _parent_chosen(self) -> None:
        """A parent picked: the type that fits it (the person may still change it)."""
        parent = self.warm_parent()
        if parent is None:
            self._show_warm_note()
            return
        self.query_one("#warm-type", Select).value = advise(self.read_config(), [parent]).type

    def _show_warm_note(self) -> None:
        if self.warm_parent() is not None:
            return  # refresh_checks says how the chosen parent fits
        note = (
            f"{len(self.parents)} finished tuning job(s) of this algorithm can seed this one."
            if self.parents
            else "No finished tuning job of this algorithm yet: warm start needs one."
        )
        self.query_one("#warm-note", Static).update(Text(note))

    def new_name(self, name: str) -> None:
        self.query_one("#tuning-name", Input).value = name


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
