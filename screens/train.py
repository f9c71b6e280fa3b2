"""Train step: algorithm, channels, a validated hyperparameter form, resources; plan, confirm, create.

Every field is checked as it is typed (services.training.validate_config) and the message sits
beside the field. Create resolves the container image with the SageMaker SDK (in a worker),
checks the channels exist and asks the policy evaluator whether the role can read and write
them, then shows the plan. After creation the live job panel opens (it offers Create model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from screens.base import StepScreen
from services.algorithms import HyperParameter, algorithms
from services.data_split import DEFAULT_VALIDATION_FRACTION, Split, fraction_problem, parse_fraction
from services.errors import ErrorInfo, SagewizError, translate
from services.flow import marks
from services.flow import train as flow_train
from services.flow.outcome import Verdict
from services.remedy import Face
from tui.messages import Work, WorkDone, WorkFailed

if TYPE_CHECKING:
    from services.plan import Plan

_RESOURCE_FIELDS = (
    ("job_name", "Job name", ""),
    ("role_arn", "Execution role ARN", ""),
    ("output_path", "Output path", ""),
    ("instance_type", "Instance type", flow_train.DEFAULT_INSTANCE_TYPE),
    ("instance_count", "Instance count", str(flow_train.DEFAULT_INSTANCE_COUNT)),
    ("volume_gb", "Volume (GB)", str(flow_train.DEFAULT_VOLUME_GB)),
    ("max_runtime_s", "Max runtime (s)", str(flow_train.DEFAULT_MAX_RUNTIME_S)),
    ("max_wait_s", "Spot: max wait (s)", "7200"),
    ("checkpoint_s3", "Spot: checkpoints S3", ""),
)


@dataclass(frozen=True)
class TrainingPlan:
    plan: Plan
    warning: str  # the role will probably be denied: said before the person confirms
    notes: list[str]


@dataclass(frozen=True)
class Dataset:
    algorithm: str
    train: str
    validation: str
    note: str
    split: Split | None
    num_training_samples: str = ""  # image classification: the training side of the split
    partial_labels: str = ""  # the warning when the labels cover only part of the images


# -- the work this screen hands to workers (every failure is shown the same way) -----------------------
DERIVE: Work[Dataset] = Work("train: prepare the data (split, features)")
PREPARE: Work[TrainingPlan] = Work("train: resolve, check and plan")
CREATE: Work[str] = Work("train: create the training job")  # its name


_DERIVE_LABELS = {
    "xgboost": "Derive a CSV dataset from the labeled images (stratified split)",
    "image-classification": "Split the labeled manifest into train and validation",
}


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g}"


def _safe_id(name: str) -> str:
    return "hp-" + name.replace(":", "_")


class TrainStep(StepScreen):
    STEP_ID = "train"
    CSS_PATH = "train.tcss"
    BINDINGS = [
        # Letters do nothing while an input has focus, so each action also has a function key.
        Binding("a,f2", "toggle_advanced", "All parameters", key_display="a/F2"),
        Binding("c,f5", "create", "Plan & create", key_display="c/F5"),
        Binding("j,f6", "open_panel", "Job panel", key_display="j/F6"),
        Binding("x,f4", "derive", "Prepare data", key_display="x/F4"),
    ]

    WARM_IMAGE = True  # resolve the image URIs (imports the SDK) as soon as the step opens

    def __init__(self) -> None:
        super().__init__()
        self.algorithm_id = "xgboost"
        self.show_advanced = False
        self.errors: dict[str, str] = {}
        self.hp_values: dict[str, dict[str, str]] = {a: {} for a in algorithms()}
        self._shown_msgs: dict[str, str] = {}
        self._msg_widgets: dict[str, Static] = {}  # mounted hyperparameter message widgets, by id
        self._widgets: dict[str, Any] = {}  # id -> widget: DOM queries per key press are slow
        self.prepared: dict[str, Split] = {}  # algorithm -> the split its channels hold
        self.partial: dict[
            str, str
        ] = {}  # algorithm -> its data's partial-labels warning (the plan says it too)

    # -- layout ---------------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        yield Static(Text("Train a model", style="bold"), id="tr-title")
        yield Static(
            Text("Built-in algorithms; every value is checked before anything is sent.", style="dim"),
            id="tr-intro",
        )
        options = [(a.title, a.id) for a in algorithms().values()]
        yield Select(options, value="xgboost", allow_blank=False, id="tr-algo")
        with Vertical(id="tr-data"):
            yield Static(Text("Input data", style="bold"), classes="tr-section")
            yield from self._row("channel:train", "train channel (S3)", "")
            yield from self._row("channel:validation", "validation channel (S3)", "")
            yield from self._row("label_attribute", "label attribute", "")
            yield from self._row(
                "validation_share", "validation share (%)", _percent(DEFAULT_VALIDATION_FRACTION)
            )
            with Horizontal(classes="tr-buttons"):
                yield Button(_DERIVE_LABELS["xgboost"], id="tr-derive")
            yield Static("", id="tr-data-note")
        with Vertical(id="tr-hp"):
            yield Static(Text("Hyperparameters", style="bold"), classes="tr-section")
            yield Static("", id="tr-hp-note")
            # Rows are mounted for the chosen algorithm only (and the advanced ones on request):
            # ~80 inputs at once would make the step slow to open.
            yield Vertical(id="hp-rows", classes="hp-group")
        with Vertical(id="tr-res"):
            yield Static(Text("Resources", style="bold"), classes="tr-section")
            for key, label, default in _RESOURCE_FIELDS:
                yield from self._row(key, label, default)
            yield Checkbox("Managed spot training (cheaper; may wait for capacity)", id="tr-spot")
        with Horizontal(classes="tr-buttons"):
            yield Button("Plan & create", id="tr-create", variant="primary")
            yield Button("Open job panel", id="tr-panel")
        yield Static("", id="tr-result")

    def _row(self, key: str, label: str, default: str) -> ComposeResult:
        with Horizontal(classes="tr-row", id=f"row-{key.replace(':', '_')}"):
            yield Label(label, classes="tr-label")
            yield Input(default, id=f"in-{key.replace(':', '_')}", classes="tr-input")
            yield Static("", id=f"msg-{key.replace(':', '_')}", classes="tr-msg")

    def _hp_row(self, algo_id: str, hp: HyperParameter) -> Horizontal:
        classes = "tr-row hp-row" + (" advanced" if hp.advanced else "")
        label = hp.name + (" *" if hp.required else "")
        value = self.hp_values.setdefault(algo_id, {}).get(hp.name, "")
        err = self.errors.get(hp.name) if algo_id == self.algorithm_id else None
        self._shown_msgs[f"{algo_id}-msg-{hp.name}"] = err or ""
        msg = Static(Text(err, style="bold red") if err else self._hint(hp), id=f"{algo_id}-msg-{hp.name}",
                     classes="tr-msg")  # fmt: skip
        self._msg_widgets[f"{algo_id}-msg-{hp.name}"] = msg
        return Horizontal(
            Label(label, classes="tr-label"),
            Input(value, placeholder=hp.default or "", id=f"{algo_id}-{_safe_id(hp.name)}",
                  classes="tr-input hp-input"),
            msg,
            classes=classes,
        )  # fmt: skip

    async def _mount_rows(self) -> None:
        rows = self.query_one("#hp-rows", Vertical)
        await rows.remove_children()
        self._msg_widgets.clear()
        algo = algorithms()[self.algorithm_id]
        shown = [hp for hp in algo.hyperparameters if self.show_advanced or not hp.advanced]
        await rows.mount_all([self._hp_row(algo.id, hp) for hp in shown])
        hidden = len(algo.hyperparameters) - len(shown)
        note = (
            f"{len(shown)} shown; a: show all {len(algo.hyperparameters)}"
            if hidden
            else "a: show the main ones only"
        )
        self.query_one("#tr-hp-note", Static).update(Text(note + " (* required)", style="dim"))

    @staticmethod
    def _hint(hp: HyperParameter) -> Text:
        t = Text(style="dim")
        rng = hp.range_text()
        t.append(f"{hp.kind}{' ' + rng if rng and not hp.choices else ''}")
        if hp.choices and len(hp.choices) <= 4:
            t.append(" " + "|".join(hp.choices))
        if hp.default:
            t.append(f", default {hp.default}")
        t.append(f". {hp.description}")
        return t

    def on_mount(self) -> None:
        self.on_identity_ready(self._fill_defaults)
        self._show_algorithm()
        self.images: dict[tuple[str, str], str] = {}
        if self.WARM_IMAGE:
            self.on_identity_ready(lambda ident: self._warm_image(ident.region))
        if self.state.training_job:
            self.on_identity_ready(lambda _: self._read_mark(self.state.training_job))

    @work(thread=True, exclusive=True, group="train-mark", exit_on_error=False)
    def _read_mark(self, name: str) -> None:
        """The step's mark from the latest training job as AWS describes it now."""
        from services.job_status import describe

        factory = self.factory
        if factory is None:
            return
        try:
            snap = describe(factory.client("sagemaker"), name, factory.region)
        except SagewizError:
            self.mark(marks.train("Failed", model_artifact=""))  # the job we knew is gone or unreadable
            return
        self.mark(marks.train(snap.status, model_artifact=snap.model_artifact))

    @work(thread=True, exclusive=True, group="train-image", exit_on_error=False)
    def _warm_image(self, region: str) -> None:
        """Import the SDK (1-2 s, more on a busy machine) before the user asks, off the UI thread."""
        from services.training import image_uri

        for algo_id in algorithms():
            try:
                self.images[(algo_id, region)] = image_uri(algo_id, region)
            except SagewizError:
                continue

    def _fill_defaults(self, identity: Any) -> None:
        from services.flow import train as flow_train
        from services.training import default_job_name

        state = self.state
        channels = flow_train.default_channels(flow_train.XGBOOST, state)
        self._set("job_name", default_job_name(self.algorithm_id))
        self._set("role_arn", flow_train.default_role(self.flow_context, state))
        self._set("output_path", flow_train.default_output_path(state))
        self._set("channel_train", channels.get("train", ""))
        self._set("channel_validation", channels.get("validation", ""))
        self._set("label_attribute", flow_train.default_label_attribute(state))
        for algo_id in (flow_train.XGBOOST, flow_train.IMAGE_CLASSIFICATION):
            self.hp_values[algo_id].update(flow_train.default_hyperparameters(algo_id, state))
        for name, value in self.hp_values[self.algorithm_id].items():
            for inp in self.query(f"#{self.algorithm_id}-{_safe_id(name)}").results(Input):
                inp.value = value
        self._validate()

    def _w(self, ident: str) -> Any:
        w = self._widgets.get(ident)
        if w is None:
            w = self._widgets[ident] = self.query_one(f"#{ident}")
        return w

    def _set(self, key: str, value: str) -> None:
        self._w(f"in-{key}").value = value

    def _get(self, key: str) -> str:
        return str(self._w(f"in-{key}").value).strip()

    # -- algorithm --------------------------------------------------------------------------------
    @on(Select.Changed, "#tr-algo")
    def _algo_changed(self, event: Select.Changed) -> None:
        from services.training import default_job_name

        previous, self.algorithm_id = self.algorithm_id, str(event.value)
        if self._get("job_name").startswith(f"sagewiz-{previous}-"):  # proposed, not typed
            self._set("job_name", default_job_name(self.algorithm_id))
        self._show_algorithm()
        if self.identity is not None:
            from services.flow import train as flow_train

            channels = flow_train.default_channels(self.algorithm_id, self.state)
            if channels:
                self._set("channel_train", channels["train"])
                self._set("channel_validation", channels["validation"])
                self._set("instance_type", flow_train.default_instance_type(self.algorithm_id))
        self._validate()

    def _show_algorithm(self) -> None:
        self.query_one("#row-label_attribute").display = self.algorithm_id == "image-classification"
        self.query_one("#tr-derive", Button).label = _DERIVE_LABELS[self.algorithm_id]
        self.run_worker(self._mount_rows(), group="train-rows", exclusive=True)

    def action_toggle_advanced(self) -> None:
        self.show_advanced = not self.show_advanced
        self.run_worker(self._mount_rows(), group="train-rows", exclusive=True)

    # -- the configuration ---------------------------------------------------------------------
    def hyperparameters(self) -> dict[str, str]:
        """The values typed for the chosen algorithm (kept across algorithm switches)."""
        return {k: v.strip() for k, v in self.hp_values[self.algorithm_id].items() if v.strip()}

    def choices(self) -> Any:
        """The form's values, every field as typed (services.flow.train turns them into the request)."""
        from services.flow import train as flow_train

        def num(key: str, default: int) -> int:
            try:
                return int(self._get(key))
            except ValueError:
                return -1 if self._get(key) else default

        spot = self._w("tr-spot").value
        return flow_train.TrainChoices(
            algorithm=self.algorithm_id,
            job_name=self._get("job_name"),
            role_arn=self._get("role_arn"),
            channels={n: self._get(f"channel_{n}") for n in flow_train.CHANNELS if self._get(f"channel_{n}")},
            label_attribute=self._get("label_attribute"),
            hyperparameters=self.hyperparameters(),
            output_path=self._get("output_path"),
            instance_type=self._get("instance_type"),
            instance_count=num("instance_count", flow_train.DEFAULT_INSTANCE_COUNT),
            volume_gb=num("volume_gb", flow_train.DEFAULT_VOLUME_GB),
            max_runtime_s=num("max_runtime_s", flow_train.DEFAULT_MAX_RUNTIME_S),
            spot=spot,
            max_wait_s=num("max_wait_s", 0) if spot else None,
            checkpoint_s3=self._get("checkpoint_s3") if spot else "",
            complete=True,
            validation_fraction=self._fraction() or DEFAULT_VALIDATION_FRACTION,
            data_split=self.prepared.get(self.algorithm_id),
            partial_labels=self.partial.get(self.algorithm_id, ""),
        )

    def config(self) -> Any:
        from services.flow import train as flow_train

        return flow_train.config(self.state, self.choices())

    def _validate(self) -> dict[str, str]:
        from services.training import validate_config

        self.errors = validate_config(self.config())
        algo = algorithms()[self.algorithm_id]
        for hp in algo.hyperparameters:
            err = self.errors.get(hp.name, "")
            wid = f"{self.algorithm_id}-msg-{hp.name}"
            msg = self._msg_widgets.get(wid)
            if msg is None or self._shown_msgs.get(wid) == err:
                continue  # repainting ~50 statics on every key press is what makes forms lag
            msg.update(Text(err, style="bold red") if err else self._hint(hp))
            self._shown_msgs[wid] = err
        for key, *_ in _RESOURCE_FIELDS:
            self._show_msg(key, self.errors.get(key, ""))
        for name in ("train", "validation"):
            self._show_msg(f"channel_{name}", self.errors.get(f"channel:{name}", ""))
        share = self._get("validation_share")
        fraction = parse_fraction(share + "%")
        if fraction is None:
            self._show_msg("validation_share", f"{share!r} is not a percentage; 20 is usual.")
        else:
            self._show_msg("validation_share", fraction_problem(fraction) or "")
        return self.errors

    def _show_msg(self, key: str, err: str) -> None:
        wid = f"msg-{key}"
        if self._shown_msgs.get(wid) != err:
            self._shown_msgs[wid] = err
            self._w(wid).update(Text(err, style="bold red") if err else "")

    @on(Input.Changed, ".tr-input")
    def _changed(self, event: Input.Changed) -> None:
        ident = event.input.id or ""
        prefix = f"{self.algorithm_id}-hp-"
        if ident.startswith(prefix):
            algo = algorithms()[self.algorithm_id]
            hp = next(
                (h for h in algo.hyperparameters if _safe_id(h.name) == ident[len(self.algorithm_id) + 1 :]),
                None,
            )
            if hp is not None:
                self.hp_values[self.algorithm_id][hp.name] = event.value
        self._validate()

    @on(Checkbox.Changed, "#tr-spot")
    def _spot_changed(self, _: Checkbox.Changed) -> None:
        self._validate()

    # -- derive the tabular dataset ------------------------------------------------------------------
    @on(Button.Pressed, "#tr-derive")
    def _derive_pressed(self) -> None:
        self.action_derive()

    def _fraction(self) -> float | None:
        fraction = parse_fraction(self._get("validation_share") + "%")
        return None if fraction is None or fraction_problem(fraction) else fraction

    def action_derive(self) -> None:
        if self.factory is None:
            return
        fraction = self._fraction()
        if fraction is None:
            self.notify("The validation share must be a percentage above 0 and below 100, e.g. 20.",
                        severity="warning", markup=False)  # fmt: skip
            return
        state = self.state
        if self.algorithm_id == flow_train.IMAGE_CLASSIFICATION:
            if not state.output_manifest:
                self.notify("Label the images first (Labels step): the split reads the labeled manifest.",
                            severity="warning", markup=False)  # fmt: skip
                return
            self.query_one("#tr-data-note", Static).update(
                Text("splitting the labeled manifest ...", style="dim")
            )
            self._split_worker(self.choices(), fraction)
            return
        bucket = state.bucket or state.default_bucket
        world = self.wizard.world
        images = state.data_prefix or (f"s3://{world.sample_bucket}/{world.sample_prefix}" if world else "")
        if not images:
            self.notify("Copy the images first (Data step).", severity="warning", markup=False)
            return
        self.query_one("#tr-data-note", Static).update(
            Text("deriving features from the images ...", style="dim")
        )
        self._derive_worker(
            images, f"s3://{bucket}/sagewiz/xgboost/", state.output_manifest, tuple(state.labels), fraction
        )

    @work(thread=True, exclusive=True, group="train-derive", exit_on_error=False)
    def _derive_worker(
        self, images: str, dest: str, manifest: str, labels: tuple[str, ...], fraction: float
    ) -> None:
        from services.tabular_dataset import tabular_from_images

        try:
            ds = tabular_from_images(self.factory, images, dest, manifest, labels, self.journal, fraction)
        except Exception as exc:
            self.post_message(DERIVE.failed(ErrorInfo.of(translate(exc, "derive dataset"))))
            return
        note = (f"{ds.rows} rows ({ds.features} features) written; labels from {ds.label_source}; "
                f"classes {', '.join(ds.classes)}")  # fmt: skip
        if ds.split is not None:
            note += "\n" + _split_note(ds.split)
        if ds.partial_warning:
            note += f"\nWarning: {ds.partial_warning}"
        self.post_message(DERIVE.done(Dataset(
            "xgboost", ds.train_uri, ds.validation_uri, note, ds.split, partial_labels=ds.partial_warning
        )))  # fmt: skip

    @work(thread=True, exclusive=True, group="train-derive", exit_on_error=False)
    def _split_worker(self, choices: Any, fraction: float) -> None:
        from dataclasses import replace

        try:
            done = flow_train.derive_dataset(
                self.flow_context, self.state, replace(choices, validation_fraction=fraction), lambda _: None
            )
        except Exception as exc:
            err = exc if isinstance(exc, SagewizError) else translate(exc, "split the manifest")
            self.post_message(DERIVE.failed(ErrorInfo.of(err)))
            return
        assert done.data_split is not None
        note = f"Wrote {done.channels['train']} and {done.channels['validation']}\n" + _split_note(
            done.data_split
        )
        if done.partial_labels:
            note += f"\nWarning: {done.partial_labels}"
        self.post_message(DERIVE.done(Dataset(
            flow_train.IMAGE_CLASSIFICATION, done.channels["train"], done.channels["validation"], note,
            done.data_split, done.hyperparameters["num_training_samples"], done.partial_labels,
        )))  # fmt: skip

    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(
            DERIVE.to(self._dataset_ready), PREPARE.to(self._plan_ready), CREATE.to(self._job_created)
        )

    def _dataset_ready(self, message: Dataset) -> None:
        self._set("channel_train", message.train)
        self._set("channel_validation", message.validation)
        if message.split is not None:
            self.prepared[message.algorithm] = message.split
        self.partial[message.algorithm] = message.partial_labels
        if message.num_training_samples:  # the training side of the split, for the LR schedule
            self.hp_values[message.algorithm]["num_training_samples"] = message.num_training_samples
            for inp in self.query(f"#{message.algorithm}-{_safe_id('num_training_samples')}").results(Input):
                inp.value = message.num_training_samples
        warned = bool(message.partial_labels) or message.split is not None and bool(message.split.warnings())
        self.query_one("#tr-data-note", Static).update(
            Text(message.note, style="yellow" if warned else "green")
        )
        self.notify(message.note, title="Data ready", markup=False)
        self._validate()

    # -- plan and create ------------------------------------------------------------------------------
    @on(Button.Pressed, "#tr-create")
    def _create_pressed(self) -> None:
        self.action_create()

    def action_create(self) -> None:
        if self.factory is None:
            self.notify("Not connected yet.", markup=False)
            return
        errors = self._validate()
        if errors:
            field, message = next(iter(errors.items()))
            text = f"Fix {len(errors)} problem(s) first; {field}: {message}"
            self.query_one("#tr-result", Static).update(Text(text, style="bold red"))
            self.notify(text, title="Not sent", severity="error", markup=False)
            return
        self.query_one("#tr-result", Static).update(Text("resolving the image, checking data and permissions ...", style="dim"))  # fmt: skip
        self.notify("Resolving the image, checking the data and the role's permissions ...", markup=False)
        self._prepare(self.choices())

    @work(thread=True, exclusive=True, group="train-prepare", exit_on_error=False)
    def _prepare(self, choices: Any) -> None:
        from services.flow import train as flow_train

        try:
            factory, _identity = self.connection
            image = self.images.get((choices.algorithm, factory.region), "")
            planned = flow_train.plan(self.flow_context, self.state, choices, image=image)
            if planned.verdict is Verdict.CANNOT and planned.problem is not None:
                self.post_message(PREPARE.failed(ErrorInfo.of(planned.problem)))
                return
            if planned.requests is None:
                self.post_message(PREPARE.failed(ErrorInfo("Not sent", planned.message, "", "validation")))
                return
        except SagewizError as err:
            self.post_message(PREPARE.failed(ErrorInfo.of(err)))
            return
        except Exception as exc:
            self.post_message(PREPARE.failed(ErrorInfo.of(translate(exc, "prepare training"))))
            return
        self.post_message(PREPARE.done(TrainingPlan(planned.requests, planned.warning, list(planned.notes))))

    def on_work_failed(self, message: WorkFailed) -> None:
        info = message.error
        self.query_one("#tr-result", Static).update(Text(f"{info.title}: {info.message}", style="bold red"))
        if info.kind not in ("validation",):
            self.wizard.show_error(info)
        else:
            self.notify(
                f"{info.message}\n{info.advice(Face.TUI)}", title=info.title, severity="error", markup=False
            )

    def _plan_ready(self, message: TrainingPlan) -> None:
        from screens.confirm_plan import ConfirmPlanScreen

        self.query_one("#tr-result", Static).update(Text("\n".join(message.notes), style="dim"))

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._apply(message.plan)

        self.app.push_screen(ConfirmPlanScreen(message.plan, warning=message.warning), confirmed)  # fmt: skip

    @work(thread=True, exclusive=True, group="train-create", exit_on_error=False)
    def _apply(self, plan: Any) -> None:
        from services.training import create

        try:
            create(self.factory, self.journal, plan)
        except SagewizError as err:
            self.post_message(CREATE.failed(ErrorInfo.of(err)))
            return
        self.post_message(CREATE.done(plan.actions[0].params["TrainingJobName"]))

    def _job_created(self, name: str) -> None:
        self.state.update(training_job=name)
        self.mark(marks.train("InProgress", model_artifact=""))  # ✓ once the panel sees it complete
        self.query_one("#tr-result", Static).update(Text(f"Training job {name} created.", style="green"))
        self.action_open_panel()

    @on(Button.Pressed, "#tr-panel")
    def _panel_pressed(self) -> None:
        self.action_open_panel()

    def action_open_panel(self) -> None:
        name = self.state.training_job
        if not name:
            self.notify("No training job yet: create one first.", markup=False)
            return
        from screens.job_panel import JobPanelScreen

        self.app.push_screen(JobPanelScreen(name))


def _split_note(split: Split) -> str:
    """The split and each class's counts; a thin class is said with what to do."""
    lines = [split.summary()]
    lines += [f"Warning: {w}" for w in split.warnings()]
    return "\n".join(lines)
