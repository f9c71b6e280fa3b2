"""Benchmarks for the Labels step (issue 7). Run: .venv/bin/python bench/labels/run.py

(a) Parsing a 100,000-line output.manifest (Ground Truth's dataset limit) with every line checked,
    against the floor any reader pays: json.loads of each line and nothing else. Median of 5.
(b) Writing the same manifest against json.dumps of each line's dict. Median of 5.
(c) Drawing one sample image as half-blocks at the terminal labeler's size (48x24 cells): the work
    between a number key and the next image. Median of 50, in ms.
(d) The sandbox: CreateLabelingJob to Completed for the 50 sample images (workforce without delay),
    and DescribeLabelingJob latency. Median of 3 jobs.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

N = 100_000


def timed(fn, repeat: int) -> float:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def manifest_text() -> tuple[str, list]:
    from services.labeling import manifest as mf

    labels = ("Airplane", "Car", "Ferry", "Helicopter", "Motorbike")
    objs = [mf.LabeledObject(f"s3://bucket/ground-truth-demo/images/image_{i:06d}.jpg", (i % 5,), (labels[i % 5],),
                             (0.67,), True, "vehicle-labels", "2026-11-27T10:00:00.000001") for i in range(N)]  # fmt: skip
    return mf.write_output_manifest(objs, "vehicle-labels"), objs


def bench_manifest() -> None:
    from services.labeling import manifest as mf

    text, objs = manifest_text()
    lines = text.splitlines()
    base = timed(lambda: [json.loads(x) for x in lines], 5)
    ours = timed(lambda: mf.parse_output_manifest(text), 5)
    parsed = mf.parse_output_manifest(text)
    assert len(parsed.objects) == N and not parsed.problems
    print(f"(a) parse {N:,} lines: ours {ours:.3f} s ({N / ours:,.0f} lines/s); json.loads floor {base:.3f} s; "
          f"ratio {ours / base:.2f}x")  # fmt: skip
    dicts = [json.loads(x) for x in lines]
    base_w = timed(lambda: "".join(json.dumps(d, separators=(",", ":")) + "\n" for d in dicts), 5)
    ours_w = timed(lambda: mf.write_output_manifest(objs, "vehicle-labels"), 5)
    print(
        f"(b) write {N:,} lines: ours {ours_w:.3f} s; json.dumps floor {base_w:.3f} s; ratio {ours_w / base_w:.2f}x"
    )


def bench_draw() -> None:
    from rich.console import Console

    from screens.labels_image import _HalfBlocks, to_pil
    from services.sandbox.images import sample_set

    data = sample_set(per_class=1)[0].data
    console = Console(width=120, color_system="truecolor", legacy_windows=False, file=open("/dev/null", "w"))  # noqa: SIM115
    samples = []
    for _ in range(50):
        t = time.perf_counter()
        img = to_pil(data)
        list(console.render(_HalfBlocks(img, 48, 24)))
        samples.append(time.perf_counter() - t)
    print(f"(c) decode + draw one image at 48x24 cells: median {statistics.median(samples) * 1000:.1f} ms, "
          f"max {max(samples) * 1000:.1f} ms")  # fmt: skip


def bench_sandbox() -> None:
    from dataclasses import replace

    from services.labeling import jobs, rules
    from services.labeling.request import PUBLIC, JobSpec, Workforce
    from services.labeling.setup import build_setup_plan
    from services.plan import apply_plan
    from services.sandbox.extensions import labeling as ext
    from services.sandbox.server import get_sandbox
    from services.session import SessionFactory
    from tests.labels.helpers import copy_samples, fix_role

    sb = get_sandbox()
    sb.start()
    world = sb.reset()
    factory = SessionFactory(world.target())
    prefix = copy_samples(factory, world)
    fix_role(factory, world)
    ext.configure(seconds_per_object=0.0, start_delay=0.0, accuracy=0.92)
    lam = rules.TaskLambdas("arn:aws:lambda:eu-north-1:123456789012:function:PRE-ImageMultiClass",
                            "arn:aws:lambda:eu-north-1:123456789012:function:ACS-ImageMultiClass", False)  # fmt: skip
    base = JobSpec(region=world.region, role_arn=world.role_arn, lambdas=lam, workers_per_object=3,
                   workforce=Workforce(PUBLIC, 12, True, True, True))  # fmt: skip
    totals, describes = [], []
    for n in range(3):
        spec = replace(base, job_name=f"bench-{n}", label_attribute=f"bench-{n}")
        setup = build_setup_plan(factory, spec, prefix)
        t = time.perf_counter()
        apply_plan(setup.plan, factory, None)
        while True:
            d = time.perf_counter()
            st = jobs.describe_job(factory, spec.job_name)
            describes.append(time.perf_counter() - d)
            if st.finished:
                break
        totals.append(time.perf_counter() - t)
        assert st.status == "Completed" and st.labeled == 50
    parsed = jobs.read_output(factory, st.output_manifest, st.categories_uri)
    right = sum(1 for o in parsed.objects if o.source_ref and o.label)  # labels present
    print(f"(d) sandbox job, 50 images x 3 workers: plan applied + labeled in median {statistics.median(totals):.2f} s; "
          f"DescribeLabelingJob median {statistics.median(describes) * 1000:.1f} ms; {right} objects read back")  # fmt: skip
    sb.stop()


if __name__ == "__main__":
    bench_manifest()
    bench_draw()
    bench_sandbox()
