"""Notebook and role services against the sandbox (real boto3 calls to the embedded moto server)."""

from __future__ import annotations

import json

import pytest

from services import notebooks as nb
from services.errors import (
    AccessDeniedError,
    ConflictError,
    QuotaExceededError,
    ThrottledError,
    ValidationError,
)
from services.notebook_errors import explain_failure
from services.plan import TAG_KEY, apply_plan
from services.remedy import Face
from services.roles.creation import INLINE_POLICY_NAME, RoleSpec, plan_create_role
from services.roles.documents import least_privilege_policy, sagemaker_role_problem, trust_policy
from services.roles.listing import check_role_assumable, list_execution_roles
from services.roles.pass_role import check_pass_role
from services.sandbox.extensions import notebook as nb_ext
from tests.notebook.conftest import make_user
from tests.support import eventually_blocking

# An injected ThrottlingException has no error shape in SageMaker's model; moto warns, AWS sends it.
pytestmark = pytest.mark.filterwarnings("ignore:.*ThrottlingException does not match an error shape")


def wait_status(factory, name, wanted, timeout=5.0):
    """The statuses the notebook went through until it reached `wanted` (a NotFound counts as one)."""
    seen = []

    def reached() -> bool:
        try:
            status = nb.describe_notebook(factory, name).status
        except Exception as exc:  # noqa: BLE001 - a NotFound after delete is the end state
            status = type(exc).__name__
        if not seen or seen[-1] != status:
            seen.append(status)
        return status == wanted

    eventually_blocking(reached, timeout, what=lambda: f"{name} to reach {wanted}; seen {seen}")
    return seen


# -- names, types, platforms ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "required"),
        ("a" * 64, "at most 63"),
        ("my_notebook", "'_'"),
        ("-lead", "start and end"),
        ("trail-", "start and end"),
        ("has space", "' '"),
    ],
)
def test_bad_names_say_which_rule(name, fragment):
    assert fragment in (nb.name_problem(name) or "")


def test_good_names():
    for name in ("a", "nb-1", "A--b", "x" * 63):
        assert nb.name_problem(name) is None


def test_instance_types_come_from_the_api_model():
    types = nb.notebook_instance_types()
    assert "ml.t3.medium" in types and len(types) > 50
    assert nb.instance_type_problem("ml.t3.medium") is None
    assert "not a notebook instance type" in nb.instance_type_problem("ml.bogus.huge")


def test_end_of_life_platform_warns():
    assert nb.platform_warning(nb.DEFAULT_PLATFORM) is None
    assert "end of life" in nb.platform_warning("notebook-al2-v3")


def test_spec_validation_names_each_field():
    spec = nb.NotebookSpec(
        name="bad_name", role_arn="nope", volume_gb=2, subnet_id="", direct_internet_access=False
    )
    fields = {e.field for e in nb.validate_spec(spec)}
    assert {"name", "execution role", "volume size", "internet access"} <= fields


# -- roles --------------------------------------------------------------------------------------
def test_trust_policy_and_least_privilege_shapes():
    trust = trust_policy("123456789012")
    st = trust["Statement"][0]
    assert st["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert st["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert sagemaker_role_problem(trust) is None
    pol = least_privilege_policy("123456789012", "eu-north-1", "bkt", "data/")
    by_sid = {s["Sid"]: s for s in pol["Statement"]}
    assert by_sid["BucketLevel"]["Resource"] == "arn:aws:s3:::bkt"
    assert by_sid["BucketLevel"]["Condition"]["StringLike"]["s3:prefix"][0] == "data/*"
    assert by_sid["ObjectLevel"]["Resource"] == "arn:aws:s3:::bkt/data/*"
    assert "s3:ListBucket" not in by_sid["ObjectLevel"]["Action"]
    # s3:prefix is only present on list requests: GetBucketLocation must not sit under it
    assert by_sid["BucketLocation"]["Action"] == "s3:GetBucketLocation"
    assert "Condition" not in by_sid["BucketLocation"]
    assert "s3:GetBucketLocation" not in by_sid["BucketLevel"]["Action"]
    assert "/aws/sagemaker/*" in by_sid["JobLogs"]["Resource"][0]
    no_prefix = least_privilege_policy("123456789012", "eu-north-1", "bkt")
    assert no_prefix["Statement"][1]["Resource"] == "arn:aws:s3:::bkt/*"
    assert "Condition" not in no_prefix["Statement"][0]


def test_role_listing_explains_exclusions(world, factory):
    iam = factory.client("iam")
    iam.create_role(
        RoleName="ec2-only",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            }
        ),
    )
    listing = list_execution_roles(factory)
    assert "SageMaker-tt" in [r.name for r in listing.usable]
    excluded = {r.name: r.reason for r in listing.excluded}
    assert "ec2.amazonaws.com" in excluded["ec2-only"]
    with pytest.raises(ValidationError, match="SageMaker cannot assume ec2-only"):
        check_role_assumable(factory, "arn:aws:iam::123456789012:role/ec2-only")
    with pytest.raises(ValidationError, match="does not exist"):
        check_role_assumable(factory, "arn:aws:iam::123456789012:role/ghost")
    _role_sagemaker_cannot_assume(world, factory)


