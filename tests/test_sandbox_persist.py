"""The sandbox world outlives one run: a real background server, found again, started over, stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.sandbox import persist
from services.sandbox.world import SandboxWorld
from services.session import AwsTarget, SessionFactory
from tests.support import eventually, eventually_blocking
from tests.ui_text import shown

BIN = Path(sys.executable).parent


@pytest.fixture
def background(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Lift the suite's in-process sandbox; stop whatever world the test started."""
    monkeypatch.delenv("SAGEWIZ_SANDBOX", raising=False)
    monkeypatch.setenv("SAGEWIZ_SANDBOX_PACE", "0")
    try:
        yield
    finally:
        persist.stop_world()


def _sagewiz(*args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in another process, with this test's environment."""
    return subprocess.run(
        [str(BIN / "sagewiz"), *args],
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _buckets(world: SandboxWorld) -> list[str]:
    return [b["Name"] for b in SessionFactory(world.target()).client("s3").list_buckets()["Buckets"]]


def test_the_world_is_found_again_started_over_and_stopped(background: None) -> None:
    first = persist.connect_world()
    assert not first.resumed and persist.pid_alive(first.pid) and first.pid != os.getpid()
    assert persist.record_path().stat().st_mode & 0o777 == 0o600
    SessionFactory(first.target()).client("s3").create_bucket(
        Bucket="kept-bucket", CreateBucketConfiguration={"LocationConstraint": first.region}
    )

    again = persist.connect_world()
    assert again.resumed and (again.pid, again.endpoint) == (first.pid, first.endpoint)
    assert "kept-bucket" in _buckets(again)
    assert again.origin().startswith("resumed world (started ")

    # Another process (the real CLI) finds the same world.
    done = _sagewiz("sandbox", "serve")
    assert done.returncode == 0 and f"(pid {first.pid})" in done.stdout and "Already running" in done.stdout

    fresh = persist.connect_world(fresh=True)
    assert not fresh.resumed and fresh.pid != first.pid
    assert not persist.pid_alive(first.pid)
    assert "kept-bucket" not in _buckets(fresh) and fresh.default_bucket in _buckets(fresh)

    done = _sagewiz("sandbox", "stop")
    assert done.returncode == 0 and "Stopped the sandbox world" in done.stdout
    assert not persist.pid_alive(fresh.pid) and not persist.record_path().exists()
    done = _sagewiz("sandbox", "stop")
    assert done.returncode == 0 and "No sandbox world is running." in done.stdout


def test_a_record_whose_server_is_gone_is_replaced(background: None) -> None:
    first = persist.connect_world()
    persist._terminate(first.pid, 10)  # the server died (reboot, kill) but its record stayed
    persist.write_record(first)
    second = persist.connect_world()
    assert not second.resumed and second.pid != first.pid and persist.pid_alive(second.pid)


async def test_the_wizard_says_whether_the_world_was_resumed_or_fresh(background: None, journal) -> None:  # noqa: ANN001
    from tui.app import SagewizApp

    kept = persist.connect_world()
    app = SagewizApp(AwsTarget(sandbox=True), sandbox=True, journal=journal)
    async with app.run_test(size=(140, 40)) as pilot:
        await eventually(pilot, lambda: app.identity is not None, 60)
        await pilot.pause()
        assert app.world.pid == kept.pid and app.world.resumed
        badge = str(app.screen.query_one("#hdr-sandbox").render())
        assert "SANDBOX · resumed world (started" in badge
        text = " ".join(shown(app.screen.query_one("#connect-status")).split())
        assert "Resumed the world seeded" in text and f"(process {kept.pid})" in text

    app = SagewizApp(AwsTarget(sandbox=True), sandbox=True, journal=journal, fresh=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await eventually(pilot, lambda: app.identity is not None, 90)
        await pilot.pause()
        assert app.world.pid != kept.pid and not app.world.resumed
        assert str(app.screen.query_one("#hdr-sandbox").render()) == "SANDBOX · fresh world"


def test_prestart_boots_the_world_once_and_the_wizard_connects_to_it_as_fresh(background: None) -> None:
    persist.prestart()  # what `sagewiz --sandbox` does before its first screen
    started = persist._prestarted
    assert started is not None and started.poll() is None
    persist.prestart()  # called again while it boots: still the one process
    assert persist._prestarted is started
    world = persist.connect_world()
    assert world.pid == started.pid and not world.resumed  # a world begun a moment ago is fresh
    assert world.default_bucket in _buckets(world)
    persist.prestart()  # recorded and alive: nothing new is started
    assert persist._prestarted is None
    again = persist.connect_world()
    assert again.resumed and again.pid == world.pid


def test_two_starts_at_once_leave_one_world_process(background: None) -> None:
    """Two wizards started together (or one quit before it connected) must not orphan a server."""
    first = persist._spawn(0)

    def claimed() -> bool:
        assert first.poll() is None, "the first world process ended"
        return persist.daemon_alive()

    # the first has claimed the state directory (still seeding)
    eventually_blocking(claimed, 60, what="the first world to claim the state directory", every=0.02)
    second = persist._spawn(0)  # what a second sagewiz would start before the first has recorded
    assert second.wait(60) == 0  # it finds the state directory claimed and leaves
    world = persist.connect_world()  # waits for the one still seeding
    assert world.pid == first.pid and persist.daemon_alive()
    persist.prestart()  # a world lives here: nothing new is started
    assert persist._prestarted is None
    persist.stop_world()
    assert first.wait(30) is not None and not persist.daemon_alive()
