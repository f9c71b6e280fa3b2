"""The sandbox world's own process: `python -m services.sandbox.daemon [--port N]`.

Started detached by services.sandbox.persist (never by hand): boots the emulator, seeds the world,
records it in the state directory and serves until SIGTERM (`sagewiz sandbox stop`). Its output
goes to `sandbox.log` in the state directory: one line per start, stop, and emulator failure.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from services.sandbox.world import SandboxWorld


def serve(port: int, on_ready: Callable[[SandboxWorld], None], stop: threading.Event) -> None:
    """Boot, seed and record the world; call `on_ready`; serve until `stop` is set; then clean up.
    OSError / OverflowError from binding the port propagate before anything is recorded."""
    from services.sandbox import persist
    from services.sandbox.server import get_sandbox

    sb = get_sandbox()
    sb.start(port=port)
    try:
        world = sb.reset(seed=True)
        world = replace(world, started_at=datetime.now(UTC).isoformat(timespec="seconds"), pid=os.getpid())
        persist.write_record(world)
        try:
            on_ready(world)
            while not stop.wait(1.0):
                pass
        finally:
            persist.remove_record(os.getpid())
    finally:
        sb.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.sandbox.daemon")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s", force=True
    )
    log = logging.getLogger("sagewiz.sandbox")
    from services.sandbox import persist

    if persist.hold_daemon_lock() is None:
        # Two wizards started at once each start a process; only the first keeps the state dir.
        log.info(
            "another sandbox process already lives in this state directory; leaving it (pid %d)", os.getpid()
        )
        return 0
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    try:
        serve(args.port, lambda w: log.info("serving %s (pid %d)", w.endpoint, w.pid), stop)
    except (OSError, OverflowError) as exc:
        log.error("cannot listen on 127.0.0.1:%s: %s", args.port, getattr(exc, "strerror", None) or exc)
        return 2
    log.info("stopped (pid %d)", os.getpid())
    return 0


if __name__ == "__main__":
    sys.exit(main())
