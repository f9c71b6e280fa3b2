#!/usr/bin/env python3
"""Bootstrap and run sagewiz from a checkout with nothing but Python 3.11+.

    python3 dev.py sandbox      start the wizard against the embedded AWS (no account needed)
    python3 dev.py test         run the whole test suite (lint, format, import layers, types, pytest)
    python3 dev.py run ARGS     run `sagewiz ARGS` from the checkout's virtual environment
    python3 dev.py bench NAME   run a benchmark from bench/
    python3 dev.py lock         re-resolve requirements.lock (add --upgrade for the newest versions)

It creates `.venv/` beside this file on first use and installs exactly `requirements.lock`: every
package, direct and transitive, at one version with its hashes (pip --require-hashes), then the
project itself without resolving anything. It reinstalls only when the lock changes.

The lock is made by uv (`uv pip compile --universal`): one file for every supported Python version
and platform, readable by plain pip, so a fresh machine needs nothing but Python to install it.
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
LOCK = ROOT / "requirements.lock"
# The extras the lock covers; the README's commands install all of them.
EXTRAS = ("test", "bench")
# uv only makes the lock; installing it needs nothing but pip.
UV = "uv==0.13.8"
LOCK_ENV = ROOT / ".lock-tools"


def inputs_digest() -> str:
    """A digest of what the lock was resolved from: pyproject's dependency lists and build requirements.

    The lock records it in its header; tests/test_lock.py fails when they disagree."""
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    inputs = {
        "build": sorted(data["build-system"]["requires"]),
        "dependencies": sorted(data["project"]["dependencies"]),
        "extras": {e: sorted(data["project"]["optional-dependencies"][e]) for e in EXTRAS},
        "requires-python": data["project"]["requires-python"],
    }
    import json

    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def ensure_env() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older python3
        sys.exit(f"sagewiz needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    want = hashlib.sha256(LOCK.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want and PY.exists():
        return
    if not PY.exists():
        print("sagewiz: creating the virtual environment in .venv (first run only) …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("sagewiz: installing the locked dependencies (first run, or the lock changed) …", flush=True)
    # --no-deps: the lock already lists every transitive dependency; nothing is resolved here.
    pip = [str(PY), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"]
    run([*pip, "--require-hashes", "-r", str(LOCK)])
    # The build tools come from the lock too (no isolated build pulling unpinned setuptools).
    run([*pip, "--no-build-isolation", "--config-settings", "editable_mode=compat", "-e", "."])
    STAMP.write_text(want)


def lock(upgrade: bool) -> None:
    """Re-resolve requirements.lock from pyproject.toml with uv; the whole suite must pass afterwards."""
    import tomllib

    tool_py = LOCK_ENV / BIN.name / PY.name
    if not tool_py.exists():
        venv.EnvBuilder(with_pip=True).create(LOCK_ENV)
    run([str(tool_py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", UV])
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    build_in = LOCK_ENV / "build-requirements.in"
    # pip is locked too: the install upgrades the venv's bundled pip to this exact, hashed version.
    build_in.write_text("\n".join([*data["build-system"]["requires"], "pip"]) + "\n")
    cmd = [
        str(LOCK_ENV / BIN.name / "uv"), "pip", "compile", "--quiet", "--universal", "--generate-hashes",
        "--python-version", "3.11", "--no-header", "--fork-strategy", "fewest",
        *[a for e in EXTRAS for a in ("--extra", e)],
        "pyproject.toml", str(build_in.relative_to(ROOT)), "-o", str(LOCK.relative_to(ROOT)),
    ]  # fmt: skip
    if upgrade:
        cmd.append("--upgrade")
    run(cmd)
    body = LOCK.read_text(encoding="utf-8").replace(
        str(build_in.relative_to(ROOT)), "build-requirements (pyproject [build-system] + pip)"
    )
    LOCK.write_text(
        "# requirements.lock: every dependency of sagewiz, pinned with hashes, for Python 3.11+ on every platform.\n"
        "# Made by `python3 dev.py lock` (uv pip compile --universal); installed by dev.py with pip --require-hashes.\n"
        "# After `python3 dev.py lock --upgrade`, the whole suite must pass (`python3 dev.py test`) before committing.\n"
        f"# sagewiz-inputs-sha256: {inputs_digest()}\n" + body,
        encoding="utf-8",
    )
    print(f"sagewiz: wrote {LOCK.name}; now run `python3 dev.py test` on it before committing.")


def run(cmd: list[str], **kw: object) -> None:
    code = subprocess.call(cmd, cwd=ROOT, **kw)  # type: ignore[arg-type]
    if code != 0:
        sys.exit(code)


def main(argv: list[str]) -> None:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return
    cmd, rest = argv[0], argv[1:]
    if cmd == "lock":
        lock(upgrade="--upgrade" in rest)
        return
    ensure_env()
    if cmd == "sandbox":
        os.execv(str(BIN / "sagewiz"), [str(BIN / "sagewiz"), "--sandbox", *rest])
    elif cmd == "run":
        os.execv(str(BIN / "sagewiz"), [str(BIN / "sagewiz"), *rest])
    elif cmd == "test":
        run([str(BIN / "ruff"), "check", "."])
        run([str(BIN / "ruff"), "format", "--check", "."])
        run([str(BIN / "lint-imports")])
        run([str(BIN / "mypy")])
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
