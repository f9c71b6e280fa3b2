"""How the Labels screens look: builder, preview, live panel, results (half-block images, frozen
sandbox clock, so every SVG is deterministic)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from screens.labels_builder import LabelsBuilderScreen
from screens.labels_live import LiveJobScreen
from screens.labels_preview import PreviewScreen
from screens.labels_results import ResultsScreen
from services.labeling import jobs, rules
from services.labeling.request import PUBLIC, JobSpec, Workforce
from services.labeling.setup import build_setup_plan
from services.plan import apply_plan
from services.sandbox.extensions import labeling as ext
from tests.support import eventually, wait_connected

from .helpers import copy_samples, fix_role, wait_job_done
from .test_screens import fill_mturk, text

SIZE = (120, 40)
FROZEN = datetime(2026, 11, 27, 9, 30, 0, 123456, tzinfo=UTC)


@pytest.fixture
def frozen_sandbox_clock() -> None:
    ext.configure(clock=lambda: FROZEN)


def run_job(factory: Any, world: Any, journal: Any) -> jobs.JobStatus:
    prefix = copy_samples(factory, world, 12)
    fix_role(factory, world)
    lam = rules.TaskLambdas("arn:aws:lambda:eu-north-1:123456789012:function:PRE-ImageMultiClass",
                            "arn:aws:lambda:eu-north-1:123456789012:function:ACS-ImageMultiClass", False)  # fmt: skip
    spec = JobSpec(region=world.region, role_arn=world.role_arn, lambdas=lam, workers_per_object=3,
                   workforce=Workforce(PUBLIC, 36, True, True, True))  # fmt: skip
    apply_plan(build_setup_plan(factory, spec, prefix).plan, factory, journal)
    return wait_job_done(factory, spec.job_name)


async def builder_ready(pilot: Any) -> LabelsBuilderScreen:
    await wait_connected(pilot)
    await pilot.press("j")
    await eventually(pilot, lambda: isinstance(pilot.app.screen, LabelsBuilderScreen))
    screen = pilot.app.screen
    await eventually(pilot, lambda: "images found" in text(pilot.app, "#images-note"))
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return screen  # type: ignore[return-value]


def test_snapshot_builder(snap_compare: Any, make_app: Any, factory: Any, world: Any) -> None:
    copy_samples(factory, world, 12)

    async def ready(pilot: Any) -> None:
        screen = await builder_ready(pilot)
        await fill_mturk(pilot, screen)
        screen.set_focus(None)
        await pilot.pause()

    assert snap_compare(make_app(start_step="labels"), terminal_size=SIZE, run_before=ready)


def test_snapshot_builder_workforce_160x48(
    snap_compare: Any, make_app: Any, factory: Any, world: Any
) -> None:
    """The Mechanical Turk price and workers row: each label apart from its Select."""
    copy_samples(factory, world, 12)

    async def ready(pilot: Any) -> None:
        screen = await builder_ready(pilot)
        await fill_mturk(pilot, screen)
        screen.set_focus(None)
        screen.query_one("#cost").scroll_visible(animate=False, top=False)
        await pilot.pause()
        workers_label = screen.query_one("#mturk .inline-label")
        workers = screen.query_one("#workers")
        assert workers_label.content_region.right < workers.region.x  # a gap, not "Workers per image1"

    assert snap_compare(make_app(start_step="labels"), terminal_size=(160, 48), run_before=ready)


def test_snapshot_preview(snap_compare: Any, make_app: Any, factory: Any, world: Any) -> None:
    copy_samples(factory, world, 12)

    async def ready(pilot: Any) -> None:
        screen = await builder_ready(pilot)
        await fill_mturk(pilot, screen)
        await pilot.press("ctrl+r")
        await eventually(pilot, lambda: isinstance(pilot.app.screen, PreviewScreen))
        preview = pilot.app.screen
        await eventually(pilot, lambda: preview.query_one("#preview-image").image is not None)
        await pilot.pause()

    assert snap_compare(make_app(start_step="labels"), terminal_size=SIZE, run_before=ready)


def test_snapshot_live_panel(snap_compare: Any, make_app: Any, factory: Any, world: Any, journal: Any,
                             frozen_sandbox_clock: None) -> None:  # fmt: skip
    st = run_job(factory, world, journal)
    assert st.status == "Completed"

    async def ready(pilot: Any) -> None:
        await wait_connected(pilot)
        await pilot.app.push_screen(LiveJobScreen(st.name, clock=lambda: FROZEN))
        await eventually(pilot, lambda: "Completed" in text(pilot.app, "#live-status"))
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(make_app(start_step="labels"), terminal_size=SIZE, run_before=ready)


def test_snapshot_results(snap_compare: Any, make_app: Any, factory: Any, world: Any, journal: Any,
                          frozen_sandbox_clock: None) -> None:  # fmt: skip
    st = run_job(factory, world, journal)
    assert st.status == "Completed", st.failure_reason

    async def ready(pilot: Any) -> None:
        await wait_connected(pilot)
        await pilot.app.push_screen(ResultsScreen(st.output_manifest, categories_uri=st.categories_uri))
        await eventually(
            pilot, lambda: isinstance(pilot.app.screen, ResultsScreen) and len(pilot.app.screen.cache) == 8
        )
        await pilot.app.workers.wait_for_complete()
        # The screen opens on its main list, the per-object table below the thumbnails; the
        # picture is taken once focus is there and the view has followed it, not halfway.
        await eventually(
            pilot, lambda: pilot.app.focused is not None and pilot.app.focused.id == "results-table"
        )
        pilot.app.focused.scroll_visible(animate=False, immediate=True)
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(make_app(start_step="labels"), terminal_size=SIZE, run_before=ready)
