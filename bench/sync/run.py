"""Benchmark: `sagewiz data sync` against `aws s3 sync` on the same embedded AWS, side by side.

Starts `sagewiz sandbox serve` on a free port, generates (a) 2,000 files of 2-50 KB in nested
folders, (b) 4 files of 64 MB and (c) one file of 1 GB, then for each data set times a first copy
and an unchanged rerun with both tools (alternating which goes first), several rounds, and prints
medians and ratios. Both tools sign with the sandbox admin keys the serve command prints. Targets:
first copy <= 0.8x the AWS CLI's time, unchanged rerun <= 0.5x.

    .venv/bin/python bench/sync/run.py [--rounds 3] [--small 2000] [--large 4] [--large-mb 64]
        [--huge-mb 1024] [--only small|large|huge]

A quick run: --rounds 1 --small 300 --large 2 --large-mb 32 --huge-mb 256.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv running this script: its aws and sagewiz
TARGETS = {"first copy": 0.8, "unchanged rerun": 0.5}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server() -> tuple[subprocess.Popen[str], dict[str, str]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "sandbox", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    env: dict[str, str] = {}
    admin = True
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "execution role" in line:
            admin = False  # the role's keys follow: the benchmark signs as the admin
        for name, value in re.findall(r"(AWS_[A-Z_]+)=(\S+)", line) if admin else ():
            env[name] = value
        if "Press Ctrl-C" in line:
            return proc, env
    proc.kill()
    raise SystemExit("the sandbox server did not start")


def make_data(root: Path, small: int, large: int, large_mb: int, huge_mb: int) -> tuple[Path, Path, Path]:
    rng = random.Random(7)
    a, b, c = root / "small", root / "large", root / "huge"
    for i in range(small):
        d = a / f"set-{i % 20:02d}" / f"group {i % 7}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"img_{i:05d}.jpg").write_bytes(rng.randbytes(rng.randint(2 * 1024, 50 * 1024)))
    b.mkdir(parents=True, exist_ok=True)
    for i in range(large):
        with open(b / f"part-{i}.bin", "wb") as fh:
            for _ in range(large_mb):
                fh.write(rng.randbytes(1024 * 1024))
    c.mkdir(parents=True, exist_ok=True)
    if huge_mb:
        with open(c / "one.bin", "wb") as fh:
            for _ in range(huge_mb):
                fh.write(rng.randbytes(1024 * 1024))
    return a, b, c


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--small", type=int, default=2000)
    ap.add_argument("--large", type=int, default=4)
    ap.add_argument("--large-mb", type=int, default=64)
    ap.add_argument("--huge-mb", type=int, default=1024, help="the one big file's size (0: leave it out)")
    ap.add_argument("--only", choices=["small", "large", "huge"], help="run one data set only")
    opts = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sagewiz-bench-sync-"))
    proc, aws = start_server()
    try:
        print(f"sandbox: {aws.get('AWS_ENDPOINT_URL')}  (embedded AWS emulator)")
        small, large, huge = make_data(work / "data", opts.small, opts.large, opts.large_mb, opts.huge_mb)
        base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        base.update(aws)
        base["AWS_DEFAULT_REGION"] = aws["AWS_REGION"]  # AWS CLI v1 reads only this one
        base["AWS_CONFIG_FILE"] = str(work / "aws-config")
        base["AWS_SHARED_CREDENTIALS_FILE"] = str(work / "aws-credentials")
        bucket = f"bench-sync-{os.getpid()}"
        timed([str(BIN / "aws"), "s3", "mb", f"s3://{bucket}"], base)
        results: dict[tuple[str, str, str], list[float]] = {}
        sets = {
            "small": (f"{opts.small:,} small files", small),
            "large": (f"{opts.large} x {opts.large_mb} MB files", large),
            "huge": (f"1 x {opts.huge_mb:,} MB file", huge),
        }
        if not opts.huge_mb:
            del sets["huge"]
        chosen = [sets[opts.only]] if opts.only else list(sets.values())
        for name, folder in chosen:
            for rnd in range(opts.rounds):
                order = ["aws", "sagewiz"] if rnd % 2 == 0 else ["sagewiz", "aws"]
                for tool in order:
                    prefix = f"s3://{bucket}/{tool}-{rnd}-{folder.name}/"
                    env = dict(base)
                    env["SAGEWIZ_STATE_DIR"] = str(work / f"state-{tool}-{rnd}-{folder.name}")
                    if tool == "aws":
                        cmd = [str(BIN / "aws"), "s3", "sync", str(folder), prefix, "--only-show-errors"]
                    else:
                        cmd = [sys.executable, "-m", "tui.cli", "data", "sync", str(folder), prefix]
                    first = timed(cmd, env)
                    rerun = timed(cmd, env)
                    results.setdefault((name, "first copy", tool), []).append(first)
                    results.setdefault((name, "unchanged rerun", tool), []).append(rerun)
                    print(
                        f"  {name:<22} round {rnd + 1}  {tool:<8} first {first:6.2f} s  rerun {rerun:5.2f} s",
                        flush=True,
                    )
                    timed([str(BIN / "aws"), "s3", "rm", prefix, "--recursive", "--only-show-errors"], base)
        print()
        print(f"{'data set':<22} {'phase':<16} {'aws s3 sync':>12} {'sagewiz':>9} {'ratio':>7} {'target':>7}")
        ok = True
        for (name, phase, tool), _ in list(results.items()):
            if tool != "aws":
                continue
            cli = statistics.median(results[(name, phase, "aws")])
            ours = statistics.median(results[(name, phase, "sagewiz")])
            ratio = ours / cli
            target = TARGETS[phase]
            mark = "ok" if ratio <= target else "MISSED"
            ok = ok and ratio <= target
            print(f"{name:<22} {phase:<16} {cli:10.2f} s {ours:7.2f} s {ratio:6.2f}x {target:5.1f}x  {mark}")
        print(
            f"\nmedians of {opts.rounds} rounds; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}"
        )
        return 0 if ok else 1
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
