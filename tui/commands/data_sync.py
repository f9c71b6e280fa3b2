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
    from services.sync.plan import quick_plan
    from services.sync.quick_client import QuickUnavailable, quick_bucket_region, quick_target

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        source = parse_source(args.src)
        dest = parse_destination(args.dst)
    except ValidationError as exc:
        _usage(err, exc)
        return EXIT_USAGE
    cache = HashCache.default()

    # The quick path: when nothing changed, one LIST answers it and botocore is never loaded.
    existing = None
    plan = None
    quick = (
        None
        if getattr(args, "sandbox", False)
        else quick_target(args.profile, args.region, args.endpoint_url)
    )
    if quick is not None:
        try:
            plan, existing = quick_plan(quick, source, dest, cache)
            if not plan.nothing_to_do and not args.dry_run:
                region = quick_bucket_region(quick, dest.bucket)
                if region and region != quick.region:
                    raise QuickUnavailable("bucket in another region")  # the full path says so properly
        except QuickUnavailable:
            plan, existing = None, None
        except ValidationError as exc:
            _usage(err, exc)
            return EXIT_USAGE
        if plan is not None and plan.nothing_to_do:
            cache.save()
            if args.dry_run:
                print(plan.render_text(), file=out)
            else:
                _summary_nothing(out, plan)
            return EXIT_OK

    from services.sync.engine import run_sync
    from services.sync.plan import plan_sync
    from services.sync.preflight import check_destination
    from tui.commands.common import connect_from_args

    if plan is not None and quick is not None:
        # The quick listing worked: the bucket exists and answers in this region. Upload without
        # loading botocore; who we are is only looked up if AWS refuses something.
        from services.session import AwsTarget, SessionFactory

        factory = SessionFactory(AwsTarget.from_env(args.profile, args.region, args.endpoint_url))
        ctx = None
        if args.dry_run:
            print(plan.render_text(), file=out)
            return EXIT_OK
    else:
        quick = None
        try:
            ctx = connect_from_args(args)
            factory = ctx.factory
            # As in the Data step and `apply`: every call names the account as the bucket's owner.
            account = ctx.identity.account
            check_destination(factory, dest, account)
            plan = plan_sync(factory, source, dest, cache=cache, existing=existing, account=account)
        except (ValidationError, ConnectError, NotFoundError) as exc:
            _usage(err, exc)
            return EXIT_USAGE
        except AccessDeniedError as exc:
            _denied(err, exc.details.get("denied"), exc)
            return EXIT_FAIL
        except SagewizError as exc:
            print(f"sagewiz: {exc.title}: {exc.message}", file=err)
            return EXIT_FAIL
        if args.dry_run:
            print(plan.render_text(), file=out)
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
                account=ctx.identity.account if ctx else None,
                principal_arn=ctx.identity.arn if ctx else None,
                cache=cache,
                quick=quick,
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
            if not cancel.is_set():
                cancel.set()
                print("\nsagewiz: cancelling; letting the files in flight finish…", file=err)
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
    if result.failed:
        print(
            f"sagewiz: {len(result.failed)} file(s) failed; run the same command again to retry them.",
            file=err,
        )
        return EXIT_FAIL
    if result.cancelled:
        print("sagewiz: cancelled; run the same command again to copy the rest.", file=err)
        return 130
    return EXIT_OK


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

    rate = result.bytes_copied / result.elapsed if result.elapsed > 0 else 0.0
    print(
        f"copied {result.copied} file(s), {human_bytes(result.bytes_copied)} in {result.elapsed:.1f} s"
        f" ({human_bytes(rate)}/s)",
        file=out,
    )
    print(f"skipped {result.skipped} unchanged file(s)", file=out)
    for p in result.plan.problems:
        print(f"failed {p.rel}: {p.reason}", file=out)
    for f in result.failed:
        print(f"failed {f.rel}: {f.reason}", file=out)
    if result.resumed_parts:
        print(f"resumed {result.resumed_parts} part(s) left by an interrupted run", file=out)
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
