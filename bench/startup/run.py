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
import re
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from services.sandbox.world import SANDBOX_ACCOUNT  # noqa: E402

BIN = Path(sys.executable).parent


# What each moment looks like on the terminal, read from outside the app as a person sees it.
WIZARD_SHOWN = "Not connected yet."  # the Connect step, before the sandbox answers
MINIMAL_SHOWN = "Hello from a minimal Textual app"
_ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", re.MULTILINE)


def timed(cmd: list[str], env: dict[str, str], text: str) -> tuple[float, str]:
    """Seconds from spawning the process to `text` appearing on its pseudo-terminal, and what the
    terminal had received by then (escape sequences removed); then the app is quit with ctrl+q."""
    master, slave = pty.openpty()
    start = time.time()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, close_fds=True)
    os.close(slave)
    received, shown_at = "", None
    try:
        while shown_at is None and proc.poll() is None and time.time() - start < 120:
            ready, _, _ = select.select([master], [], [], 0.01)
            if ready:
                try:
                    received += os.read(master, 65536).decode("utf-8", "replace")
                except OSError:
                    break
                if text in _ESCAPES.sub("", received):
                    shown_at = time.time()
        if shown_at is not None:
            os.write(master, b"\x11")  # ctrl+q, the apps' quit key
            while proc.poll() is None:  # drain the terminal so the app never blocks on output
                ready, _, _ = select.select([master], [], [], 0.05)
                if ready:
                    try:
                        os.read(master, 65536)
                    except OSError:
                        break
            proc.wait(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    if shown_at is None:
        raise SystemExit(f"{cmd} exited with {proc.returncode} without showing {text!r}")
    return shown_at - start, _ESCAPES.sub("", received).replace("\r", "")


def sdk_modules_before(cmd: list[str], env: dict[str, str], text: str) -> list[str]:
    """The SageMaker SDK modules imported before `text` was shown, from the interpreter's own
    import log (PYTHONPROFILEIMPORTTIME), which goes to the same terminal."""
    _, seen = timed(cmd, {**env, "PYTHONPROFILEIMPORTTIME": "1"}, text)
    before = seen[: seen.index(text)]
    return [m for m in _IMPORTED.findall(before) if m.split(".")[0] == "sagemaker"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    state = tempfile.mkdtemp()
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLUMNS": "120",
        "LINES": "40",
        "SAGEWIZ_STATE_DIR": state,
    }
    wiz = [str(BIN / "sagewiz"), "--sandbox"]
    base = [sys.executable, str(Path(__file__).parent / "minimal_app.py")]
    timed(wiz, env, WIZARD_SHOWN), timed(base, env, MINIMAL_SHOWN)  # warm the file cache once
    t_wiz, t_base = [], []
    for _ in range(args.runs):
        t_base.append(timed(base, env, MINIMAL_SHOWN)[0])
        t_wiz.append(timed(wiz, env, WIZARD_SHOWN)[0])
    stop(env, state)  # the first run started a background world (it boots while the screen is drawn)
    m_wiz, m_base = statistics.median(t_wiz), statistics.median(t_base)
    heavy = sdk_modules_before(wiz, env, WIZARD_SHOWN)
    print(f"minimal Textual app : median {m_base * 1000:7.1f} ms over {args.runs} runs")
    print(f"sagewiz --sandbox   : median {m_wiz * 1000:7.1f} ms over {args.runs} runs")
    print(f"ratio               : {m_wiz / m_base:.2f}  (target <= 1.5)")
    print(f"SageMaker SDK modules loaded at first screen: {len(heavy)}")

    connected = f"{SANDBOX_ACCOUNT} · "  # the header, once the identity was read from AWS
    t_cold, t_warm = [], []
    warm_dir = tempfile.mkdtemp()
    try:
        for i in range(args.runs):
            cold_dir = tempfile.mkdtemp()
            try:
                t_cold.append(timed(wiz, {**env, "SAGEWIZ_STATE_DIR": cold_dir}, connected)[0])
            finally:
                stop(env, cold_dir)
            t_warm.append(timed(wiz, {**env, "SAGEWIZ_STATE_DIR": warm_dir}, connected)[0])
            if i == 0:
                t_warm.pop()  # that run started the world; the rest find it
    finally:
        stop(env, warm_dir)
    m_cold, m_warm = statistics.median(t_cold), statistics.median(t_warm)
    print(f"header shows account {SANDBOX_ACCOUNT} (sandbox up, identity read):")
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
