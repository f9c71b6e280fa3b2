"""What every subcommand needs: a connected session factory from the common flags."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

from services.session import AwsTarget, Identity, SessionFactory


@dataclass
class CommandContext:
    factory: SessionFactory
    identity: Identity
    world: Any = None  # the SandboxWorld with --sandbox


def connect_from_args(args: argparse.Namespace) -> CommandContext:
    """Raises services.errors.ConnectError (exit 2) when the connection cannot be made."""
    from services.flow import connect

    sandbox = bool(getattr(args, "sandbox", False))
    target = (
        AwsTarget(sandbox=True)
        if sandbox
        else AwsTarget.from_env(args.profile, args.region, args.endpoint_url)
    )
    choices = connect.ConnectChoices(target, sandbox, fresh=bool(getattr(args, "fresh", False)))
    found = connect.inspect(choices)
    return CommandContext(found.factory, found.identity, found.world)


def is_tty() -> bool:
    return sys.stdout.isatty()
