"""Clean-up against the sandbox: inventory from journal and tags, guards, plans, and a full clean."""

from __future__ import annotations

import pytest

from services import cleanup
from services.errors import NotFoundError, ValidationError
from services.journal_events import ResourceCreated
from services.plan import tags_list
from services.resource_kinds import ResourceKind
from tests.cleanup.helpers import (
    append_legacy,
    fast_notebooks,
    make_bucket,
    make_notebook,
    make_role,
    wait_status,
)


@pytest.fixture
def bound(journal, world):
    journal.bind(world.account, world.region, True)
    fast_notebooks()
    return journal


def test_inventory_lists_journal_and_tagged_but_not_the_seeded_world(factory, world, bound):
    make_notebook(factory, world, bound)
    make_bucket(factory, None, "hk-tag-only")  # tagged, not journaled (another machine made it)
    make_role(factory, bound)
    append_legacy(bound, "resource-created", type="s3-bucket", name="long-gone-bucket")
    inv = cleanup.inventory(factory, bound)
    keys = {(r.type, r.id): r for r in inv.resources}
    assert ("notebook", "hk-nb") in keys and keys[("notebook", "hk-nb")].source == "journal+tag"
    assert keys[("bucket", "hk-tag-only")].source == "tag"
    assert keys[("role", "hk-role")].ours
    assert keys[("bucket", "long-gone-bucket")].state == "gone"
    # The seeded role and buckets were not made by sagewiz: never listed.
    assert ("role", world.role_name) not in keys
    assert ("bucket", world.default_bucket) not in keys
    assert ("bucket", world.sample_bucket) not in keys
    nb = keys[("notebook", "hk-nb")]
    assert nb.state in {"Pending", "InService"} and nb.hourly and nb.hourly > 0


def test_unowned_resources_are_refused_unless_selected_explicitly(factory, world, bound):
    make_notebook(factory, world, None, name="not-ours", tagged=False)
    inv = cleanup.inventory(factory, bound)
    assert inv.find("notebook", "not-ours") is None
    other = cleanup.lookup(factory, "notebook-instance", "not-ours")
    assert not other.ours and other.selected_explicitly
    sneaky = cleanup.Resource(ResourceKind.NOTEBOOK, "not-ours", state="InService", ours=False)
    with pytest.raises(ValidationError, match="not created by sagewiz"):
        cleanup.plan_stop([sneaky])
    plan = cleanup.plan_delete(factory, [other])
    assert plan.plan.title == "Delete the selected resources"
    assert any("not created by sagewiz" in w for w in plan.plan.warnings)


def test_lookup_bad_inputs(factory, bound):
    with pytest.raises(ValidationError, match="not a type"):
        cleanup.lookup(factory, "spaceship", "x")
    with pytest.raises(ValidationError, match="empty"):
        cleanup.lookup(factory, "bucket", "  ")
    with pytest.raises(NotFoundError):
        cleanup.lookup(factory, "bucket", "no-such-bucket-here")


def test_bucket_deletion_needs_a_second_confirmation(factory, world, bound):
    make_bucket(factory, bound, "hk-confirm")
    inv = cleanup.inventory(factory, bound)
    plan = cleanup.plan_delete(factory, [inv.find("bucket", "hk-confirm")])
    assert plan.buckets == ("hk-confirm",)
    assert "second confirmation" in plan.render_text()
    with pytest.raises(ValidationError, match="not confirmed"):
        cleanup.apply_cleanup(plan, factory, bound)
    assert factory.client("s3").head_bucket(Bucket="hk-confirm")  # untouched


