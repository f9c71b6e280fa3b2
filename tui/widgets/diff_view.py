"""A unified diff, highlighted: removals red, additions green, hunk headers cyan, and within a
changed line pair the words that changed in bold. Reusable for any text diff (policies, configs)."""

from __future__ import annotations

import difflib

from rich.text import Text
from textual.widgets import Static

from services.terminal_text import safe


def diff_stats(diff: str) -> tuple[int, int]:
    plus = sum(1 for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++"))
    minus = sum(1 for line in diff.splitlines() if line.startswith("-") and not line.startswith("---"))
    return plus, minus


def render_diff(diff: str, *, empty: str = "No changes.") -> Text:
    """Rich Text for a unified diff (never markup: AWS text is shown as is)."""
    if not diff.strip():
        return Text(empty, style="dim italic")
    lines = safe(diff).splitlines()  # documents from AWS: control characters made visible
    out = Text()
    plus, minus = diff_stats(diff)
    out.append(f"{plus} line(s) added, {minus} removed\n", style="dim")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(("---", "+++")):
            out.append(line + "\n", style="bold")
        elif line.startswith("@@"):
            out.append(line + "\n", style="cyan")
        elif (
            line.startswith("-")
            and i + 1 < len(lines)
            and lines[i + 1].startswith("+")
            and not lines[i + 1].startswith("+++")
            and _next_is_single(lines, i)
        ):
            _pair(out, line, lines[i + 1])
            i += 1
        elif line.startswith("-"):
            out.append(line + "\n", style="red")
        elif line.startswith("+"):
            out.append(line + "\n", style="green")
        else:
            out.append(line + "\n")
        i += 1
    out.rstrip()
    return out


def _next_is_single(lines: list[str], i: int) -> bool:
    # Only a lone "-" line followed by a lone "+" line is a one-for-one change worth word highlighting.
    before_ok = i == 0 or not lines[i - 1].startswith("-") or lines[i - 1].startswith("---")
    after_ok = i + 2 >= len(lines) or not lines[i + 2].startswith("+")
    return before_ok and after_ok


def _pair(out: Text, old: str, new: str) -> None:
    matcher = difflib.SequenceMatcher(a=old[1:], b=new[1:], autojunk=False)
    for text, prefix, base, strong, side in (
        (old, "-", "red", "bold red reverse", "a"),
        (new, "+", "green", "bold green reverse", "b"),
    ):
        body = text[1:]
        out.append(prefix, style=base)
        for tag, a0, a1, b0, b1 in matcher.get_opcodes():
            lo, hi = (a0, a1) if side == "a" else (b0, b1)
            if hi > lo:
                out.append(body[lo:hi], style=base if tag == "equal" else strong)
        out.append("\n")


class DiffView(Static):
    """Shows a unified diff. `DiffView(diff)` or `DiffView.of(old_text, new_text)`."""

    DEFAULT_CSS = """
    DiffView { height: auto; padding: 0 1; background: $boost; }
    """

    def __init__(
        self, diff: str = "", *, empty: str = "No changes.", id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(render_diff(diff, empty=empty), id=id, classes=classes)
        self.diff = diff
        self.empty = empty

    @classmethod
    def of(
        cls, old: str, new: str, old_name: str = "current", new_name: str = "proposed", **kw: object
    ) -> DiffView:
        diff = "\n".join(
            difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm="")
        )
        return cls(diff, **kw)  # type: ignore[arg-type]

    def set_diff(self, diff: str) -> None:
        self.diff = diff
        self.update(render_diff(diff, empty=self.empty))
