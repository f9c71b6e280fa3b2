"""The Clean up step: table of what sagewiz created, select, typed confirmation, bucket confirmation."""

from __future__ import annotations

from textual.widgets import DataTable

from tests.cleanup.helpers import SCREEN_WAIT, fast_notebooks, make_bucket, make_notebook, make_role
from tests.support import eventually, wait_connected
from tui.steps import StepState


def typing_into(app) -> str | None:
    """The word a typed confirmation asks for, once its input has the focus (keys go there)."""
    focused = app.focused
    if focused is None or focused.id != "confirm-typed":
        return None
    return getattr(app.screen, "typed", None)


def table_rows(app) -> list[list[str]]:
    table = app.screen.query_one("#cleanup-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_delete_all_with_typed_and_bucket_confirmations(make_app, factory, world, journal):
    journal.bind(world.account, world.region, True)
    fast_notebooks()
    make_notebook(factory, world, journal, name="screen-nb")
    make_bucket(factory, journal, "screen-bucket")
    make_role(factory, journal, "screen-role")
    app = make_app(start_step="cleanup")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        await eventually(pilot, lambda: len(screen.resources) == 3, SCREEN_WAIT)
        rows = table_rows(app)
        assert {r[2] for r in rows} == {"screen-nb", "screen-bucket", "screen-role"}
        assert world.role_name not in {r[2] for r in rows}
        await pilot.pause()
        assert app.step_states["cleanup"] is StepState.NOT_STARTED  # opened and read: nothing cleaned yet
        await pilot.press("a", "d")
        await eventually(pilot, lambda: typing_into(app) == "delete", SCREEN_WAIT)
        app.screen.query_one("#apply").press()  # nothing typed: said, and the dialog stays
        await pilot.pause()
        assert "does not match" in str(app.screen.query_one("#confirm-mismatch").render())
        await pilot.press(*"delete")
        app.screen.query_one("#apply").press()
        await eventually(pilot, lambda: typing_into(app) == "screen-bucket", SCREEN_WAIT)
        await pilot.press(*"screen-bucket")
        app.screen.query_one("#apply").press()
        await eventually(
            pilot, lambda: app.screen is screen and not screen.busy and screen.resources == [], 120
        )
        assert "Nothing sagewiz created is left" in str(screen.query_one("#cleanup-summary").render())
        await eventually(pilot, lambda: app.step_states["cleanup"] is StepState.DONE)
    kinds = {e.data["type"] for e in journal.entries("resource-deleted")}
    assert {"notebook", "bucket", "role"} <= kinds


async def test_refusing_the_bucket_confirmation_changes_nothing(make_app, factory, world, journal):
    journal.bind(world.account, world.region, True)
    make_bucket(factory, journal, "keep-bucket", objects=1)
    app = make_app(start_step="cleanup")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        await eventually(pilot, lambda: len(screen.resources) == 1, SCREEN_WAIT)
        await pilot.press("space", "d")
        await eventually(pilot, lambda: typing_into(app) == "delete", SCREEN_WAIT)
        await pilot.press(*"delete")
        app.screen.query_one("#apply").press()
        await eventually(pilot, lambda: typing_into(app) == "keep-bucket", SCREEN_WAIT)
        await pilot.press("escape")
        await eventually(pilot, lambda: app.screen is screen, SCREEN_WAIT)
    assert factory.client("s3").head_bucket(Bucket="keep-bucket")
    assert journal.entries("resource-deleted") == []


def test_cleanup_snapshot(snap_compare, make_app, factory, world, journal):
    journal.bind(world.account, world.region, True)
    make_bucket(factory, journal, "snap-bucket", objects=0)
    make_role(factory, journal, "snap-role")
    app = make_app(start_step="cleanup")

    async def settle(pilot) -> None:
        await wait_connected(pilot)
        await eventually(pilot, lambda: len(app.screen.resources) == 2, SCREEN_WAIT)
        await pilot.press("space")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=settle)


async def test_stop_is_not_offered_for_a_finished_job(make_app, factory, world, journal):
    from services.journal_events import JobStarted
    from services.resource_kinds import ResourceKind
    from services.training import build_request
    from tests.train.conftest import grant_bucket, upload_csv, wait_done, xgb_config

    journal.bind(world.account, world.region, True)
    grant_bucket(factory, world)
    upload_csv(factory, world)
    sm = factory.client("sagemaker")
    sm.create_training_job(**build_request(xgb_config(world, name="finished-job")))
    journal.append(JobStarted(ResourceKind.TRAINING_JOB, "finished-job"))
    wait_done(sm, "finished-job")
    app = make_app(start_step="cleanup")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        await eventually(pilot, lambda: len(screen.resources) == 1, SCREEN_WAIT)
        assert screen.resources[0].state == "Completed"
        assert screen.check_action("stop", ()) is None and screen.check_action("delete", ()) is None
        assert "not billing" in " ".join(table_rows(app)[0])  # a finished job shows no rate


async def test_a_cors_rule_sagewiz_added_is_listed_and_reverted(make_app, factory, world, journal):
    from services.labeling.setup import cors_action
    from services.plan import Plan, apply_plan

    journal.bind(world.account, world.region, True)
    make_bucket(factory, journal, "cors-bucket", objects=0, versioned=False)
    theirs = {"AllowedMethods": ["PUT"], "AllowedOrigins": ["https://example.org"]}
    factory.client("s3").put_bucket_cors(Bucket="cors-bucket", CORSConfiguration={"CORSRules": [theirs]})
    apply_plan(Plan("CORS", (cors_action("cors-bucket", [theirs]),)), factory, journal)  # type: ignore[arg-type]
    app = make_app(start_step="cleanup")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        await eventually(pilot, lambda: len(screen.resources) == 2, SCREEN_WAIT)
        rows = table_rows(app)
        assert [(r[1], r[2]) for r in rows] == [("CORS rule", "cors-bucket"), ("S3 bucket", "cors-bucket")]
        await pilot.press("space", "d")  # the first row: the CORS rule
        await eventually(pilot, lambda: typing_into(app) == "delete", SCREEN_WAIT)
        [revert] = app.screen.plan.actions
        assert revert.operation == "put_bucket_cors" and revert.description.startswith(
            "Revert the CORS rules"
        )
        await pilot.press(*"delete")
        app.screen.query_one("#apply").press()
        await eventually(
            pilot, lambda: app.screen is screen and not screen.busy and len(screen.resources) == 1, 120
        )
        assert screen.resources[0].type.value == "bucket"
    assert factory.client("s3").get_bucket_cors(Bucket="cors-bucket")["CORSRules"] == [theirs]