def test_delete_all_leaves_nothing_running_and_journals_it(factory, world, bound):
    make_notebook(factory, world, bound)
    make_bucket(factory, bound, "hk-all")
    make_role(factory, bound)
    inv = cleanup.inventory(factory, bound)
    assert inv.running
    plan = cleanup.plan_delete(factory, inv.resources)
    calls = [a.api_call() for a in plan.plan.actions]
    assert calls.index("sagemaker:StopNotebookInstance") < calls.index("sagemaker:DeleteNotebookInstance")
    assert calls.index("iam:DetachRolePolicy") < calls.index("iam:DeleteRole")
    assert calls.index("s3:DeleteObjects") < calls.index("s3:DeleteBucket")
    done = cleanup.apply_cleanup(
        plan, factory, bound, confirmed_buckets=plan.buckets, poll=0.05, wait_timeout=30
    )
    assert all(d.ok for d in done)
    after = cleanup.inventory(factory, bound)
    assert not after.running
    assert after.resources == ()
    deleted = {(e.data["type"], e.data["id"]) for e in bound.entries("resource-deleted")}
    assert {("notebook", "hk-nb"), ("bucket", "hk-all"), ("role", "hk-role")} <= deleted
    trust = next(e for e in bound.entries("resource-deleted") if e.data["type"] == "role").data[
        "trust_policy"
    ]
    assert trust["Statement"][0]["Principal"]["Service"] == "sagemaker.amazonaws.com"  # kept for undo
    # A second run finds nothing to do.
    assert cleanup.plan_delete(factory, after.resources).empty


def test_stop_plan_only_stops(factory, world, bound):
    make_notebook(factory, world, bound)
    make_bucket(factory, bound, "hk-stop", objects=0)
    inv = cleanup.inventory(factory, bound)
    plan = cleanup.plan_stop(inv.resources)
    assert [a.operation for a in plan.plan.actions] == ["stop_notebook_instance"]
    assert any("nothing to stop" in s for s in plan.skipped)
    cleanup.apply_cleanup(plan, factory, bound, poll=0.05, wait_timeout=30)
    nb = cleanup.inventory(factory, bound).find("notebook", "hk-nb")
    assert nb is not None and nb.state in {"Stopping", "Stopped"}


def test_costs_count_running_notebooks(factory, world, bound):
    from services import costs

    assert costs.running_costs(factory).line() == "nothing running"
    make_notebook(factory, world, bound)
    wait_status(factory, "hk-nb", "InService")
    snap = costs.running_costs(factory)
    assert [i.id for i in snap.items] == ["hk-nb"]
    assert snap.hourly == pytest.approx(0.053)
    assert snap.line().startswith("running ~$0.05/h") and "(estimate)" in snap.line()


def test_kinds_are_named_by_their_value_or_an_earlier_spelling():
    for spelling, kind in {
        "s3-bucket": "bucket", "iam-role": "role", "notebook-instance": "notebook", "sagemaker-model": "model",
        "notebook-lifecycle-config": "lifecycle-config", "training": "training-job",
        "hyper-parameter-tuning-job": "tuning-job", "labeling-job": "labeling-job", "s3-object": "s3-object",
        "Notebook": "notebook", "training_job": "training-job",
    }.items():  # fmt: skip
        assert ResourceKind.named(spelling) == kind
    assert ResourceKind.named("spaceship") is None


def test_each_kind_sagewiz_journals_is_inventoried_and_deleted(factory, world, bound):
    """Lifecycle config, model, managed policy and S3 object, made as their steps make them and
    journaled with the enum: listed with their state, deleted, and gone after."""
    sm, iam, s3 = factory.client("sagemaker"), factory.client("iam"), factory.client("s3")
    sm.create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName="hk-lc", Tags=tags_list()
    )
    sm.create_model(
        ModelName="hk-model", ExecutionRoleArn=world.role_arn, Tags=tags_list(),
        PrimaryContainer={"Image": "123.dkr.ecr.eu-north-1.amazonaws.com/xgboost:1", "ModelDataUrl": "s3://b/m"},
    )  # fmt: skip
    arn = iam.create_policy(
        PolicyName="hk-policy",
        PolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}',
    )["Policy"]["Arn"]
    s3.put_object(Bucket=world.default_bucket, Key="gt/hk-manifest.json", Body=b"{}")
    for kind, ident in [
        (ResourceKind.LIFECYCLE_CONFIG, "hk-lc"), (ResourceKind.MODEL, "hk-model"), (ResourceKind.POLICY, arn),
        (ResourceKind.OBJECT, f"s3://{world.default_bucket}/gt/hk-manifest.json"),
    ]:  # fmt: skip
        bound.append(ResourceCreated(kind, ident))
    inv = cleanup.inventory(factory, bound)
    found = {r.type: r for r in inv.resources}
    assert set(found) == {
        ResourceKind.LIFECYCLE_CONFIG,
        ResourceKind.MODEL,
        ResourceKind.POLICY,
        ResourceKind.OBJECT,
    }
    assert all(r.state == "exists" for r in found.values())
    assert found[ResourceKind.MODEL].hourly_label() == "no charge"
    assert found[ResourceKind.OBJECT].hourly is None  # storage is billed by the GB-month
    plan = cleanup.plan_delete(factory, inv.resources)
    assert [a.api_call() for a in plan.plan.actions] == [
        "sagemaker:DeleteModel", "sagemaker:DeleteNotebookInstanceLifecycleConfig", "iam:DeletePolicy",
        "s3:DeleteObject",
    ]  # fmt: skip
    assert all(d.ok for d in cleanup.apply_cleanup(plan, factory, bound))
    assert cleanup.inventory(factory, bound).resources == ()
    assert not s3.list_objects_v2(Bucket=world.default_bucket, Prefix="gt/hk-manifest.json").get("Contents")


