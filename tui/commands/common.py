"""What every subcommand needs: a connected session factory from the common flags."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

from services.session import AwsTarget, Identity, SessionFactory, connect


@dataclass
class CommandContext:
    factory: SessionFactory
    identity: Identity
    world: Any = None  # the SandboxWorld with --sandbox


def connect_from_args(args: argparse.Namespace) -> CommandContext:
    """Raises services.errors.ConnectError (exit 2) when the connection cannot be made."""
    world = None
    if getattr(args, "sandbox", False):
        from services.sandbox.persist import connect_world

        world = connect_world(fresh=bool(getattr(args, "fresh", False)))
        target = world.target()
    else:
        target = AwsTarget.from_env(args.profile, args.region, args.endpoint_url)
    factory = SessionFactory(target)
    return CommandContext(factory, connect(factory), world)


def is_tty() -> bool:
    return sys.stdout.isatty()
