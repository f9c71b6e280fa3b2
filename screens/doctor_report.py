"""What the doctor shows of a diagnosis: the verdict with its findings, evidence and fixes, and the
redacted report for an administrator (copied or saved). Pure rendering and one modal; no AWS calls.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static, TextArea

from services.remedy import Face
from tui.dialog import Dialog

VERDICT_STYLE = {"allowed": "bold green", "denied": "bold red", "unknown": "bold yellow"}


def render_diagnosis(d: Any) -> Group:
    """The verdict, the findings with evidence and fixes, and what was assumed. No markup."""
    parts: list[Any] = [
        Text.assemble(
            (f"{d.verdict.upper()}  ", VERDICT_STYLE.get(d.verdict, "bold")), (d.headline or "", "")
        ),
        Text.assemble(("principal  ", "dim"), d.principal or "(unknown)"),
    ]
    if d.role_arn and d.role_arn != d.principal:
        parts.append(Text.assemble(("role       ", "dim"), d.role_arn))
    parts += [
        Text.assemble(("action     ", "dim"), d.action or "(unknown)"),
        Text.assemble(("resource   ", "dim"), d.resource or "(unknown)"),
        Text(""),
    ]
    for n, f in enumerate(d.findings, 1):
        tag = ("BLOCKING", "bold red") if f.blocking else ("not the cause", "green")
        parts.append(
            Text.assemble(
                (f"{n}. ", "bold"), (f"[{tag[0]}] ", tag[1]), (f.cause, "bold cyan"), "  ", f.summary
            )
        )
        for e in f.evidence:
            parts.append(Text(f"     evidence: {e}", style="dim"))
        if f.fix:
            remedy = f.fix.remedy
            who = f"  ({remedy.render(Face.TUI)})" if remedy else ""
            parts.append(Text(f"     fix: {f.fix.description}{who}", style="yellow"))
            if n == 1 or f.blocking:
                for c in f.fix.changes:
                    if c.get("diff"):
                        parts.append(
                            Syntax(str(c["diff"]), "diff", theme="ansi_dark", background_color="default")
                        )
            for w in f.fix.warnings:
                parts.append(Text(f"     warning: {w}", style="yellow"))
        if f.alternatives:
            parts.append(Text(f"     {f.either_text}", style="green"))
        for a in f.alternatives:
            parts.append(Text.assemble("     alternative: ", (a.cause, "bold cyan"), "  ", a.summary))
            for e in a.evidence:
                parts.append(Text(f"       evidence: {e}", style="dim"))
            if a.fix:
                parts.append(Text(f"       fix: {a.fix.description}", style="yellow"))
    if d.needs:
        parts.append(Text("What is missing:", style="bold"))
        parts += [Text(f"  - {n.render(Face.TUI)}") for n in d.needs]
    if d.understood:
        parts.append(Text("What was understood:", style="bold"))
        parts += [Text(f"  - {u}", style="dim") for u in d.understood]
    if d.assumptions:
        parts.append(Text("Assumptions:", style="bold"))
        parts += [Text(f"  - {a.text}", style="dim") for a in d.assumptions]
    if d.reads:
        bad = [r for r in d.reads if r.status in ("denied", "error")]
        line = f"Evidence: {len(d.reads)} read-only calls" + (
            f", {len(bad)} refused" if bad else ", all answered"
        )
        parts.append(Text(line, style="bold"))
        parts += [Text(f"  - could not read {r.what} ({r.call}): {r.detail}", style="yellow") for r in bad]
    if d.cross_check:
        style = "red" if d.cross_check.agrees is False else "dim"
        parts.append(Text(f"Cross-check: {d.cross_check.message}", style=style))
    return Group(*parts)


class AdminReportScreen(Dialog[None]):
    """The redacted Markdown report: copy it, or save it to a file."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("s", "save", "Save to file"),
        Binding("c", "copy", "Copy"),
    ]

    def __init__(self, markdown: str, save_dir: Path) -> None:
        super().__init__()
        self.markdown = markdown
        self.save_dir = save_dir

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="admin-dialog"):
            yield Static(
                "Send to admin (redacted: no keys, session names or IP addresses)", classes="step-title"
            )
            yield TextArea(self.markdown, read_only=True, id="admin-text", language="markdown")
            yield Static("", id="admin-saved", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Copy (c)", id="admin-copy", variant="primary")
                yield Button("Save (s)", id="admin-save")
                yield Button("Close (esc)", id="admin-close")

    @on(Button.Pressed, "#admin-copy")
    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.markdown)
        self.query_one("#admin-saved", Static).update(
            Text("Copied to the clipboard (if your terminal allows it).")
        )

    @on(Button.Pressed, "#admin-save")
    def action_save(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        path = self.save_dir / f"doctor-report-{stamp}.md"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(self.markdown, encoding="utf-8")
        except OSError as exc:
            self.query_one("#admin-saved", Static).update(Text(f"Could not save: {exc.strerror or exc}"))
            return
        self.query_one("#admin-saved", Static).update(Text(f"Saved to {path}"))

    @on(Button.Pressed, "#admin-close")
    def _close(self) -> None:
        self.dismiss(None)
