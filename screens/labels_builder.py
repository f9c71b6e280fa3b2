"""The Ground Truth job builder: task type, labels, texts, workforce, names, Lambdas; preview and create.

About 550 lines and one concern: a single form whose every field feeds one JobSpec, checked as it
is typed (the cost, the region's Lambdas and the name rules each depend on several fields). What
could leave already has: the work keys (labels_work), preview (labels_preview), the failure choice
(labels_failed); the Lambdas, prices and request rules are in services.labeling.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    OptionList,
    RadioButton,
    RadioSet,
    Select,
    Static,
)

from screens.confirm_plan import ConfirmPlanScreen
from screens.labels_sub import LabelsSubScreen
from screens.labels_work import CREATE, IMAGES, SETUP, TEAMS, CreatedJob, ImageList
from services import regions
from services.errors import ErrorInfo, SagewizError, ValidationError
from services.flow.outcome import Verdict
from services.labeling import rules
from services.labeling.jobs import CLOSED_NOTICE, Workteam
from services.labeling.request import (
    MTURK_ACKNOWLEDGEMENT,
    PRIVATE,
    PUBLIC,
    VENDOR,
    JobSpec,
    Workforce,
    check_spec,
)
from services.remedy import Face
from tui.messages import WorkDone, WorkFailed

if TYPE_CHECKING:
    from services.labeling.setup import SetupPlan


class LabelsBuilderScreen(LabelsSubScreen):
    BINDINGS = [
        *LabelsSubScreen.BINDINGS,
        Binding("ctrl+r", "preview", "Preview"),
        Binding("ctrl+s", "create", "Create job"),
    ]

    def __init__(self, images: list[str] | None = None) -> None:
        super().__init__()
        self.images = list(images or [])
        self.labels: list[str] = []
        self.teams: list[Any] = []
        self._attribute_follows = True

    # -- layout ----------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        st = self.state
        region = st.region or "?"
        yield Static("Labels · Ground Truth job", classes="step-title")
        yield Static(Text(CLOSED_NOTICE), classes="warning-text", id="builder-closed")
        yield Static("Task type", classes="section")
        with RadioSet(id="task-type", compact=True):
            yield RadioButton(rules.TASK_TYPES[rules.SINGLE], value=True, id="task-single")
            yield RadioButton(rules.TASK_TYPES[rules.MULTI], id="task-multi")
        yield Static("Labels (at least two, unique, up to 256 characters each)", classes="section")
        with Horizontal(id="labels-editor"):
            yield OptionList(id="label-list")
            with Vertical(id="label-buttons"):
                yield Input(compact=True, placeholder="new label, Enter to add", id="label-new")
                with Horizontal(classes="row"):
                    yield Button("Add", id="label-add", compact=True)
                    yield Button("Remove", id="label-remove", compact=True)
                with Horizontal(classes="row"):
                    yield Button("Up", id="label-up", compact=True)
                    yield Button("Down", id="label-down", compact=True)
        yield Static(id="labels-check")
        yield Static("Worker task", classes="section")
        with Horizontal(classes="row"):
            yield Label("Title", classes="field-label")
            yield Input(compact=True, id="title")
        with Horizontal(classes="row"):
            yield Label("Description", classes="field-label")
            yield Input(compact=True, id="description")
        yield Static(id="description-count", classes="hint")
        with Horizontal(classes="row"):
            yield Label("Instructions", classes="field-label")
            yield Input(
                compact=True, id="instructions", placeholder="extra instructions shown to every worker"
            )
        yield Static("Names and data", classes="section")
        with Horizontal(classes="row"):
            yield Label("Job name", classes="field-label")
            yield Input(compact=True, id="job-name")
        with Horizontal(classes="row"):
            yield Label("Label attribute", classes="field-label")
            yield Input(compact=True, id="attribute")
        with Horizontal(classes="row"):
            yield Label("Images", classes="field-label")
            yield Input(compact=True, id="data-prefix")
        with Horizontal(classes="row"):
            yield Label("Execution role", classes="field-label")
            yield Input(
                compact=True,
                id="role-arn",
                placeholder="arn:aws:iam::ACCOUNT:role/... (the role Ground Truth acts as)",
            )
        yield Static(id="images-note", classes="hint")
        yield Static("Workforce", classes="section")
        with RadioSet(id="workforce", compact=True):
            yield RadioButton("Amazon Mechanical Turk", value=True, id="wf-public")
            yield RadioButton("Private work team", id="wf-private")
            yield RadioButton("Vendor (AWS Marketplace)", id="wf-vendor")
        with Vertical(id="mturk"):
            yield Checkbox("My images contain no adult content", id="no-adult", compact=True)
            yield Checkbox(
                "My images contain no personally identifiable information (required)",
                id="no-pii",
                compact=True,
            )
            yield Static(Text(MTURK_ACKNOWLEDGEMENT), id="ack-text", classes="hint")
            yield Checkbox("I accept the statement above", id="ack", compact=True)
            with Horizontal(classes="row"):
                yield Label("Price per task", classes="field-label")
                yield Select(compact=True, options=[(rules.price_label(m), m) for m in rules.PRICE_MILLS], value=12,
                             allow_blank=False, id="price")  # fmt: skip
                yield Label("Workers per image", classes="inline-label")
                yield Select(
                    compact=True,
                    options=[(str(n), n) for n in range(1, 10)],
                    value=1,
                    allow_blank=False,
                    id="workers",
                )
            yield Static(id="cost", classes="hint")
        with Vertical(id="private"):
            yield Select[str]([], compact=True, prompt="(reading the account's work teams...)", id="team")
            yield Static(id="team-note", classes="hint")
        with Vertical(id="vendor"):
            yield Input(
                compact=True,
                placeholder="arn:aws:sagemaker:REGION:ACCOUNT:workteam/vendor-crowd/NAME",
                id="vendor-arn",
            )
        yield Static(f"Pre-annotation and consolidation Lambdas ({region})", classes="section")
        yield Static(id="region-note")
        with Vertical(id="lambda-inputs"):
            yield Input(
                compact=True,
                placeholder=regions.arn("lambda", region, "ACCOUNT", "function:PRE-ImageMultiClass"),
                id="pre-arn",
            )
            yield Input(
                compact=True,
                placeholder=regions.arn("lambda", region, "ACCOUNT", "function:ACS-ImageMultiClass"),
                id="acs-arn",
            )
        yield Static(id="form-error", classes="field-error")
        with Horizontal(classes="row buttons-row"):
            yield Button("Preview the worker task (ctrl+r)", id="preview", variant="primary")
            yield Button("Create the job (ctrl+s)", id="create", variant="warning")

    def on_mount(self) -> None:
        st = self.state
        spec = JobSpec(region=st.region, role_arn=st.role_arn)
        self.labels = list(st.labels) or list(spec.labels)
        saved = st.extra.get("labels_builder", {})
        self.query_one("#title", Input).value = saved.get("title", spec.title)
        self.query_one("#description", Input).value = saved.get("description", spec.description)
        self.query_one("#instructions", Input).value = saved.get("instructions", spec.instructions)
        self.query_one("#job-name", Input).value = saved.get("job_name", spec.job_name)
        self.query_one("#attribute", Input).value = saved.get("job_name", spec.label_attribute)
        self.query_one("#data-prefix", Input).value = st.images_prefix()
        self.query_one("#role-arn", Input).value = st.role_arn or self._sandbox_role()
        self._render_labels()
        self._render_region()
        self._render_workforce()
        self._render_description_count()
        self._render_cost()
        self.on_identity_ready(lambda _i: self._load())

    def _load(self) -> None:
        role = self.query_one("#role-arn", Input)
        if not role.value:
            role.value = self.state.role_arn or self._sandbox_role()
        self._render_region()
        self._list_teams()
        prefix = self.query_one("#data-prefix", Input).value.strip()
        if self.images:
            self._images_listed(ImageList(prefix, self.images))
        elif prefix:
            self._list_images(prefix)

    # -- workers ---------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="labels-builder-teams", exit_on_error=False)
    def _list_teams(self) -> None:
        from services.labeling.jobs import list_private_teams

        try:
            self.post_message(TEAMS.done(list_private_teams(self.factory)))
        except Exception as exc:
            self.fail(exc, TEAMS)

    @work(thread=True, exclusive=True, group="labels-builder-images", exit_on_error=False)
    def _list_images(self, prefix: str) -> None:
        from services.labeling.setup import list_images

        try:
            self.post_message(IMAGES.done(ImageList(prefix, list_images(self.factory, prefix))))
        except Exception as exc:
            self.fail(exc, IMAGES)

    @work(thread=True, exclusive=True, group="labels-builder-plan", exit_on_error=False)
    def _plan(self, spec: JobSpec, prefix: str) -> None:
        from services.flow import labels as flow_labels

        try:
            choices = flow_labels.LabelsChoices(
                spec, data_prefix=prefix, output_path=flow_labels.output_path_of(self.state)
            )
            planned = flow_labels.plan(self.flow_context, self.state, choices)
        except Exception as exc:
            self.fail(exc, SETUP)
            return
        if planned.setup is None:  # the flow said why nothing is sent (labels there, job exists, ...)
            taken = planned.verdict is Verdict.UNCHANGED
            info = ErrorInfo(
                "Not sent", planned.problem.message if planned.problem else planned.message,
                planned.problem.hint if planned.problem else "", "conflict" if taken else "validation",
            )  # fmt: skip
            self.post_message(SETUP.failed(info))
            return
        self.post_message(SETUP.done(planned.setup))

    @work(thread=True, exclusive=True, group="labels-builder-create", exit_on_error=False)
    def _apply(self, setup: Any) -> None:
        from services.labeling.manifest import output_manifest_uri
        from services.plan import apply_plan

        try:
            apply_plan(setup.plan, self.factory, self.journal)
        except Exception as exc:
            self.fail(exc, CREATE)
            return
        output = output_manifest_uri(setup.locations.output_path, setup.spec.job_name)
        self.post_message(CREATE.done(CreatedJob(setup.spec, output)))

    # -- results from workers --------------------------------------------------------------
    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(
            TEAMS.to(self._teams_listed),
            IMAGES.to(self._images_listed),
            SETUP.to(self._setup_planned),
            CREATE.to(self._job_created),
        )

    def on_work_failed(self, message: WorkFailed) -> None:
        err = message.error
        if message.work is IMAGES:
            self.images = []
            self.query_one("#images-note", Static).update(
                Text(f"{err.title}: {err.message} {err.advice(Face.TUI)}", style="yellow")
            )
            self._render_cost()
        elif message.work is TEAMS:
            self.query_one("#team-note", Static).update(
                Text(f"Could not list work teams: {err.title}. {err.message}", style="yellow")
            )
        elif message.work is CREATE:
            from screens.labels_failed import CreateFailedScreen

            self.app.push_screen(CreateFailedScreen(err, self._spec_or_none()), self._after_failure)
        else:
            self.wizard.show_error(err)

    def _teams_listed(self, teams: list[Workteam]) -> None:
        self.teams = teams
        self.call_after_refresh(self._fill_teams)

    def _fill_teams(self) -> None:
        sel = self.query_one("#team", Select)
        sel.set_options([(f"{t.name}  {t.description}", t.arn) for t in self.teams])
        note = f"{len(self.teams)} work team(s) in this account and region." if self.teams else (
            "No private work teams in this account and region; create one in the SageMaker console "
            "(Ground Truth > Labeling workforces), or use Mechanical Turk.")  # fmt: skip
        self.query_one("#team-note", Static).update(Text(note))
        if self.teams:
            sel.value = self.teams[0].arn

    def _images_listed(self, listed: ImageList) -> None:
        self.images = listed.images
        self.query_one("#images-note", Static).update(
            Text(f"{len(self.images)} images found under {listed.prefix}")
        )
        self._render_cost()

    def _setup_planned(self, setup: SetupPlan) -> None:

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.notify("Creating the labeling job...", markup=False)
                self._apply(setup)

        self.app.push_screen(ConfirmPlanScreen(setup.plan), confirmed)

    def _job_created(self, created: CreatedJob) -> None:
        spec = created.spec
        self.state.update(labeling_job=spec.job_name, labels=list(spec.labels))
        self.state.extra["label_attribute"] = spec.label_attribute
        self._remember()
        from screens.labels_live import LiveJobScreen

        self.app.switch_screen(LiveJobScreen(spec.job_name))

    def _after_failure(self, choice: str | None) -> None:
        if choice == "terminal":
            from screens.labels_terminal import TerminalLabelScreen

            spec = self._spec_or_none()
            self.app.switch_screen(
                TerminalLabelScreen(
                    self.query_one("#data-prefix", Input).value.strip(),
                    tuple(self.labels),
                    multi=bool(spec and spec.task_type == rules.MULTI),
                )  # fmt: skip
            )

    # -- the form --------------------------------------------------------------------------
    def _task_type(self) -> str:
        return rules.MULTI if self.query_one("#task-multi", RadioButton).value else rules.SINGLE

    def _workforce_kind(self) -> str:
        if self.query_one("#wf-private", RadioButton).value:
            return PRIVATE
        if self.query_one("#wf-vendor", RadioButton).value:
            return VENDOR
        return PUBLIC

    def spec_from_form(self) -> JobSpec:
        """The JobSpec the form describes (not yet checked)."""
        kind = self._workforce_kind()
        team = ""
        if kind == PRIVATE:
            value = self.query_one("#team", Select).value
            team = value if isinstance(value, str) else ""
        elif kind == VENDOR:
            team = self.query_one("#vendor-arn", Input).value.strip()
        wf = Workforce(
            kind=kind,
            price_mills=int(self.query_one("#price", Select).value),  # type: ignore[arg-type]
            free_of_pii=self.query_one("#no-pii", Checkbox).value,
            free_of_adult_content=self.query_one("#no-adult", Checkbox).value,
            acknowledged=self.query_one("#ack", Checkbox).value,
            team_arn=team,
        )
        region = self.state.region
        lambdas = None
        if rules.documented_lambdas(region) is None:
            lambdas = rules.TaskLambdas(self.query_one("#pre-arn", Input).value.strip(),
                                        self.query_one("#acs-arn", Input).value.strip(), False)  # fmt: skip
        return JobSpec(
            region=region,
            role_arn=self.query_one("#role-arn", Input).value.strip(),
            job_name=self.query_one("#job-name", Input).value.strip(),
            label_attribute=self.query_one("#attribute", Input).value.strip(),
            task_type=self._task_type(),
            labels=tuple(self.labels),
            title=self.query_one("#title", Input).value,
            description=self.query_one("#description", Input).value,
            instructions=self.query_one("#instructions", Input).value,
            workforce=wf,
            workers_per_object=int(self.query_one("#workers", Select).value),  # type: ignore[arg-type]
            lambdas=lambdas,
        )

    def _sandbox_role(self) -> str:
        world = self.wizard.world
        return world.role_arn if world is not None else ""

    def _spec_or_none(self) -> JobSpec | None:
        try:
            return self.spec_from_form()
        except Exception:
            return None

    def checked_spec(self) -> JobSpec | None:
        """Check every rule; on failure say which rule, focus nothing, return None."""
        error = self.query_one("#form-error", Static)
        error.update("")
        try:
            spec = self.spec_from_form()
            checked = check_spec(spec)
        except SagewizError as exc:
            error.update(
                Text.assemble((exc.title + ": ", "bold"), exc.message, "\n", (exc.advice(Face.TUI), "dim"))
            )
            return None
        if checked.warnings:
            self.notify(" ".join(checked.warnings), severity="warning", markup=False)
        return spec

    def _remember(self) -> None:
        self.state.extra["labels_builder"] = {
            "title": self.query_one("#title", Input).value,
            "description": self.query_one("#description", Input).value,
            "instructions": self.query_one("#instructions", Input).value,
            "job_name": self.query_one("#job-name", Input).value,
        }

    # -- rendering -------------------------------------------------------------------------
    def _render_labels(self, select: int | None = None) -> None:
        ol = self.query_one("#label-list", OptionList)
        ol.clear_options()
        ol.add_options([Text(f"{n:>2}  {label}") for n, label in enumerate(self.labels, 1)])
        if select is not None and self.labels:
            ol.highlighted = max(0, min(select, len(self.labels) - 1))
        check = self.query_one("#labels-check", Static)
        try:
            result = rules.check_labels(self.labels, self._task_type())
        except ValidationError as exc:
            check.update(Text(f"{exc.message} {exc.advice(Face.TUI)}", style="red"))
            return
        if result.warnings:
            check.update(Text(" ".join(result.warnings), style="yellow"))
        else:
            check.update(Text(f"{len(self.labels)} labels ✓", style="green"))

    def _render_region(self) -> None:
        region = self.state.region
        note = self.query_one("#region-note", Static)
        lambdas = rules.documented_lambdas(region, self._task_type()) if region else None
        self.query_one("#lambda-inputs").display = bool(region) and lambdas is None
        if not region:
            note.update("Connect first to know the region.")
        elif lambdas is None:
            note.update(Text(rules.region_note(region), style="yellow"))
        else:
            note.update(Text(f"{lambdas.pre}\n{lambdas.consolidation}"))

    def _render_workforce(self) -> None:
        kind = self._workforce_kind()
        self.query_one("#mturk").display = kind == PUBLIC
        self.query_one("#private").display = kind == PRIVATE
        self.query_one("#vendor").display = kind == VENDOR

    def _render_description_count(self) -> None:
        n = len(self.query_one("#description", Input).value.strip())
        style = "red" if n > rules.DESCRIPTION_MAX else "dim"
        self.query_one("#description-count", Static).update(
            Text(f"{n}/{rules.DESCRIPTION_MAX} characters", style=style)
        )

    def _render_cost(self) -> None:
        cost = self.query_one("#cost", Static)
        if not self.images:
            cost.update("Total cost estimate: appears once the images are counted.")
            return
        est = rules.CostEstimate(len(self.images), int(self.query_one("#workers", Select).value),  # type: ignore[arg-type]
                                 int(self.query_one("#price", Select).value))  # type: ignore[arg-type]  # fmt: skip
        cost.update(Text("Estimate: " + est.describe()))

    # -- events ----------------------------------------------------------------------------
    @on(RadioSet.Changed, "#task-type")
    def _task_changed(self) -> None:
        self._render_labels()
        self._render_region()

    @on(RadioSet.Changed, "#workforce")
    def _workforce_changed(self) -> None:
        self._render_workforce()

    @on(Select.Changed, "#price")
    @on(Select.Changed, "#workers")
    def _price_changed(self) -> None:
        self._render_cost()

    @on(Input.Changed, "#description")
    def _description_changed(self) -> None:
        self._render_description_count()

    @on(Input.Changed, "#job-name")
    def _job_name_changed(self, event: Input.Changed) -> None:
        if self._attribute_follows:
            attr = self.query_one("#attribute", Input)
            attr.value = event.value
            self._attribute_follows = True

    @on(Input.Changed, "#attribute")
    def _attribute_changed(self, event: Input.Changed) -> None:
        self._attribute_follows = event.value == self.query_one("#job-name", Input).value

    @on(Input.Submitted, "#data-prefix")
    def _prefix_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self._list_images(event.value.strip())

    @on(Input.Submitted, "#label-new")
    @on(Button.Pressed, "#label-add")
    def _add_label(self) -> None:
        box = self.query_one("#label-new", Input)
        text = box.value.strip()
        if not text:
            return
        if text in self.labels:
            self.query_one("#labels-check", Static).update(
                Text(f"'{text}' is already in the list; labels must be unique.", style="red")
            )
            return
        self.labels.append(text)
        box.value = ""
        self._render_labels(select=len(self.labels) - 1)

    def _selected(self) -> int | None:
        idx = self.query_one("#label-list", OptionList).highlighted
        return idx if idx is not None and 0 <= idx < len(self.labels) else None

    @on(Button.Pressed, "#label-remove")
    def _remove_label(self) -> None:
        i = self._selected()
        if i is not None:
            del self.labels[i]
            self._render_labels(select=i)

    @on(Button.Pressed, "#label-up")
    def _up(self) -> None:
        i = self._selected()
        if i:
            self.labels[i - 1], self.labels[i] = self.labels[i], self.labels[i - 1]
            self._render_labels(select=i - 1)

    @on(Button.Pressed, "#label-down")
    def _down(self) -> None:
        i = self._selected()
        if i is not None and i < len(self.labels) - 1:
            self.labels[i + 1], self.labels[i] = self.labels[i], self.labels[i + 1]
            self._render_labels(select=i + 1)

    @on(Button.Pressed, "#preview")
    def action_preview(self) -> None:
        spec = self.checked_spec()
        if spec is None:
            return
        from screens.labels_preview import PreviewScreen

        def done(choice: str | None) -> None:
            if choice == "create":
                self.action_create()

        self.app.push_screen(PreviewScreen(spec, self.images[:1]), done)

    @on(Button.Pressed, "#create")
    def action_create(self) -> None:
        spec = self.checked_spec()
        if spec is None:
            return
        prefix = self.query_one("#data-prefix", Input).value.strip()
        self._remember()
        self.notify("Reading the images and the bucket's CORS rules to build the plan...", markup=False)
        self._plan(replace(spec), prefix)
