"""Read what a widget shows, as plain text, for assertions about what a user sees."""

from __future__ import annotations

from typing import Any

from rich.console import Console


def shown(widget: Any, width: int = 200) -> str:
    """The plain text a Static (or any widget whose render() is a string/Rich renderable) shows."""
    content = getattr(widget, "content", None)
    if content is None:
        content = widget.render()
    if isinstance(content, str):
        return content
    console = Console(width=width, color_system=None, legacy_windows=False)
    with console.capture() as captured:
        console.print(content)
    return captured.get()
