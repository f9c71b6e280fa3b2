"""Resume: the last session's choices and the jobs it left running, from the journal and AWS."""

from __future__ import annotations

from pathlib import Path

from services import resume
from services.journal import Journal
from services.journal_events import ChoiceMade, JobStarted, PolicyReplaced, SessionStarted
from services.resource_kinds import ResourceKind
from services.state import WizardState
from tests.cleanup.helpers import fast_notebooks, make_notebook


def earlier_session(path: Path, world) -> Journal:
    old = Journal(path)
    old.bind(world.account, world.region, True)
    old.append(SessionStarted(caller="x", sandbox=True))
    return old


def test_no_offer_without_an_earlier_session(journal, world):
    assert resume.find_offer(journal, world.account, world.region, True) is None


def test_offer_restores_choices_and_reattaches_to_a_running_notebook(journal, factory, world):
    fast_notebooks()
    old = earlier_session(journal.path, world)
    old.append(
        ChoiceMade({"bucket": world.default_bucket, "data_prefix": f"s3://{world.default_bucket}/gt/images/"})
    )
    make_notebook(factory, world, old, name="resume-nb")
    old.append(JobStarted(ResourceKind.TRAINING_JOB, "finished-long-ago"))  # gone from AWS

    journal.bind(world.account, world.region, True)
    journal.append(SessionStarted(caller="y", sandbox=True))  # the current session does not count
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
    old.append(ChoiceMade({"bucket": "elsewhere"}))
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
    one.append(
        ChoiceMade({"extra": {"training": {"algorithm": "xgboost", "hyperparameters": {"eta": "0.2"}}}})
    )
    two = Journal(journal.path)
    two.bind(world.account, world.region, True)
    two.append(
        ChoiceMade({"extra": {"training": {"instance_type": "ml.m5.large"}, "tuning": {"max_jobs": 2}}})
    )
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


