"""The worker's task as Ground Truth will show it: the image, the header, the labels to choose from,
and the instructions, drawn in the terminal from the same spec the template is built from."""

from __future__ import annotations

from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from screens.labels_image import make_image
from screens.labels_sub import LabelsSubScreen, short_name
from screens.labels_work import IMAGE, FetchedImage
from services.labeling import rules
from services.labeling.request import WORKFORCES, JobSpec
from services.labeling.template import DEFAULT_FULL, worker_template
from tui.messages import WorkDone


class PreviewScreen(LabelsSubScreen):
    BINDINGS = [
        *LabelsSubScreen.BINDINGS,
        Binding("ctrl+s", "create", "Create job"),
        Binding("h", "toggle_html", "Template HTML"),
    ]

    def __init__(self, spec: JobSpec, images: list[str]) -> None:
        super().__init__()
        self.spec = spec
        self.images = images

    def compose_body(self) -> ComposeResult:
        spec = self.spec
        multi = spec.task_type == rules.MULTI
        element = "crowd-image-classifier-multi-select" if multi else "crowd-image-classifier"
        yield Static("Labels · Preview of the worker task", classes="step-title")
        yield Static(Text(f"What a worker sees ({element}); nothing has been created yet."), classes="hint")
        with Vertical(id="preview-task"):
            yield Static(Text(spec.title, style="bold"), id="preview-title")
            yield Static(Text(spec.description), id="preview-header")
            with Horizontal(id="preview-main"):
                with Vertical(id="preview-image-box"):
                    yield make_image(None, id="preview-image")
                    yield Static(Text(short_name(self.images[0]) if self.images else "(no image found yet)"),
                                 id="preview-image-name", classes="hint")  # fmt: skip
                with Vertical(id="preview-side"):
                    yield Static(Text("Select all that apply" if multi else "Select one"), classes="section")
                    yield Static(self._choices(), id="preview-labels")
                    yield Static("Instructions", classes="section")
                    yield Static(Text(spec.instructions or "Choose the label that best describes the image."),
                                 id="preview-short")  # fmt: skip
            yield Static(self._full(), id="preview-full")
        yield Static(self._facts(), id="preview-facts", classes="hint")
        with VerticalScroll(id="preview-html"):
            yield Static(Syntax(worker_template(spec.description, spec.instructions, spec.task_type), "html",
                                theme="ansi_dark", background_color="default"))  # fmt: skip
        with Horizontal(classes="row buttons-row"):
            yield Button("Create the job (ctrl+s)", id="preview-create", variant="warning")
            yield Button("Back to the form (esc)", id="preview-back")

    def on_mount(self) -> None:
        self.query_one("#preview-html").display = False
        if self.images:
            self.fetch_image(self.images[0])

    def _choices(self) -> Text:
        box = "[ ]" if self.spec.task_type == rules.MULTI else "( )"
        t = Text()
        for n, label in enumerate(self.spec.labels, 1):
            t.append(f"{box} ", style="dim")
            t.append(label)
            t.append(f"   key {n % 10}" if n <= 10 else "", style="dim")
            t.append("\n")
        return t

    def _full(self) -> Text:
        t = Text("Full instructions: ", style="bold")
        for n, line in enumerate(DEFAULT_FULL, 1):
            t.append(f"{n}. {line} ", style="")
        return t

    def _facts(self) -> Text:
        spec = self.spec
        wf = spec.workforce
        who = WORKFORCES[wf.kind]
        if wf.kind == "public":
            who += f", {rules.price_label(wf.price_mills)} per task, {spec.workers_per_object} worker(s) per image"
        return Text(
            f"Job {spec.job_name} · label attribute {spec.label_attribute} · {len(spec.labels)} labels · {who} · "
            f"{len(self.images)} image(s) shown of the data prefix"
        )

    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(IMAGE.to(self._image_fetched))

    def _image_fetched(self, message: FetchedImage) -> None:
        if message.data is not None:
            self.query_one("#preview-image").image = message.data  # type: ignore[attr-defined]
        else:
            self.query_one("#preview-image-name", Static).update(Text(message.error, style="yellow"))

    def action_toggle_html(self) -> None:
        box = self.query_one("#preview-html")
        box.display = not box.display

    @on(Button.Pressed, "#preview-create")
    def action_create(self) -> None:
        self.dismiss("create")

    @on(Button.Pressed, "#preview-back")
    def _back(self) -> None:
        self.dismiss(None)

    def action_back(self) -> None:
        self.dismiss(None)
