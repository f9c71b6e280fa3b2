#!/usr/bin/env python3
"""Bootstrap and run sagewiz from a checkout with nothing but Python 3.11+.

    python3 dev.py sandbox      start the wizard against the embedded AWS (no account needed)
    python3 dev.py test         run the whole test suite (lint, import contract, pytest)
    python3 dev.py run ARGS     run `sagewiz ARGS` from the checkout's virtual environment
    python3 dev.py bench NAME   run a benchmark from bench/

It creates `.venv/` beside this file on first use and reinstalls only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".sagewiz-installed"


def ensure_env(extras: str = "test,bench") -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older python3
        sys.exit(f"sagewiz needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want and PY.exists():
        return
    if not PY.exists():
        print("sagewiz: creating the virtual environment in .venv (first run only) …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("sagewiz: installing dependencies (first run, or pyproject.toml changed) …", flush=True)
    run([str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    run([str(PY), "-m", "pip", "install", "--quiet", "--config-settings", "editable_mode=compat", "-e", f".[{extras}]"])
    STAMP.write_text(want)


def run(cmd: list[str], **kw: object) -> None:
    code = subprocess.call(cmd, cwd=ROOT, **kw)  # type: ignore[arg-type]
    if code != 0:
        sys.exit(code)


def main(argv: list[str]) -> None:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return
    cmd, rest = argv[0], argv[1:]
    ensure_env()
    if cmd == "sandbox":
        os.execv(str(BIN / "sagewiz"), [str(BIN / "sagewiz"), "--sandbox", *rest])
    elif cmd == "run":
        os.execv(str(BIN / "sagewiz"), [str(BIN / "sagewiz"), *rest])
    elif cmd == "test":
        run([str(BIN / "ruff"), "check", "."])
        run([str(BIN / "lint-imports")])
        n = os.environ.get("SAGEWIZ_TEST_WORKERS", "2")
        code = subprocess.call([str(PY), "-m", "pytest", "-n", n, *rest], cwd=ROOT)
        sys.exit(code)
    elif cmd == "bench":
        if not rest:
            sys.exit("usage: python3 dev.py bench NAME  (see bench/)")
        os.execv(str(PY), [str(PY), str(ROOT / "bench" / rest[0] / "run.py"), *rest[1:]])
    else:
        sys.exit(f"unknown command {cmd!r}; see python3 dev.py --help")


if __name__ == "__main__":
    main(sys.argv[1:])
