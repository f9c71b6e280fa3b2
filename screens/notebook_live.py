"""The live status panel of one notebook instance, and the sign-in URL dialog."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, HorizontalScroll, Vertical
from textual.widgets import Button, Static

from services import notebooks as nb
from services.durations import duration
from services.notebook_errors import explain_failure
from services.remedy import Face
from services.terminal_text import safe
from tui.dialog import Dialog

STATUS_STYLE = {
    "InService": "bold green",
    "Pending": "bold yellow",
    "Stopping": "bold yellow",
    "Deleting": "bold yellow",
    "Updating": "bold yellow",
    "Stopped": "bold",
    "Failed": "bold red",
    "Deleted": "dim",
}
# Where a transient status is heading, for the timeline.
NEXT = {"Pending": "InService", "Stopping": "Stopped", "Deleting": "deleted", "Updating": "InService"}


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


def render_live(
    info: nb.NotebookInfo | None,
    history: list[str],
    elapsed: float | None,
    *,
    gone: bool = False,
    sandbox: bool = False,
) -> RenderableType:
    """The panel's content. `history` lists the statuses this session saw, oldest first;
    `elapsed` is how long the current one has been seen (None when not known)."""
    if info is None:
        return Text(
            "Select a notebook instance (↑/↓) to follow it here, or press c to create one.", style="dim"
        )
    head = Text.assemble((info.name, "bold"), "  ")
    if gone:
        head.append("deleted", style="dim")
        head.append("  (no longer listed)", style="dim")
        return Group(head, _timeline(history + ["deleted"], None))
    head.append_text(status_text(info.status))
    if elapsed is not None:
        head.append(f"  for {duration(elapsed)}", style="dim")
    if info.status in NEXT:
        head.append("  (refreshing…)", style="dim")
    parts: list[RenderableType] = [head, _timeline(history, NEXT.get(info.status))]
    if info.status == "Failed":
        parts.append(
            Text.assemble(("Failure reason: ", "bold red"), safe(info.failure_reason) or "(none given)")
        )
        parts.append(
            Text(
                "What to do: " + explain_failure(info.failure_reason, info.name).render(Face.TUI),
                style="yellow",
            )
        )
    table = Table(box=None, show_header=False, padding=(0, 1))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    table.add_row("Type", Text(info.instance_type))
    table.add_row("Cost", Text(info.cost_label + (" (sandbox: nothing is billed)" if sandbox else "")))
    platform = Text(info.platform or "?")
    warning = nb.platform_warning(info.platform) if info.platform else None
    if warning:
        platform.append("  end of life", style="bold red")
    table.add_row("Platform", platform)
    table.add_row("Volume", Text(f"{info.volume_gb} GB" if info.volume_gb else "?"))
    table.add_row("Role", Text(info.role_arn or "?"))
    table.add_row("Lifecycle", Text(info.lifecycle_config or "none"))
    if info.direct_internet_access:
        table.add_row(
            "Internet",
            Text(info.direct_internet_access + (f" · subnet {info.subnet_id}" if info.subnet_id else "")),
        )
    parts.append(table)
    parts.append(Text(_actions(info.status), style="cyan"))
    return Group(*parts)


def _timeline(history: list[str], heading_to: str | None) -> Text:
    out = Text()
    for n, status in enumerate(history):
        if n:
            out.append(" → ", style="dim")
        last = n == len(history) - 1
        out.append(status, style=STATUS_STYLE.get(status, "") if last else "dim")
        if not last or status in nb.SETTLED:
            out.append(" ✓" if status != "Failed" else " ✗", style="dim" if not last else "")
    if heading_to:
        out.append(" → ", style="dim")
        out.append(heading_to, style="dim italic")
    return out


def _actions(status: str) -> str:
    return {
        "InService": "o open (sign-in URL) · s stop · u use for the next steps",
        "Stopped": "t start · x delete",
        "Failed": "t start again · x delete",
        "Pending": "waiting for InService (usually a few minutes on AWS)",
        "Stopping": "waiting for Stopped; then it can be started or deleted",
        "Deleting": "being deleted",
    }.get(status, "")


class LivePanel(Static):
    """Shows render_live(...) for the followed instance."""


class NotebookUrlScreen(Dialog[None]):
    """The presigned sign-in URL: whole on one line, copyable, opened in the browser where it is real.

    A URL wrapped at the dialog's edge breaks mid-token and cannot be read back or selected in one
    piece; on one line it scrolls sideways (←/→ once Tab reaches it) and Copy takes it whole."""

    CSS_PATH = "notebook.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("c", "copy", "Copy"),
        Binding("o", "open", "Open in browser"),
    ]

    def __init__(self, name: str, url: str, sandbox: bool) -> None:
        super().__init__()
        self.nb_name = name
        self.url = url
        self.sandbox = sandbox

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="nb-url-dialog"):
            yield Static(Text(f"Open {self.nb_name}"), classes="step-title")
            yield Static(
                "Sign-in URL for JupyterLab (AWS accepts it for 5 minutes; the session lasts 30 minutes):",
                classes="hint",
            )
            with HorizontalScroll(id="nb-url-scroll"):
                yield Static(Text(self.url, style="bold", no_wrap=True, overflow="ignore"), id="nb-url")
            yield Static(
                "On one line: Tab to it and ←/→ scroll it; c copies it whole"
                + ("." if self.sandbox else "; o opens it in your browser."),
                classes="hint",
                id="nb-url-keys",
            )
            if self.sandbox:
                yield Static(
                    "Sandbox: this URL has the real format but opens nothing; on AWS it signs you in to the notebook.",
                    classes="warning-text",
                )
            with Horizontal(classes="buttons"):
                yield Button("Copy (c)", id="copy", variant="primary")
                if not self.sandbox:
                    yield Button("Open in browser (o)", id="open")
                yield Button("Close (esc)", id="close")

    def on_mount(self) -> None:
        self.query_one("#copy", Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open":
            return not self.sandbox
        return True

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.url)
        self.notify("The URL is on the clipboard (if your terminal allows OSC 52); it is also shown above.",
                    markup=False)  # fmt: skip

    def action_open(self) -> None:
        self.app.open_url(self.url)

    def action_close(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "copy":
            self.action_copy()
        elif event.button.id == "open":
            self.action_open()
        else:
            self.dismiss(None)