def test_jobs_are_stopped_while_they_run_and_never_deleted():
    for kind, operation in [
        (ResourceKind.TRAINING_JOB, "stop_training_job"), (ResourceKind.TUNING_JOB, "stop_hyper_parameter_tuning_job"),
        (ResourceKind.LABELING_JOB, "stop_labeling_job"),
    ]:  # fmt: skip
        running = cleanup.Resource(kind, "j", state="InProgress")
        assert [a.operation for a in cleanup.plan_stop([running]).plan.actions] == [operation]
        done = cleanup.Resource(kind, "j", state="Completed")
        plan = cleanup.plan_delete(None, [done])
        assert plan.empty and "cannot be deleted" in plan.skipped[0]


def test_a_notebooks_autostop_configuration_goes_with_it(factory, world, bound):
    """Deleting walk-nb-2 once left walk-nb-2-autostop behind: the configuration sagewiz made with a
    notebook is offered with it (once, even when chosen too) and deleted after the notebook."""
    from services.flow import notebook
    from services.flow.context import FlowContext
    from services.notebooks import NotebookSpec
    from services.state import WizardState

    ctx = FlowContext(factory, world.account, world.region, bound, world.admin_arn, sandbox=True)
    state = WizardState(region=world.region, account=world.account)
    spec = NotebookSpec("hk-auto", world.role_arn, idle_minutes=60)
    notebook.apply(ctx, state, notebook.plan(ctx, state, notebook.NotebookChoices(spec)))
    inv = cleanup.inventory(factory, bound)
    nb = inv.find("notebook", "hk-auto")
    assert nb is not None and nb.lifecycle_config == "hk-auto-autostop"
    lc = inv.find("lifecycle-config", "hk-auto-autostop")
    plan = cleanup.plan_delete(factory, [r for r in (nb, lc) if r is not None])
    calls = [(a.api_call(), a.resource) for a in plan.plan.actions]
    deletes = [c for c, _ in calls if c == "sagemaker:DeleteNotebookInstanceLifecycleConfig"]
    assert deletes == ["sagemaker:DeleteNotebookInstanceLifecycleConfig"]  # once
    names = [c for c, _ in calls]
    assert names.index("sagemaker:DeleteNotebookInstance") < names.index(deletes[0])
    done = cleanup.apply_cleanup(plan, factory, bound, poll=0.05, wait_timeout=30)
    assert all(d.ok for d in done)
    sm = factory.client("sagemaker")
    configs = sm.list_notebook_instance_lifecycle_configs()["NotebookInstanceLifecycleConfigs"]
    assert "hk-auto-autostop" not in {c["NotebookInstanceLifecycleConfigName"] for c in configs}


def test_only_actions_valid_for_the_state_are_offered():
    from services.cleanup.plans import can_delete, can_stop
    from services.resources.record import Resource

    done = Resource(ResourceKind.LABELING_JOB, "lj", state="Completed")
    running = Resource(ResourceKind.LABELING_JOB, "lj2", state="InProgress")
    assert not can_stop(done) and can_stop(running)
    assert not can_delete(done)  # SageMaker keeps job records
    stopped = Resource(ResourceKind.NOTEBOOK, "nb", state="Stopped")
    assert not can_stop(stopped) and can_delete(stopped)


