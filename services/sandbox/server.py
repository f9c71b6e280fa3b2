"""The embedded AWS: moto's server in this process on a free loopback port, extended and seeded.

moto keeps its state in module globals, so there is one Sandbox per process (`get_sandbox`).
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from typing import Any

from services.sandbox.world import SANDBOX_ACCOUNT, SandboxWorld, set_serving_endpoint


def check_free(host: str, port: int) -> None:
    """Raise OSError when the port cannot be bound (werkzeug would print and exit instead)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server's own socket does
        s.bind((host, port))


class Sandbox:
    def __init__(self) -> None:
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.endpoint = ""
        self.world: SandboxWorld | None = None

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Start the server once (idempotent); returns the endpoint URL."""
        with self._lock:
            if self._server is not None:
                return self.endpoint
            os.environ.setdefault("MOTO_ACCOUNT_ID", SANDBOX_ACCOUNT)
            from moto.core.config import default_user_config

            # AmazonSageMakerFullAccess and friends must exist for the role step to offer them.
            default_user_config.setdefault("iam", {})["load_aws_managed_policies"] = True
            from moto.moto_server.werkzeug_app import (
                DomainDispatcherApplication,
                MotoRequestHandler,
                create_backend_app,
            )
            from werkzeug.serving import make_server

            from services.sandbox.extensions import install_all
            from services.sandbox.faults import shield

            install_all()
            # The request log would scribble over the TUI; failures are answered in AWS's error
            # shape (services.sandbox.faults) and logged as one line, never as a traceback.
            logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
            app = shield(DomainDispatcherApplication(create_backend_app))
            # Bound here, in the caller's thread, so a port in use (OSError) or out of range
            # (OverflowError) is raised to the caller at once. moto's ThreadedMotoServer binds in
            # its thread and then waits forever for a readiness event that never comes.
            if port:
                check_free(host, port)
            try:
                server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
            except SystemExit as exc:  # werkzeug exits when the port is taken (a race with the check)
                raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE)) from exc
            thread = threading.Thread(target=server.serve_forever, name="sandbox-server", daemon=True)
            thread.start()
            bound_host, bound_port = server.server_address[:2]
            if isinstance(bound_host, (bytes, bytearray)):  # typeshed allows it; a bound socket says str
                bound_host = bound_host.decode()
            self._server = server
            self._thread = thread
            self.endpoint = f"http://{bound_host}:{bound_port}"
            set_serving_endpoint(self.endpoint)
            return self.endpoint

    def stop(self) -> None:
        with self._lock:
            if self._server is not None:
                from services.sandbox import jobs

                jobs.cancel_all()
                self._server.shutdown()
                self._server.server_close()
                if self._thread is not None:
                    self._thread.join(5)
                self._server = None
                self._thread = None

    def set_auth(self, enforce: bool) -> None:
        """Switch moto's IAM enforcement (process-wide)."""
        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin

        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0 if enforce else float("inf")
        ActionAuthenticatorMixin.request_count = 0

    def reset(self, seed: bool = True, load_managed_policies: bool = True) -> SandboxWorld:
        """Wipe every emulated resource and build the world again (seeded or empty)."""
        from moto.core.config import default_user_config

        from services.sandbox import jobs

        self.start()
        jobs.cancel_all()
        self.set_auth(False)
        default_user_config.setdefault("iam", {})["load_aws_managed_policies"] = load_managed_policies
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        from services.sandbox.seed import seed_world

        self.world = seed_world(self.endpoint, full=seed)
        self.set_auth(True)
        return self.world


_sandbox: Sandbox | None = None
_singleton_lock = threading.Lock()


def get_sandbox() -> Sandbox:
    global _sandbox
    with _singleton_lock:
        if _sandbox is None:
            _sandbox = Sandbox()
        return _sandbox


def boot(port: int = 0) -> SandboxWorld:
    """Start the embedded AWS and seed it; what `sagewiz --sandbox` calls."""
    from dataclasses import replace
    from datetime import UTC, datetime

    sb = get_sandbox()
    sb.start(port=port)
    world = sb.reset(seed=True)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    return replace(world, started_at=started, pid=os.getpid(), in_process=True)
