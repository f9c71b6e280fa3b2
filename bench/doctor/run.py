"""Benchmark: a full diagnosis of the seed scenario in the sandbox (issue 6, point 9).

    .venv/bin/python bench/doctor/run.py
    .venv/bin/python bench/doctor/run.py --job     # `sagewiz doctor --job` on a failed training job

"Full diagnosis" = parse the seed's error, resolve the role (path lookup), read every piece of
evidence (role policies, bucket policy, Block Public Access at bucket and account, ownership,
encryption, requester pays, owner check), evaluate, build the findings and the fixes (diffs
included), and the simulator cross-check (which the sandbox cannot run: reported, not called).
AWS calls are counted with a botocore `before-call` event hook on every client. Targets: <= 1 s
and <= 15 calls.

Figures: the first diagnosis in a fresh process (imports, client creation, the policy linter's
first load), then the median of 15 warm diagnoses; and the same warm diagnosis with the evidence
read one call at a time (the baseline), measured in the same run, to show what the parallel reads
buy. Medians and ratios are printed.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SEED_ERROR = "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied"
RUNS = 15
RTT = 0.060
SERVICES = ("s3", "s3control", "iam", "sts", "kms", "sagemaker", "ec2")


class CallCounter:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, event_name: str = "", **_: object) -> None:
        with self._lock:
            self.calls.append(event_name.removeprefix("before-call."))

    def attach(self, factory: object) -> None:
        for svc in SERVICES:
            factory.client(svc).meta.events.register("before-call", self)  # type: ignore[attr-defined]


def main() -> None:
    from services.doctor import evidence
    from services.doctor.engine import diagnose
    from services.doctor.model import DoctorRequest
    from services.sandbox.server import get_sandbox
    from services.session import SessionFactory

    sb = get_sandbox()
    sb.start()
    world = sb.reset(seed=True)
    req = DoctorRequest(error_text=SEED_ERROR, default_principal=world.role_arn, default_bucket=world.default_bucket,
                        key="ground-truth-demo/images/img-001.jpg")  # fmt: skip
    kw = {"caller_account": world.account, "region": world.region, "sandbox": True}

    # 1. cold: a fresh factory, first diagnosis in this process
    factory = SessionFactory(world.target())
    counter = CallCounter()
    t0 = time.perf_counter()
    counter.attach(factory)  # client creation is part of the cold figure
    d = diagnose(req, factory, **kw)
    cold = time.perf_counter() - t0
    cold_calls = list(counter.calls)
    assert (
        d.verdict == "denied" and d.first_blocking and d.first_blocking.cause == "identity-wrong-resource"
    ), d.headline

    # 2. warm: the same factory (as the screen and the command keep it)
    def timed(n: int) -> tuple[list[float], list[int]]:
        times, counts = [], []
        for _ in range(n):
            counter.calls.clear()
            t = time.perf_counter()
            diagnose(req, factory, **kw)
            times.append(time.perf_counter() - t)
            counts.append(len(counter.calls))
        return times, counts

    warm, warm_counts = timed(RUNS)

    # 3. baseline: the same reads one at a time
    saved = evidence._WORKERS
    evidence._WORKERS = 1
    try:
        serial, _ = timed(RUNS)
    finally:
        evidence._WORKERS = saved

    # 4. the same with 60 ms added to every call (a typical round trip to a real AWS region)
    def slow(**_: object) -> None:
        time.sleep(RTT)

    for svc in SERVICES:
        factory.client(svc).meta.events.register("before-send", slow)
    rtt_par, _ = timed(5)
    evidence._WORKERS = 1
    try:
        rtt_ser, _ = timed(5)
    finally:
        evidence._WORKERS = saved

    med_warm, med_serial = statistics.median(warm), statistics.median(serial)
    print("sagewiz doctor: full diagnosis of the seed scenario (sandbox)")
    print(
        f"  verdict: {d.verdict}; first blocking cause: {d.first_blocking.cause}; findings: {len(d.findings)}"
    )
    print(f"  AWS calls (botocore before-call hook): {len(cold_calls)} cold, {statistics.median(warm_counts):.0f} warm "
          f"(target <= 15) [{', '.join(sorted(cold_calls))}]")  # fmt: skip
    print(f"  cold (fresh process: imports, clients, linter load): {cold * 1000:.0f} ms")
    print(f"  warm median of {RUNS}:            {med_warm * 1000:.1f} ms (target <= 1000 ms)")
    print(f"  baseline, reads one at a time: {med_serial * 1000:.1f} ms")
    print(f"  ratio baseline / parallel:     {med_serial / med_warm:.2f}x")
    rp, rs = statistics.median(rtt_par), statistics.median(rtt_ser)
    print(f"  with {RTT * 1000:.0f} ms per call (real-region latency): parallel {rp * 1000:.0f} ms, "
          f"one at a time {rs * 1000:.0f} ms, ratio {rs / rp:.2f}x")  # fmt: skip
    ok = med_warm <= 1.0 and len(cold_calls) <= 15
    print("  targets met" if ok else "  TARGETS MISSED")


def main_job() -> None:
    """`--job`: the whole `sagewiz doctor --job NAME` diagnosis of a failed training job: it runs in
    a VPC subnet with no route to S3 (so its download fails, "Data download failed ... route to an
    S3 VPC endpoint or a NAT device") and its role may not read the input either. Find the job among
    the three kinds, read its facts, diagnose the download as the role, read the subnets' routes.
    Targets: <= 1 s warm and <= 20 AWS calls."""
    from services.doctor.job import diagnose_job
    from services.sandbox import trainer
    from services.sandbox.server import get_sandbox
    from services.session import SessionFactory
    from services.training import build_request
    from tests.train.conftest import upload_csv, wait_done, xgb_config

    sb = get_sandbox()
    sb.start()
    world = sb.reset(seed=True)
    admin = SessionFactory(world.target())
    trainer.set_pace(0.0)
    upload_csv(admin, world)
    ec2 = admin.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    sm = admin.client("sagemaker")
    sm.create_training_job(**build_request(xgb_config(world, name="bench-denied")), VpcConfig={
        "Subnets": [subnet], "SecurityGroupIds": [ec2.create_security_group(
            GroupName="bench", Description="bench", VpcId=vpc)["GroupId"]]})  # fmt: skip
    assert wait_done(sm, "bench-denied")["TrainingJobStatus"] == "Failed"
    kw = {"caller_account": world.account, "region": world.region, "sandbox": True}

    factory = SessionFactory(world.target())
    counter = CallCounter()
    t0 = time.perf_counter()
    counter.attach(factory)
    jd = diagnose_job(factory, "bench-denied", **kw)
    cold = time.perf_counter() - t0
    cold_calls = list(counter.calls)
    causes = [f.cause for f in jd.diagnosis.blocking]
    assert causes[0] == "identity-wrong-resource" and "vpc-no-s3-route" in causes, causes

    times, counts = [], []
    for _ in range(RUNS):
        counter.calls.clear()
        t = time.perf_counter()
        diagnose_job(factory, "bench-denied", **kw)
        times.append(time.perf_counter() - t)
        counts.append(len(counter.calls))
    med = statistics.median(times)
    seed_t, seed_c = [], []
    from services.doctor.engine import diagnose

    req = jd.diagnosis.request
    assert req is not None
    for _ in range(RUNS):  # the engine alone on the same refused request: what the job reading adds
        counter.calls.clear()
        t = time.perf_counter()
        diagnose(req, factory, **kw)
        seed_t.append(time.perf_counter() - t)
        seed_c.append(len(counter.calls))
    print(
        "sagewiz doctor --job: a failed training job (role may not read its input; VPC without an S3 route)"
    )
    print(f"  verdict: {jd.diagnosis.verdict}; blocking causes: {', '.join(causes)}")
    print(f"  AWS calls (botocore before-call hook): {len(cold_calls)} cold, {statistics.median(counts):.0f} warm "
          f"(target <= 20) [{', '.join(sorted(cold_calls))}]")  # fmt: skip
    print(f"  cold (fresh factory, first diagnosis in this process): {cold * 1000:.0f} ms")
    print(f"  warm median of {RUNS}:            {med * 1000:.1f} ms (target <= 1000 ms)")
    ms, cs = statistics.median(seed_t), statistics.median(seed_c)
    print(
        f"  the engine alone on the refused request: {ms * 1000:.1f} ms, {cs:.0f} calls; "
        f"ratio job / engine alone: {med / ms:.2f}x time, {statistics.median(counts) / cs:.2f}x calls"
    )
    ok = med <= 1.0 and max(len(cold_calls), *counts) <= 20
    print("  targets met" if ok else "  TARGETS MISSED")


if __name__ == "__main__":
    main_job() if "--job" in sys.argv[1:] else main()