# -- what Resume restores is checked against AWS ----------------------------------------------------
FIX = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::{b}/*"}],
}


def _session_that_did_things(journal: Journal, factory, world) -> Journal:
    """An earlier session: chose a bucket of its own, copied data, picked the role, fixed a policy."""
    import json

    from services.permissions.fixes.change import ROLE_INLINE_POLICY, PolicyTarget

    s3, iam = factory.client("s3"), factory.client("iam")
    s3.create_bucket(Bucket="my-own-bucket", CreateBucketConfiguration={"LocationConstraint": world.region})
    s3.put_object(Bucket="my-own-bucket", Key="gt/images/a.jpg", Body=b"x")
    doc = json.dumps(FIX).replace("{b}", "my-own-bucket")
    iam.put_role_policy(RoleName=world.role_name, PolicyName="sagewiz-fix", PolicyDocument=doc)
    old = earlier_session(journal.path, world)
    old.append(
        ChoiceMade(
            {
                "bucket": "my-own-bucket",
                "data_prefix": "s3://my-own-bucket/gt/images/",
                "role_arn": world.role_arn,
            }
        )
    )
    target = PolicyTarget(ROLE_INLINE_POLICY, role_name=world.role_name, policy_name="sagewiz-fix")
    old.append(PolicyReplaced(
        target=target.key, document_kind=target.kind, target_info=target.to_dict(),
        title="Let the role write the bucket", old_document="absent", old_absent=True,
        new_document=doc, new_absent=False,
    ))  # fmt: skip
    return old


def test_resume_finds_a_kept_world_as_it_was_left(journal, factory, world):
    _session_that_did_things(journal, factory, world)
    offer = resume.offer_for(journal, factory, world.account, world.region, True)
    assert offer is not None and offer.missing == () and offer.warnings == ()
    assert offer.choices["bucket"] == "my-own-bucket"
    assert offer.choices["data_prefix"] == "s3://my-own-bucket/gt/images/"
    assert offer.fixes_in_place == (
        f"Let the role write the bucket (inline policy sagewiz-fix of role {world.role_name})",
    )
    state = WizardState()
    resume.restore(state, offer)
    assert state.bucket == "my-own-bucket" and state.role_arn == world.role_arn


def test_resume_says_plainly_what_a_reseeded_world_no_longer_has(journal, factory, world, sandbox):
    _session_that_did_things(journal, factory, world)
    old = Journal(journal.path)
    old.bind(world.account, world.region, True)
    old.append(JobStarted(ResourceKind.TRAINING_JOB, "trained-before"))
    fresh = sandbox.reset(seed=True)  # the world was seeded again: nothing of that session is left
    fresh_factory = type(factory)(fresh.target())
    offer = resume.offer_for(journal, fresh_factory, world.account, world.region, True)
    assert offer is not None
    assert "bucket my-own-bucket no longer exists" in offer.missing
    assert any(
        m.startswith("the copied data under s3://my-own-bucket/gt/images/ no longer exists")
        for m in offer.missing
    )
    assert any(
        "policy fix Let the role write the bucket" in m and "no longer in place" in m for m in offer.missing
    )
    assert "training job trained-before no longer exists" in offer.missing
    assert fresh.role_arn == offer.choices["role_arn"]  # the seeded role is there again: kept
    state = WizardState()
    resume.restore(state, offer)
    assert state.bucket == "" and state.data_prefix == "" and state.training_job == ""
    assert offer.fixes_in_place == ()


def test_resumed_counts_add_up_with_what_was_listed(journal, factory, world):
    """Every listed choice is restored and counted; what AWS no longer has is named as gone; what
    still runs is re-attached (plain mode once listed 3 choices, then said '2 restored')."""
    fast_notebooks()
    old = earlier_session(journal.path, world)
    # labels equal to the wizard's defaults: restoring them changes nothing, yet it is restored
    old.append(ChoiceMade({"bucket": world.default_bucket, "labels": list(WizardState().labels),
                           "output_manifest": f"s3://{world.default_bucket}/no/such/output.manifest"}))  # fmt: skip
    make_notebook(factory, world, old, name="count-nb")
    old.append(JobStarted(ResourceKind.TRAINING_JOB, "count-gone-job"))
    journal.bind(world.account, world.region, True)
    journal.append(SessionStarted(caller="y", sandbox=True))
    offer = resume.offer_for(journal, factory, world.account, world.region, True)
    assert offer is not None
    listed = offer.shown_choices()
    assert [line.split(":")[0] for line in listed] == ["bucket", "labels", "notebook name"]
    report = resume.resume(WizardState(), offer)
    assert report.restored == tuple(listed)
    assert report.reattached and report.reattached[0].startswith("notebook count-nb (")
    assert any("count-gone-job no longer exists" in g for g in report.gone)
    assert any("output.manifest" in g for g in report.gone)
    line = report.line()
    assert line.startswith(f"Resumed: {len(listed)} choices restored; re-attached to notebook count-nb")
    assert f"{len(report.gone)} gone, not restored" in line


def test_an_older_gone_job_does_not_drop_the_newer_one_listed(journal, factory, world):
    """The session's first training job is gone, its second completed: the second is listed,
    restored and counted; only the first is named as gone."""
    from services.sandbox import trainer
    from services.training import build_request
    from tests.train.conftest import grant_bucket, upload_csv, wait_done, xgb_config

    old_pace = trainer.set_pace(0.0)
    try:
        old = earlier_session(journal.path, world)
        old.append(JobStarted(ResourceKind.TRAINING_JOB, "first-gone"))
        grant_bucket(factory, world)
        upload_csv(factory, world)
        sm = factory.client("sagemaker")
        sm.create_training_job(**build_request(xgb_config(world, name="second-ok")))
        old.append(JobStarted(ResourceKind.TRAINING_JOB, "second-ok"))
        wait_done(sm, "second-ok")
    finally:
        trainer.set_pace(old_pace)
    journal.bind(world.account, world.region, True)
    journal.append(SessionStarted(caller="y", sandbox=True))
    offer = resume.offer_for(journal, factory, world.account, world.region, True)
    assert offer is not None
    assert offer.shown_choices() == ["training job: second-ok"]
    state = WizardState()
    report = resume.resume(state, offer)
    assert state.training_job == "second-ok"
    assert report.restored == ("training job: second-ok",)
    assert report.gone == ("training job first-gone no longer exists",)
    assert report.line().startswith("Resumed: 1 choice restored; 1 gone, not restored")
