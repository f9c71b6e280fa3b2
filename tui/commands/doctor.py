"""`sagewiz doctor`: diagnose an AccessDenied / "access is forbidden" error.

Text by default, `--json` for the one JSON object of the README's `--json` contract. Exit codes: 0 nothing
blocks the access (verdict allowed), 1 a blocking cause was found (verdict denied), 2 bad usage
or a diagnosis that cannot be made from the input (verdict unknown; one line on stderr).
No textual import here.
"""

from __future__ import annotations

import argparse
import json
import sys

from services.doctor.engine import precheck
from services.doctor.job import JobDiagnosis
from services.doctor.model import Diagnosis, DoctorRequest
from services.doctor.report import render_text, to_json
from services.remedy import Face

EXIT_OK, EXIT_BLOCKED, EXIT_USAGE = 0, 1, 2


def _usage(message: str) -> int:
    from services.terminal_text import safe_line

    print(f"sagewiz doctor: {safe_line(message, 400)}", file=sys.stderr)
    return EXIT_USAGE


def _read_error(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(text, problem). A file (only a regular one) or stdin is read whole, in chunks, keeping only
    the part that can hold its last AWS error, so a long log costs no more memory than a short
    one; bytes that are not UTF-8 are replaced, not fatal."""
    from services.bounded_read import open_regular_file
    from services.doctor.error_window import last_error_text, last_error_window
    from services.errors import ValidationError

    if args.error and args.error_file:
        return None, "give --error or --error-file, not both"
    if args.error_file:
        if args.error_file == "-":
            return last_error_window(sys.stdin.buffer), None
        try:
            with open_regular_file(args.error_file, "--error-file") as fh:
                return last_error_window(fh), None
        except ValidationError as exc:
            return None, f"--error-file: {exc.message}"
    return last_error_text(args.error or ""), None


# The longest value each flag can hold in AWS (an ARN, an S3 key); anything longer is a mistake.
FLAG_LIMITS = {"principal": 2048, "bucket": 255, "key": 1024, "action": 256}


def _emit(d: Diagnosis, as_json: bool) -> int:
    from services.terminal_text import safe

    # The report quotes the error text and the flags: outside text, escaped before it reaches the terminal.
    print(safe(to_json(d) if as_json else render_text(d)))
    if d.verdict == "allowed":
        return EXIT_OK
    if d.verdict == "denied":
        return EXIT_BLOCKED
    why = d.needs[0].render(Face.CLI) if d.needs else d.headline
    print(f"sagewiz doctor: cannot diagnose: {why}", file=sys.stderr)
    return EXIT_USAGE


def _emit_job(jd: JobDiagnosis, as_json: bool) -> int:
    from services.terminal_text import safe

    print(safe(json.dumps(jd.to_json(), indent=2) if as_json else render_job_text(jd)))
    if jd.nothing_to_diagnose or jd.diagnosis.verdict == "allowed":
        return EXIT_OK
    return EXIT_BLOCKED  # the job failed: said, with the cause when one was found


def render_job_text(jd: JobDiagnosis) -> str:
    lines = ["sagewiz doctor: the job's facts (read from SageMaker)"]
    lines += [f"  {line}" for line in jd.facts.lines()]
    if jd.nothing_to_diagnose:
        return "\n".join([*lines, "", f"sagewiz doctor: NOTHING TO DIAGNOSE\n  {jd.diagnosis.headline}"])
    if jd.explanation is not None:
        lines += ["", f"What happened: {jd.explanation.summary}"]
        if not jd.explanation.doctor:  # else the diagnosis below is the next thing to read
            lines.append(f"Next: {jd.explanation.next_action}")
    return "\n".join([*lines, "", render_text(jd.diagnosis)])


def _run_job(args: argparse.Namespace) -> int:
    from services.errors import NotFoundError, ValidationError
    from services.flow import doctor
    from services.journal import Journal
    from tui.commands.common import connect_from_args
    from tui.commands.export_apply import flow_context

    name = args.job if args.job is not None else args.notebook
    if args.job is not None and args.notebook is not None:
        return _usage("give --job or --notebook, not both")
    if args.error or args.error_file:
        return _usage(
            f"--{'job' if args.job is not None else 'notebook'} reads the FailureReason itself: leave out --error/--error-file"
        )
    from services.doctor.job import Subject, check_name

    try:
        check_name(Subject.NOTEBOOK if args.notebook is not None else None, name)
    except ValidationError as exc:
        return _usage(exc.message)
    ctx = connect_from_args(args)  # ConnectError -> exit 2 by the CLI's guard
    try:
        jd = doctor.inspect_job(flow_context(ctx, Journal()), name, notebook=args.notebook is not None)
    except (NotFoundError, ValidationError) as exc:  # no such job, or a name two kinds hold
        return _usage(f"{exc.message} {exc.hint}".strip())
    return _emit_job(jd, args.json)


def run(args: argparse.Namespace) -> int:
    from services.terminal_text import echo

    if getattr(args, "job", None) is not None or getattr(args, "notebook", None) is not None:
        return _run_job(args)

    for flag, limit in FLAG_LIMITS.items():
        value = getattr(args, flag)
        if value is not None and len(value) > limit:
            return _usage(
                f"--{flag} {echo(value)} is longer than any AWS {flag} ({limit} characters at most)"
            )
    text, problem = _read_error(args)
    if problem:
        return _usage(problem)
    if not (text or "").strip() and not (args.principal or args.bucket or args.action):
        return _usage("give the error text (--error TEXT or --error-file F) or --principal/--bucket/--action")
    default_principal = default_bucket_name = None
    if args.sandbox:
        # The seeded world's execution role and bucket (constants of the seed: no boot needed yet).
        from services.sandbox.seed import ROLE_NAME, ROLE_PATH, default_bucket
        from services.sandbox.world import SANDBOX_ACCOUNT

        default_principal = f"arn:aws:iam::{SANDBOX_ACCOUNT}:role{ROLE_PATH}{ROLE_NAME}"
        default_bucket_name = default_bucket()
    req = DoctorRequest(
        error_text=text or "",
        principal=args.principal,
        bucket=args.bucket,
        key=args.key,
        action=args.action,
        default_principal=default_principal,
        default_bucket=default_bucket_name,
    )
    early = precheck(req)
    if early is not None:  # decided or refused before any AWS call
        return _emit(early, args.json)

    from services.flow import doctor
    from services.journal import Journal
    from services.state import WizardState
    from tui.commands.common import connect_from_args
    from tui.commands.export_apply import flow_context

    ctx = connect_from_args(args)  # ConnectError -> exit 2 by the CLI's guard
    d = doctor.inspect(flow_context(ctx, Journal()), WizardState(), doctor.DoctorChoices(req))
    return _emit(d, args.json)
