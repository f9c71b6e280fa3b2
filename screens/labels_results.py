"""Results: every object with its label, confidence and who labeled it; counts per label; thumbnails
titled with their label; a filter by label; and the manifest handed to the Train step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, DataTable, Select, Static

from screens.labels_image import make_image
from screens.labels_sub import LabelsSubScreen, short_name
from screens.labels_work import IMAGE, MANIFEST, FetchedImage, LoadedManifest
from services.flow import marks
from services.journal_events import ChoiceMade
from services.remedy import Face
from tui.messages import WorkDone, WorkFailed

if TYPE_CHECKING:
    from services.labeling.manifest import LabeledObject, ParsedManifest

THUMBS = 8
MAX_ROWS = 2000  # a DataTable of 100,000 rows would stall the screen; counts still cover everything
ALL = "__all__"


class ResultsScreen(LabelsSubScreen):
    BINDINGS = [
        *LabelsSubScreen.BINDINGS,
        Binding("ctrl+t", "use", "Use for training"),
        Binding("right_square_bracket", "page(1)", "More thumbnails"),
        Binding("left_square_bracket", "page(-1)", "Previous thumbnails", show=False),
    ]

    def __init__(self, uri: str, *, categories_uri: str = "", images: int = 0) -> None:
        super().__init__()
        self.uri = uri
        self.images = images  # the images the manifest should cover, when known (0: not known)
        self.categories_uri = categories_uri
        self.parsed: ParsedManifest | None = None
        self.cache: dict[str, bytes] = {}
        self.shown: list[str] = []
        self.page = 0

    def compose_body(self) -> ComposeResult:
        yield Static("Labels · Results", classes="step-title")
        yield Static(Text(self.uri), id="results-uri", classes="hint")
        yield Static(Text("Reading the output manifest..."), id="results-summary")
        with Horizontal(id="results-top"):
            yield Static(id="results-counts")
            with Vertical(id="results-filter-box"):
                yield Static("Show", classes="section")
                yield Select[str]([("All labels", ALL)], value=ALL, allow_blank=False, id="results-filter")
                yield Button("Use for training (ctrl+t)", id="results-use", variant="primary", disabled=True)
        yield Static(id="results-page", classes="hint")
        yield Grid(id="results-thumbs")
        yield DataTable(id="results-table", zebra_stripes=True, cursor_type="row")

    def on_mount(self) -> None:
        self.query_one("#results-table", DataTable).add_columns(
            "#", "Image", "Label", "Confidence", "Human", "Job"
        )
        self.on_identity_ready(lambda _i: self._load())

    @work(thread=True, exclusive=True, group="labels-results", exit_on_error=False)
    def _load(self) -> None:
        from services.labeling.jobs import read_output

        try:
            loaded = LoadedManifest(self.uri, read_output(self.factory, self.uri, self.categories_uri))
            self.post_message(MANIFEST.done(loaded))
        except Exception as exc:
            self.fail(exc, MANIFEST)

    async def on_work_done(self, message: WorkDone[Any]) -> None:
        # The manifest's objects are rendered with an await: routed here rather than through route().
        if message.work is MANIFEST:
            message.stop()
            await self._manifest_loaded(MANIFEST.result_of(message))
            return
        message.route(IMAGE.to(self._image_fetched))

    async def _manifest_loaded(self, message: LoadedManifest) -> None:
        parsed = message.parsed
        self.parsed = parsed
        summary = Text.assemble(
            (f"{len(parsed.objects)} labeled objects", "bold"), f" · label attribute {parsed.label_attribute}",
            f" · {len(parsed.categories)} labels",
        )  # fmt: skip
        if parsed.unlabeled:
            summary.append(f" · {parsed.unlabeled} without a label", style="yellow")
        if self.images:
            labeled = len({o.source_ref for o in parsed.objects})
            style = "green" if labeled >= self.images else "yellow"
            summary.append(f" · {labeled} of {self.images} images labeled", style=style)
        if parsed.problems:
            summary.append(f"\n{len(parsed.problems)} bad line(s), first: {parsed.problems[0]}", style="red")
        self.query_one("#results-summary", Static).update(summary)
        counts = parsed.counts()
        t = Table(box=None, show_header=True, padding=(0, 1), header_style="bold")
        t.add_column("Label")
        t.add_column("Objects", justify="right")
        t.add_column("")
        top = max(counts.values(), default=1)
        for label, n in counts.items():
            t.add_row(Text(label), str(n), Text("█" * max(1, round(20 * n / top)), style="cyan"))
        self.query_one("#results-counts", Static).update(t)
        self.query_one("#results-use", Button).disabled = not parsed.objects or bool(parsed.problems)
        await self._render_objects()
        # after a refresh: a Select replaced just after its screen mounted may not have composed yet
        self.call_after_refresh(self._fill_filter, counts)

    def _fill_filter(self, counts: dict[str, int]) -> None:
        sel = self.query_one("#results-filter", Select)
        sel.set_options([("All labels", ALL), *[(f"{k} ({v})", k) for k, v in counts.items()]])
        sel.value = ALL

    def on_work_failed(self, message: WorkFailed) -> None:
        err = message.error
        self.query_one("#results-summary", Static).update(
            Text.assemble((err.title + ": ", "bold red"), err.message, "\n", (err.advice(Face.TUI), "dim"))
        )

    def _filtered(self) -> list[LabeledObject]:
        if self.parsed is None:
            return []
        value = self.query_one("#results-filter", Select).value
        if value in (ALL, Select.BLANK):
            return list(self.parsed.objects)
        return [o for o in self.parsed.objects if value in o.class_names]

    async def _render_objects(self) -> None:
        objs = self._filtered()
        table = self.query_one("#results-table", DataTable)
        table.clear()
        for n, o in enumerate(objs[:MAX_ROWS], 1):
            table.add_row(str(n), Text(short_name(o.source_ref)), Text(o.label), o.confidence_text(),
                          "yes" if o.human_annotated else "no", Text(o.job_name))  # fmt: skip
        more = f" · table shows the first {MAX_ROWS}" if len(objs) > MAX_ROWS else ""
        self.page = min(self.page, max(0, (len(objs) - 1) // THUMBS))
        start = self.page * THUMBS
        page = objs[start : start + THUMBS]
        self.query_one("#results-page", Static).update(Text(
            f"Thumbnails {start + 1}-{start + len(page)} of {len(objs)} ([ and ] page){more}" if page else "Nothing to show"))  # fmt: skip
        grid = self.query_one("#results-thumbs", Grid)
        await grid.remove_children()
        self.shown = [o.source_ref for o in page]
        cards = []
        for o in page:
            card = Vertical(make_image(self.cache.get(o.source_ref), classes="thumb-image"),
                            Static(Text(short_name(o.source_ref)), classes="thumb-name"), classes="thumb")  # fmt: skip
            card.border_title = o.label
            cards.append(card)
        await grid.mount_all(cards)
        for uri in self.shown:
            if uri not in self.cache:
                self.fetch_image(uri)

    async def action_page(self, delta: int) -> None:
        if self.parsed is None:
            return
        last = max(0, (len(self._filtered()) - 1) // THUMBS)
        page = max(0, min(last, self.page + delta))
        if page != self.page:
            self.page = page
            await self._render_objects()

    def _image_fetched(self, message: FetchedImage) -> None:
        if message.data is None:
            return
        self.cache[message.uri] = message.data
        if message.uri in self.shown:
            i = self.shown.index(message.uri)
            cards = list(self.query(".thumb-image"))
            if i < len(cards):
                cards[i].image = message.data  # type: ignore[attr-defined]

    @on(Select.Changed, "#results-filter")
    async def _filter_changed(self) -> None:
        if self.parsed is not None:
            self.page = 0
            await self._render_objects()

    @on(Button.Pressed, "#results-use")
    def action_use(self) -> None:
        parsed = self.parsed
        if parsed is None or not parsed.objects or parsed.problems:
            return
        labels = list(parsed.categories)
        self.state.update(output_manifest=self.uri, labels=labels)
        self.state.extra["label_attribute"] = parsed.label_attribute
        self.journal.append(ChoiceMade(dict(output_manifest=self.uri, labels=labels, extra={"label_attribute": parsed.label_attribute},
                            source="results")))  # fmt: skip
        total = self.images or len(parsed.objects)
        self.mark(marks.labels(None, labeled=len({o.source_ref for o in parsed.objects}), total=total))
        self.notify(f"The Train step will use {self.uri}", markup=False)
