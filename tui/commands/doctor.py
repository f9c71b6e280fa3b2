"""`sagewiz doctor`: diagnose an AccessDenied / "access is forbidden" error.

Text by default, `--json` for the one JSON object of the README's `--json` contract. Exit codes: 0 nothing
blocks the access (verdict allowed), 1 a blocking cause was found (verdict denied), 2 bad usage
or a diagnosis that cannot be made from the input (verdict unknown; one line on stderr).

With `--fix`, the recommended fix goes through the Doctor step's plan (services.flow.doctor: the
same plan, backups and re-check as the Doctor screen): the plan is printed, confirmed (a terminal
answer or `--yes`; `--dry-run` stops after printing it), applied, and the request diagnosed again
and retried live when sagewiz can sign as the principal. Exit codes: 0 the access is allowed after
the fix (or was already), 1 still refused, the fix failed or was declined (or, with --dry-run, the
plan was printed and nothing changed), 2 bad usage, no terminal to ask and no --yes, or nothing
sagewiz can apply (a fix only an administrator or another account can make). With --json, one
object: result, message, before, plan, applied, after, probe (see README).
No textual import here.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from services.doctor.engine import precheck
from services.doctor.job import JobDiagnosis
from services.doctor.model import Diagnosis, DoctorRequest
from services.doctor.report import render_text, to_json
from services.remedy import Face

if TYPE_CHECKING:
    from services.flow.context import FlowContext
    from services.flow.doctor import DoctorPlan, FixOutcome
    from services.plan import Plan

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
    journal = Journal()
    journal.bind(ctx.identity.account, ctx.identity.region, bool(ctx.identity.sandbox))
    fctx = flow_context(ctx, journal)
    try:
        jd = doctor.inspect_job(fctx, name, notebook=args.notebook is not None)
    except (NotFoundError, ValidationError) as exc:  # no such job, or a name two kinds hold
        return _usage(f"{exc.message} {exc.hint}".strip())
    if args.fix and not jd.nothing_to_diagnose:
        # The job's refused request, diagnosed with its role: the same plan, confirm and re-check.
        return _fix(jd.diagnosis, args, lambda: fctx)
    return _emit_job(jd, args.json)


def run(args: argparse.Namespace) -> int:
    from services.terminal_text import echo

    if (args.yes or args.dry_run) and not args.fix:
        return _usage("--yes and --dry-run go with --fix")
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
        return _fix(early, args, _connect(args)) if args.fix else _emit(early, args.json)

    from services.flow import doctor
    from services.state import WizardState

    fctx = _connect(args)()  # ConnectError -> exit 2 by the CLI's guard
    d = doctor.inspect(fctx, WizardState(), doctor.DoctorChoices(req))
    return _fix(d, args, lambda: fctx) if args.fix else _emit(d, args.json)


def _connect(args: argparse.Namespace) -> Callable[[], FlowContext]:
    """Connect when called (an early diagnosis may need no connection at all); the journal is
    bound to the account and region, so the wizard's undo finds the backups."""

    def connect() -> FlowContext:
        from services.journal import Journal
        from tui.commands.common import connect_from_args
        from tui.commands.export_apply import flow_context

        ctx = connect_from_args(args)
        journal = Journal()
        journal.bind(ctx.identity.account, ctx.identity.region, bool(ctx.identity.sandbox))
        return flow_context(ctx, journal)

    return connect


