"""Import an already labeled manifest (S3 or a local file): every line checked, bad lines reported
by number; a clean manifest becomes the one the Train step uses."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Static

from screens.labels_sub import LabelsSubScreen
from screens.labels_work import MANIFEST, SAVE, LoadedManifest
from services.errors import ValidationError
from services.flow import marks
from services.journal_events import ChoiceMade
from services.remedy import Face
from tui.messages import WorkDone, WorkFailed

if TYPE_CHECKING:
    from services.labeling.manifest import ParsedManifest

MAX_SHOWN = 30
IMPORT_JOB = "imported-labels"


class ImportManifestScreen(LabelsSubScreen):
    BINDINGS = [*LabelsSubScreen.BINDINGS, Binding("ctrl+o", "use", "Use this manifest")]

    def __init__(self) -> None:
        super().__init__()
        self.parsed: ParsedManifest | None = None
        self.source = ""

    def compose_body(self) -> ComposeResult:
        yield Static("Labels · Import a labeled manifest", classes="step-title")
        yield Static(Text("An output.manifest from an earlier Ground Truth job, another tool, or a colleague: "
                          "an s3:// URI or a local file. Every line is checked before it is used."), classes="hint")  # fmt: skip
        with Horizontal(classes="row"):
            yield Input(
                placeholder="s3://bucket/path/output.manifest or /path/to/output.manifest", id="import-source"
            )
            yield Button("Check", id="import-check", variant="primary")
        yield Static(id="import-summary")
        yield Static(id="import-problems")
        with Horizontal(classes="row buttons-row"):
            yield Button("Use this manifest (ctrl+o)", id="import-use", variant="warning", disabled=True)

    @on(Input.Submitted, "#import-source")
    @on(Button.Pressed, "#import-check")
    def _check(self) -> None:
        source = self.query_one("#import-source", Input).value.strip()
        if not source:
            self.query_one("#import-summary", Static).update(
                Text("Enter an s3:// URI or a file path.", style="red")
            )
            return
        self.query_one("#import-summary", Static).update(Text(f"Reading {source}..."))
        self._load(source)

    @work(thread=True, exclusive=True, group="labels-import", exit_on_error=False)
    def _load(self, source: str) -> None:
        from services.labeling.jobs import read_text
        from services.labeling.manifest import parse_output_manifest

        try:
            if source.startswith("s3://"):
                text = read_text(self.factory, source)
            else:
                path = Path(source).expanduser()
                if not path.is_file():
                    raise ValidationError(
                        "manifest", f"No file at {path}.", "Give an s3:// URI or an existing file."
                    )
                text = path.read_text(encoding="utf-8")
            self.post_message(MANIFEST.done(LoadedManifest(source, parse_output_manifest(text))))
        except UnicodeDecodeError:
            self.fail(
                ValidationError("manifest", "The file is not UTF-8 text.", "A manifest is UTF-8 JSON lines."),
                MANIFEST,
            )
        except Exception as exc:
            self.fail(exc, MANIFEST)

    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(MANIFEST.to(self._manifest_loaded), SAVE.to(self._use))

    def _manifest_loaded(self, message: LoadedManifest) -> None:
        parsed = message.parsed
        self.parsed = parsed
        self.source = message.source
        t = Table(box=None, show_header=False, padding=(0, 1))
        t.add_column(style="dim")
        t.add_column()
        t.add_row("Labeled objects", str(len(parsed.objects)))
        t.add_row("Label attribute", Text(parsed.label_attribute or "(not found)"))
        t.add_row("Labels", Text(", ".join(f"{i}={n}" for i, n in enumerate(parsed.categories))))
        t.add_row("Per label", Text(", ".join(f"{k} {v}" for k, v in parsed.counts().items())))
        if parsed.job_names:
            t.add_row("Job", Text(", ".join(parsed.job_names)))
        if parsed.unlabeled:
            t.add_row("Without a label", str(parsed.unlabeled))
        verdict = Text("✓ every line is valid", style="bold green") if parsed.ok else Text(
            f"✗ {len(parsed.problems)} bad line(s): fix them and check again" if parsed.problems
            else "✗ no labeled objects", style="bold red")  # fmt: skip
        t.add_row("Check", verdict)
        self.query_one("#import-summary", Static).update(t)
        problems = Text()
        for p in parsed.problems[:MAX_SHOWN]:
            problems.append(f"line {p.line}: ", style="bold red")
            problems.append(p.message + "\n")
        if len(parsed.problems) > MAX_SHOWN:
            problems.append(f"... and {len(parsed.problems) - MAX_SHOWN} more\n", style="dim")
        self.query_one("#import-problems", Static).update(problems)
        self.query_one("#import-use", Button).disabled = not parsed.ok

    def on_work_failed(self, message: WorkFailed) -> None:
        err = message.error
        self.query_one("#import-summary", Static).update(
            Text.assemble((err.title + ": ", "bold red"), err.message, "\n", (err.advice(Face.TUI), "dim"))
        )
        self.query_one("#import-problems", Static).update("")
        self.query_one("#import-use", Button).disabled = True

    @on(Button.Pressed, "#import-use")
    def action_use(self) -> None:
        parsed = self.parsed
        if parsed is None or not parsed.ok:
            return
        if self.source.startswith("s3://"):
            self._use(self.source)
            return
        # a local file goes to the bucket, where a job's output would be, so Train can read it
        prefix = self.state.images_prefix()
        if not prefix:
            self.notify("Connect first: the bucket is not known yet.", markup=False)
            return
        self._plan_upload(prefix, self.state.extra.get("labels_output") or None)

    @work(thread=True, exclusive=True, group="labels-import-save", exit_on_error=False)
    def _plan_upload(self, prefix: str, output: str | None) -> None:
        from services.labeling.manifest import output_manifest_uri
        from services.labeling.setup import locations
        from services.labeling.terminal import exists, write_plan

        parsed = self.parsed
        assert parsed is not None
        try:
            out = locations(prefix, IMPORT_JOB, output).output_path
            replaces = exists(self.factory, output_manifest_uri(out, IMPORT_JOB))
            plan, uri = write_plan(list(parsed.objects), out, IMPORT_JOB, parsed.label_attribute,
                                   source="imported", replaces=replaces)  # fmt: skip
        except Exception as exc:
            self.fail(exc, SAVE)
            return
        self.confirm_and_save(plan, uri)

    def _use(self, uri: str) -> None:
        parsed = self.parsed
        assert parsed is not None
        labels = [c for c in parsed.categories]
        self.state.update(output_manifest=uri, labels=labels)
        self.state.extra["label_attribute"] = parsed.label_attribute
        self.journal.append(ChoiceMade(dict(output_manifest=uri, labels=labels, extra={"label_attribute": parsed.label_attribute},
                            source="import")))  # fmt: skip
        self.mark(marks.labels(None, labeled=len(parsed.objects), total=len(parsed.objects)))
        from screens.labels_results import ResultsScreen

        self.app.switch_screen(ResultsScreen(uri))
