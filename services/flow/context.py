"""What every step needs to read or change AWS: the connection and where it points."""

from __future__ import annotations

from dataclasses import dataclass

from services.journal import Journal
from services.sandbox.world import SandboxWorld
from services.session import SessionFactory


@dataclass(frozen=True)
class FlowContext:
    factory: SessionFactory
    account: str
    region: str
    journal: Journal
    caller_arn: str = ""
    sandbox: bool = False
    world: SandboxWorld | None = None  # the embedded AWS's seeded world, when connected to it

    def where(self) -> str:
        """The place a change goes, as confirmations name it."""
        sandbox = " (SANDBOX)" if self.sandbox else ""
        return f"account {self.account} in {self.region}{sandbox}, acting as {self.caller_arn}"
