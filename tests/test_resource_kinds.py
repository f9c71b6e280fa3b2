"""The registry of resource kinds covers every kind, and every journal writer names kinds by the
enum and records typed events (so clean-up can always list, stop and delete what was journaled)."""

from __future__ import annotations

import re
from pathlib import Path

from services.resource_kinds import ResourceKind
from services.resources import HANDLERS, KindHandler

ROOT = Path(__file__).resolve().parents[1]


def test_every_kind_has_a_handler_that_reads_it_and_deletes_or_stops_it():
    assert set(HANDLERS) == set(ResourceKind)
    for kind, handler in HANDLERS.items():
        cls = type(handler)
        assert handler.kind is kind
        assert cls.read is not KindHandler.read, f"{kind}: no inventory"
        if handler.deletable:
            assert cls.delete is not KindHandler.delete, f"{kind}: deletable but no delete"
        else:
            assert cls.stop is not KindHandler.stop, f"{kind}: neither deleted nor stopped"


def _writer_sources() -> list[Path]:
    return [p for d in ("services", "screens", "tui") for p in (ROOT / d).rglob("*.py")]


def test_journal_writers_use_typed_events_not_strings():
    """No writer builds a journal line by hand: no `journal_kind=`/`journal_data=`, no
    `.append("resource-created", ...)`, no `"type": "..."` payloads."""
    loose = re.compile(
        r"journal_kind\s*=|journal_data\s*=|journal\.append\(\s*\"|"
        r"\.append\(\s*\"(session|choice|resource-\w+|job-started|policy-\w+)\""
    )
    offenders = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in _writer_sources()
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if loose.search(line)
    ]
    assert offenders == []


def test_every_kind_a_writer_names_is_in_the_registry():
    """Writers name kinds as ResourceKind members; each one they name has a handler (a new
    member without one fails the test above, a misspelt one fails here and in mypy)."""
    named = {
        m.group(1)
        for p in _writer_sources()
        for m in re.finditer(r"ResourceKind\.([A-Z_]+)\b", p.read_text(encoding="utf-8"))
    }
    assert named, "the writers were not found"
    assert named <= {k.name for k in ResourceKind}
    assert all(ResourceKind[name] in HANDLERS for name in named)
