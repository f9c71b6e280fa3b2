"""Labeling in the terminal: each image drawn here, number keys pick a label, undo/skip/back, and the
result saved as a Ground Truth output.manifest at the layout a job would use."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import ProgressBar, Static

from screens.labels_image import make_image, renderer_name
from screens.labels_sub import LabelsSubScreen, short_name
from screens.labels_work import IMAGE, IMAGES, SAVE, FetchedImage, ImageList
from services.errors import SagewizError
from services.flow import marks
from services.journal_events import ChoiceMade
from services.labeling.setup import locations
from services.labeling.terminal import TerminalLabeling
from services.labeling.terminal_merge import NONE, ExistingLabels
from services.remedy import Face
from tui.messages import WorkDone, WorkFailed

DEFAULT_JOB = "vehicle-labels-terminal"

# Work in progress survives leaving the screen (same images, labels and mode) for this run.
_SESSIONS: dict[tuple[str, tuple[str, ...], bool], TerminalLabeling] = {}


class TerminalLabelScreen(LabelsSubScreen):
    BINDINGS = [
        *LabelsSubScreen.BINDINGS,
        *[Binding(str(n % 10), f"pick({n - 1})", f"label {n}", show=False) for n in range(1, 11)],
        Binding("u", "undo", "Undo"),
        Binding("s", "skip", "Skip"),
        Binding("left,p", "back_image", "Previous"),
        Binding("right,f", "forward_image", "Next"),
        Binding("enter", "confirm", "Confirm (multi)", show=False),
        Binding("ctrl+s", "save", "Save manifest"),
    ]

    def __init__(self, data_prefix: str, labels: tuple[str, ...], *, multi: bool = False,
                 job_name: str = DEFAULT_JOB, clock: object = None) -> None:  # fmt: skip
        super().__init__()
        self.data_prefix = data_prefix
        self.labels = labels
        self.multi = multi
        self.job_name = job_name
        self.clock = clock
        self.session: TerminalLabeling | None = None
        self.cache: dict[str, bytes] = {}
        self.asked: set[str] = set()
        self.existing: ExistingLabels = NONE  # the manifest these labels merge into, read with the images

    def compose_body(self) -> ComposeResult:
        kind = "several labels an image, Enter to confirm" if self.multi else "one label an image"
        yield Static("Labels · Label here in the terminal", classes="step-title")
        yield Static(Text(f"You are the workforce ({kind}). The result is an output.manifest in Ground Truth's "
                          "format, so the Train step cannot tell it from a job's."), classes="hint")  # fmt: skip
        with Horizontal(id="term-main"):
            with Vertical(id="term-image-box"):
                yield make_image(None, id="term-image")
                yield Static(id="term-image-name", classes="hint")
            with Vertical(id="term-side"):
                yield Static(id="term-position")
                yield ProgressBar(id="term-progress", show_eta=False)
                yield Static(id="term-counts")
                yield Static("Labels", classes="section")
                yield Static(id="term-labels")
                yield Static(id="term-keys", classes="hint")
        yield Static(id="term-note", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#term-position", Static).update(
            Text(f"Reading the images under {self.data_prefix}...")
        )
        self.query_one("#term-keys", Static).update(Text(
            "1-9, 0  pick a label" + (" (toggle)   Enter  confirm" if self.multi else "") +
            "\nu  undo    s  skip    ← / p  previous    → / f  next\nctrl+s  save output.manifest    esc  back"))  # fmt: skip
        note = f"Images are drawn with {renderer_name()}."
        if len(self.labels) > 10:
            note += f" Only the first 10 of the {len(self.labels)} labels have a key here."
        self.query_one("#term-note", Static).update(Text(note))
        self.on_identity_ready(lambda _i: self._list())

    @work(thread=True, exclusive=True, group="labels-term-list", exit_on_error=False)
    def _list(self) -> None:
        from services.labeling.setup import list_images
        from services.labeling.terminal_merge import read_existing

        try:
            images = list_images(self.factory, self.data_prefix)
            self.existing = read_existing(self.factory, [self.state.output_manifest or "", self._own_uri()])
            self.post_message(IMAGES.done(ImageList(self.data_prefix, images)))
        except Exception as exc:
            self.fail(exc, IMAGES)

    def _own_uri(self) -> str:
        """Where this screen writes: the layout a job with its name would use."""
        from services.labeling.manifest import output_manifest_uri

        return output_manifest_uri(self._output_path(), self.job_name)

    def _output_path(self) -> str:
        return locations(
            self.data_prefix, self.job_name, self.state.extra.get("labels_output") or None
        ).output_path

    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(
            IMAGES.to(self._images_listed), IMAGE.to(self._image_fetched), SAVE.to(self._manifest_saved)
        )

    def _images_listed(self, message: ImageList) -> None:
        kw = {"clock": self.clock} if self.clock else {}
        key = (self.data_prefix, tuple(self.labels), self.multi)
        earlier = _SESSIONS.get(key)
        if earlier is not None and earlier.sources == message.images and earlier.answers:
            self.session = earlier
            self.notify(f"Continuing where you left off: {len(earlier.answers)} image(s) already labeled.",
                        markup=False)  # fmt: skip
        else:
            try:
                self.session = TerminalLabeling(message.images, self.labels, self.multi, **kw,  # type: ignore[arg-type]
                                                already=self.existing.labeled_refs)  # fmt: skip
            except SagewizError as exc:
                self.query_one("#term-position", Static).update(Text(exc.message, style="yellow"))
                return
            if self.session.already:
                self.notify(f"{len(self.session.already)} of {len(message.images)} images already have a label in "
                            f"{self.existing.uri}; starting at the first without one.", markup=False)  # fmt: skip
        _SESSIONS[key] = self.session
        self._show()

    def on_work_failed(self, message: WorkFailed) -> None:
        err = message.error
        if message.work is SAVE:
            self.wizard.show_error(err)
            return
        self.query_one("#term-position", Static).update(
            Text.assemble((err.title + ": ", "bold yellow"), err.message, "\n", (err.advice(Face.TUI), "dim"))
        )

    def _image_fetched(self, message: FetchedImage) -> None:
        if message.data is not None:
            self.cache[message.uri] = message.data
        if self.session and message.uri == self.session.current:
            self._show_image()
            if message.data is None:
                self.query_one("#term-image-name", Static).update(Text(message.error, style="yellow"))

    # -- drawing ---------------------------------------------------------------------------
    def _show(self) -> None:
        s = self.session
        if s is None:
            return
        p = s.progress()
        self.query_one("#term-position", Static).update(
            Text.assemble(("Image ", "dim"), (f"{p.position + 1}", "bold"), (f" of {p.total}", "dim"))
        )
        self.query_one("#term-progress", ProgressBar).update(total=p.total, progress=p.labeled)
        done = "  all images have an answer: ctrl+s saves" if s.done else ""
        self.query_one("#term-counts", Static).update(
            Text.assemble(
                (f"{p.labeled} of {p.total} images labeled", "green"),
                f" · {p.skipped} skipped · {p.remaining} to go",
                (done, "bold green"),
            )  # fmt: skip
        )
        chosen = set(s.pending) if s.multi else set(s.answers.get(s.position, ()))
        if s.multi and not s.pending:
            chosen = set(s.answers.get(s.position, ()))
        t = Text()
        for n, label in enumerate(s.labels, 1):
            key = str(n % 10) if n <= 10 else " "
            mark = "●" if (n - 1) in chosen else " "
            style = "bold reverse" if (n - 1) in chosen else ""
            t.append(f" {key} ", style="bold cyan")
            t.append(f"{mark} {label} ", style=style)
            t.append("\n")
        if s.position in s.skipped and s.position not in s.answers:
            t.append("(skipped)", style="yellow")
        self.query_one("#term-labels", Static).update(t)
        self._show_image()
        for uri in s.sources[s.position : s.position + 3]:
            if uri not in self.cache and uri not in self.asked:
                self.asked.add(uri)
                self.fetch_image(uri)

    def _show_image(self) -> None:
        s = self.session
        if s is None:
            return
        self.query_one("#term-image-name", Static).update(Text(short_name(s.current)))
        self.query_one("#term-image").image = self.cache.get(s.current)  # type: ignore[attr-defined]

    # -- keys ------------------------------------------------------------------------------
    def action_pick(self, index: int) -> None:
        if self.session and self.session.pick(index):
            self._show()

    def action_confirm(self) -> None:
        if self.session and self.session.confirm():
            self._show()

    def action_undo(self) -> None:
        if self.session and self.session.undo():
            self._show()

    def action_skip(self) -> None:
        if self.session:
            self.session.skip()
            self._show()

    def action_back_image(self) -> None:
        if self.session:
            self.session.back()
            self._show()

    def action_forward_image(self) -> None:
        if self.session:
            self.session.forward()
            self._show()

    def action_save(self) -> None:
        if self.session is None:
            return
        if not self.session.answers:
            self.notify("No image has a label yet: press a number key first.", markup=False)
            return
        self._plan_save()

    @work(thread=True, exclusive=True, group="labels-term-save", exit_on_error=False)
    def _plan_save(self) -> None:
        from services.labeling.terminal import exists, write_plan
        from services.labeling.terminal_merge import merge, read_existing

        s = self.session
        assert s is not None
        try:
            # read again: a job or another session may have written since the images were listed
            existing = read_existing(self.factory, [self.state.output_manifest or "", self._own_uri()])
            objects = merge(existing.objects, s.objects(self.job_name), tuple(self.labels))
            kept = len(objects) - len(s.answers)
            source = f"{len(s.answers)} labeled in the terminal" + (
                f", {kept} kept from {existing.uri}" if existing.uri else ""
            )
            replaces = exists(self.factory, self._own_uri())
            plan, uri = write_plan(
                objects, self._output_path(), self.job_name, self.job_name, source=source, replaces=replaces
            )
        except Exception as exc:
            self.fail(exc, SAVE)
            return
        self.confirm_and_save(plan, uri)

    def _manifest_saved(self, uri: str) -> None:
        s = self.session
        assert s is not None
        self.state.update(output_manifest=uri, labels=list(self.labels))
        self.state.extra["label_attribute"] = self.job_name
        self.journal.append(ChoiceMade(dict(output_manifest=uri, labels=list(self.labels),
                            extra={"label_attribute": self.job_name}, source="terminal", labeled=s.labeled)))  # fmt: skip
        self.mark(marks.labels(None, labeled=s.labeled, total=len(s.sources)))
        _SESSIONS.pop((self.data_prefix, tuple(self.labels), self.multi), None)
        self.notify(f"Saved to {uri}: {s.labeled} of {len(s.sources)} images labeled.", markup=False)
        from screens.labels_results import ResultsScreen

        self.app.switch_screen(ResultsScreen(uri, images=len(s.sources)))
