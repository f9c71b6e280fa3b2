"""Shared fixtures: an isolated environment, the embedded AWS, and the App wired to it.

Every test talks to a real moto server over HTTP (never `mock_aws`: the two share moto's global
state and must not be mixed). One server per test process; each test gets a freshly reset world.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from services.journal import Journal
from services.sandbox.server import Sandbox, get_sandbox
from services.sandbox.world import SandboxWorld
from services.session import SessionFactory
from tests.faultproxy import FaultProxy
from tests.support import eventually
from tests.tlscerts import TlsFiles, make_tls

# A proxy or CA bundle in the developer's shell would route or verify the calls to the local sandbox
# differently than on CI; proxy variables are read in either case, so both are cleared.
_NETWORK_VARS = (
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy",
    "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE",
)  # fmt: skip


def foreign_env_vars() -> list[str]:
    """Variables of the surrounding shell that could steer boto3: every AWS_* one (botocore keeps
    adding them: per-service endpoints, FIPS, dual-stack, retries...) and the network ones."""
    return sorted(v for v in os.environ if v.startswith("AWS_") or v in _NETWORK_VARS)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the real AWS config, credentials, journal and network settings out of every test."""
    for var in foreign_env_vars():
        monkeypatch.delenv(var)
    aws = tmp_path / "aws"
    aws.mkdir()
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("SAGEWIZ_STATE_DIR", str(tmp_path / "state"))
    # `--sandbox` uses this process's sandbox (the `sandbox` fixture), not a background world;
    # tests of the kept world (tests/test_sandbox_persist.py) lift this.
    monkeypatch.setenv("SAGEWIZ_SANDBOX", "inprocess")
    return aws


@pytest.fixture(autouse=True)
def stable_endpoint_display(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test process has its own sandbox port; screens show one fixed value so snapshots match."""
    import re

    import tui.widgets.header as header

    original = header.format_endpoint
    monkeypatch.setattr(
        header, "format_endpoint", lambda url: re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:4566", original(url))
    )


@pytest.fixture(autouse=True)
def clicks_wait_for_the_button_effect(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Button ignores clicks for 0.2 s after a press (its "-active" effect). A person never
    clicks that fast; a test can, when the work it triggered finished in under 0.2 s. So a
    click on a button still showing the effect waits (bounded) until it is clickable again."""
    from textual.pilot import Pilot
    from textual.widgets import Button

    original = Pilot.click

    async def click(self: Any, widget: Any = None, *args: Any, **kwargs: Any) -> bool:
        target = widget
        if isinstance(widget, str | type):
            try:
                target = self.app.screen.query_one(widget)
            except Exception:
                target = None
        # Only a Button's "-active" is the short press effect; a Tab keeps "-active" while selected.
        if isinstance(target, Button):
            await eventually(
                self, lambda: not target.has_class("-active"), 2.0, what=f"{target} to be clickable"
            )
        return await original(self, widget, *args, **kwargs)

    monkeypatch.setattr(Pilot, "click", click)


def _port() -> int:
    # A fixed port per xdist worker keeps the endpoint (shown in the header) stable in snapshots.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    port = 45100 + int(worker.removeprefix("gw") or 0)
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    sb = get_sandbox()
    sb.start(port=_port())
    yield sb


@pytest.fixture
def fault_proxy(sandbox: Sandbox) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of this process's sandbox (tests/faultproxy.py says how to
    use it): `fault_proxy.url` as the endpoint or as HTTP_PROXY; faults, throttle and the request
    log are per test. Stopped at the end of the test."""
    with FaultProxy(upstream=sandbox.endpoint) as proxy:
        yield proxy


@pytest.fixture
def tls_files(tmp_path: Path) -> TlsFiles:
    """A throwaway CA (`.ca`, for AWS_CA_BUNDLE) and a certificate for 127.0.0.1 (`.cert`, `.key`)."""
    return make_tls(tmp_path / "tls")


@pytest.fixture
def https_fault_proxy(sandbox: Sandbox, tls_files: TlsFiles) -> Iterator[FaultProxy]:
    """The fault proxy as an HTTPS endpoint (https://127.0.0.1:port) for this process's sandbox,
    trusted only through `tls_files.ca`."""
    with FaultProxy(upstream=sandbox.endpoint, certfile=tls_files.cert, keyfile=tls_files.key) as proxy:
        yield proxy


@pytest.fixture
def world(sandbox: Sandbox) -> SandboxWorld:
    """The seeded world (the seed's broken setup), IAM enforced."""
    return sandbox.reset(seed=True)


@pytest.fixture
def empty_world(sandbox: Sandbox) -> SandboxWorld:
    """An empty account with only the admin caller, IAM enforced; no managed policies loaded."""
    return sandbox.reset(seed=False, load_managed_policies=False)


@pytest.fixture
def factory(world: SandboxWorld) -> SessionFactory:
    return SessionFactory(world.target())


@pytest.fixture
def role_factory(world: SandboxWorld) -> SessionFactory:
    """Signs as the execution role SageMaker-tt."""
    return SessionFactory(world.role_target())


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "state" / "journal.jsonl")


@pytest.fixture
def make_app(world: SandboxWorld, journal: Journal) -> Callable[..., Any]:
    """Build the App connected to the seeded sandbox; `start_step` opens a step directly."""
    from tui.app import SagewizApp

    def build(start_step: str = "connect", **kw: Any) -> SagewizApp:
        return SagewizApp(
            world.target(), sandbox=True, world=world, journal=journal, start_step=start_step, **kw
        )

    return build
