"""The Connect step: who sagewiz acts as, in which account and region, and whether that is the
sandbox (`inspect`), for the wizard's Connect screen and every subcommand.

Connect has no `plan` and no `apply`: connecting reads (sts:GetCallerIdentity) and changes nothing
in AWS. `record` puts what it found into the session's state. The credential chain, the region
checks and the errors for people are in `services/session.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.sandbox.world import SandboxWorld
from services.session import AwsTarget, Identity, SessionFactory, connect
from services.state import WizardState


@dataclass(frozen=True)
class ConnectChoices:
    target: AwsTarget  # profile, region, endpoint
    sandbox: bool = False  # the embedded AWS: started (or resumed) when the target names no endpoint
    fresh: bool = False  # with the sandbox: seed a new world rather than resume the kept one
    world: SandboxWorld | None = None  # the sandbox world already running, when reconnecting to it


@dataclass(frozen=True)
class Connection:
    factory: SessionFactory
    identity: Identity
    world: SandboxWorld | None


def inspect(choices: ConnectChoices) -> Connection:
    """Connect and ask who this is. Raises ConnectError (a person's error) when it cannot."""
    world, target = choices.world, choices.target
    if choices.sandbox and target.endpoint_url is None:
        from services.sandbox.persist import connect_world

        world = connect_world(fresh=choices.fresh)
        target = world.target()
    factory = SessionFactory(target)
    return Connection(factory, connect(factory), world)


def record(state: WizardState, identity: Identity) -> None:
    """Every later step plans for this account, region and caller."""
    state.update(
        region=identity.region,
        account=identity.account,
        caller_arn=identity.arn,
        sandbox=identity.sandbox,
    )
