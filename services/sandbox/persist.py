"""A sandbox world that outlives one run of sagewiz.

`sagewiz --sandbox` (and every subcommand with `--sandbox`) calls `connect_world()`. It looks for
the world recorded in the state directory (`sandbox.json` beside the journal), checks that its
server answers as the world's admin (sts:GetCallerIdentity), and reuses it. When there is none, it
starts one: a detached background process (`python -m services.sandbox.daemon`) that boots the
emulator, seeds the world, records it and keeps serving until `sagewiz sandbox stop`. Training,
tuning and labeling jobs run as threads of that process, beside the emulator they talk to, so they
keep running between runs of the wizard too. `fresh=True` stops the recorded world and seeds a new
one.

The record holds the endpoint, the server's process id and the world, including its sign-in keys.
Those are keys of the emulator's own users: they open nothing but that endpoint on this machine,
and are not AWS credentials. The file is still written with mode 0600 (the state directory 0700),
and it is removed when the world stops.

`SAGEWIZ_SANDBOX=inprocess` keeps the old behaviour: a world inside this process, seeded fresh and
gone when it exits (the test suite uses it; so can anyone who wants no background process).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from services.errors import ConnectError
from services.sandbox.world import SandboxWorld
from services.session import StaticCredentials

RECORD = "sandbox.json"
LOG = "sandbox.log"
LOCK = "sandbox.lock"
DAEMON_LOCK = "sandbox.daemon.lock"  # held by the world's process for as long as it lives
START_TIMEOUT = 120.0  # seeding takes a few seconds; a loaded machine may take much longer
_children: list[subprocess.Popen[bytes]] = []  # servers this process started (reaped on stop)


def state_dir() -> Path:
    from services.journal import default_path

    return default_path().parent


def record_path() -> Path:
    return state_dir() / RECORD


def log_path() -> Path:
    return state_dir() / LOG


def in_process_wanted() -> bool:
    return os.environ.get("SAGEWIZ_SANDBOX", "").strip().lower() in {"inprocess", "in-process"}


# -- the record -------------------------------------------------------------------------------
def write_record(world: SandboxWorld) -> Path:
    """Record a running world (atomically; mode 0600)."""
    path = record_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    doc = {"version": 1, "world": asdict(world)}
    tmp = path.with_name(f".{RECORD}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps(doc, indent=1).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def read_record() -> SandboxWorld | None:
    """The recorded world, or None (no file, or one this version cannot read)."""
    try:
        doc = json.loads(record_path().read_text(encoding="utf-8"))
        w = dict(doc["world"])
        w["admin"] = StaticCredentials(**w["admin"])
        if w.get("role_credentials"):
            w["role_credentials"] = StaticCredentials(**w["role_credentials"])
        fields = SandboxWorld.__dataclass_fields__
        return SandboxWorld(**{k: v for k, v in w.items() if k in fields})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove_record(pid: int | None = None) -> None:
    """Remove the record (only if it is still the one of `pid`, when given)."""
    if pid is not None:
        current = read_record()
        if current is not None and current.pid != pid:
            return
    with contextlib.suppress(FileNotFoundError):
        record_path().unlink()


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    """One sagewiz at a time decides whether to start a world (two at once would start two)."""
    import fcntl

    path = state_dir() / LOCK
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _daemon_lock_fd() -> int:
    path = state_dir() / DAEMON_LOCK
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


def hold_daemon_lock() -> int | None:
    """For the world's process: claim the state directory for as long as this process lives (the
    kernel releases it when the process ends, however it ends). None: another process holds it."""
    import fcntl

    fd = _daemon_lock_fd()
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def daemon_alive() -> bool:
    """Whether a world's process lives in this state directory (recorded yet or still seeding)."""
    import fcntl

    fd = _daemon_lock_fd()
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _wait_for_booting(timeout: float = START_TIMEOUT) -> SandboxWorld | None:
    """A world's process started by another sagewiz is still seeding: wait for its record."""
    deadline = time.monotonic() + timeout
    while daemon_alive() and time.monotonic() < deadline:
        world = read_record()
        if world is not None and pid_alive(world.pid) and answers(world):
            return world
        time.sleep(0.05)
    return None


# -- processes --------------------------------------------------------------------------------
def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    for child in _children:
        if child.pid == pid:
            return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):  # a zombie has ended; only its parent has not looked
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _is_our_server(pid: int) -> bool:
    """Whether `pid` runs sagewiz's sandbox daemon (guards against a recycled process id)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid_alive(pid)  # no /proc (macOS): trust the record, which the server removes on exit
    # The background daemon, or a `sagewiz sandbox serve` in some terminal's foreground.
    return b"services.sandbox.daemon" in cmdline or (b"sandbox\x00serve" in cmdline)


def answers(world: SandboxWorld, timeout: float = 3.0) -> bool:
    """Whether the world's server answers as the world's admin (one sts:GetCallerIdentity)."""
    import boto3
    from botocore.config import Config

    try:
        sts = boto3.client(
            "sts",
            region_name=world.region,
            endpoint_url=world.endpoint,
            aws_access_key_id=world.admin.access_key,
            aws_secret_access_key=world.admin.secret_key,
            config=Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1}),
        )
        return bool(sts.get_caller_identity().get("Arn") == world.admin_arn)
    except Exception:
        return False


def running_world() -> SandboxWorld | None:
    """The recorded world if its server still answers; a stale record is removed."""
    world = read_record()
    if world is None:
        return None
    if pid_alive(world.pid) and answers(world):
        return world
    if pid_alive(world.pid) and _is_our_server(world.pid):
        # It is ours but does not answer (hung, or still starting after a crash): end it.
        _terminate(world.pid, 5.0)
    remove_record(world.pid)
    return None


def _terminate(pid: int, timeout: float) -> bool:
    """SIGTERM, wait (bounded), then SIGKILL. True when the process has ended."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            kill_deadline = time.monotonic() + 5.0
            while pid_alive(pid) and time.monotonic() < kill_deadline:
                time.sleep(0.05)
            break
        time.sleep(0.05)
    for child in list(_children):
        if child.pid == pid:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(1)
            _children.remove(child)
    return not pid_alive(pid)


