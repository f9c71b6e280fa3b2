"""`sagewiz export FILE` and `sagewiz apply FILE [--dry-run] [--yes]`.

`apply` loads the file into the session's choices and walks the steps headless with
`services.flow.walk.Walk` (the same plans as the screens and `--plain`); this module only connects,
prints and confirms. It must not import textual.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from services.errors import ValidationError
from services.flow import connect
from services.flow.context import FlowContext
from services.flow.outcome import Status, StepOutcome, summary_line
from services.flow.walk import Confirm
from services.journal import Journal
from services.journal_events import SessionStarted
from services.state import WizardState
from services.terminal_text import safe, safe_line
from tui.commands.common import CommandContext

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def flow_context(ctx: CommandContext, journal: Journal) -> FlowContext:
    """The flow's context for a connection made by `tui.commands.common.connect_from_args`."""
    ident = ctx.identity
    return FlowContext(
        factory=ctx.factory,
        account=str(ident.account),
        region=str(ident.region),
        journal=journal,
        caller_arn=str(ident.arn),
        sandbox=bool(ident.sandbox),
        world=ctx.world,
    )


def exit_code(outcomes: list[StepOutcome]) -> int:
    if any(o.status is Status.FAILED for o in outcomes):
        return EXIT_FAIL
    return EXIT_OK


# -- the commands --------------------------------------------------------------------------------
def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    if args.command == "export":
        return run_export(args, out, err)
    return run_apply(args, out, err)


def run_export(args: argparse.Namespace, out: TextIO, err: TextIO, journal: Journal | None = None) -> int:
    """Write the newest session's choices (from the journal) as TOML; no AWS call."""
    from services.config_file import export
    from services.errors import LocalFileError
    from services.resume import latest_state

    if not str(args.file).strip():
        raise ValidationError(
            "file", "the file name is empty", "Give a file name: sagewiz export sagewiz.toml"
        )
    journal = journal or Journal()
    read = journal.read()
    if read.unreadable:
        raise LocalFileError(
            "The journal cannot be read",
            read.unreadable,
            "Move that path out of the way or fix its permissions; sagewiz writes a new journal there.",
        )
    for warning in read.warnings[:5]:
        print(f"sagewiz: warning: {safe_line(warning, 300)}", file=err)
    if len(read.warnings) > 5:
        print(f"sagewiz: warning: {len(read.warnings) - 5} more damaged journal lines were skipped", file=err)
    found = latest_state(journal, sandbox=True if getattr(args, "sandbox", False) else None)
    if found is None:
        print(
            "sagewiz: the journal has no session with choices to export yet; run the wizard first.", file=err
        )
        return EXIT_USAGE
    state, at = found
    written = export(state, Path(args.file), note=f"from the session of {at[:16].replace('T', ' ')} UTC")
    for item in written.left_out:
        print(f"sagewiz: warning: left out {safe_line(item, 300)}", file=err)
    path = written.path
    where = f"{state.account} · {state.region}" + (" (sandbox)" if state.sandbox else "")
    print(
        f"Wrote {safe_line(str(path), 300)}: the choices of the session of {at[:16].replace('T', ' ')} UTC ({where}).",
        file=out,
    )
    print(f"Replay it with: sagewiz apply {shlex.quote(str(path))} --dry-run", file=out)
    return EXIT_OK


def run_apply(
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
    *,
    confirm: Confirm | None = None,
    journal: Journal | None = None,
) -> int:
    from services.config_file import load
    from services.flow.walk import Walk
    from tui.commands.common import connect_from_args

    cfg = load(args.file)  # a ConfigError (exit 2) names the key and the line, before any AWS call
    if not (args.dry_run or args.yes) and confirm is None:
        if not (sys.stdin.isatty() and out.isatty()):
            print(
                "sagewiz: apply changes AWS without asking; add --yes to go ahead, or --dry-run to see the plans.",
                file=err,
            )
            return EXIT_USAGE
        confirm = _tty_confirm(out)
    ctx = connect_from_args(args)
    ident = ctx.identity
    if cfg.region and cfg.region != ident.region:
        raise ValidationError(
            "region",
            f"{args.file} is for {cfg.region}, but the connection is to {ident.region}",
            f"Add --region {cfg.region}.",
        )
    if cfg.account and cfg.account != ident.account and not ident.sandbox:
        raise ValidationError(
            "account", f"{args.file} is for account {cfg.account}, but the credentials are for {ident.account}",
            "Use a profile for that account, or remove `account` from the file.",
        )  # fmt: skip
    journal = journal or Journal()
    journal.bind(ident.account, ident.region, ident.sandbox)
    if not args.dry_run:
        journal.append(
            SessionStarted(caller=ident.arn, endpoint=ident.endpoint, sandbox=ident.sandbox, mode="apply")
        )
    state = cfg.to_state(WizardState())
    connect.record(state, ident)  # the connection, not the file, says where and as whom
    fctx = flow_context(ctx, journal)
    walk = Walk(fctx, state, confirm or (lambda _t, _p: True), _printer(out), args.dry_run)
    print(f"Applying {args.file} to {fctx.where()}" + (" (dry run)" if args.dry_run else ""), file=out)
    outcomes = walk.run()
    print("\n" + summary_line(outcomes), file=out)
    for o in outcomes:
        if o.status is Status.FAILED:
            print(f"sagewiz: {o.step}: {safe_line(o.message, 2000)}", file=err)
    return exit_code(outcomes)


def _tty_confirm(out: TextIO) -> Confirm:
    def ask(title: str, _text: str) -> bool:
        try:
            answer = input(f"{title}: apply? [y/N] ")
        except EOFError:
            return False
        return answer.strip().lower() in {"y", "yes"}

    return ask


def _printer(out: TextIO) -> Callable[[str], None]:
    def say(text: str) -> None:
        print(safe(text), file=out, flush=True)  # plans quote S3 keys, names and AWS's words

    return say
