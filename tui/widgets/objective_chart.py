"""The Tune dashboard's chart: the objective of every finished child over time, with the best so far."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static


def chart_lines(points: list[tuple[float, float]], direction: str, width: int, height: int) -> list[Text]:
    """Objective (y) over finish time (x): one dot a child, a line for the best so far."""
    if width < 20 or height < 3:
        return [Text("")]
    if not points:
        return [Text("no objective values yet", style="dim")] + [Text("") for _ in range(height - 1)]
    label_w = 9
    plot_w = width - label_w - 1
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    if x1 == x0:
        x1 = x0 + 1
    grid = [[" "] * plot_w for _ in range(height)]
    styles = [[""] * plot_w for _ in range(height)]

    def cell(x: float, y: float) -> tuple[int, int]:
        col = int(round((x - x0) / (x1 - x0) * (plot_w - 1)))
        row = height - 1 - int(round((y - y0) / (y1 - y0) * (height - 1)))
        return row, col

    best: float | None = None
    best_cells: list[tuple[int, int]] = []
    for x, y in sorted(points):
        if best is None or (y > best if direction == "Maximize" else y < best):
            best = y
        best_cells.append(cell(x, best))
    # the best-so-far line, as a step line across the plot
    for (r, c), nxt in zip(best_cells, best_cells[1:] + [(best_cells[-1][0], plot_w)], strict=True):
        for cc in range(c, max(c + 1, nxt[1])):
            if 0 <= cc < plot_w and grid[r][cc] == " ":
                grid[r][cc], styles[r][cc] = "─", "green"
    for x, y in points:
        r, c = cell(x, y)
        grid[r][c], styles[r][c] = "●", "bold cyan"
    out: list[Text] = []
    for i, row in enumerate(grid):
        label = f"{y1:.4g}" if i == 0 else f"{y0:.4g}" if i == height - 1 else ""
        line = Text(f"{label:>{label_w}}│", style="dim")
        for ch, st in zip(row, styles[i], strict=True):
            line.append(ch, style=st or None)
        out.append(line)
    return out


class ObjectiveChart(Static):
    """The objective of every finished child over time, with the best so far."""

    DEFAULT_CSS = "ObjectiveChart { height: 8; }"

    def __init__(self, **kw: Any) -> None:
        super().__init__("", **kw)
        self.points: list[tuple[float, float]] = []
        self.direction = "Minimize"

    def set_points(self, points: list[tuple[float, float]], direction: str) -> None:
        if points == self.points and direction == self.direction:
            return
        self.points, self.direction = points, direction
        self.refresh()

    def render(self) -> Text:
        lines = chart_lines(self.points, self.direction, self.size.width, max(3, self.size.height))
        return Text("\n").join(lines)
