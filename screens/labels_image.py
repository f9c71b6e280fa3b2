"""Images in the terminal: terminal graphics (Kitty/Sixel via textual-image) where the terminal
supports them, colour half-blocks otherwise.

textual-image probes the terminal when it is first imported, and that probe only works before
Textual owns stdin. So it is used only when it was imported before the App started
(`preload_terminal_graphics()`, for the command line to call), or when there is no terminal to
probe (tests, pipes). Otherwise, and whenever SAGEWIZ_IMAGES=halfblock, our own half-block
renderer draws the image: two pixels a cell, upper in the foreground, lower in the background.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from typing import Any

from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from textual.widget import Widget

HALFBLOCK = "halfblock"


def preload_terminal_graphics() -> None:
    """Probe the terminal for graphics support; call before App.run() (stdin still ours)."""
    if os.environ.get("SAGEWIZ_IMAGES", "auto") == HALFBLOCK:
        return
    try:
        import textual_image.widget  # noqa: F401  (the import performs the probe)
    except Exception:  # a terminal that answers oddly must never stop the wizard
        return


def to_pil(data: bytes | Any) -> Any:
    from PIL import Image

    if isinstance(data, (bytes, bytearray)):
        img = Image.open(io.BytesIO(data))
        img.load()
        return img.convert("RGB")
    return data


class _HalfBlocks:
    """A Rich renderable: the image scaled to fit, aspect kept, centred."""

    def __init__(self, image: Any, width: int, height: int) -> None:
        self.image = image
        self.width = max(1, width)
        self.height = max(1, height)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from PIL import Image

        w_px, h_px = self.image.size
        # a cell is about twice as tall as wide; a half-block holds two pixel rows
        scale = min(self.width / w_px, (self.height * 2) / h_px)
        cols = max(1, int(w_px * scale))
        rows = max(2, int(h_px * scale) // 2 * 2)
        small = self.image.resize((cols, rows), Image.Resampling.BILINEAR)
        px = small.load()
        pad = (self.width - cols) // 2
        for y in range(0, rows, 2):
            if pad:
                yield Segment(" " * pad)
            for x in range(cols):
                top = px[x, y]
                bottom = px[x, y + 1]
                yield Segment("▀", Style(color=Color.from_rgb(*top[:3]), bgcolor=Color.from_rgb(*bottom[:3])))
            yield Segment.line()


class HalfBlockImage(Widget):
    """Draws `image` (bytes or a PIL image) in colour half-blocks, fitted to the widget's size."""

    DEFAULT_CSS = "HalfBlockImage { width: 32; height: 16; }"

    def __init__(self, image: bytes | Any | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self._image = to_pil(image) if image is not None else None

    @property
    def image(self) -> Any:
        return self._image

    @image.setter
    def image(self, value: bytes | Any | None) -> None:
        self._image = to_pil(value) if value is not None else None
        self.refresh()

    def render(self) -> Any:
        if self._image is None:
            return ""
        return _HalfBlocks(self._image, self.content_size.width, self.content_size.height)


def _graphics_class() -> Callable[..., Widget] | None:
    if os.environ.get("SAGEWIZ_IMAGES", "auto") == HALFBLOCK:
        return None
    probed = "textual_image.renderable" in sys.modules
    no_terminal = not (sys.__stdout__ and sys.__stdout__.isatty())
    if not (probed or no_terminal):
        return None  # probing now would fight Textual for stdin
    try:
        from textual_image.renderable import HalfcellImage as HalfRenderable
        from textual_image.renderable import Image as AutoRenderable
        from textual_image.renderable import UnicodeImage
        from textual_image.widget import Image as GraphicsImage
    except Exception:
        return None
    # Half-cells or unicode blocks from textual-image gain nothing over ours.
    if AutoRenderable in (HalfRenderable, UnicodeImage):
        return None
    return GraphicsImage


def make_image(image: bytes | Any | None = None, **kw: Any) -> Widget:
    """The best image widget for this terminal; set `.image` to change the picture."""
    cls = _graphics_class()
    if cls is None:
        return HalfBlockImage(image, **kw)
    return cls(to_pil(image) if image is not None else None, **kw)


def renderer_name() -> str:
    cls = _graphics_class()
    return "colour half-blocks" if cls is None else "terminal graphics"
