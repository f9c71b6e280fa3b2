"""A role given as a name or as an ARN with or without its path, against the seeded sandbox (the
seed's role is SageMaker-tt under /service-role/), and what the Permissions step makes of each."""

from __future__ import annotations

import json

import pytest

from services.errors import NotFoundError, ValidationError
from services.flow import permissions as flow_permissions
from services.flow.context import FlowContext
from services.roles.naming import RoleForm, parse_role, resolve_role
from services.sandbox.seed import bucket_policy


def path_less(world) -> str:
    return f"arn:aws:iam::{world.account}:role/{world.role_name}"


def ctx(factory, world, journal) -> FlowContext:
    return FlowContext(factory, world.account, world.region, journal, world.admin_arn, sandbox=True)


def test_each_form_resolves_to_the_real_arn(factory, world):
    assert world.role_arn.endswith(":role/service-role/SageMaker-tt")
    name = resolve_role(factory, parse_role(" SageMaker-tt "), account=world.account)
    assert name.ref.form is RoleForm.NAME and name.arn == world.role_arn and not name.differs
    full = resolve_role(factory, parse_role(world.role_arn), account=world.account)
    assert full.ref.form is RoleForm.ARN and full.arn == world.role_arn and not full.differs
    bare = resolve_role(factory, parse_role(path_less(world)), account=world.account)
    assert bare.arn == world.role_arn and bare.path == "/service-role/"
    assert bare.differs and bare.path_missing
    wrong = resolve_role(factory, parse_role(f"arn:aws:iam::{world.account}:role/other/SageMaker-tt"), account=world.account)  # fmt: skip
    assert wrong.differs and not wrong.path_missing


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "No role given"),
        ("Sage Maker", "only letters, digits"),
        ("x" * 65, "at most 64 characters"),
        ("service-role/SageMaker-tt", "neither a role name"),
        ("arn:aws:iam::123456789012:user/alice", "not a role's"),
        ("arn:aws:iam::1234:role/SageMaker-tt", "not a valid role ARN"),
    ],
)
def test_bad_names_are_explained_before_any_call(text, says):
    with pytest.raises(ValidationError) as info:
        parse_role(text)
    assert says in info.value.message


def test_a_role_that_does_not_exist_or_is_in_another_account(factory, world):
    with pytest.raises(NotFoundError) as info:
        resolve_role(factory, parse_role("NoSuchRole"), account=world.account)
    assert "no role named 'NoSuchRole'" in info.value.message
    with pytest.raises(ValidationError) as other:
        resolve_role(
            factory, parse_role("arn:aws:iam::210987654321:role/SageMaker-tt"), account=world.account
        )
    assert "account 210987654321" in other.value.message


def test_a_name_is_checked_as_the_real_role(factory, world, journal):
    found = flow_permissions.inspect(
        ctx(factory, world, journal),
        flow_permissions.PermissionsChoices(bucket=world.default_bucket, role_arn=world.role_name),
    )
    assert found.state.role_arn == world.role_arn and found.state.role_given is None
    assert not [f for f in found.findings if f.id.startswith("role-arn")]


def test_an_arn_without_its_path_is_its_own_finding_and_the_bucket_fix_names_the_real_arn(
    factory, world, journal
):
    # the bucket policy names the role as given: without its path
    factory.client("s3").put_bucket_policy(
        Bucket=world.default_bucket, Policy=json.dumps(bucket_policy(world.default_bucket, path_less(world)))
    )
    found = flow_permissions.inspect(
        ctx(factory, world, journal),
        flow_permissions.PermissionsChoices(bucket=world.default_bucket, role_arn=path_less(world)),
    )
    assert found.state.role_arn == world.role_arn and found.state.role_given == path_less(world)
    finding = next(f for f in found.findings if f.id == "role-arn-without-path")
    assert finding.title == "The role ARN given lacks its path"
    assert world.role_arn in finding.explanation and "does not match the role" in finding.explanation
    assert "The bucket policy names the role as given" in finding.explanation
    assert finding.fix == "bucket-policy"
    fix = next(p.change for p in found.proposals if p.change and p.change.target.kind == "bucket-policy")
    assert "role-arn-without-path" in fix.fixes
    principals = [st["Principal"]["AWS"] for st in json.loads(fix.new_text)["Statement"] if "Principal" in st]
    assert world.role_arn in principals and path_less(world) not in principals


def test_an_arn_without_its_path_when_the_bucket_policy_names_the_real_arn(factory, world, journal):
    found = flow_permissions.inspect(
        ctx(factory, world, journal),
        flow_permissions.PermissionsChoices(bucket=world.default_bucket, role_arn=path_less(world)),
    )
    finding = next(f for f in found.findings if f.id == "role-arn-without-path")
    assert finding.severity == "warning" and finding.fix is None
    assert "bucket policy names the role as given" not in finding.explanation
    # checked as the real role: the seed's own problems, with their fixes
    assert {"object-actions-on-bucket-arn"} <= {f.id for f in found.findings}
    assert [p for p in found.proposals if p.change is not None]


def test_a_missing_role_is_a_finding_not_a_failure(factory, world, journal):
    found = flow_permissions.inspect(
        ctx(factory, world, journal),
        flow_permissions.PermissionsChoices(bucket=world.default_bucket, role_arn="NoSuchRole"),
    )
    assert found.state.role_arn == f"arn:aws:iam::{world.account}:role/NoSuchRole"
    assert [f.title for f in found.findings if f.id == "role-missing"] == ["Role NoSuchRole does not exist"]
