"""The App on start (with background_work, as the command line starts it): offers to resume the last session and re-attaches to what still runs; the
header shows the running cost."""

from __future__ import annotations

from textual.widgets import Static

from services.journal import Journal
from services.journal_events import ChoiceMade, SessionStarted
from tests.cleanup.helpers import SCREEN_WAIT, fast_notebooks, make_notebook, wait_status
from tests.support import eventually
from tests.ui_text import shown


async def test_resume_reattaches_to_a_running_notebook_and_shows_its_cost(make_app, factory, world, journal):
    fast_notebooks()
    old = Journal(journal.path)
    old.bind(world.account, world.region, True)
    old.append(SessionStarted(caller=world.admin_arn, sandbox=True))
    old.append(
        ChoiceMade({"bucket": world.default_bucket, "data_prefix": f"s3://{world.default_bucket}/gt/images/"})
    )
    make_notebook(factory, world, old, name="resume-me")
    wait_status(factory, "resume-me", "InService")

    app = make_app(background_work=True)
    async with app.run_test(size=(120, 40)) as pilot:
        # the cost worker never completes
        await eventually(pilot, lambda: app.identity is not None, SCREEN_WAIT)
        await eventually(
            pilot,
            lambda: (
                app.screen.__class__.__name__ == "ResumeOfferScreen" and bool(app.screen.query("#resume"))
            ),
            SCREEN_WAIT,
        )
        text = "\n".join(str(w.render()) for w in app.screen.query("Static"))
        assert "resume-me" in text and world.default_bucket in text
        await pilot.press("r")
        await eventually(pilot, lambda: app.current_step == "notebook", SCREEN_WAIT)
        assert app.state.notebook_name == "resume-me"
        assert app.state.bucket == world.default_bucket
        await eventually(pilot, lambda: app.cost_line.startswith("running ~$0.05/h"), SCREEN_WAIT)
        assert "(estimate)" in app.cost_line
    # Leaving journals this session's choices, for the next session and `sagewiz export`.
    mine = [e for e in journal.entries("choice", scope=False) if e.session == journal.session_id]
    assert any(e.data.get("notebook_name") == "resume-me" for e in mine)


async def test_start_fresh_keeps_the_state_empty(make_app, world, journal):
    old = Journal(journal.path)
    old.bind(world.account, world.region, True)
    old.append(SessionStarted(caller=world.admin_arn, sandbox=True))
    old.append(ChoiceMade({"bucket": "some-earlier-bucket"}))
    app = make_app(background_work=True)
    async with app.run_test(size=(120, 40)) as pilot:
        # the cost worker never completes
        await eventually(pilot, lambda: app.identity is not None, SCREEN_WAIT)
        await eventually(
            pilot,
            lambda: (
                app.screen.__class__.__name__ == "ResumeOfferScreen" and bool(app.screen.query("#resume"))
            ),
            SCREEN_WAIT,
        )
        await pilot.press("escape")
        await eventually(pilot, lambda: app.screen.__class__.__name__ != "ResumeOfferScreen", SCREEN_WAIT)
        assert app.state.bucket == "" and app.current_step == "connect"
        await eventually(pilot, lambda: app.cost_line == "nothing running", SCREEN_WAIT)


def test_resume_offer_snapshot(snap_compare, make_app, world, journal):
    import json

    # Fixed times and ids, written as the journal writes them, keep the picture stable.
    lines = [
        {"id": "e1", "at": "2026-11-20T09:15:00+00:00", "kind": "session", "session": "earlier",
         "account": world.account, "region": world.region, "sandbox": True, "data": {"caller": world.admin_arn}},
        {"id": "e2", "at": "2026-11-20T09:20:00+00:00", "kind": "choice", "session": "earlier",
         "account": world.account, "region": world.region, "sandbox": True,
         "data": {"bucket": world.default_bucket, "data_prefix": f"s3://{world.default_bucket}/gt/images/",
                  "labels": ["Car", "Ferry"]}},
    ]  # fmt: skip
    journal.path.parent.mkdir(parents=True, exist_ok=True)
    journal.path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    app = make_app(background_work=True)

    async def offered(pilot) -> None:
        await eventually(
            pilot,
            lambda: (
                app.screen.__class__.__name__ == "ResumeOfferScreen" and bool(app.screen.query("#resume"))
            ),
            SCREEN_WAIT,
        )
        await eventually(pilot, lambda: app.cost_line == "nothing running", SCREEN_WAIT)
        # The header is on the screen beneath the dialog: wait for it to show the cost too.
        header = app.screen_stack[0].query_one("#hdr-identity", Static)
        await eventually(pilot, lambda: "nothing running" in shown(header), SCREEN_WAIT)
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=offered)