def test_create_role_least_privilege_and_full_access(world, factory, journal):
    spec = RoleSpec("sw-exec", world.account, world.region, world.default_bucket, autostop_notebook="nb1")
    plan = plan_create_role(spec)
    assert [a.operation for a in plan.actions] == ["create_role", "put_role_policy"]
    assert "aws:SourceAccount" in plan.actions[0].diff
    apply_plan(plan, factory, journal)
    iam = factory.client("iam")
    role = iam.get_role(RoleName="sw-exec")["Role"]
    assert sagemaker_role_problem(role["AssumeRolePolicyDocument"]) is None
    assert {"Key": TAG_KEY, "Value": "sagewiz"} in role.get("Tags", [])
    doc = iam.get_role_policy(RoleName="sw-exec", PolicyName=INLINE_POLICY_NAME)["PolicyDocument"]
    assert any(s["Sid"] == "IdleAutoStop" for s in doc["Statement"])
    assert [e.data["id"] for e in journal.created_resources()] == ["sw-exec"]
    assert spec.arn in [r.arn for r in list_execution_roles(factory).usable]
    # idle auto-stop: the new role may stop its notebook; the seeded role may not, and we say so
    assert (
        nb.preflight(factory, world.admin_arn, nb.NotebookSpec("nb1", spec.arn, idle_minutes=30)).notes == ()
    )
    notes = nb.preflight(
        factory, world.admin_arn, nb.NotebookSpec("nb1", world.role_arn, idle_minutes=30)
    ).notes
    assert "will NOT fire" in notes[0]
    _create_role_full_access(world, factory, journal)


def _create_role_full_access(world, factory, journal):
    plan = plan_create_role(RoleSpec("sw-full", world.account, world.region, "", full_access=True))
    assert plan.actions[1].params["PolicyArn"] == "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
    assert "far wider" in plan.warnings[0]
    apply_plan(plan, factory, journal)
    attached = factory.client("iam").list_attached_role_policies(RoleName="sw-full")["AttachedPolicies"]
    assert attached[0]["PolicyName"] == "AmazonSageMakerFullAccess"


def test_bad_role_names():
    with pytest.raises(ValidationError, match="letters, digits"):
        plan_create_role(RoleSpec("has space", "1", "r", "b"))
    with pytest.raises(ValidationError, match="already exists"):
        plan_create_role(RoleSpec("taken", "1", "r", "b"), existing_names={"taken"})


# -- iam:PassRole --------------------------------------------------------------------------------
def _pass_role_allowed_for_admin(world, factory):
    check = check_pass_role(factory, world.admin_arn, world.role_arn)
    assert check.allowed is True


def _pass_role_missing(world, factory):
    user = make_user(
        factory,
        world,
        "no-pass",
        [{"Effect": "Allow", "Action": ["sagemaker:*", "iam:Get*", "iam:List*"], "Resource": "*"}],
    )
    arn = f"arn:aws:iam::{world.account}:user/no-pass"
    check = check_pass_role(user, arn, world.role_arn)
    assert check.allowed is False
    assert "iam:PassRole" in check.explanation
    spec = nb.NotebookSpec(name="nb-denied", role_arn=world.role_arn)
    with pytest.raises(AccessDeniedError, match="may not pass"):
        nb.preflight(user, arn, spec)


def _pass_role_condition_on_service(world, factory):
    stmts = [
        {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
         "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}},
    ]  # fmt: skip
    user = make_user(factory, world, "cond-pass", stmts)
    check = check_pass_role(user, f"arn:aws:iam::{world.account}:user/cond-pass", world.role_arn)
    assert check.allowed is True


def _pass_role_unknown_when_policies_unreadable(world, factory):
    user = make_user(factory, world, "blind", [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}])
    check = check_pass_role(user, f"arn:aws:iam::{world.account}:user/blind", world.role_arn)
    assert check.allowed is None
    assert "Could not check" in check.explanation


# -- lifecycle of an instance --------------------------------------------------------------------
def _create(factory, journal, world, name="nb-one", **kw):
    spec = nb.NotebookSpec(name=name, role_arn=world.role_arn, **kw)
    nb.preflight(factory, world.admin_arn, spec)
    nb.apply(nb.plan_create_notebook(spec, world.region), factory, journal, name=name)
    return spec