def test_bucket_cors_and_lifecycle_rules_are_listed_and_reverted(factory, world, bound):
    """The bucket plan's lifecycle rule and the Labels step's CORS rule come from the journal;
    a revert restores the journaled previous CORS rules and removes only sagewiz's lifecycle rule."""
    from services.buckets.creation import create_plan
    from services.labeling.setup import cors_action
    from services.plan import Plan, apply_plan

    s3 = factory.client("s3")
    apply_plan(create_plan("hk-rules", world.region, world.account), factory, bound)
    theirs = {"ID": "theirs", "AllowedMethods": ["PUT"], "AllowedOrigins": ["https://example.org"]}
    s3.put_bucket_cors(Bucket="hk-rules", CORSConfiguration={"CORSRules": [theirs]})
    add = cors_action("hk-rules", [theirs])
    assert add is not None
    apply_plan(Plan("CORS", (add,)), factory, bound)
    # someone else adds a lifecycle rule of their own afterwards: the revert keeps it
    rules = s3.get_bucket_lifecycle_configuration(Bucket="hk-rules")["Rules"]
    other = {"ID": "expire-tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 7}}
    s3.put_bucket_lifecycle_configuration(
        Bucket="hk-rules", LifecycleConfiguration={"Rules": [*rules, other]}
    )

    inv = cleanup.inventory(factory, bound)
    cors = inv.find("bucket-cors", "hk-rules")
    life = inv.find("bucket-lifecycle", "hk-rules")
    assert cors is not None and cors.state == "exists" and "restores the 1" in cors.detail
    assert (
        life is not None and life.state == "exists" and life.type.free and cors.hourly_label() == "no charge"
    )
    plan = cleanup.plan_delete(factory, [cors, life])
    calls = [a.api_call() for a in plan.plan.actions]
    assert calls == ["s3:PutBucketLifecycleConfiguration", "s3:PutBucketCors"] or calls == [
        "s3:PutBucketCors", "s3:PutBucketLifecycleConfiguration"
    ]  # fmt: skip
    assert all(a.description.startswith("Revert") for a in plan.plan.actions)
    done = cleanup.apply_cleanup(plan, factory, bound, confirmed_buckets=(), poll=0.05, wait_timeout=30)
    assert all(d.ok for d in done)
    assert s3.get_bucket_cors(Bucket="hk-rules")["CORSRules"] == [theirs]
    assert [r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket="hk-rules")["Rules"]] == [
        "expire-tmp"
    ]
    after = cleanup.inventory(factory, bound)
    assert (
        after.find("bucket-cors", "hk-rules") is None and after.find("bucket-lifecycle", "hk-rules") is None
    )
    assert after.find("bucket", "hk-rules") is not None  # the bucket itself is a separate choice


def test_a_cors_rule_on_a_bucket_that_had_none_is_reverted_by_deleting_the_configuration(
    factory, world, bound
):
    from services.labeling.setup import cors_action
    from services.plan import Plan, apply_plan

    s3 = factory.client("s3")
    make_bucket(factory, bound, "hk-cors", objects=0, versioned=False)
    add = cors_action("hk-cors", [])
    assert add is not None
    apply_plan(Plan("CORS", (add,)), factory, bound)
    cors = cleanup.inventory(factory, bound).find("bucket-cors", "hk-cors")
    assert cors is not None and "removes what sagewiz added" in cors.detail
    plan = cleanup.plan_delete(factory, [cors])
    assert [a.api_call() for a in plan.plan.actions] == ["s3:DeleteBucketCors"]
    cleanup.apply_cleanup(plan, factory, bound, confirmed_buckets=(), poll=0.05, wait_timeout=30)
    with pytest.raises(Exception, match="NoSuchCORSConfiguration"):
        s3.get_bucket_cors(Bucket="hk-cors")
    # reverted outside sagewiz: the journal's memory shows it gone, offered only to be forgotten
    apply_plan(Plan("CORS", (cors_action("hk-cors", []),)), factory, bound)  # type: ignore[arg-type]
    s3.delete_bucket_cors(Bucket="hk-cors")
    gone = cleanup.inventory(factory, bound).find("bucket-cors", "hk-cors")
    assert gone is not None and gone.gone
    assert [a.operation for a in cleanup.plan_delete(factory, [gone]).plan.actions] == ["forget"]


