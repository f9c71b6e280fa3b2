"""The append-only local journal: sessions, resources created, policies replaced, jobs started.

One JSON object a line in `<user state dir>/journal.jsonl`. Lines are only ever appended and
flushed with fsync, so an interrupted apply leaves exactly what was done. A half-written or
corrupt line is skipped with a warning and never stops the reader.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ENTRY_KINDS = {
    "session",  # a sagewiz run started: target, account, region
    "resource-created",  # a resource sagewiz made (bucket, role, notebook, ...)
    "resource-deleted",
    "resource-changed",  # stop/start and similar state changes
    "policy-replaced",  # with the complete previous document, for undo
    "policy-restored",  # an undo of a policy-replaced entry
    "job-started",  # training, tuning, labeling
    "choice",  # a wizard choice worth resuming (bucket, prefix, labels ...)
}


def default_path() -> Path:
    override = os.environ.get("SAGEWIZ_STATE_DIR")
    if override:
        return Path(override) / "journal.jsonl"
    from platformdirs import user_state_path

    return user_state_path("sagewiz", appauthor=False) / "journal.jsonl"


@dataclass(frozen=True)
class JournalEntry:
    kind: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    session: str | None = None
    account: str | None = None
    region: str | None = None
    sandbox: bool = False

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

    def append(self, kind: str, **data: Any) -> JournalEntry:
        if kind not in ENTRY_KINDS:
            raise ValueError(f"unknown journal entry kind {kind!r}")
        _refuse_secrets(data)
        entry = JournalEntry(
            kind=kind,
            data=data,
            session=self.session_id,
            account=self.account,
            region=self.region,
            sandbox=self.sandbox,
        )
        line = entry.to_json() + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
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
            return ReadResult((), (f"journal {self.path} could not be read: {exc.strerror}",))
        for number, line in enumerate(raw.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line.decode("utf-8"))
                entry = JournalEntry(
                    kind=str(obj["kind"]),
                    data=dict(obj.get("data") or {}),
                    id=str(obj["id"]),
                    at=str(obj["at"]),
                    session=obj.get("session"),
                    account=obj.get("account"),
                    region=obj.get("region"),
                    sandbox=bool(obj.get("sandbox", False)),
                )
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                warnings.append(f"journal line {number} is damaged and was skipped")
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

    def created_resources(self) -> list[JournalEntry]:
        """Resources created and not deleted since, newest first."""
        deleted = {(e.data.get("type"), e.data.get("id")) for e in self.entries("resource-deleted")}
        seen: set[tuple[Any, Any]] = set()
        out = []
        for e in reversed(self.entries("resource-created")):
            key = (e.data.get("type"), e.data.get("id"))
            if key in deleted or key in seen:
                continue
            seen.add(key)
            out.append(e)
        return out

    def last_policy_change(self, target: str | None = None) -> JournalEntry | None:
        """The newest policy replacement not yet undone (optionally for one target)."""
        undone = {e.data.get("undoes") for e in self.entries("policy-restored")}
        for e in reversed(self.entries("policy-replaced")):
            if e.id in undone:
                continue
            if target is None or e.data.get("target") == target:
                return e
        return None

    def jobs(self) -> list[JournalEntry]:
        return self.entries("job-started")

    def last_session(self) -> JournalEntry | None:
        sessions = [e for e in self.entries("session", scope=False) if e.session != self.session_id]
        return sessions[-1] if sessions else None

    def choices(self, session: str | None = None) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for e in self.entries("choice", scope=False):
            if session is None or e.session == session:
                merged.update(e.data)
        return merged


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


def iter_kinds(entries: Iterable[JournalEntry], kind: str) -> Iterator[JournalEntry]:
    return (e for e in entries if e.kind == kind)