def test_create_stop_start_delete_with_status_sequence(world, factory, journal):
    _create(factory, journal, world, idle_minutes=30, platform="notebook-al2023-v1")
    info = nb.describe_notebook(factory, "nb-one")
    assert info.status == "Pending"
    assert info.lifecycle_config == "nb-one-autostop"
    assert info.platform == "notebook-al2023-v1"
    assert wait_status(factory, "nb-one", "InService") == ["Pending", "InService"]
    url = nb.presigned_url(factory, "nb-one")
    assert url.startswith("https://nb-one.notebook.eu-north-1.sagemaker.aws?authToken=")
    listed = nb.list_notebooks(factory)
    assert [(i.name, i.role_name, i.instance_type) for i in listed] == [
        ("nb-one", "SageMaker-tt", "ml.t3.medium")
    ]
    assert "estimate" in listed[0].cost_label

    with pytest.raises(ConflictError, match="Stop it first"):
        nb.plan_delete("nb-one", listed[0])
    with pytest.raises(ConflictError, match="Stop it first"):  # AWS says the same if asked anyway
        nb.apply(nb._lifecycle_plan("delete", "nb-one", None), factory, journal, name="nb-one")

    nb.apply(nb.plan_stop("nb-one", listed[0]), factory, journal, name="nb-one")
    assert wait_status(factory, "nb-one", "Stopped") == ["Stopping", "Stopped"]
    # Stopped, it bills only its volume: a few tenths of a cent an hour, not the instance rate.
    stopped = nb.describe_notebook(factory, "nb-one")
    running_rate = listed[0].price.usd_per_hour if listed[0].price else None
    assert stopped.billing is nb.Billing.VOLUME and stopped.volume_gb
    assert stopped.volume_hourly is not None and running_rate is not None
    assert 0 < stopped.volume_hourly < running_rate / 10
    assert f"{stopped.volume_gb} GB volume only" in stopped.cost_label
    assert f"{running_rate:.3f}" not in stopped.cost_label
    # Starting it again says what billing resumes at: the instance rate.
    assert f"{running_rate:.3f}" in nb.plan_start("nb-one", stopped).actions[0].description
    nb.apply(nb.plan_start("nb-one"), factory, journal, name="nb-one")
    assert wait_status(factory, "nb-one", "InService") == ["Pending", "InService"]
    nb.apply(nb.plan_stop("nb-one"), factory, journal, name="nb-one")
    wait_status(factory, "nb-one", "Stopped")
    nb.apply(nb.plan_delete("nb-one"), factory, journal, name="nb-one")
    assert wait_status(factory, "nb-one", "NotFoundError") == ["Deleting", "NotFoundError"]
    kinds = [e.kind for e in journal.entries(scope=False)]
    assert kinds.count("resource-created") == 2  # lifecycle config + notebook
    assert kinds.count("resource-changed") == 3
    assert kinds[-1] == "resource-deleted"
    assert [e.data["type"] for e in journal.created_resources()] == ["lifecycle-config"]


def test_name_taken_and_type_not_offered(world, factory, journal):
    _create(factory, journal, world, name="dup")
    with pytest.raises(ValidationError, match="already exists"):
        nb.preflight(factory, world.admin_arn, nb.NotebookSpec(name="dup", role_arn=world.role_arn))
    # and if it races in anyway, AWS's answer is said plainly
    with pytest.raises(ConflictError, match="Name already taken"):
        nb.apply(nb.plan_create_notebook(nb.NotebookSpec(name="dup", role_arn=world.role_arn), world.region),
                 factory, journal, name="dup")  # fmt: skip
    _type_not_offered_in_region(world, factory, journal)
    vpc = nb.NotebookSpec(
        name="nb-vpc",
        role_arn=world.role_arn,
        subnet_id="subnet-0123456789abcdef0",
        security_group_ids=("sg-12345678",),
    )
    with pytest.raises(ValidationError, match="subnet-0123456789abcdef0 was not found"):
        nb.preflight(factory, world.admin_arn, vpc)


def _type_not_offered_in_region(world, factory, journal):
    spec = nb.NotebookSpec(name="big", role_arn=world.role_arn, instance_type="ml.g4dn.xlarge")
    with pytest.raises(ValidationError, match="ml.g4dn.xlarge is not offered") as info:
        nb.apply(nb.plan_create_notebook(spec, world.region), factory, journal, name="big")
    assert info.value.field == "instance type"
    assert "big" not in [i.name for i in nb.list_notebooks(factory)]


def _role_sagemaker_cannot_assume(world, factory):
    factory.client("iam").create_role(
        RoleName="lambda-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            }
        ),
    )
    spec = nb.NotebookSpec(name="nb-x", role_arn=f"arn:aws:iam::{world.account}:role/lambda-role")
    with pytest.raises(ValidationError, match="lambda.amazonaws.com"):
        nb.preflight(factory, world.admin_arn, spec)


