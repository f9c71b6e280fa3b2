"""`sagewiz status [JOB] [--json]`: a training job's state (or the recent jobs), as read from SageMaker.

Exit codes: 0 the job is fine (running or done), 1 it failed, 2 no such job / bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def run(args: argparse.Namespace) -> int:
    from services.errors import NotFoundError
    from services.job_status import describe, list_recent
    from tui.commands.common import connect_from_args

    ctx = connect_from_args(args)
    region = ctx.factory.region
    sm = ctx.factory.client("sagemaker")
    if not args.job:
        jobs = list_recent(sm)
        if args.json:
            print(json.dumps([{"name": j.name, "status": j.status, "secondary_status": j.secondary or None,
                               "created": j.created.isoformat() if j.created else None} for j in jobs], indent=2))  # fmt: skip
        elif not jobs:
            print(f"No training jobs in {region}.")
        else:
            width = max(len(j.name) for j in jobs)
            for j in jobs:
                created = j.created.strftime("%Y-%m-%d %H:%M:%S") if j.created else ""
                print(f"{j.name:<{width}}  {j.status:<11} {created}")
        return EXIT_OK
    try:
        snap = describe(sm, args.job, region)
    except NotFoundError as exc:
        print(f"sagewiz: {exc.title}: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(snap.to_json(), indent=2))
    else:
        print(render_text(snap))
    return EXIT_FAIL if snap.status == "Failed" else EXIT_OK


def render_text(snap) -> str:  # type: ignore[no-untyped-def]
    lines = [
        f"job:       {snap.name}",
        f"status:    {snap.status} / {snap.secondary}",
        f"resources: {snap.instance_count} x {snap.instance_type}" + (" (managed spot)" if snap.spot else ""),
    ]
    if snap.training_seconds is not None:
        lines.append(f"training:  {snap.training_seconds} s, billable {snap.billable_seconds} s")
    lines.append(f"cost:      {snap.cost_line()}")
    if snap.failure_reason:
        lines.append(f"failure:   {snap.failure_reason}")
    if snap.final_metrics:
        lines.append("metrics:   " + ", ".join(f"{m.name}={m.value:g}" for m in snap.final_metrics))
    if snap.model_artifact:
        lines.append(f"model:     {snap.model_artifact}")
    if snap.transitions:
        lines.append("timeline:")
        for t in snap.transitions:
            start = t.start.strftime("%Y-%m-%d %H:%M:%S") if t.start else ""
            lines.append(f"  {start}  {t.status:<12} {t.message}")
    return "\n".join(lines)
