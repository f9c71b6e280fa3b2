"""The half-block renderer: two pixel rows a cell, colours from the image, aspect kept."""

from __future__ import annotations

import io

from PIL import Image
from rich.console import Console

from screens.labels_image import HalfBlockImage, _HalfBlocks, make_image, renderer_name


def png(colors: list[list[tuple[int, int, int]]]) -> bytes:
    img = Image.new("RGB", (len(colors[0]), len(colors)))
    for y, row in enumerate(colors):
        for x, c in enumerate(row):
            img.putpixel((x, y), c)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_half_blocks_put_the_upper_pixel_in_front_and_the_lower_behind() -> None:
    red, blue = (255, 0, 0), (0, 0, 255)
    data = png([[red, red], [blue, blue]])
    console = Console(width=20, color_system="truecolor", legacy_windows=False)
    segments = [s for s in console.render(_HalfBlocks(HalfBlockImage(data).image, 2, 1)) if s.text == "▀"]
    assert len(segments) == 2
    assert segments[0].style.color.triplet == red
    assert segments[0].style.bgcolor.triplet == blue


def test_aspect_is_kept_and_a_narrow_image_is_centred() -> None:
    console = Console(width=40, color_system="truecolor", legacy_windows=False)
    wide = png([[(10, 10, 10)] * 8] * 2)  # 8x2 pixels into 16x8 cells: 16 columns, 4 pixel rows
    lines = list(console.render_lines(_HalfBlocks(HalfBlockImage(wide).image, 16, 8), pad=False))
    assert len(lines) == 2 and all(sum(s.text == "▀" for s in line) == 16 for line in lines)
    narrow = png([[(10, 10, 10)] * 2] * 8)  # 2x8 pixels: 4 columns, 8 rows, 6 columns of margin
    lines = list(console.render_lines(_HalfBlocks(HalfBlockImage(narrow).image, 16, 8), pad=False))
    assert len(lines) == 8 and lines[0][0].text == " " * 6


def test_forced_half_blocks(monkeypatch) -> None:
    monkeypatch.setenv("SAGEWIZ_IMAGES", "halfblock")
    assert isinstance(make_image(None), HalfBlockImage)
    assert renderer_name() == "colour half-blocks"


def test_stacked_counter_bar() -> None:
    from screens.labels_live import stacked_bar

    bar = stacked_bar(30, 1, 29, width=60).plain
    assert bar.startswith("█" * 30) and bar.count("█") == 31 and bar.count("░") == 29
    assert stacked_bar(0, 0, 0).plain == ""