def test_policy_changes_are_listed_and_reverted_to_the_journaled_document(factory, world, bound):
    import json

    from services.permissions.apply import apply_change, read_current
    from services.permissions.fixes.change import (
        BUCKET_POLICY,
        ROLE_INLINE_POLICY,
        PolicyChange,
        PolicyTarget,
    )

    make_bucket(factory, bound, "hk-pol", objects=0, versioned=False)
    make_role(factory, bound, "hk-pol-role")
    iam = factory.client("iam")
    before = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::hk-pol"}],
    }
    iam.put_role_policy(RoleName="hk-pol-role", PolicyName="data", PolicyDocument=json.dumps(before))
    role_target = PolicyTarget(ROLE_INLINE_POLICY, role_name="hk-pol-role", policy_name="data")
    old_text = read_current(factory, role_target)
    wider = {
        "Version": "2012-10-17",
        "Statement": [
            *before["Statement"],
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::hk-pol/*"},
        ],
    }
    apply_change(factory, bound, PolicyChange(role_target, "widen", "test", old_text, json.dumps(wider)))
    bucket_target = PolicyTarget(BUCKET_POLICY, bucket="hk-pol")
    deny = {"Version": "2012-10-17", "Statement": [{"Sid": "TLS", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::hk-pol", "arn:aws:s3:::hk-pol/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}  # fmt: skip
    apply_change(factory, bound, PolicyChange(bucket_target, "tls", "test", None, json.dumps(deny)))

    inv = cleanup.inventory(factory, bound)
    role_change = inv.find("policy-change", role_target.key)
    bucket_change = inv.find("policy-change", bucket_target.key)
    assert role_change is not None and "restores the journaled document" in role_change.detail
    assert bucket_change is not None and "deletes it" in bucket_change.detail
    assert role_change.hourly_label() == "no charge"
    plan = cleanup.plan_delete(factory, [role_change, bucket_change])
    assert sorted(a.api_call() for a in plan.plan.actions) == ["iam:PutRolePolicy", "s3:DeleteBucketPolicy"]
    done = cleanup.apply_cleanup(plan, factory, bound, confirmed_buckets=(), poll=0.05, wait_timeout=30)
    assert all(d.ok for d in done)
    assert json.loads(read_current(factory, role_target) or "{}") == before
    assert read_current(factory, bucket_target) is None
    assert bound.last_policy_change() is None  # `permissions undo` agrees: nothing left to undo
    after = cleanup.inventory(factory, bound)
    assert after.find("policy-change", role_target.key) is None
    assert after.find("policy-change", bucket_target.key) is None


def test_objects_the_data_step_copied_are_listed_by_prefix_with_their_size_and_deleted_together(
    factory, world, bound
):
    from services.journal_events import ResourceCreated

    make_bucket(factory, bound, "hk-data", objects=0, versioned=False)
    s3 = factory.client("s3")
    for n in range(3):
        s3.put_object(Bucket="hk-data", Key=f"images/{n}.jpg", Body=b"x" * 1000)
    s3.put_object(Bucket="hk-data", Key="images-other/keep.jpg", Body=b"y")  # same start, other prefix
    bound.append(ResourceCreated(ResourceKind.PREFIX, "s3://hk-data/images/", attributes={"files": 3}))
    bound.append(ResourceCreated(ResourceKind.PREFIX, "s3://hk-data/emptied/"))
    inv = cleanup.inventory(factory, bound)
    prefix = inv.find("s3-prefix", "s3://hk-data/images/")
    assert prefix is not None and prefix.state == "exists" and prefix.detail == "3 objects (3 KB)"
    assert prefix.hourly_label() == "storage (GB-month)"
    emptied = inv.find("s3-prefix", "s3://hk-data/emptied/")
    assert emptied is not None and emptied.gone  # nothing left under it: only forgotten
    plan = cleanup.plan_delete(factory, [prefix])
    [action] = plan.plan.actions
    assert action.api_call() == "s3:DeleteObjects" and "3 objects (3 KB)" in action.description
    done = cleanup.apply_cleanup(plan, factory, bound, confirmed_buckets=(), poll=0.05, wait_timeout=30)
    assert all(d.ok for d in done)
    left = [o["Key"] for o in s3.list_objects_v2(Bucket="hk-data").get("Contents", [])]
    assert left == ["images-other/keep.jpg"]
    assert cleanup.inventory(factory, bound).find("s3-prefix", "s3://hk-data/images/") is None
