"""A policy document as formatted, highlighted JSON (or its raw text, flagged, when it is not JSON)."""

from __future__ import annotations

import json

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual.widgets import Static

from services.terminal_text import safe


def pretty_policy(text: str) -> str | None:
    """Indented JSON, or None when `text` is not JSON."""
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return None


def statement_lines(pretty: str, index: int) -> set[int]:
    """1-based line numbers of statement `index` in a pretty-printed policy (for highlighting)."""
    try:
        doc = json.loads(pretty)
    except ValueError:
        return set()
    stmts = doc.get("Statement") if isinstance(doc, dict) else None
    if not isinstance(stmts, list) or not (0 <= index < len(stmts)):
        return set()
    lines = pretty.splitlines()
    # Statements are printed at a fixed indent inside the list; find the index-th opening brace.
    starts = [n for n, line in enumerate(lines) if line == "    {"]
    if index >= len(starts):
        return set()
    start = starts[index]
    end = next((n for n in range(start, len(lines)) if lines[n].startswith("    }")), start)
    return set(range(start + 1, end + 2))


def render_policy(
    text: str | None, *, absent: str = "(none)", highlight: int | None = None
) -> RenderableType:
    if text is None:
        return Text(absent, style="dim italic")
    pretty = pretty_policy(text)
    if pretty is None:
        return Group(
            Text("Not valid JSON; shown exactly as stored:", style="bold red"),
            Text(safe(text)),  # the stored text as is, its control characters made visible
        )
    lines = statement_lines(pretty, highlight) if highlight is not None else set()
    return Syntax(
        pretty,
        "json",
        theme="ansi_dark",
        background_color="default",
        word_wrap=True,
        highlight_lines=lines,
    )


class PolicyView(Static):
    """`PolicyView(text)`; `highlight` picks a statement (0-based) to mark."""

    DEFAULT_CSS = """
    PolicyView { height: auto; padding: 0 1; }
    """

    def __init__(
        self,
        text: str | None = None,
        *,
        absent: str = "(none)",
        highlight: int | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(render_policy(text, absent=absent, highlight=highlight), id=id, classes=classes)
        self.text = text
        self.absent = absent

    def set_policy(self, text: str | None, *, highlight: int | None = None) -> None:
        self.text = text
        self.update(render_policy(text, absent=self.absent, highlight=highlight))
