"""Messages that carry results from workers to the App and screens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from services.errors import ErrorInfo


@dataclass
class Connected(Message):
    identity: Any  # services.session.Identity
    factory: Any  # services.session.SessionFactory
    world: Any = None  # services.sandbox.server.SandboxWorld in the sandbox


@dataclass
class ConnectFailed(Message):
    reason: str
    error: ErrorInfo


@dataclass
class SandboxStarting(Message):
    pass
