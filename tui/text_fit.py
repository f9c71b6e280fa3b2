"""Fitting names into narrow columns: cut in the middle, so the unique end stays."""

from __future__ import annotations


def middle_ellipsis(text: str, width: int) -> str:
    """`text` in at most `width` cells, cut in the middle: an ARN keeps its unique end (the role or
    user name) and its start (the service and account)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    tail = (width - 1) * 2 // 3  # the end names the principal: it gets the larger share
    head = width - 1 - tail
    return text[:head] + "…" + text[len(text) - tail :]
