"""The Content-Type an uploaded file gets, from its name."""

from __future__ import annotations


def content_type(rel: str) -> str | None:
    import mimetypes

    return mimetypes.guess_type(rel, strict=False)[0]
