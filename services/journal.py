"""The append-only local journal: sessions, resources created, policies replaced, jobs started.

One JSON object a line in `<user state dir>/journal.jsonl`. Lines are only ever appended and
flushed with fsync, so an interrupted apply leaves exactly what was done. A half-written or
corrupt line, or one whose event does not fit its type, is skipped with a warning and never
stops the reader. What each line holds is a typed event of `services.journal_events`.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.errors import LocalFileError
from services.journal_events import (
    ChoiceMade,
    EntryKind,
    Event,
    JobStarted,
    PolicyReplaced,
    PolicyRestored,
    ResourceCreated,
    ResourceDeleted,
    ResourceEvent,
    parse_event,
)
from services.resource_kinds import ResourceKind


def default_path() -> Path:
    override = os.environ.get("SAGEWIZ_STATE_DIR")
    if override:
        return Path(override) / "journal.jsonl"
    from platformdirs import user_state_path

    return user_state_path("sagewiz", appauthor=False) / "journal.jsonl"


@dataclass(frozen=True)
class JournalEntry:
    event: Event
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    session: str | None = None
    account: str | None = None
    region: str | None = None
    sandbox: bool = False

    @property
    def kind(self) -> EntryKind:
        return self.event.KIND

    @property
    def data(self) -> dict[str, object]:
        """The event as the JSON line holds it."""
        return self.event.to_data()

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "at": self.at,
                "kind": self.kind,
                "session": self.session,
                "account": self.account,
                "region": self.region,
                "sandbox": self.sandbox,
                "data": self.data,
            },
            sort_keys=True,
            default=str,
        )


@dataclass(frozen=True)
class ReadResult:
    entries: tuple[JournalEntry, ...]
    warnings: tuple[str, ...]
    unreadable: str = ""  # why the file could not be read at all ("" when it was, or does not exist)


class Journal:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.session_id = uuid.uuid4().hex[:12]
        self.account: str | None = None
        self.region: str | None = None
        self.sandbox = False
        self._lock = threading.Lock()
        # Called (from whatever thread appended) after each entry is written; the App uses it to
        # refresh the running-cost line as soon as something starts or stops.
        self.on_append: Callable[[JournalEntry], None] | None = None

    def bind(self, account: str | None, region: str | None, sandbox: bool) -> None:
        """Entries written after this carry the account and region they concern."""
        self.account, self.region, self.sandbox = account, region, sandbox

    def append(self, event: Event) -> JournalEntry:
        _refuse_secrets(event.to_data())
        entry = JournalEntry(
            event=event,
            session=self.session_id,
            account=self.account,
            region=self.region,
            sandbox=self.sandbox,
        )
        line = entry.to_json() + "\n"
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            except OSError as exc:
                raise unwritable(self.path, exc) from exc
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        if self.on_append is not None:
            self.on_append(entry)
        return entry

    # -- reading ---------------------------------------------------------------------------
    def read(self) -> ReadResult:
        entries: list[JournalEntry] = []
        warnings: list[str] = []
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return ReadResult((), ())
        except OSError as exc:
            why = f"journal {self.path} could not be read: {exc.strerror or exc}"
            return ReadResult((), (why,), why)
        for number, line in enumerate(raw.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line.decode("utf-8"))
                raw_kind = str(obj["kind"])
                data = dict(obj.get("data") or {})
            except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError, RecursionError):
                warnings.append(f"journal line {number} is damaged and was skipped")
                continue
            try:
                entry = JournalEntry(
                    event=parse_event(raw_kind, data),
                    id=str(obj["id"]),
                    at=str(obj["at"]),
                    session=obj.get("session"),
                    account=obj.get("account"),
                    region=obj.get("region"),
                    sandbox=bool(obj.get("sandbox", False)),
                )
            except (ValueError, KeyError, TypeError) as exc:
                reason = exc.args[0] if isinstance(exc, ValueError) and exc.args else "it is damaged"
                warnings.append(f"journal line {number} ({raw_kind}) was skipped: {reason}")
                continue
            entries.append(entry)
        return ReadResult(tuple(entries), tuple(warnings))

    def entries(self, kind: str | None = None, *, scope: bool = True) -> list[JournalEntry]:
        """Entries of `kind` (all when None); with scope, only this account and region."""
        out = []
        for e in self.read().entries:
            if kind and e.kind != kind:
                continue
            if scope and self.account and (e.account != self.account or e.region != self.region):
                continue
            out.append(e)
        return out

    def resource_events(self) -> list[tuple[JournalEntry, ResourceEvent]]:
        """Every entry about one resource (created, started, changed, deleted), in order, here."""
        return [(e, e.event) for e in self.entries() if isinstance(e.event, ResourceEvent)]

    def created_resources(self) -> list[JournalEntry]:
        """Resources created and not deleted since, newest first."""
        deleted: set[tuple[ResourceKind, str] | None] = {
            _key(e.event) for e in self.entries(EntryKind.RESOURCE_DELETED)
        }
        seen: set[tuple[ResourceKind, str] | None] = set()
        out = []
        for e in reversed(self.entries(EntryKind.RESOURCE_CREATED)):
            key = _key(e.event)
            if key in deleted or key in seen:
                continue
            seen.add(key)
            out.append(e)
        return out

    def last_policy_change(self, target: str | None = None) -> JournalEntry | None:
        """The newest policy replacement not yet undone (optionally for one target)."""
        undone = {
            e.event.undoes
            for e in self.entries(EntryKind.POLICY_RESTORED)
            if isinstance(e.event, PolicyRestored)
        }
        for e in reversed(self.entries(EntryKind.POLICY_REPLACED)):
            if e.id in undone or not isinstance(e.event, PolicyReplaced):
                continue
            if target is None or e.event.target == target:
                return e
        return None

    def jobs(self) -> list[JournalEntry]:
        return self.entries(EntryKind.JOB_STARTED)

    def last_session(self) -> JournalEntry | None:
        sessions = [e for e in self.entries(EntryKind.SESSION, scope=False) if e.session != self.session_id]
        return sessions[-1] if sessions else None

    def choices(self, session: str | None = None) -> dict[str, object]:
        merged: dict[str, object] = {}
        for e in self.entries(EntryKind.CHOICE, scope=False):
            if isinstance(e.event, ChoiceMade) and (session is None or e.session == session):
                merged.update(e.event.values)
        return merged


def unwritable(path: Path, exc: OSError) -> LocalFileError:
    return LocalFileError(
        "The journal cannot be written",
        f"{path}: {exc.strerror or exc}",
        "Move that path out of the way (sagewiz creates the file), or set SAGEWIZ_STATE_DIR to a writable folder.",
    )


def _key(event: Event) -> tuple[ResourceKind, str] | None:
    if isinstance(event, (ResourceCreated, ResourceDeleted, JobStarted)):
        return (event.kind, event.id)
    return None


_SECRET_KEYS = {"aws_secret_access_key", "secretaccesskey", "secret_key", "sessiontoken", "aws_session_token"}


def _refuse_secrets(data: Any) -> None:
    """Credentials never go into the journal, whatever a caller passes."""
    for key, value in _walk(data):
        if key.replace("-", "_").lower() in _SECRET_KEYS:
            raise ValueError("refusing to write credentials to the journal")
        del value


def _walk(obj: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield str(k), v
            yield from _walk(v, str(k))
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _walk(v, key)
