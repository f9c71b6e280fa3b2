"""services.flow's steps against the sandbox (moto over HTTP, real boto3 calls): what each plan
says for good and bad choices, and what apply leaves behind."""

from __future__ import annotations

import pytest

from services.errors import SagewizError
from services.flow import bucket, data, labels, notebook, permissions, role, train, tune
from services.flow.context import FlowContext
from services.flow.outcome import Verdict
from services.notebooks import DEFAULT_TYPE, NotebookSpec
from services.sandbox.server import Sandbox
from services.sandbox.world import SandboxWorld
from services.session import SessionFactory
from services.state import WizardState
from tests.bucket.helpers import create_foreign_bucket


def context(world: SandboxWorld, journal, *, with_world: bool = False) -> FlowContext:
    factory = SessionFactory(world.target())
    return FlowContext(
        factory, world.account, world.region, journal, world.admin_arn, sandbox=True,
        world=world if with_world else None,
    )  # fmt: skip


def session(world: SandboxWorld, **choices) -> WizardState:
    state = WizardState(region=world.region, account=world.account, caller_arn=world.admin_arn)
    state.update(**choices)
    return state


# -- bucket ------------------------------------------------------------------------------------------
def test_bucket_missing_is_created_then_unchanged(empty_world, journal) -> None:
    ctx, state = context(empty_world, journal), session(empty_world)
    p = bucket.plan(ctx, state, bucket.BucketChoices())
    assert p.verdict is Verdict.SEND and p.bucket == empty_world.default_bucket
    assert p.requests is not None and p.requests.actions[0].params["Bucket"] == empty_world.default_bucket
    assert bucket.apply(ctx, state, p) == f"bucket {empty_world.default_bucket} created"
    assert state.bucket == empty_world.default_bucket
    again = bucket.plan(ctx, state, bucket.choices_from_state(state))
    assert again.verdict is Verdict.UNCHANGED and again.requests is None


def test_bucket_of_another_account_cannot_be_used(sandbox: Sandbox, empty_world, journal) -> None:
    create_foreign_bucket(sandbox, empty_world, "flow-squatted")
    ctx, state = context(empty_world, journal), session(empty_world)
    p = bucket.plan(ctx, state, bucket.BucketChoices("flow-squatted"))
    assert p.verdict is Verdict.CANNOT and p.requests is None
    assert p.problem is not None and "cannot be used" in p.problem.title
    with pytest.raises(SagewizError):
        p.raise_problem()


def test_the_sample_bucket_is_another_accounts_and_is_refused_but_readable(world, journal) -> None:
    """As in AWS, `sagemaker-sample-files` belongs to another account (the sandbox's second one):
    never the user's own bucket, yet everyone may list and read it, and nobody else may write it."""
    from services.sandbox.world import SAMPLE_ACCOUNT

    ctx, state = context(world, journal), session(world)
    p = bucket.plan(ctx, state, bucket.BucketChoices(world.sample_bucket))
    assert p.verdict is Verdict.CANNOT and p.requests is None
    assert p.problem is not None and "cannot be used" in p.problem.title
    assert "owned by another AWS account" in p.problem.message and "squatting" in p.problem.message
    assert state.bucket == ""  # nothing recorded as the session's bucket
    admin, role_s3 = ctx.factory.client("s3"), SessionFactory(world.role_target()).client("s3")
    assert world.sample_bucket not in [b["Name"] for b in admin.list_buckets()["Buckets"]]
    assert world.account != SAMPLE_ACCOUNT
    for s3 in (admin, role_s3):
        listed = s3.list_objects_v2(Bucket=world.sample_bucket, Prefix=world.sample_prefix)["Contents"]
        assert len(listed) == 50
        assert (
            s3.get_object(Bucket=world.sample_bucket, Key=listed[0]["Key"])["Body"].read()[:2] == b"\xff\xd8"
        )
        with pytest.raises(Exception, match="AccessDenied"):
            s3.put_object(Bucket=world.sample_bucket, Key="mine.txt", Body=b"x")
    # S3 refuses a request naming the user's account as the expected owner (the squatting guard).
    with pytest.raises(Exception, match="403"):
        admin.head_bucket(Bucket=world.sample_bucket, ExpectedBucketOwner=world.account)


