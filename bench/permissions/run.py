"""Benchmarks for the Permissions step (issue 5). Run: .venv/bin/python bench/permissions/run.py

(a) The whole check on the seeded sandbox world (read BPA x2, bucket policy + status, encryption,
    ownership, role, inline and attached policies, then findings and planned fixes), in process with
    warm clients: median of 15 runs. Baseline, measured in the same run: the same reads done the way
    a person does them today, one AWS CLI command each (s3api / s3control / iam), run one after the
    other. Output: medians and the ratio.
(b) Apply + re-read + undo of the bucket-policy fix (concurrency check, journal write with fsync,
    put, re-read, restore): median of 15 round trips.
(c) The marker-object proof as the role (put, get, list, delete): median of 15 runs.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
RUNS = 15


def median_of(fn, runs: int = RUNS) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    from services.journal import Journal
    from services.permissions import apply, findings, proof
    from services.permissions.fixes.bucket_policy import bucket_policy_change
    from services.permissions.fixes.change import BUCKET_POLICY, PolicyTarget
    from services.permissions.state import read_state
    from services.sandbox.server import get_sandbox
    from services.session import SessionFactory

    sb = get_sandbox()
    sb.start()
    world = sb.reset(seed=True)
    factory = SessionFactory(world.target())
    kw = dict(
        account=world.account, region=world.region, bucket=world.default_bucket, role_arn=world.role_arn
    )

    def check() -> None:
        state = read_state(factory, **kw)
        findings.proposed_changes(state, findings.check(state))

    check()  # warm clients, the emulator's managed-policy load and the linter import
    ours = median_of(check)

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=world.endpoint, AWS_REGION=world.region, AWS_DEFAULT_REGION=world.region,
               AWS_ACCESS_KEY_ID=world.admin.access_key, AWS_SECRET_ACCESS_KEY=world.admin.secret_key,
               AWS_MAX_ATTEMPTS="1", AWS_EC2_METADATA_DISABLED="true")  # fmt: skip
    aws = str(ROOT / ".venv" / "bin" / "aws")
    b, role = world.default_bucket, world.role_name
    commands = [
        ["s3api", "get-public-access-block", "--bucket", b],
        ["s3api", "get-bucket-policy", "--bucket", b],
        ["s3api", "get-bucket-policy-status", "--bucket", b],
        ["s3api", "get-bucket-encryption", "--bucket", b],
        ["s3api", "get-bucket-ownership-controls", "--bucket", b],
        ["iam", "get-role", "--role-name", role],
        ["iam", "list-role-policies", "--role-name", role],
        ["iam", "get-role-policy", "--role-name", role, "--policy-name", "SageMaker-tt-access"],
        ["iam", "list-attached-role-policies", "--role-name", role],
    ]

    def cli() -> None:
        for cmd in commands:
            subprocess.run([aws, *cmd], env=env, capture_output=True, check=True)

    cli_runs = 3
    baseline = median_of(cli, cli_runs)

    journal = Journal(Path(tempfile.mkdtemp()) / "journal.jsonl")
    target = PolicyTarget(BUCKET_POLICY, bucket=b)

    def round_trip() -> None:
        change = bucket_policy_change(b, world.role_arn, apply.read_current(factory, target))
        apply.apply_change(factory, journal, change)
        apply.undo_last(factory, journal)

    apply_undo = median_of(round_trip)
    role_factory = SessionFactory(world.role_target())
    proof.marker_proof(role_factory, b)
    marker = median_of(lambda: proof.marker_proof(role_factory, b))
    print(json.dumps({
        "check_median_s": round(ours, 4),
        "aws_cli_same_reads_median_s": round(baseline, 3),
        "aws_cli_commands": len(commands),
        "ratio_check_vs_cli": round(ours / baseline, 4),
        "apply_reread_undo_median_s": round(apply_undo, 4),
        "marker_proof_median_s": round(marker, 4),
        "runs": RUNS, "cli_runs": cli_runs,
    }, indent=2))  # fmt: skip
    sb.stop()


if __name__ == "__main__":
    main()
