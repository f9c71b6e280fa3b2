"""`sagewiz status [JOB] [--json]`: a job's state (training, tuning or labeling: the name says which
it is), or the recent jobs of every kind, as read from SageMaker.

Exit codes: 0 the job is fine (running or done), 1 it failed or AWS refused, 2 no such job / bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from services.job_kinds import JobKind, JobRow
from services.terminal_text import safe_line

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
HEADERS = {
    JobKind.TRAINING: "Training jobs",
    JobKind.TUNING: "Tuning jobs",
    JobKind.LABELING: "Labeling jobs",
}


def run(args: argparse.Namespace) -> int:
    from services.job_kinds import check_job_name, kind_of, list_all
    from tui.commands.common import connect_from_args

    if args.job is not None:
        check_job_name(args.job)  # before connecting: a bad name is the user's to fix, exit 2
    ctx = connect_from_args(args)
    region = ctx.factory.region
    sm = ctx.factory.client("sagemaker")
    if args.job is None:
        jobs, notes = list_all(sm)
        if args.json:
            print(json.dumps({k.value: [_row_json(r) for r in rows] for k, rows in jobs.items()}, indent=2))
        else:
            print(render_list(jobs, region))
        for note in notes:
            print(f"sagewiz: {safe_line(note, 400)}", file=sys.stderr)
        return EXIT_FAIL if notes and not jobs else EXIT_OK
    kind, desc = kind_of(sm, args.job, region)
    if kind is JobKind.TRAINING:
        from services.job_status import from_describe

        snap = from_describe(desc, region)
        print(
            json.dumps({"kind": kind.value, **snap.to_json()}, indent=2) if args.json else render_text(snap)
        )
        return EXIT_FAIL if snap.status == "Failed" else EXIT_OK
    facts = _tuning_facts(desc) if kind is JobKind.TUNING else _labeling_facts(desc)
    if args.json:
        print(json.dumps({"kind": kind.value, **facts}, indent=2, default=str))
    else:
        print(render_facts(kind, facts))
    return EXIT_FAIL if facts["status"] == "Failed" else EXIT_OK


def _when(d: datetime | None) -> str:
    return d.strftime("%Y-%m-%d %H:%M:%S") if d else ""


def _row_json(r: JobRow) -> dict[str, Any]:
    return {"name": r.name, "status": r.status, "created": r.created.isoformat() if r.created else None}


def render_list(jobs: dict[JobKind, list[JobRow]], region: str) -> str:
    lines: list[str] = []
    for kind, header in HEADERS.items():
        rows = jobs.get(kind)
        if rows is None:
            continue
        if lines:
            lines.append("")
        lines.append(f"{header} in {region}:")
        if not rows:
            lines.append("  (none)")
            continue
        width = max(len(r.name) for r in rows)
        for r in rows:
            lines.append(
                f"  {safe_line(r.name, 70):<{width}}  {safe_line(r.status, 20):<11} {_when(r.created)}"
            )
    return "\n".join(lines)


def _tuning_facts(desc: dict[str, Any]) -> dict[str, Any]:
    counters = desc.get("TrainingJobStatusCounters") or {}
    best = desc.get("BestTrainingJob") or {}
    objective = (desc.get("HyperParameterTuningJobConfig") or {}).get(
        "HyperParameterTuningJobObjective"
    ) or {}
    final = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    return {
        "name": desc.get("HyperParameterTuningJobName", ""),
        "status": str(desc.get("HyperParameterTuningJobStatus", "")),
        "strategy": (desc.get("HyperParameterTuningJobConfig") or {}).get("Strategy", ""),
        "objective": f"{objective.get('Type', '')} {objective.get('MetricName', '')}".strip(),
        "training_jobs": {k: int(v) for k, v in counters.items() if isinstance(v, int)},
        "best_training_job": best.get("TrainingJobName") or None,
        "best_objective": final.get("Value"),
        "failure_reason": desc.get("FailureReason") or None,
        "created": desc.get("CreationTime"),
    }


def _labeling_facts(desc: dict[str, Any]) -> dict[str, Any]:
    from services.labeling.jobs import status_from

    s = status_from(desc)
    return {
        "name": s.name,
        "status": s.status,
        "labeled": s.labeled,
        "failed": s.failed,
        "unlabeled": s.unlabeled,
        "output_manifest": s.output_manifest or None,
        "failure_reason": s.failure_reason or None,
        "created": s.created,
    }


def render_facts(kind: JobKind, facts: dict[str, Any]) -> str:
    lines = [
        f"{kind.value} job: {safe_line(str(facts['name']), 70)}",
        f"status:    {safe_line(facts['status'], 40)}",
    ]
    if kind is JobKind.TUNING:
        counts = ", ".join(f"{k} {v}" for k, v in facts["training_jobs"].items())
        lines += [
            f"strategy:  {safe_line(str(facts['strategy']), 40)}",
            f"objective: {safe_line(str(facts['objective']), 120)}",
            f"children:  {counts or 'none yet'}",
        ]
        if facts["best_training_job"]:
            lines.append(
                f"best:      {safe_line(facts['best_training_job'], 70)} ({facts['best_objective']})"
            )
    else:
        lines.append(
            f"labeled:   {facts['labeled']}, failed {facts['failed']}, unlabeled {facts['unlabeled']}"
        )
        if facts["output_manifest"]:
            lines.append(f"output:    {safe_line(facts['output_manifest'], 300)}")
    if facts["failure_reason"]:
        lines.append(f"failure:   {safe_line(str(facts['failure_reason']), 2000)}")
    return "\n".join(lines)


def render_text(snap) -> str:  # type: ignore[no-untyped-def]
    lines = [
        f"job:       {safe_line(snap.name, 70)}",
        f"status:    {snap.status} / {safe_line(snap.secondary, 60)}",
        f"resources: {snap.instance_count} x {snap.instance_type}" + (" (managed spot)" if snap.spot else ""),
    ]
    if snap.training_seconds is not None:
        lines.append(f"training:  {snap.training_seconds} s, billable {snap.billable_seconds} s")
    lines.append(f"cost:      {snap.cost_line()}")
    if snap.failure_reason:
        lines.append(f"failure:   {safe_line(snap.failure_reason, 2000)}")
    if snap.final_metrics:
        lines.append(
            "metrics:   " + ", ".join(f"{safe_line(m.name, 60)}={m.value:g}" for m in snap.final_metrics)
        )
    if snap.model_artifact:
        lines.append(f"model:     {safe_line(snap.model_artifact, 300)}")
    if snap.transitions:
        lines.append("timeline:")
        for t in snap.transitions:
            start = t.start.strftime("%Y-%m-%d %H:%M:%S") if t.start else ""
            lines.append(f"  {start}  {t.status:<12} {safe_line(t.message, 300)}")
    return "\n".join(lines)
