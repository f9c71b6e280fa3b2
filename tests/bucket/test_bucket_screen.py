"""The Bucket step with keys (Pilot) against the sandbox, and snapshots of how it looks."""

from __future__ import annotations

from typing import Any

from screens.bucket import BucketStep
from services.buckets.ownership import BucketStatus
from services.sandbox.server import Sandbox
from services.sandbox.world import SandboxWorld
from tests.bucket.helpers import create_foreign_bucket
from tests.support import eventually, wait_connected
from tests.ui_text import shown
from tui.app import SagewizApp

SIZE = (120, 40)


async def checked(pilot: Any) -> BucketStep:
    await wait_connected(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, BucketStep)
    await eventually(pilot, lambda: screen.check is not None)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return screen


def app_on(world: SandboxWorld, journal: Any) -> SagewizApp:
    return SagewizApp(world.target(), sandbox=True, world=world, journal=journal, start_step="bucket")


async def test_seeded_bucket_is_found_owned_and_used(make_app, world, journal) -> None:
    app = make_app(start_step="bucket")
    async with app.run_test(size=SIZE) as pilot:
        screen = await checked(pilot)
        assert screen.check.status is BucketStatus.OWNED
        assert "belongs to your account" in shown(screen.query_one("#bucket-status"))
        facts = shown(screen.query_one("#bucket-facts"))
        assert "SSE-S3 (AES256)" in facts and "all four settings on" in facts
        await pilot.press("u")
        await pilot.pause()
        assert app.state.bucket == world.default_bucket
        assert any(
            e.kind == "choice" and e.data.get("bucket") == world.default_bucket
            for e in journal.read().entries
        )


async def test_new_user_creates_the_default_bucket(empty_world, journal) -> None:
    app = app_on(empty_world, journal)
    async with app.run_test(size=SIZE) as pilot:
        screen = await checked(pilot)
        assert screen.check.status is BucketStatus.MISSING
        await pilot.press("k")
        await eventually(pilot, lambda: type(app.screen).__name__ == "ConfirmPlanScreen")
        plan_text = shown(app.screen.query_one("#plan-text"))
        assert "Create bucket sagemaker-eu-north-1-123456789012 in eu-north-1" in plan_text
        assert "s3:CreateBucket" in plan_text
        await pilot.click("#apply")
        await eventually(pilot, lambda: app.state.bucket == empty_world.default_bucket)
        await eventually(
            pilot, lambda: screen.check is not None and screen.check.status is BucketStatus.OWNED
        )
        created = [e for e in journal.read().entries if e.kind == "resource-created"]
        assert created[0].data["id"] == empty_world.default_bucket


async def test_squatted_name_is_refused_and_another_offered(sandbox: Sandbox, empty_world, journal) -> None:
    create_foreign_bucket(sandbox, empty_world, empty_world.default_bucket)
    app = app_on(empty_world, journal)
    async with app.run_test(size=SIZE) as pilot:
        screen = await checked(pilot)
        assert screen.check.status is BucketStatus.OTHER_ACCOUNT
        text = shown(screen.query_one("#bucket-status"))
        assert "Owned by another AWS account" in text and "will not use it" in text
        await pilot.press("u")  # not offered: nothing happens
        assert app.state.bucket == ""
        await pilot.press("a")
        await eventually(pilot, lambda: screen.check is not None and screen.check.name.endswith("-data"))
        assert screen.check.status is BucketStatus.MISSING


async def test_the_sample_bucket_is_refused_as_your_bucket(make_app, world, journal) -> None:
    # As in AWS, sagemaker-sample-files belongs to another account (the sandbox's second one).
    app = make_app(start_step="bucket")
    async with app.run_test(size=SIZE) as pilot:
        screen = await checked(pilot)
        screen.query_one("#bucket-name").value = world.sample_bucket
        await pilot.pause()
        screen.query_one("#bucket-name").focus()
        await pilot.press("enter")
        await eventually(pilot, lambda: screen.check is not None and screen.check.name == world.sample_bucket)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.check.status is BucketStatus.OTHER_ACCOUNT
        text = shown(screen.query_one("#bucket-status"))
        assert "Owned by another AWS account" in text and "will not use it" in text
        assert "belongs to your account" not in text
        screen.set_focus(None)
        await pilot.press("u")  # not offered: nothing happens
        await pilot.pause()
        assert app.state.bucket != world.sample_bucket


async def test_bad_names_are_explained_before_any_call(make_app) -> None:
    app = make_app(start_step="bucket")
    async with app.run_test(size=SIZE) as pilot:
        screen = await checked(pilot)
        field = screen.query_one("#bucket-name")
        field.value = "My_Data"
        await pilot.pause()
        error = shown(screen.query_one("#name-error"))
        assert "lowercase letters" in error and "my_data" in error.lower()
        assert screen.check is None  # no check ran for a bad name
        field.value = "wiz-data"
        await pilot.pause()
        assert "AmazonSageMakerFullAccess" in shown(screen.query_one("#name-warning"))


async def _settle(pilot: Any) -> None:
    await checked(pilot)


def test_snapshot_owned_bucket(snap_compare: Any, make_app: Any) -> None:
    assert snap_compare(make_app(start_step="bucket"), terminal_size=SIZE, run_before=_settle)


def test_snapshot_missing_bucket(snap_compare: Any, empty_world, journal) -> None:
    assert snap_compare(app_on(empty_world, journal), terminal_size=SIZE, run_before=_settle)
