"""What a user can do next, as a value each front end renders in its own words.

A service that knows the way out of a situation (give the missing bucket, undo the last policy
change, ask the account's administrator) returns a `Remedy`; it never writes a key hint such as
"(u)" into a sentence, because the same text would then reach the command line, where no key
works. The TUI renders a remedy as its key, the command line as the command to type, plain mode
as a sentence.
"""

from __future__ import annotations

import shlex
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
    OPEN_DOCTOR = "open-doctor"  # AWS refused a call: the doctor says which policy and how to fix it
    RETRY = "retry"  # the cause is fixed outside sagewiz (a new sign-in): try the same thing again
    REFRESH_NOTEBOOKS = "refresh-notebooks"  # the notebook instance changed under us
    STOP_NOTEBOOK_FIRST = "stop-notebook-first"  # only a stopped notebook instance can be deleted
    START_NOTEBOOK = "start-notebook"  # only a running notebook instance can be opened
    RESTART_OR_DELETE_NOTEBOOK = "restart-or-delete-notebook"  # it failed for a reason shown above
    STOP_TUNING_JOB = "stop-tuning-job"  # how a started tuning job is undone


@dataclass(frozen=True)
class Remedy:
    """One way forward. `target` names what it concerns (the document an undo restores);
    `restores` says whether an undo brings back a previous
    document (True) or deletes one that did not exist before (False)."""

    kind: RemedyKind
    target: str = ""
    restores: bool = True
    path: str = ""  # a file the way out reads (the refused call's error a command kept for the doctor)

    def render(self, face: Face) -> str:
        """A clause (no capital, no full stop) that reads after "…, or" or on its own."""
        return _RENDERERS[self.kind](self, face)


@dataclass(frozen=True)
class Advice:
    """What to do, when it is not carried by an error: `lead` then `remedy`, as `advice` joins them."""

    lead: str = ""
    remedy: Remedy | None = None

    def render(self, face: Face) -> str:
        return advice(self.lead, self.remedy, face)


def advice(lead: str, remedy: Remedy | None, face: Face) -> str:
    """What to do, as one sentence: `lead` (text that holds no key, ending with its own connector
    such as "…, or" when a remedy follows) then the remedy in the face's words."""
    if remedy is None:
        return lead
    clause = remedy.render(face)
    if lead:
        return f"{lead} {clause}."
    return f"{clause[:1].upper()}{clause[1:]}."


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


def _open_doctor(r: Remedy, face: Face) -> str:
    why = "to see which policy denies it and how to fix it"
    if face is Face.TUI:
        return f"open the permissions doctor (d) {why}"
    if face is Face.CLI:
        if r.path:  # the command kept the error in this file
            return f"run `sagewiz doctor --error-file {shlex.quote(r.path)}` {why}"
        return f"save the error in a file and run `sagewiz doctor --error-file FILE` {why}"
    return (
        f"run the permissions doctor (`sagewiz doctor --error-file FILE`, with the error saved in FILE) {why}"
    )


def _retry(_: Remedy, face: Face) -> str:
    if face is Face.TUI:
        return "press r to retry"
    if face is Face.CLI:
        return "run the same command again"
    return "start sagewiz again"


def _aws(verb: str, name: str) -> str:
    named = f" --notebook-instance-name {name}" if name else ""
    return f"`aws sagemaker {verb}-notebook-instance{named}`"


def _refresh_notebooks(_: Remedy, face: Face) -> str:
    if face is Face.TUI:
        return "refresh the list (r)"
    if face is Face.CLI:
        return "list the notebook instances again with `aws sagemaker list-notebook-instances`"
    return "look at the notebook instances again"


def _stop_notebook_first(r: Remedy, face: Face) -> str:
    rest = "wait until the status is Stopped, then delete it"
    if face is Face.TUI:
        return f"stop it (s), {rest}"
    if face is Face.CLI:
        return f"stop it with {_aws('stop', r.target)}, {rest}"
    return f"stop it, {rest}"


def _start_notebook(r: Remedy, face: Face) -> str:
    rest = "wait until it is InService"
    if face is Face.TUI:
        return f"start it (t) and {rest}"
    if face is Face.CLI:
        return f"start it with {_aws('start', r.target)} and {rest}"
    return f"start it and {rest}"


def _restart_or_delete_notebook(r: Remedy, face: Face) -> str:
    lead = "read the reason above; fix it, then"
    if face is Face.TUI:
        return f"{lead} start the instance again (t) or delete it"
    if face is Face.CLI:
        return f"{lead} start the instance again with {_aws('start', r.target)} or delete it"
    return f"{lead} start the instance again or delete it"


def _stop_tuning_job(r: Remedy, face: Face) -> str:
    stays = "finished child jobs stay, as in AWS"
    if face is Face.TUI:
        return f"stop it from the dashboard (s); {stays}"
    if face is Face.CLI:
        named = f" --hyper-parameter-tuning-job-name {r.target}" if r.target else ""
        return f"stop it with `aws sagemaker stop-hyper-parameter-tuning-job{named}`; {stays}"
    return f"stop it from the Tune step's dashboard; {stays}"


_RENDERERS: dict[RemedyKind, Callable[[Remedy, Face], str]] = {
    RemedyKind.GIVE_PRINCIPAL: _give_principal,
    RemedyKind.GIVE_ACTION: _give_action,
    RemedyKind.GIVE_BUCKET: _give_bucket,
    RemedyKind.UNDO_CHANGE: _undo_change,
    RemedyKind.SEND_TO_ADMIN: _send_to_admin,
    RemedyKind.OPEN_DOCTOR: _open_doctor,
    RemedyKind.RETRY: _retry,
    RemedyKind.REFRESH_NOTEBOOKS: _refresh_notebooks,
    RemedyKind.STOP_NOTEBOOK_FIRST: _stop_notebook_first,
    RemedyKind.START_NOTEBOOK: _start_notebook,
    RemedyKind.RESTART_OR_DELETE_NOTEBOOK: _restart_or_delete_notebook,
    RemedyKind.STOP_TUNING_JOB: _stop_tuning_job,
}
