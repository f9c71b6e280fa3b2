"""`sagewiz sandbox serve | stop`: the sandbox world for the AWS CLI or a notebook, and its end.

`serve` prints the variables to export. If a world is already running (kept from an earlier
`sagewiz --sandbox` or `serve --background`), it prints that world's; `--fresh` seeds a new one.
In the foreground the world lives until Ctrl-C; with `--background` until `sagewiz sandbox stop`.
Either way it is recorded in the state directory, so `sagewiz --sandbox` meanwhile uses it too.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
import threading
from typing import Any

from services.sandbox.world import SandboxWorld


def run(args: argparse.Namespace) -> int:
    if args.sandbox_command == "stop":
        return _stop()
    return _serve(args)


def _when(world: SandboxWorld) -> str:
    return world.started_local("%Y-%m-%d %H:%M")


def _stop() -> int:
    from services.sandbox.persist import stop_world

    world = stop_world()
    if world is None:
        print("No sandbox world is running.")
    else:
        print(f"Stopped the sandbox world at {world.endpoint} (started {_when(world)}); its state is gone.")
    return 0


def exports(world: SandboxWorld) -> list[str]:
    """The lines to paste, values quoted for the shell."""
    q = shlex.quote
    lines = [
        "Export these to use it from other tools (sandbox-only keys of the emulator's admin user;",
        "they open nothing but this endpoint):",
        f"  export AWS_ENDPOINT_URL={q(world.endpoint)}",
        f"  export AWS_REGION={q(world.region)} AWS_DEFAULT_REGION={q(world.region)}",
        f"  export AWS_ACCESS_KEY_ID={q(world.admin.access_key)}",
        f"  export AWS_SECRET_ACCESS_KEY={q(world.admin.secret_key)}",
        "  unset AWS_SESSION_TOKEN AWS_PROFILE",
    ]
    if world.role_credentials is not None:
        role = world.role_credentials
        lines += [
            f"To act as the execution role {world.role_name} instead (IAM is enforced for it), export:",
            f"  export AWS_ACCESS_KEY_ID={q(role.access_key)}",
            f"  export AWS_SECRET_ACCESS_KEY={q(role.secret_key)}",
            f"  export AWS_SESSION_TOKEN={q(role.token or '')}",
            "or, as the admin, assume it yourself:",
            f"  aws sts assume-role --role-arn {q(world.role_arn)} --role-session-name me",
        ]
    return lines


def _print_world(world: SandboxWorld, how: str) -> None:
    print("sagewiz sandbox: embedded AWS emulator (moto). Nothing here reaches real AWS.")
    print(f"{how}: endpoint {world.endpoint}   region {world.region}   account {world.account}")
    for line in exports(world):
        print(line)


def _serve(args: argparse.Namespace) -> int:
    from services.sandbox import persist

    if persist.in_process_wanted() and args.background:
        print("sagewiz: --background needs the background world; unset SAGEWIZ_SANDBOX", file=sys.stderr)
        return 2
    if not args.fresh:
        running = persist.running_world()
        if running is not None:
            port = int(running.endpoint.rsplit(":", 1)[-1])
            if args.port and args.port != port:
                print(
                    f"sagewiz: a sandbox world already runs on port {port}; "
                    "`sagewiz sandbox stop` it first, or use it as it is",
                    file=sys.stderr,
                )
                return 2
            _print_world(running, f"Already running since {_when(running)} (pid {running.pid})")
            print("It keeps running until `sagewiz sandbox stop`.", flush=True)
            return 0
    if args.background:
        try:
            world = persist.connect_world(fresh=args.fresh, port=args.port)
        except Exception as exc:
            return _cannot_start(args.port, exc)
        _print_world(world, f"Started in the background (pid {world.pid})")
        print(f"It keeps running until `sagewiz sandbox stop` (log: {persist.log_path()}).", flush=True)
        return 0
    return _foreground(args)


def _cannot_start(port: int, exc: BaseException) -> int:
    if isinstance(exc, (OSError, OverflowError)):
        reason = getattr(exc, "strerror", None) or str(exc)
        print(f"sagewiz: cannot listen on 127.0.0.1:{port}: {reason}; pick another --port", file=sys.stderr)
        return 2
    from services.errors import SagewizError, translate

    err = exc if isinstance(exc, SagewizError) else translate(exc)
    print(f"sagewiz: {err.title}" + (f": {err.message}" if err.message else ""), file=sys.stderr)
    return 2


def _foreground(args: argparse.Namespace) -> int:
    from services.sandbox import daemon, persist

    if args.fresh:
        persist.stop_world()
    # One quiet line for each call the emulator cannot answer (it gets AWS's error shape).
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("sandbox: %(message)s"))
    log = logging.getLogger("sagewiz.sandbox")
    log.addHandler(handler)
    log.setLevel(logging.WARNING)
    stop = threading.Event()

    def ready(world: SandboxWorld) -> None:
        _print_world(world, "Serving")
        print("`sagewiz --sandbox` uses this world while it runs. Press Ctrl-C to stop.", flush=True)

    try:
        _wait_interruptibly(lambda: daemon.serve(args.port, ready, stop), stop)
    except (OSError, OverflowError) as exc:
        return _cannot_start(args.port, exc)
    print("sandbox stopped.")
    return 0


def _wait_interruptibly(body: Any, stop: threading.Event) -> None:
    """Run `body` (which serves until `stop`) and turn Ctrl-C into `stop`."""
    errors: list[BaseException] = []
    done = threading.Event()  # waited on, not Thread.join: a join cut short by Ctrl-C (Python
    # 3.11) can leave the thread reported as ended, and the process would exit mid-cleanup

    def target() -> None:
        try:
            body()
        except BaseException as exc:  # handed to the main thread
            errors.append(exc)
        finally:
            done.set()

    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())  # `kill` stops it cleanly too
    threading.Thread(target=target, name="sandbox-serve", daemon=True).start()
    try:
        while not done.wait(0.2):
            pass
    except KeyboardInterrupt:
        stop.set()
        done.wait(30)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if errors:
        raise errors[0]