def _quota_exceeded(world, factory, journal):
    nb_ext.inject_fault(
        "create_notebook_instance", "ResourceLimitExceeded",
        "The account-level service limit 'ml.t3.medium for notebook instance usage' is 1 Instances", times=3,
    )  # fmt: skip
    spec = nb.NotebookSpec(name="quota", role_arn=world.role_arn)
    with pytest.raises(QuotaExceededError, match="quota reached") as info:
        nb.apply(nb.plan_create_notebook(spec, world.region), factory, journal, name="quota")
    assert "Service Quotas" in info.value.hint
    assert "ml.t3.medium for notebook instance usage" in info.value.message
    assert not journal.entries("resource-created", scope=False)


def _throttling(world, factory):
    nb_ext.inject_fault("list_notebook_instances", "ThrottlingException", "Rate exceeded", times=2)
    with pytest.raises(ThrottledError):
        nb.list_notebooks(factory)


def test_failed_lifecycle_gives_failure_reason(world, factory, journal):
    import base64

    factory.client("sagemaker").create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName="broken",
        OnStart=[{"Content": base64.b64encode(b"#!/bin/bash\nexit 1\n").decode()}],
    )
    _create(factory, journal, world, name="nb-fail", lifecycle_config="broken")
    wait_status(factory, "nb-fail", "Failed")
    info = nb.describe_notebook(factory, "nb-fail")
    assert "Lifecycle Config" in info.failure_reason
    assert "CloudWatch" in explain_failure(info.failure_reason).render(Face.TUI)
    assert nb.plan_delete("nb-fail", info).actions  # a failed instance can be deleted directly


def _pass_role_unknown_condition(world, factory):
    stmts = [
        {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
         "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
    ]  # fmt: skip
    user = make_user(factory, world, "ip-bound", stmts)
    check = check_pass_role(user, f"arn:aws:iam::{world.account}:user/ip-bound", world.role_arn)
    assert check.allowed is None
    assert "cannot evaluate" in check.explanation


def _failed_create_rolls_back_the_new_role(world, factory, journal):
    nb_ext.inject_fault("create_notebook_instance", "ResourceLimitExceeded", "limit is 0 Instances", times=3)
    role_spec = RoleSpec("sw-rollback", world.account, world.region, world.default_bucket)
    spec = nb.NotebookSpec(name="nb-rb", role_arn=role_spec.arn, idle_minutes=60)
    plan = nb.plan_create_notebook(spec, world.region, role_plan=plan_create_role(role_spec))
    with pytest.raises(QuotaExceededError) as info:
        nb.apply_create(plan, factory, journal, name="nb-rb")
    assert "role sw-rollback deleted" in info.value.message
    assert "sw-rollback" not in [r.name for r in list_execution_roles(factory).usable]
    lcs = factory.client("sagemaker").list_notebook_instance_lifecycle_configs()[
        "NotebookInstanceLifecycleConfigs"
    ]
    assert lcs == []
    assert journal.created_resources() == []


# Several cases share one sandbox world: a reset costs about a second.
def test_pass_role_cases(world, factory):
    _pass_role_allowed_for_admin(world, factory)
    _pass_role_missing(world, factory)
    _pass_role_condition_on_service(world, factory)
    _pass_role_unknown_when_policies_unreadable(world, factory)
    _pass_role_unknown_condition(world, factory)


def test_quota_throttling_and_rollback(world, factory, journal):
    _quota_exceeded(world, factory, journal)
    _throttling(world, factory)
    _failed_create_rolls_back_the_new_role(world, factory, journal)


def test_vpc_rules_before_any_call():
    def fields(**kw):
        spec = nb.NotebookSpec(name="n", role_arn="arn:aws:iam::123456789012:role/r", **kw)
        return {e.field for e in nb.validate_spec(spec)}

    assert fields(subnet_id="subnet-12345678") == {"security groups"}
    assert fields(subnet_id="sub-1", security_group_ids=("sg-12345678",)) == {"subnet"}
    assert fields(security_group_ids=("sg-12345678",)) == {"security groups"}
    ok = fields(
        subnet_id="subnet-12345678", security_group_ids=("sg-12345678",), direct_internet_access=False
    )
    assert ok == set()
    assert fields(idle_minutes=2) == {"idle minutes"}
    assert fields(idle_minutes=30, lifecycle_config="mine") == {"lifecycle configuration"}


@pytest.mark.parametrize("trust", ["[]", '"text"', "{", '{"n": ' + "1" * 5000 + "}"])
def test_a_trust_policy_that_is_not_a_json_object_is_named_not_crashed_on(trust):
    assert sagemaker_role_problem(trust) == "its trust policy is not valid JSON"