# -- --fix ------------------------------------------------------------------------------------------
def _fix(d: Diagnosis, args: argparse.Namespace, connect: Callable[[], FlowContext]) -> int:
    """Plan the recommended fix, confirm, apply, re-check and probe; see the module's exit codes."""
    from services.flow import doctor
    from services.state import WizardState

    report = _FixReport(d, args.json)
    if d.verdict == "allowed":
        return report.done("already-allowed", "Nothing blocks the access: there is nothing to fix.", EXIT_OK)
    if d.verdict == "unknown":
        why = d.needs[0].render(Face.CLI) if d.needs else d.headline
        return report.done(
            "not-applicable", f"cannot diagnose, so there is nothing to fix: {why}", EXIT_USAGE
        )
    plan = doctor.decide(d, Face.CLI)
    if plan.requests is None or plan.fix is None:
        return report.done("not-applicable", _not_appliable(d, plan), EXIT_USAGE)
    report.plan = plan.requests
    ctx = connect()
    foreign = doctor.foreign_targets(ctx, plan)
    if foreign:
        return report.done(
            "not-applicable",
            f"the fix changes {'; '.join(foreign)}, outside account {ctx.account}; only that account can apply "
            "it: nothing was changed (send the report to its administrator)",
            EXIT_USAGE,
        )
    report.show_plan(ctx.where())
    if args.dry_run:
        return report.done(
            "dry-run", "dry run: nothing was changed; the access is still refused", EXIT_BLOCKED
        )
    if not args.yes:
        if not sys.stdin.isatty():
            return report.done(
                "not-confirmed",
                "not applied: there is no terminal to ask; pass --yes to apply the plan above "
                "(or --dry-run to only print it)",
                EXIT_USAGE,
            )
        if not _ask(f"Apply this change to {ctx.where()}? [y/N] "):
            return report.done("declined", "declined: nothing was changed", EXIT_BLOCKED)
    try:
        outcome = doctor.fix_and_recheck(ctx, WizardState(), plan)
    except Exception as exc:
        from services.errors import SagewizError, translate

        err = exc if isinstance(exc, SagewizError) else translate(exc, "apply the fix")
        return report.done(
            "failed",
            f"the fix failed: {err.title}: {err.message} (the journal tells what was applied; "
            "`sagewiz` Doctor's undo restores a replaced document)",
            EXIT_BLOCKED,
        )
    report.outcome = outcome
    if outcome.allowed:
        return report.done("allowed", "the access is allowed after the fix", EXIT_OK)
    return report.done("refused", "the access is still refused after the fix", EXIT_BLOCKED)


def _not_appliable(d: Diagnosis, plan: DoctorPlan) -> str:
    finding = d.first_blocking
    fix = plan.fix or (finding.fix if finding is not None else None)
    if fix is not None and fix.request_changes and not fix.applicable:
        return f"nothing in AWS to change: the request itself must change: {fix.description}"
    if fix is not None and fix.admin_only:
        return f"no fix sagewiz can apply: {fix.description}"
    return f"no fix sagewiz can apply: {d.headline}"


def _ask(prompt: str) -> bool:
    print(prompt, end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() in {"y", "yes"}


class _FixReport:
    """What `--fix` prints: text as it goes (the diagnosis, the plan, the outcome), or one JSON
    object at the end."""

    def __init__(self, before: Diagnosis, as_json: bool) -> None:
        from services.terminal_text import safe

        self.before, self.as_json = before, as_json
        self.plan: Plan | None = None
        self.outcome: FixOutcome | None = None
        if not as_json:
            print(safe(render_text(before)))

    def show_plan(self, where: str) -> None:
        from services.terminal_text import safe

        if not self.as_json and self.plan is not None:
            print(safe(f"\nThe fix, for {where}:\n{self.plan.render_text()}"), flush=True)

    def done(self, result: str, message: str, code: int) -> int:
        import json

        from services.terminal_text import safe, safe_line

        o = self.outcome
        if self.as_json:
            obj: dict[str, Any] = {
                "result": result,
                "message": message,
                "before": self.before.to_json(),
                "plan": _plan_json(self.plan) if self.plan is not None else None,
                "applied": list(o.applied) if o else [],
                "after": o.after.to_json() if o else None,
                "probe": (
                    {"ran": o.probe.ran, "allowed": o.probe.allowed, "message": o.probe.message}
                    if o and o.probe
                    else None
                ),
            }
            print(safe(json.dumps(obj, indent=2, default=str)))
            return code
        if o is not None:
            for title in o.applied:
                print(safe_line(f"applied: {title} (the old document is saved in the journal)"))
            print(safe_line(f"after: {o.after.verdict.upper()}  {o.after.headline}"))
            if o.probe is not None:
                print(safe_line(f"live check as the principal: {o.probe.message}"))
            else:
                print("live check: not possible here (sagewiz cannot sign as this principal); "
                      "the verdict is from the policies read back")  # fmt: skip
        stream = sys.stdout if code == EXIT_OK else sys.stderr
        print(f"sagewiz doctor: {safe_line(message, 2000)}", file=stream)
        return code


def _plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "title": plan.title,
        "actions": [
            {
                "call": a.api_call(),
                "description": a.description,
                "resource": a.resource,
                "params": a.params,
                "diff": a.diff,
                "undo": a.undo_text(Face.CLI),
            }
            for a in plan.actions
        ],
        "warnings": list(plan.warnings),
    }
