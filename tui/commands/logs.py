"""`sagewiz logs JOB [--follow] [--tuning] [--since DURATION]`: a job's CloudWatch log, pipe friendly.

Each line is `<UTC timestamp> <host> <message>`. With --follow it keeps printing until the job
ends (then exits 1 if the job failed, 0 otherwise). --tuning prints the logs of every training
job a tuning job started (their streams share the tuning job's name as prefix).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

from services.terminal_text import echo, safe

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class _Formatter:
    """format_line with the seconds part cached: 200,000 lines must not cost 200,000 strftimes."""

    def __init__(self) -> None:
        self._sec = -1
        self._text = ""

    def __call__(self, ts: int, host: str, message: str) -> str:
        sec = ts // 1000
        if sec != self._sec:
            self._sec = sec
            self._text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        return f"{self._text}.{ts % 1000:03d}Z {host} {message}"


def run(args: argparse.Namespace) -> int:
    from services.errors import ValidationError
    from services.job_kinds import JobKind, check_job_name, kind_of
    from services.job_status import describe, from_describe
    from services.logs import LogFollower, parse_duration
    from tui.commands.common import connect_from_args

    since_ms = None
    if args.since is not None:
        try:
            since_ms = int((time.time() - parse_duration(args.since)) * 1000)
        except ValueError as exc:
            raise ValidationError("--since", str(exc)) from None
    job = args.job
    check_job_name(job)  # before connecting: a bad name is the user's to fix
    ctx = connect_from_args(args)
    region = ctx.factory.region
    sm = ctx.factory.client("sagemaker")
    kind, desc = kind_of(sm, job, region, prefer=JobKind.TUNING if args.tuning else None)
    if kind is JobKind.LABELING:
        raise ValidationError(
            "job",
            f"{echo(job)} is a labeling job; Ground Truth writes no training log for it",
            f"See its progress with: sagewiz status {shlex.quote(job)}",
        )
    if kind is JobKind.TUNING:
        if not args.tuning:
            print(
                f"sagewiz: {echo(job)} is a tuning job: printing every training job's log.", file=sys.stderr
            )
        status_fn = _tuning_status(sm, job)
        first = str(desc.get("HyperParameterTuningJobStatus", ""))
        follower = LogFollower(ctx.factory.client("logs"), job, prefix=f"{job}-", since_ms=since_ms)
    else:
        snap = from_describe(desc, region)
        first = snap.status

        def status_fn() -> str:
            return describe(sm, job, region).status

        follower = LogFollower(
            ctx.factory.client("logs"), job, since_ms=since_ms, expected_streams=snap.instance_count
        )
    fmt = _Formatter()
    out = sys.stdout
    status = first
    try:
        if args.follow and first not in ("Completed", "Failed", "Stopped"):
            batches = follower.follow(status_fn)
        else:
            batches = follower.read_all()
        for batch in batches:
            out.write("\n".join([safe(fmt(ln.timestamp, ln.host, ln.message)) for ln in batch]))
            out.write("\n")
            out.flush()
        if args.follow:
            status = status_fn()
    except BrokenPipeError:  # `| head` closed the pipe: not an error
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    if not follower.cursors:
        print(
            f"sagewiz: no log streams yet for {echo(job)} (the job writes them once its instances start).",
            file=sys.stderr,
        )
    return EXIT_FAIL if status == "Failed" else EXIT_OK


def _tuning_status(sm: object, name: str):  # type: ignore[no-untyped-def]
    from services.errors import translate

    def status() -> str:
        try:
            resp = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)  # type: ignore[attr-defined]
        except Exception as exc:
            raise translate(exc, "DescribeHyperParameterTuningJob") from exc
        return str(resp.get("HyperParameterTuningJobStatus", ""))

    return status
