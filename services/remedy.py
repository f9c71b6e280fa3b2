"""What a user can do next, as a value each front end renders in its own words.

A service that knows the way out of a situation (give the missing bucket, undo the last policy
change, ask the account's administrator) returns a `Remedy`; it never writes a key hint such as
"(u)" into a sentence, because the same text would then reach the command line, where no key
works. The TUI renders a remedy as its key, the command line as the command to type, plain mode
as a sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Face(Enum):
    """The front end a remedy is rendered for."""

    TUI = "tui"  # the wizard's screens: name the key
    CLI = "cli"  # a subcommand (`sagewiz doctor`, `sagewiz apply`): name the flag or command
    PLAIN = "plain"  # `sagewiz --plain` and the written report: a sentence


class RemedyKind(Enum):
    GIVE_PRINCIPAL = "give-principal"  # the doctor cannot tell who made the request
    GIVE_ACTION = "give-action"  # ... nor what was asked
    GIVE_BUCKET = "give-bucket"  # ... nor which bucket
    UNDO_CHANGE = "undo-change"  # a policy change can be reverted exactly from the journal
    SEND_TO_ADMIN = "send-to-admin"  # the fix needs someone who can change the policy


@dataclass(frozen=True)
class Remedy:
    """One way forward. `target` names what it concerns (the document an undo restores);
    `restores` says whether an undo brings back a previous
    document (True) or deletes one that did not exist before (False)."""

    kind: RemedyKind
    target: str = ""
    restores: bool = True

    def render(self, face: Face) -> str:
        return _RENDERERS[self.kind](self, face)


def _give_principal(_: Remedy, face: Face) -> str:
    if face is Face.CLI:
        return "paste the full error or give --principal"
    if face is Face.TUI:
        return "paste the full error or fill in the Principal field"
    return "paste the full error or name the principal's ARN"


def _give_action(_: Remedy, face: Face) -> str:
    full = "paste the full error (with 'when calling the X operation')"
    if face is Face.CLI:
        return f"{full} or give --action"
    if face is Face.TUI:
        return f"{full} or fill in the Action field"
    return f"{full} or name the action (e.g. s3:PutObject)"


def _give_bucket(_: Remedy, face: Face) -> str:
    if face is Face.CLI:
        return "give --bucket"
    if face is Face.TUI:
        return "fill in the Bucket field"
    return "name the bucket"


def _undo_change(r: Remedy, face: Face) -> str:
    effect = (
        f"restores the previous {r.target} exactly"
        if r.restores
        else f"deletes the {r.target} again (there was none)"
    )
    if face is Face.TUI:
        return f"sagewiz undo (u) {effect}"
    if face is Face.CLI:
        return f"`sagewiz`, then Undo on the Permissions step, {effect} (the backup is in the journal)"
    return f"the backup in sagewiz's journal allows an undo that {effect}"


def _send_to_admin(_: Remedy, face: Face) -> str:
    if face is Face.TUI:
        return "needs an administrator: use Send to admin (a)"
    if face is Face.CLI:  # the command prints the whole diagnosis: that output is what to send
        return "needs an administrator"
    return "needs an administrator: send them this report"


_RENDERERS: dict[RemedyKind, Callable[[Remedy, Face], str]] = {
    RemedyKind.GIVE_PRINCIPAL: _give_principal,
    RemedyKind.GIVE_ACTION: _give_action,
    RemedyKind.GIVE_BUCKET: _give_bucket,
    RemedyKind.UNDO_CHANGE: _undo_change,
    RemedyKind.SEND_TO_ADMIN: _send_to_admin,
}
