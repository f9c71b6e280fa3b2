"""Benchmarks for the Tune dashboard (issue 9, point 4). Run: .venv/bin/python bench/tune/run.py

(a) Polling a tuning job with 500 children in the sandbox: the first poll lists every child
    (pages of 100, list calls spaced to 2 a second); later polls are incremental (newest page +
    running children + batched describes). Baseline: relisting every page on every poll, which
    is what a naive dashboard does. List calls and wall time per poll, median of 5.
(b) Applying a poll to the dashboard table (500 rows) in a headless Textual app: the incremental
    update (only changed cells; here 10 children finish) against the baseline of clearing and
    refilling the table. Median of 7, in ms.
(c) Key presses answered with 500 rows: time for 20 Down presses and one sort (o), against the same
    with 12 rows, measured in the same run.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def poll_bench() -> None:
    from services.sandbox import trainer
    from services.sandbox.extensions import tuning as ext
    from services.sandbox.server import get_sandbox
    from services.session import SessionFactory
    from services.tuning.dashboard import RateLimiter, TuningPoller
    from services.tuning.request import build_request
    from tests.tune.data import prepare
    from tests.tune.test_poller import summaries
    from tests.tune.test_sandbox_tuning import tuning_config

    trainer.set_pace(0.0)
    sb = get_sandbox()
    sb.start()
    world = sb.reset(seed=True)
    factory = SessionFactory(world.target())
    base = prepare(world, factory, num_round=4)
    sm = factory.client("sagemaker")
    sm.create_hyper_parameter_tuning_job(
        **build_request(tuning_config(base, name="bench", max_jobs=1, max_parallel=1))
    )
    from tests.tune.test_sandbox_tuning import wait_done, wait_first_child

    wait_first_child(sm, "bench")
    ext.inject_children(world.account, world.region, "bench", summaries(world, "bench", 500))
    wait_done(sm, "bench")  # settled: both pollers see the same 501 children

    def timed_polls(poller: TuningPoller, n: int) -> list[tuple[float, int]]:
        out = []
        for _ in range(n):
            t = time.perf_counter()
            snap = poller.poll()
            out.append((time.perf_counter() - t, snap.list_calls))
        return out

    no_wait = RateLimiter(rate=1e9)  # measure the calls, not the quota's spacing
    ours = TuningPoller(factory, "bench", limiter=no_wait)
    first = timed_polls(ours, 1)[0]
    incremental = timed_polls(ours, 5)
    naive = []
    for _ in range(5):
        p = TuningPoller(factory, "bench", limiter=RateLimiter(rate=1e9))
        naive.append(timed_polls(p, 1)[0])
    med = statistics.median
    inc_t, inc_calls = med(t for t, _ in incremental), med(c for _, c in incremental)
    nav_t, nav_calls = med(t for t, _ in naive), med(c for _, c in naive)
    print("(a) polling 501 children (sandbox, no quota spacing)")
    print(f"    first poll: {first[0] * 1000:.0f} ms, {first[1]} list calls")
    print(f"    incremental poll: median {inc_t * 1000:.0f} ms, {inc_calls:.0f} list calls")
    print(f"    baseline full relist: median {nav_t * 1000:.0f} ms, {nav_calls:.0f} list calls")
    print(
        f"    ratio baseline/incremental: time x{nav_t / inc_t:.1f}, list calls x{nav_calls / inc_calls:.1f}"
    )
    print(
        f"    at 2 list calls/s the quota alone costs: incremental {inc_calls / 2:.1f} s, baseline {nav_calls / 2:.1f} s per poll"
    )


async def table_bench() -> None:
    from services.journal import Journal
    from services.sandbox.server import get_sandbox
    from tests.tune.test_tune_screen import FIXED, synthetic
    from tui.app import SagewizApp

    world = get_sandbox().reset(seed=True)
    app = SagewizApp(world.target(), sandbox=True, world=world, journal=Journal(Path("/tmp/bench-tune/j.jsonl")), start_step="tune")  # fmt: skip
    async with app.run_test(size=(130, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        snap = synthetic(500)
        screen.show_snapshot(snap)
        await pilot.pause()
        inc, full, inc_apply, full_apply = [], [], [], []
        for k in range(7):
            later = FIXED + timedelta(seconds=30 + k)
            kids = tuple(
                replace(c, status="Completed", objective=0.05 + j / 100 + k / 1000, objective_status="Succeeded", ended=later)
                if c.objective is None or j >= 490 else c
                for j, c in enumerate(snap.children)
            )  # fmt: skip
            nxt = replace(snap, children=kids, polled_at=later)
            t = time.perf_counter()
            screen.show_snapshot(nxt)
            inc_apply.append(screen.last_render_ms / 1000)
            await pilot.pause()
            inc.append(time.perf_counter() - t)
            t = time.perf_counter()
            screen._reset_table()
            screen.show_snapshot(nxt)
            full_apply.append(screen.last_render_ms / 1000)
            await pilot.pause()
            full.append(time.perf_counter() - t)
        mi, mf = statistics.median(inc), statistics.median(full)
        print("(b) applying a poll to the 500-row table (10 children finished)")
        ai, af = statistics.median(inc_apply), statistics.median(full_apply)
        print(
            f"    incremental (changed cells only): apply {ai * 1000:.0f} ms, with repaint {mi * 1000:.0f} ms"
        )
        print(
            f"    baseline clear + refill:         apply {af * 1000:.0f} ms, with repaint {mf * 1000:.0f} ms"
        )
        print(f"    ratio baseline/incremental: apply x{af / ai:.1f}, with repaint x{mf / mi:.1f}")
        table = screen.query_one("#children")
        table.focus()
        await pilot.pause()
        res = {}
        for n in (12, 500):
            screen._reset_table()
            screen.show_snapshot(synthetic(n))
            await pilot.pause()
            table.move_cursor(row=0)
            t = time.perf_counter()
            await pilot.press(*["down"] * 10)
            await pilot.press("o")
            await pilot.pause()
            res[n] = time.perf_counter() - t
        print("(c) 10 Down presses + sort by objective")
        print(
            f"    12 rows: {res[12] * 1000:.0f} ms; 500 rows: {res[500] * 1000:.0f} ms; ratio x{res[500] / res[12]:.2f}"
        )


if __name__ == "__main__":
    poll_bench()
    asyncio.run(table_bench())