def test_bucket_bad_name_is_refused_before_any_call(empty_world, journal) -> None:
    with pytest.raises(SagewizError):
        bucket.plan(context(empty_world, journal), session(empty_world), bucket.BucketChoices("Not_A_Bucket"))


# -- role --------------------------------------------------------------------------------------------
def test_role_existing_missing_and_none(world, journal) -> None:
    ctx = context(world, journal)
    assert role.plan(ctx, session(world), role.RoleChoices(world.role_arn)).verdict is Verdict.UNCHANGED
    assert role.plan(ctx, session(world), role.RoleChoices()).verdict is Verdict.SKIPPED
    in_sandbox = role.plan(context(world, journal, with_world=True), session(world), role.RoleChoices())
    assert in_sandbox.verdict is Verdict.UNCHANGED and in_sandbox.arn == world.role_arn
    missing = role.new_role_arn(ctx, "flow-new-role")
    no_bucket = role.plan(ctx, session(world), role.RoleChoices(missing))
    assert no_bucket.verdict is Verdict.CANNOT and no_bucket.problem is not None
    p = role.plan(ctx, session(world, bucket=world.default_bucket), role.RoleChoices(missing))
    assert p.verdict is Verdict.SEND and p.arn == missing
    assert p.requests is not None and "iam:CreateRole" in p.render_text()


def test_role_created_is_then_unchanged(world, journal) -> None:
    ctx, state = context(world, journal), session(world, bucket=world.default_bucket)
    arn = role.new_role_arn(ctx, "flow-created-role")
    p = role.plan(ctx, state, role.RoleChoices(arn))
    assert "created" in role.apply(ctx, state, p) and state.role_arn == arn
    assert role.plan(ctx, state, role.choices_from_state(state)).verdict is Verdict.UNCHANGED


# -- notebook ----------------------------------------------------------------------------------------
def test_notebook_defaults_and_existing(world, journal) -> None:
    ctx = context(world, journal)
    assert notebook.plan(ctx, session(world), notebook.NotebookChoices(None)).verdict is Verdict.SKIPPED
    state = session(world, notebook_name="flow-nb", role_arn=world.role_arn)
    choices = notebook.choices_from_state(state)
    assert choices.spec == NotebookSpec("flow-nb", world.role_arn)
    p = notebook.plan(ctx, state, choices)
    assert p.verdict is Verdict.SEND and p.instance_type == DEFAULT_TYPE
    assert p.requests is not None and p.requests.actions[-1].params["NotebookInstanceName"] == "flow-nb"
    notebook.apply(ctx, state, p)
    assert notebook.plan(ctx, state, choices).verdict is Verdict.UNCHANGED


# -- data --------------------------------------------------------------------------------------------
def test_data_copies_the_sample_then_has_nothing_to_do(world, journal) -> None:
    ctx, state = context(world, journal, with_world=True), session(world, bucket=world.default_bucket)
    p = data.plan(ctx, state, data.choices_from_state(state))
    assert p.verdict is Verdict.SEND and p.source_text == data.default_source(ctx)
    assert p.prefix == f"s3://{world.default_bucket}/ground-truth-demo/images/"
    assert data.apply(ctx, state, p).startswith("50 files copied")
    assert state.data_prefix == p.prefix and state.extra["data"]["source"] == p.source_text
    assert data.plan(ctx, state, data.choices_from_state(state)).verdict is Verdict.UNCHANGED


def test_data_into_a_missing_bucket_waits_for_it(world, journal) -> None:
    ctx, state = context(world, journal), session(world)
    p = data.plan(ctx, state, data.DataChoices(prefix="s3://flow-no-such-bucket/images/"))
    assert p.verdict is Verdict.AFTER_EARLIER and p.sync is None
    assert "after the bucket is created" in p.render_text()
    with pytest.raises(SagewizError):
        p.raise_problem()


def test_data_never_writes_into_another_accounts_bucket(sandbox: Sandbox, world, journal) -> None:
    create_foreign_bucket(sandbox, world, "flow-foreign-data")
    ctx, state = context(world, journal), session(world)
    p = data.plan(ctx, state, data.DataChoices(prefix="s3://flow-foreign-data/images/"))
    assert p.verdict is Verdict.CANNOT and p.sync is None
    assert p.problem is not None and "cannot be used" in p.problem.title


