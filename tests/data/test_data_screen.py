"""The Data step with keys (Pilot) against the sandbox, and snapshots of how it looks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from screens.data import DataStep
from tests.support import eventually, wait_connected
from tests.ui_text import shown
from tui.app import SagewizApp

SIZE = (120, 40)


async def opened(pilot: Any) -> DataStep:
    await wait_connected(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, DataStep)
    await eventually(pilot, lambda: bool(screen.query_one("#dest").value))
    return screen


async def test_copy_the_samples_then_rerun_copies_nothing(make_app, world, journal) -> None:
    app = make_app(start_step="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        assert screen.query_one("#source").value == f"s3://{world.sample_bucket}/{world.sample_prefix}"
        assert screen.query_one("#dest").value == f"s3://{world.default_bucket}/ground-truth-demo/images/"
        await pilot.press("c")
        await eventually(pilot, lambda: not screen.running and app.state.data_prefix)
        result = shown(screen.query_one("#data-result"))
        assert f"s3://{world.default_bucket}/ground-truth-demo/images/" in result
        assert f"s3://{world.default_bucket}/ground-truth-demo/output/" in result
        assert "console.aws.amazon.com/s3/buckets/" in result
        assert "Copied 50 file(s)" in shown(screen.query_one("#data-plan"))
        assert app.state.bucket == world.default_bucket
        assert any(e.kind == "choice" and e.data.get("data_prefix") for e in journal.read().entries)
        await pilot.press("c")
        await eventually(
            pilot, lambda: not screen.running and "skipped 50" in shown(screen.query_one("#data-plan"))
        )
        assert "Copied 0 file(s)" in shown(screen.query_one("#data-plan"))
    # the copy is journaled once (the rerun copied nothing), so Clean up lists the prefix with its size
    copied = [
        e.data
        for e in journal.read().entries
        if e.kind == "resource-created" and e.data["type"] == "s3-prefix"
    ]
    assert len(copied) == 1 and copied[0]["id"] == f"s3://{world.default_bucket}/ground-truth-demo/images/"
    assert copied[0]["files"] == 50 and copied[0]["bytes"] > 0


async def test_bad_input_is_explained_before_any_call(make_app) -> None:
    app = make_app(start_step="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        screen.query_one("#source").value = "/no/such/folder"
        await pilot.press("c")
        await pilot.pause()
        assert "does not exist" in shown(screen.query_one("#data-error"))
        assert not screen.running
        screen.query_one("#source").value = "s3://sagemaker-sample-files/x/"
        screen.query_one("#dest").value = "s3:/broken"
        await pilot.press("c")
        await pilot.pause()
        assert "Destination" in shown(screen.query_one("#data-error"))


async def test_missing_destination_bucket_says_so(make_app) -> None:
    app = make_app(start_step="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        screen.query_one("#dest").value = "s3://sagemaker-not-created-yet/images/"
        await pilot.press("c")
        await eventually(pilot, lambda: type(app.screen).__name__ == "ErrorScreen")
        assert (
            "does not exist" in shown(app.screen.query_one("#error-message"))
            or "destination" in str(app.screen.error.title).lower()
        )


async def test_access_denied_offers_the_doctor_with_the_fields(world, journal, tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.jpg").write_bytes(b"jpeg")
    app = SagewizApp(world.role_target(), sandbox=True, world=world, journal=journal, start_step="data")
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        screen.query_one("#source").value = str(tmp_path / "imgs")
        await pilot.press("c")
        await eventually(pilot, lambda: screen.denied is not None)
        text = shown(screen.query_one("#data-result"))
        assert "s3:PutObject" in text and "SageMaker-tt" in text
        assert f"arn:aws:s3:::{world.default_bucket}/ground-truth-demo/images/a.jpg" in text
        handed: list = []
        app.open_doctor = handed.append  # what the doctor receives (the doctor step is its own issue)
        await pilot.press("d")
        await pilot.pause()
        denied = handed[0]
        assert denied.action == "s3:PutObject" and denied.bucket == world.default_bucket
        assert denied.key == "ground-truth-demo/images/a.jpg" and denied.source_step == "data"


async def _copied(pilot: Any) -> None:
    screen = await opened(pilot)
    await pilot.press("c")
    await eventually(pilot, lambda: not screen.running and pilot.app.state.data_prefix)
    await pilot.pause()


async def _opened(pilot: Any) -> None:
    await opened(pilot)


def test_snapshot_before_copy(snap_compare: Any, make_app: Any) -> None:
    assert snap_compare(make_app(start_step="data"), terminal_size=SIZE, run_before=_opened)


def test_snapshot_after_copy(snap_compare: Any, make_app: Any) -> None:
    assert snap_compare(make_app(start_step="data"), terminal_size=SIZE, run_before=_copied)
