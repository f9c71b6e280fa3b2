"""Benchmark: the Clean up inventory (journal + tag search + every resource's state) in the sandbox.

    .venv/bin/python bench/cleanup/run.py

A world with 8 notebooks, 8 buckets, 8 roles and 8 completed training jobs, all made by "sagewiz"
(tagged and journaled), plus the seeded resources that are not. Every AWS call is delayed by a
simulated round trip (RTT) with a botocore `before-send` hook, since the emulator on loopback answers
in about a millisecond and real AWS does not. Figures: the median of RUNS inventories with the reads
in parallel (services.cleanup.listing.WORKERS = 8) and the same with one read at a time (the baseline),
measured in the same run; calls per inventory are counted. Prints medians and the ratio.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

RUNS = 7
RTT = 0.040
N = 8


def main() -> None:
    from services import cleanup
    from services.cleanup import listing
    from services.journal import Journal
    from services.journal_events import JobStarted, ResourceCreated
    from services.plan import tags_list
    from services.resource_kinds import ResourceKind
    from services.sandbox.server import boot
    from services.session import SessionFactory

    world = boot()
    factory = SessionFactory(world.target())
    journal = Journal(Path(tempfile.mkdtemp()) / "journal.jsonl")
    journal.bind(world.account, world.region, True)
    sm, s3, iam = factory.client("sagemaker"), factory.client("s3"), factory.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    for n in range(N):
        sm.create_notebook_instance(
            NotebookInstanceName=f"bench-nb-{n}",
            InstanceType="ml.t3.medium",
            RoleArn=world.role_arn,
            Tags=tags_list(),
        )
        journal.append(ResourceCreated(ResourceKind.NOTEBOOK, f"bench-nb-{n}"))
        s3.create_bucket(
            Bucket=f"bench-bucket-{n}", CreateBucketConfiguration={"LocationConstraint": world.region}
        )
        s3.put_bucket_tagging(Bucket=f"bench-bucket-{n}", Tagging={"TagSet": tags_list()})
        iam.create_role(RoleName=f"bench-role-{n}", AssumeRolePolicyDocument=trust, Tags=tags_list())
        sm.create_training_job(
            TrainingJobName=f"bench-job-{n}",
            AlgorithmSpecification={"TrainingImage": "x", "TrainingInputMode": "File"},
            RoleArn=world.role_arn,
            OutputDataConfig={"S3OutputPath": f"s3://bench-bucket-{n}/out"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
            StoppingCondition={"MaxRuntimeInSeconds": 60},
            Tags=tags_list(),
        )
        journal.append(JobStarted(ResourceKind.TRAINING_JOB, f"bench-job-{n}"))

    calls = 0
    lock = threading.Lock()

    def delay(**_: object) -> None:
        nonlocal calls
        with lock:
            calls += 1
        time.sleep(RTT)  # the network round trip real AWS would cost

    for service in ("sagemaker", "s3", "iam", "resourcegroupstaggingapi"):
        factory.client(service).meta.events.register("before-send", delay)

    def measure(workers: int) -> tuple[float, int, int]:
        nonlocal calls
        listing.WORKERS = workers
        times = []
        found = 0
        for _ in range(RUNS):
            calls = 0
            t = time.perf_counter()
            inv = cleanup.inventory(factory, journal)
            times.append(time.perf_counter() - t)
            found = len(inv.resources)
        return statistics.median(times), calls, found

    par, par_calls, found = measure(8)
    ser, ser_calls, _ = measure(1)
    print(f"inventory of {found} resources, simulated RTT {RTT * 1000:.0f} ms, median of {RUNS}")
    print(f"  parallel reads (8): {par * 1000:7.0f} ms  {par_calls} calls")
    print(f"  one at a time     : {ser * 1000:7.0f} ms  {ser_calls} calls  (baseline)")
    print(f"  speed-up          : {ser / par:5.1f}x")


if __name__ == "__main__":
    main()
