"""Benchmark: listing notebook instances with their roles (one describe each) in the sandbox.

    .venv/bin/python bench/notebook/run.py

ListNotebookInstances does not return the execution role, so the Notebook step describes every
instance. A world with N notebooks; every AWS call is delayed by a simulated round trip (RTT) with a
botocore `before-send` hook, since the emulator on loopback answers in about a millisecond and real
AWS does not. Figures: the median of RUNS listings with the describes in parallel
(services.notebooks.LIST_WORKERS = 4) and one at a time (the baseline), measured in the same run.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

RUNS = 7
RTT = 0.040
N = 8


def main() -> None:
    from services import notebooks
    from services.sandbox.server import boot
    from services.session import SessionFactory

    world = boot()
    factory = SessionFactory(world.target())
    sm = factory.client("sagemaker")
    for n in range(N):
        sm.create_notebook_instance(
            NotebookInstanceName=f"bench-nb-{n}", InstanceType="ml.t3.medium", RoleArn=world.role_arn
        )

    calls = 0
    lock = threading.Lock()

    def delay(**_: object) -> None:
        nonlocal calls
        with lock:
            calls += 1
        time.sleep(RTT)  # the network round trip real AWS would cost

    sm.meta.events.register("before-send", delay)

    def measure(workers: int) -> tuple[float, int, int]:
        nonlocal calls
        notebooks.LIST_WORKERS = workers
        times, found = [], 0
        for _ in range(RUNS):
            calls = 0
            t = time.perf_counter()
            found = len(notebooks.list_notebooks(factory))
            times.append(time.perf_counter() - t)
        return statistics.median(times), calls, found

    par, par_calls, found = measure(4)
    ser, ser_calls, _ = measure(1)
    print(f"list {found} notebook instances with roles, simulated RTT {RTT * 1000:.0f} ms, median of {RUNS}")
    print(f"  parallel describes (4): {par * 1000:7.0f} ms  {par_calls} calls")
    print(f"  one at a time         : {ser * 1000:7.0f} ms  {ser_calls} calls  (baseline)")
    print(f"  speed-up              : {ser / par:5.1f}x")


if __name__ == "__main__":
    main()
