"""`sagewiz data sync SRC DST [--dry-run]`: the Data step's engine for scripts.

A single progress line on a terminal, plain summary lines when piped. Exit 0 when everything is
copied or unchanged, 1 when files failed (listed), 2 for bad usage or configuration.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import threading
from typing import Any, TextIO

from services.remedy import Face

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from services.errors import AccessDeniedError, ConnectError, NotFoundError, SagewizError, ValidationError
    from services.sync.hash_cache import HashCache
    from services.sync.locations import parse_destination, parse_source

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        source = parse_source(args.src)
        dest = parse_destination(args.dst)
    except ValidationError as exc:
        _usage(err, exc)
        return EXIT_USAGE
    cache = HashCache.default()

    from services.sync.engine import run_sync
    from services.sync.plan import plan_sync
    from services.sync.preflight import check_destination
    from tui.commands.common import connect_from_args

    # One path for every run, through botocore: the region, the credentials and the bucket are
    # checked (and the caller named) before anything is listed or sent.
    try:
        ctx = connect_from_args(args)
        factory = ctx.factory
        # As in the Data step and `apply`: every call names the account as the bucket's owner.
        account = ctx.identity.account
        check_destination(factory, dest, account)
        plan = plan_sync(factory, source, dest, cache=cache, account=account)
    except (ValidationError, ConnectError, NotFoundError) as exc:
        _usage(err, exc)
        return EXIT_USAGE
    except AccessDeniedError as exc:
        _denied(err, exc.details.get("denied"), exc)
        return EXIT_FAIL
    except SagewizError as exc:
        print(f"sagewiz: {exc.title}: {exc.message}", file=err)
        if exc.hint:
            print(f"  what to do: {exc.hint}", file=err)
        return EXIT_FAIL
    if args.dry_run:
        print(plan.render_text(), file=out)
        return EXIT_OK
    if plan.nothing_to_do:
        cache.save()
        _summary_nothing(out, plan)
        return EXIT_OK

    tty = out.isatty()
    printer = _ProgressLine(out) if tty else None
    cancel = threading.Event()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = run_sync(
                factory,
                plan,
                on_progress=printer.update if printer else None,
                cancel=cancel,
                account=account,
                principal_arn=ctx.identity.arn,
                cache=cache,
            )
        except BaseException as exc:  # reported below, never as a traceback
            box["error"] = exc
        finally:
            done.set()

    # An Event, not Thread.join: a Ctrl-C that interrupts join() can leave the thread looking finished.
    done = threading.Event()
    worker = threading.Thread(target=work, name="sagewiz-data-sync", daemon=True)
    worker.start()
    while not done.is_set():
        try:
            done.wait(0.05)
        except KeyboardInterrupt:
            if printer:
                printer.finish()
            if cancel.is_set():
                # The second Ctrl-C: out now. Nothing partial can be left under a final key (a PUT
                # is atomic, a multipart upload invisible until completed); the next run tidies up.
                print("sagewiz: stopped at once.", file=err)
                print(f"  to copy what is missing, run: {again_command(args)}", file=err)
                _exit_now(130, out, err)
            cancel.set()
            print(
                "\nsagewiz: stopping: no new files; those whose bytes are all sent are being finished"
                " (Ctrl-C again to quit at once)",
                file=err,
            )
    if printer:
        printer.finish()
    if "error" in box:
        from services.errors import translate

        e = translate(box["error"])
        print(f"sagewiz: {e.title}: {e.message}", file=err)
        return EXIT_FAIL
    result = box["result"]
    if result.denied is not None and not result.denied.principal_arn:
        result = _with_caller(result, factory)
    _summary(out, result)
    if result.denied is not None:
        _denied(err, result.denied, None)
    code = EXIT_OK
    if result.failed:
        print(
            f"sagewiz: {len(result.failed)} file(s) failed; to retry them, run: {again_command(args)}",
            file=err,
        )
        code = EXIT_FAIL
    if result.not_copied or result.in_flight:
        left = len(result.not_copied) + len(result.in_flight)
        print(
            f"sagewiz: stopped: {result.copied} of {len(result.plan.to_copy)} file(s) copied,"
            f" {left} not copied; to copy the rest, run: {again_command(args)}",
            file=err,
        )
        code = 130 if cancel.is_set() else EXIT_FAIL
    if cancel.is_set():
        # Whatever was in flight is either finished or abandoned: do not wait for s3transfer's threads.
        _exit_now(code, out, err)
    return code


def again_command(args: argparse.Namespace) -> str:
    """The same command, to paste: every value quoted for a POSIX shell."""
    argv = ["sagewiz", "data", "sync", args.src, args.dst]
    if getattr(args, "sandbox", False):
        argv.append("--sandbox")
    for flag, value in (
        ("--profile", args.profile),
        ("--region", args.region),
        ("--endpoint-url", args.endpoint_url),
    ):
        if value:
            argv += [flag, value]
    return shlex.join(argv)


def _exit_now(code: int, out: TextIO, err: TextIO) -> None:
    """Leave without waiting for worker threads still in a request (a Ctrl-C run). Only in a real
    process: a caller that passed its own streams (a test) gets the code back instead."""
    out.flush()
    err.flush()
    if out is sys.stdout and err is sys.stderr:
        import os

        os._exit(code)
    raise SystemExit(code)


def _with_caller(result: Any, factory: Any) -> Any:
    """Name the denied principal: one sts:GetCallerIdentity, only when something was refused."""
    from services.sync.progress import with_principal

    try:
        from services.session import connect

        return with_principal(result, connect(factory).arn)
    except Exception:
        return result


def _usage(err: TextIO, exc: Any) -> None:
    line = f"sagewiz: {exc.title}: {exc.message}" if exc.message else f"sagewiz: {exc.title}"
    print(line, file=err)
    if hint := exc.advice(Face.CLI):
        print(f"  what to do: {hint}", file=err)


def _denied(err: TextIO, denied: Any, exc: Any) -> None:
    if denied is None:
        print(f"sagewiz: {exc.title}: {exc.message}", file=err)
        return
    who = denied.principal_arn or "the caller"
    resource = f"arn:aws:s3:::{denied.bucket}" + (f"/{denied.key}" if denied.key else "")
    print(f"sagewiz: access denied: {who} may not {denied.action} on {resource}", file=err)
    print(f"  to find out why: {doctor_command(denied)}", file=err)


def doctor_command(denied: Any) -> str:
    """The `sagewiz doctor` line to paste, every value quoted for a POSIX shell (an S3 key or a
    bucket name is outside text: a key such as `x'; touch ~/PWNED; echo '` stays one argument)."""
    args = ["sagewiz", "doctor"]
    if denied.principal_arn:
        args += ["--principal", denied.principal_arn]
    args += ["--bucket", denied.bucket]
    if denied.key:
        args += ["--key", denied.key]
    if denied.action:
        args += ["--action", denied.action]
    return shlex.join(args)


def _summary_nothing(out: TextIO, plan: Any) -> None:
    print(f"nothing to copy: {len(plan.skipped)} file(s) already at {plan.dest.uri} and unchanged", file=out)


def _summary(out: TextIO, result: Any) -> None:
    from services.sync import human_bytes
    from services.sync.formatting import shown_name

    rate = result.bytes_copied / result.elapsed if result.elapsed > 0 else 0.0
    print(
        f"copied {result.copied} file(s), {human_bytes(result.bytes_copied)} in {result.elapsed:.1f} s"
        f" ({human_bytes(rate)}/s)",
        file=out,
    )
    print(f"skipped {result.skipped} unchanged file(s)", file=out)
    for p in result.plan.problems:
        print(f"failed {shown_name(p.rel)}: {p.reason}", file=out)
    for f in result.failed:
        print(f"failed {shown_name(f.rel)}: {f.reason}", file=out)
    if result.resumed_uploads:
        print(f"resumed {result.resumed_uploads} multipart upload(s) left by an interrupted run", file=out)
    if result.aborted_uploads:
        print(
            f"aborted {result.aborted_uploads} multipart upload(s) left open by an earlier run,"
            f" reclaiming {human_bytes(result.reclaimed_bytes)}",
            file=out,
        )
    if result.unaborted_uploads:
        print(
            f"could not abort {result.unaborted_uploads} multipart upload(s) left open by an earlier run"
            " (refused); their parts stay stored and billed until a lifecycle rule or someone allowed to"
            " (s3:AbortMultipartUpload) aborts them",
            file=out,
        )
    for rel in result.not_copied[:20]:
        print(f"not copied {shown_name(rel)}", file=out)
    if len(result.not_copied) > 20:
        print(f"not copied: ... and {len(result.not_copied) - 20} more", file=out)
    for rel in result.in_flight:
        print(f"not confirmed {shown_name(rel)} (in flight when stopped; the next run checks it)", file=out)
    print(f"destination: {result.plan.dest.uri}", file=out)


class _ProgressLine:
    """One line, rewritten in place: files, bytes, rate, time left."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lock = threading.Lock()
        self.shown = False

    def update(self, p: Any) -> None:
        from services.durations import clock
        from services.sync import human_bytes

        width = 24
        filled = int(p.fraction * width)
        bar = "#" * filled + "-" * (width - filled)
        line = (
            f"[{bar}] {p.files_done}/{p.files_total} files  {human_bytes(p.bytes_done)}/{human_bytes(p.bytes_total)}"
            f"  {human_bytes(p.rate)}/s  {clock(p.eta)} left"
        )
        if p.failed:
            line += f"  {p.failed} failed"
        with self.lock:
            self.out.write("\r" + line + "\x1b[K")
            self.out.flush()
            self.shown = True

    def finish(self) -> None:
        with self.lock:
            if self.shown:
                self.out.write("\n")
                self.out.flush()
