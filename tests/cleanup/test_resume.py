"""Resume: the last session's choices and the jobs it left running, from the journal and AWS."""

from __future__ import annotations

from pathlib import Path

from services import resume
from services.journal import Journal
from services.state import WizardState
from tests.cleanup.helpers import fast_notebooks, make_notebook


def earlier_session(path: Path, world) -> Journal:
    old = Journal(path)
    old.bind(world.account, world.region, True)
    old.append("session", caller="x", sandbox=True)
    return old


def test_no_offer_without_an_earlier_session(journal, world):
    assert resume.find_offer(journal, world.account, world.region, True) is None


def test_offer_restores_choices_and_reattaches_to_a_running_notebook(journal, factory, world):
    fast_notebooks()
    old = earlier_session(journal.path, world)
    old.append("choice", bucket=world.default_bucket, data_prefix=f"s3://{world.default_bucket}/gt/images/")
    make_notebook(factory, world, old, name="resume-nb")
    old.append("job-started", type="training-job", name="finished-long-ago")  # gone from AWS

    journal.bind(world.account, world.region, True)
    journal.append("session", caller="y", sandbox=True)  # the current session does not count
    offer = resume.offer_for(journal, factory, world.account, world.region, True)
    assert offer is not None and offer.session == old.session_id
    assert offer.choices["bucket"] == world.default_bucket
    assert offer.choices["notebook_name"] == "resume-nb"
    assert (
        offer.attach_to is not None
        and offer.attach_to.name == "resume-nb"
        and offer.attach_to.step == "notebook"
    )
    statuses = {a.name: a.status for a in offer.activities}
    assert statuses["finished-long-ago"] == "gone"
    state = WizardState()
    changed = resume.restore(state, offer)
    assert state.bucket == world.default_bucket and state.notebook_name == "resume-nb"
    assert "training_job" not in changed  # a job AWS no longer knows is not made current
    assert any("resume-nb" in line for line in offer.summary())


def test_other_accounts_and_the_real_world_are_not_offered(journal, world):
    old = Journal(journal.path)
    old.bind("999999999999", world.region, False)
    old.append("choice", bucket="elsewhere")
    assert resume.find_offer(journal, world.account, world.region, True) is None


def test_journal_choices_appends_only_changes(journal):
    state = WizardState(bucket="b1")
    snap = resume.journal_choices(journal, state)
    assert journal.entries("choice", scope=False)[-1].data["bucket"] == "b1"
    resume.journal_choices(journal, state, snap)
    assert len(journal.entries("choice", scope=False)) == 1
    state.update(bucket="b2")
    resume.journal_choices(journal, state, snap)
    assert journal.entries("choice", scope=False)[-1].data == {"bucket": "b2"}


def test_later_settings_merge_into_earlier_ones(journal, world):
    one = Journal(journal.path)
    one.bind(world.account, world.region, True)
    one.append("choice", extra={"training": {"algorithm": "xgboost", "hyperparameters": {"eta": "0.2"}}})
    two = Journal(journal.path)
    two.bind(world.account, world.region, True)
    two.append("choice", extra={"training": {"instance_type": "ml.m5.large"}, "tuning": {"max_jobs": 2}})
    offer = resume.find_offer(journal, world.account, world.region, True)
    assert offer is not None and offer.session == two.session_id
    assert offer.choices["extra"] == {
        "training": {
            "algorithm": "xgboost",
            "hyperparameters": {"eta": "0.2"},
            "instance_type": "ml.m5.large",
        },
        "tuning": {"max_jobs": 2},
    }
    state, _at = resume.latest_state(journal)
    assert state.extra["training"]["algorithm"] == "xgboost"
