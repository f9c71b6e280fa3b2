"""Policy documents as IAM returns them (URL-encoded JSON or parsed), for the journal and diffs."""

from __future__ import annotations

import json
from urllib.parse import unquote

from services.plan import pretty_json


def as_doc(doc: object) -> object:
    if isinstance(doc, str):
        try:
            parsed: object = json.loads(unquote(doc))
        except ValueError:
            return doc
        return parsed
    return doc


def removed_diff(doc: object, name: str) -> str:
    if doc is None:
        return ""
    lines = pretty_json(as_doc(doc)).splitlines()
    return "\n".join([f"--- {name}", "+++ (deleted)", *("-" + ln for ln in lines)])