def stop_world() -> SandboxWorld | None:
    """Stop the recorded world's server and forget it. Returns the world stopped (None: none ran)."""
    with _locked():
        world = read_record() or _wait_for_booting()
        if world is None:
            return None
        if pid_alive(world.pid) and _is_our_server(world.pid):
            _terminate(world.pid, 15.0)
        remove_record()
        return world


def _spawn(port: int) -> subprocess.Popen[bytes]:
    """Start the detached server process (it seeds the world and records it)."""
    directory = state_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    log = log_path()
    with open(log, "ab") as out:
        os.chmod(log, 0o600)
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.sandbox.daemon", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,  # not in the terminal's process group: survives the wizard's exit
            close_fds=True,
            env={**os.environ, "SAGEWIZ_STATE_DIR": str(directory)},
        )
    _children.append(proc)
    return proc


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> SandboxWorld:
    """Wait until the process started by `_spawn` has recorded its world and answers."""
    log = log_path()
    deadline = time.monotonic() + timeout
    while True:
        world = read_record()
        if world is not None and world.pid == proc.pid and answers(world):
            return world
        code = proc.poll()
        if code is not None:
            _children.remove(proc)
            raise ConnectError(
                "sandbox-failed",
                "The sandbox could not start",
                _last_line(log) or f"its server process ended with code {code}",
                f"See {log}; `sagewiz --sandbox` tries again.",
            )
        if time.monotonic() > deadline:
            _terminate(proc.pid, 5.0)
            raise ConnectError(
                "sandbox-failed",
                "The sandbox did not start in time",
                f"Its server did not answer within {int(timeout)} s.",
                f"See {log}; the machine may be busy: try again.",
            )
        time.sleep(0.05)


def start_background(port: int = 0, timeout: float = START_TIMEOUT) -> SandboxWorld:
    """Start a detached server process that seeds a world and records it; wait until it answers."""
    if port:
        from services.sandbox.server import check_free

        check_free("127.0.0.1", port)  # OSError now, in one line, rather than from the child's log
    return _wait(_spawn(port), timeout)


_prestarted: subprocess.Popen[bytes] | None = None


def prestart() -> None:
    """Start the world's process now if none is recorded, so that it boots and seeds while the
    wizard draws its first screen; `connect_world` then waits for it instead of starting another.
    Cheap on purpose (it runs before the first screen): reads the record and checks one process id,
    never talks to a server."""
    global _prestarted
    if in_process_wanted() or (_prestarted is not None and _prestarted.poll() is None):
        return
    with _locked():
        world = read_record()
        if (world is not None and pid_alive(world.pid)) or daemon_alive():
            return  # connect_world checks that it answers (and replaces it if not)
        _prestarted = _spawn(0)


def _last_line(path: Path) -> str:
    with contextlib.suppress(OSError):
        lines = [x for x in path.read_text(errors="replace").splitlines() if x.strip()]
        # "2026-01-02 10:20:38,913 sagewiz.sandbox: cannot listen ..." -> "cannot listen ..."
        return lines[-1].split(": ", 1)[-1][:300] if lines else ""
    return ""


def connect_world(fresh: bool = False, port: int = 0) -> SandboxWorld:
    """The sandbox world to use: the running one (resumed), or a newly seeded one (fresh)."""
    if in_process_wanted():
        from services.sandbox.server import boot

        return boot(port)
    with _locked():
        if fresh:
            if read_record() is None:
                _wait_for_booting()  # one still seeding is recorded first, so that it can be stopped
            old = read_record()
            if old is not None:
                if pid_alive(old.pid) and _is_our_server(old.pid):
                    _terminate(old.pid, 15.0)
                remove_record()
        else:
            global _prestarted
            pending, _prestarted = _prestarted, None
            world = running_world()
            if world is not None:
                # The world prestart() began a moment ago is a fresh one, not a resumed one.
                return (
                    world
                    if pending is not None and world.pid == pending.pid
                    else replace(world, resumed=True)
                )
            if pending is not None and pending.poll() is None and not port:
                return _wait(pending, START_TIMEOUT)
            booting = _wait_for_booting()  # begun by another sagewiz a moment ago
            if booting is not None:
                return booting
        return start_background(port)


def describe(world: SandboxWorld) -> dict[str, Any]:
    """What `sandbox serve` and the Connect step say about where the world lives."""
    return {
        "endpoint": world.endpoint,
        "pid": world.pid,
        "started_at": world.started_at,
        "resumed": world.resumed,
        "record": str(record_path()),
        "log": str(log_path()),
    }