def test_data_default_source_outside_the_sandbox_is_the_public_sample(world, journal) -> None:
    assert data.default_source(context(world, journal)) == data.SAMPLE_SOURCE


# -- permissions -------------------------------------------------------------------------------------
def test_permissions_seeded_problems_get_a_fix_then_none(world, journal) -> None:
    ctx = context(world, journal)
    state = session(world, bucket=world.default_bucket, role_arn=world.role_arn)
    assert permissions.plan(ctx, session(world), permissions.PermissionsChoices()).verdict is Verdict.SKIPPED
    applied = 0
    for _ in range(permissions.ROUNDS):
        p = permissions.plan(ctx, state, permissions.choices_from_state(state))
        if p.verdict is not Verdict.SEND:
            break
        assert p.change is not None and p.requests is not None
        permissions.apply(ctx, state, p)
        applied += 1
    assert applied >= 1
    assert p.verdict is Verdict.UNCHANGED


def test_permissions_for_a_missing_bucket_wait_for_it(world, journal) -> None:
    ctx = context(world, journal)
    choices = permissions.PermissionsChoices("flow-no-such-bucket", world.role_arn)
    p = permissions.plan(ctx, session(world), choices)
    assert p.verdict is Verdict.AFTER_EARLIER and p.problem is not None


# -- labels, train, tune -----------------------------------------------------------------------------
def test_labels_without_a_job_are_skipped(world, journal) -> None:
    state = session(world)
    p = labels.plan(context(world, journal), state, labels.choices_from_state(state, world.region))
    assert p.verdict is Verdict.SKIPPED


def test_labels_with_an_unaccepted_public_workforce_cannot_start(world, journal) -> None:
    state = session(world, bucket=world.default_bucket, role_arn=world.role_arn, labeling_job="flow-labels")
    p = labels.plan(context(world, journal), state, labels.choices_from_state(state, world.region))
    assert p.verdict is Verdict.CANNOT and p.problem is not None
    assert "In a configuration file" in p.problem.hint


def test_train_defaults_are_defined_once(world, journal) -> None:
    state = session(world, bucket=world.default_bucket, role_arn=world.role_arn)
    assert train.choices_from_state(state) is None
    cfg = train.config(state, train.TrainChoices(job_name="flow-job"))
    assert cfg.instance_type == train.DEFAULT_INSTANCE_TYPE and cfg.volume_gb == train.DEFAULT_VOLUME_GB
    assert cfg.output_path == f"s3://{world.default_bucket}/sagewiz/output"
    assert [c.s3_uri for c in cfg.channels] == [
        f"s3://{world.default_bucket}/sagewiz/xgboost/train/",
        f"s3://{world.default_bucket}/sagewiz/xgboost/validation/",
    ]
    gpu = train.config(state, train.TrainChoices(algorithm=train.IMAGE_CLASSIFICATION))
    assert gpu.instance_type == train.GPU_INSTANCE_TYPE and gpu.hyperparameters["num_classes"] == "5"


def test_train_with_empty_channels_cannot_start(world, journal) -> None:
    ctx = context(world, journal)
    state = session(world, bucket=world.default_bucket, role_arn=world.role_arn)
    p = train.plan(ctx, state, train.TrainChoices(job_name="flow-empty"))
    assert p.verdict is Verdict.CANNOT and p.problem is not None
    assert p.problem.title == "A channel has no data" and p.requests is None


def test_train_with_a_missing_role_is_not_planned_silently(world) -> None:
    state = session(world, bucket=world.default_bucket)
    cfg = train.config(state, train.TrainChoices(job_name="flow-norole"))
    assert cfg.role_arn == ""  # no role chosen and no sandbox world: nothing is made up


def test_tune_needs_an_existing_training_job(world, journal) -> None:
    ctx = context(world, journal)
    assert tune.plan(ctx, session(world), tune.TuneChoices()).verdict is Verdict.SKIPPED
    p = tune.plan(ctx, session(world), tune.TuneChoices(training_job="flow-no-such-job"))
    assert p.verdict is Verdict.WAITING and "flow-no-such-job" in p.message
    assert tune.default_name("x" * 40) == "tune-" + "x" * 27
