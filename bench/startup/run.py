"""bench/startup: process start -> first interactive screen of `sagewiz --sandbox`, against a
minimal Textual app showing one static screen, both in a real pseudo-terminal, interleaved.

Then process start -> the header shows the sandbox's account (sandbox up, identity read from it):
- first start: a new state directory each run, so the background sandbox is started and seeded;
- started again: the world left running by the previous run is found and resumed.

Prints medians and ratios against the minimal app (targets: first screen <= 1.5, account <= 5).
Usage: python3 dev.py bench startup [--runs N]
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def timed(
    cmd: list[str], env: dict[str, str], ready_file: Path, until: str = "SAGEWIZ_EXIT_WHEN_READY"
) -> float:
    """Seconds from spawning the process to the moment it reports its first screen painted (or,
    with until=SAGEWIZ_EXIT_WHEN_CONNECTED, the header showing the account it connected to)."""
    ready_file.unlink(missing_ok=True)
    env = {**env, until: str(ready_file)}
    master, slave = pty.openpty()
    start = time.time()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, close_fds=True)
    os.close(slave)
    while proc.poll() is None:  # drain the terminal so the app never blocks on output
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                os.read(master, 65536)
            except OSError:
                break
    proc.wait()
    os.close(master)
    if proc.returncode != 0 or not ready_file.exists():
        raise SystemExit(f"{cmd} exited with {proc.returncode} without painting its first screen")
    return float(ready_file.read_text().split()[0]) - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    state = tempfile.mkdtemp()
    wiz_file, base_file = Path(state) / "wiz.txt", Path(state) / "base.txt"
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLUMNS": "120",
        "LINES": "40",
        "SAGEWIZ_STATE_DIR": state,
    }
    wiz = [str(BIN / "sagewiz"), "--sandbox"]
    base = [sys.executable, str(Path(__file__).parent / "minimal_app.py")]
    timed(wiz, env, wiz_file), timed(base, env, base_file)  # warm the file cache once
    t_wiz, t_base = [], []
    for _ in range(args.runs):
        t_base.append(timed(base, env, base_file))
        t_wiz.append(timed(wiz, env, wiz_file))
    stop(env, state)  # the first run started a background world (it boots while the screen is drawn)
    m_wiz, m_base = statistics.median(t_wiz), statistics.median(t_base)
    heavy = wiz_file.read_text().split()[1:]
    print(f"minimal Textual app : median {m_base * 1000:7.1f} ms over {args.runs} runs")
    print(f"sagewiz --sandbox   : median {m_wiz * 1000:7.1f} ms over {args.runs} runs")
    print(f"ratio               : {m_wiz / m_base:.2f}  (target <= 1.5)")
    print(f"SageMaker SDK modules loaded at first screen: {len(heavy)}")

    connected = "SAGEWIZ_EXIT_WHEN_CONNECTED"
    t_cold, t_warm = [], []
    warm_dir = tempfile.mkdtemp()
    try:
        for i in range(args.runs):
            cold_dir = tempfile.mkdtemp()
            try:
                t_cold.append(timed(wiz, {**env, "SAGEWIZ_STATE_DIR": cold_dir}, wiz_file, connected))
            finally:
                stop(env, cold_dir)
            t_warm.append(timed(wiz, {**env, "SAGEWIZ_STATE_DIR": warm_dir}, wiz_file, connected))
            if i == 0:
                t_warm.pop()  # that run started the world; the rest find it
        account = wiz_file.read_text().split()[1]
    finally:
        stop(env, warm_dir)
    m_cold, m_warm = statistics.median(t_cold), statistics.median(t_warm)
    print(f"header shows account {account} (sandbox up, identity read):")
    print(
        f"  first start (world started and seeded): median {m_cold * 1000:7.1f} ms, ratio {m_cold / m_base:.2f}"
    )
    print(
        f"  started again (world resumed)         : median {m_warm * 1000:7.1f} ms, ratio {m_warm / m_base:.2f}"
    )
    print("  (target <= 5 against the minimal app)")


def stop(env: dict[str, str], state_dir: str) -> None:
    """Stop the background sandbox a run left behind in state_dir."""
    subprocess.run([str(BIN / "sagewiz"), "sandbox", "stop"], env={**env, "SAGEWIZ_STATE_DIR": state_dir},
                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)  # fmt: skip


if __name__ == "__main__":
    main()
