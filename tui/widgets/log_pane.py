"""LogPane: a job's log lines, host-coloured, bounded in memory, following the end.

A line-API widget: lines live in a deque of at most `max_lines` (old lines are dropped, so memory
stays bounded however long the job runs) and only the visible rows are rendered. It follows the
end while the view is at the bottom; when the user scrolls up it stays put and the border says
"N new lines" until they return (End / G). `/`-search is driven by the owner via `search()`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from services.terminal_text import safe_line

HOST_COLOURS = ("cyan", "magenta", "green", "yellow", "bright_blue", "bright_red", "bright_cyan", "orange3")


class LogPane(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    LogPane {
        border: round $secondary;
        border-subtitle-color: $warning;
        height: 1fr;
        overflow-x: auto;  /* a long line scrolls sideways (←/→); the host label stays */
    }
    LogPane:focus { border: round $accent; }
    """
    BINDINGS = [
        Binding("end,G", "follow", "Follow", show=True),
        Binding("home", "scroll_home", "Top", show=False),  # g stays the app's "Go to"
        Binding("right", "scroll_right", "Long lines", key_display="←→"),
    ]

    following: reactive[bool] = reactive(True)
    pending: reactive[int] = reactive(0)

    class FollowChanged(Message):
        def __init__(self, following: bool) -> None:
            super().__init__()
            self.following = following

    def __init__(self, max_lines: int = 20_000, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:  # fmt: skip
        super().__init__(name=name, id=id, classes=classes)
        self.max_lines = max_lines
        self._lines: deque[tuple[int, str]] = deque(maxlen=max_lines)  # (host index, text)
        self._hosts: dict[str, int] = {}
        self._host_labels: list[str] = []
        self._label_width = 6
        self.total = 0  # lines ever written (dropped ones included)
        self._search = ""
        self._match: int | None = None  # absolute line number of the current match
        self._dropped = 0  # lines dropped from the front so far
        self._widest = 0  # the longest line's text, for the sideways scroll
        self._styles = [Style(color=c, bold=True) for c in HOST_COLOURS]
        self._match_style = Style(reverse=True)
        self._dim = Style(dim=True)

    # -- feeding --------------------------------------------------------------------------------
    def write_lines(self, lines: Iterable[tuple[str, str]]) -> int:
        """Append (host, message) pairs; returns how many were added."""
        hosts, append = self._hosts, self._lines.append
        n = 0
        for host, raw in lines:
            # Log lines are the job's own output: control characters are shown, never sent to the terminal.
            text = safe_line(raw)
            host = safe_line(host, 40)
            idx = hosts.get(host)
            if idx is None:
                idx = hosts[host] = len(self._host_labels)
                self._host_labels.append(host)
                self._label_width = max(self._label_width, len(host))
            # CloudWatch keeps container tabs as the escape #011; show them as spaces.
            line = text.replace("#011", "  ") if "#011" in text else text
            append((idx, line))
            if len(line) > self._widest:
                self._widest = len(line)
            n += 1
        if not n:
            return 0
        before = self.total
        self.total += n
        dropped_now = max(0, self.total - self.max_lines) - max(0, before - self.max_lines)
        self._dropped += dropped_now
        at_end = self.following
        self.virtual_size = self._virtual()
        if at_end:
            self.scroll_end(animate=False, immediate=False, x_axis=False)
        else:
            self.pending += n
            if dropped_now:  # keep the reader's lines in place while old ones leave the top
                self.scroll_to(y=max(0, self.scroll_y - dropped_now), animate=False, immediate=True)
        self.refresh()
        return n

    def clear(self) -> None:
        self._lines.clear()
        self.total = self._dropped = 0
        self.pending = 0
        self._widest = 0
        self.virtual_size = Size(self.size.width, 0)
        self.refresh()

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def text_at(self, row: int) -> str:
        idx, text = self._lines[row]
        return f"{self._host_labels[idx]} {text}"

    def visible_text(self) -> list[str]:
        top = int(self.scroll_y)
        return [self.text_at(r) for r in range(top, min(len(self._lines), top + self.size.height))]

    # -- following --------------------------------------------------------------------------------
    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        at_bottom = new_value >= self.max_scroll_y - 0.5
        if at_bottom and not self.following:
            self.following = True
        elif not at_bottom and self.following and new_value < old_value:
            self.following = False

    def watch_following(self, following: bool) -> None:
        if following:
            self.pending = 0
        self._update_subtitle()
        self.post_message(self.FollowChanged(following))

    def watch_pending(self, _: int) -> None:
        self._update_subtitle()

    def _update_subtitle(self) -> None:
        if self.following:
            self.border_subtitle = "following"
        elif self.pending:
            self.border_subtitle = f"{self.pending} new lines (End to follow)"
        else:
            self.border_subtitle = "paused (End to follow)"

    def action_follow(self) -> None:
        self.following = True
        self.scroll_end(animate=False, immediate=True)

    def action_scroll_up(self) -> None:
        self.following = False if self.max_scroll_y > 0 else self.following
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self.following = False if self.max_scroll_y > 0 else self.following
        super().action_page_up()

    def action_scroll_home(self) -> None:
        self.following = False if self.max_scroll_y > 0 else self.following
        self.scroll_home(animate=False)

    # -- search -------------------------------------------------------------------------------------
    def search(self, term: str, *, backwards: bool = False) -> bool:
        """Move to the next (or previous) line containing `term` (case-insensitive); True if found."""
        self._search = term
        if not term or not self._lines:
            self._match = None
            self.refresh()
            return False
        needle = term.lower()
        n = len(self._lines)
        cur = (
            self._match - self._dropped
            if self._match is not None
            else (int(self.scroll_y) if backwards else int(self.scroll_y) - 1)
        )
        step = -1 if backwards else 1
        row = cur
        for _ in range(n):
            row = (row + step) % n
            idx, text = self._lines[row]
            if needle in text.lower() or needle in self._host_labels[idx].lower():
                self._match = row + self._dropped
                self.following = False
                top = max(0, row - self.size.height // 2)
                self.scroll_to(y=top, animate=False, immediate=True)
                self.refresh()
                return True
        self._match = None
        self.refresh()
        return False

    def clear_search(self) -> None:
        self._search = ""
        self._match = None
        self.refresh()

    # -- rendering ------------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        row = int(self.scroll_y) + y
        width = self.size.width
        if row >= len(self._lines) or width <= 0:
            return Strip.blank(width, self.rich_style)
        idx, text = self._lines[row]
        label = self._host_labels[idx].ljust(self._label_width)
        style = self.rich_style
        segs = [Segment(label, style + self._styles[idx % len(self._styles)]), Segment(" ", style)]
        room = max(0, width - len(label) - 1)
        left = int(self.scroll_x)
        body = text[left : left + room]
        term = self._search.lower()
        if term and term in body.lower():
            low = body.lower()
            pos = 0
            current = self._match is not None and row + self._dropped == self._match
            hl = style + (self._match_style if current else Style(bgcolor="grey37"))
            while True:
                hit = low.find(term, pos)
                if hit < 0:
                    segs.append(Segment(body[pos:], style))
                    break
                if hit > pos:
                    segs.append(Segment(body[pos:hit], style))
                segs.append(Segment(body[hit : hit + len(term)], hl))
                pos = hit + len(term)
        else:
            segs.append(Segment(body, style))
        return Strip(segs).adjust_cell_length(width, style)

    def _virtual(self) -> Size:
        # Wide enough for the longest line beside the host label: the rest is reached with →.
        wide = self._label_width + 1 + self._widest + (1 if self._widest else 0)
        return Size(max(self.size.width, wide), len(self._lines))

    def on_resize(self) -> None:
        self.virtual_size = self._virtual()
        if self.following:
            self.scroll_end(animate=False, immediate=False)
