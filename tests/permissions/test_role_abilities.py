"""The Permissions step checks the role for what the notebook's code needs (start the flow's jobs,
pass itself to SageMaker, read work teams): each missing ability is a finding, fixed by a
least-privilege statement that passed the same minimal-change check as every fix; after it, the
role really starts a training job from its own session in the sandbox."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from services.permissions import apply, findings
from services.roles.abilities import AbilityKind
from services.roles.documents import least_privilege_policy
from services.sandbox import trainer
from services.training import build_request
from tests.permissions.helpers import read
from tests.train.conftest import wait_done, xgb_config

ABILITY_FINDINGS = {f"role-cannot-{k.value}" for k in AbilityKind}


@pytest.fixture(autouse=True)
def fast_pace():
    old = trainer.set_pace(0.0)
    yield
    trainer.set_pace(old)


def _start_job(role_factory: Any, world: Any, name: str) -> None:
    request = build_request(xgb_config(world, name=name, prefix="nothing-here"))
    request["RoleArn"] = world.role_arn
    role_factory.client("sagemaker").create_training_job(**request)


def test_a_role_without_the_abilities_gets_findings_and_one_verified_fix(
    factory, role_factory, world, journal
):
    iam = factory.client("iam")
    iam.delete_role_policy(RoleName=world.role_name, PolicyName="SageMaker-tt-access")
    before_issue = least_privilege_policy(world.account, world.region, world.default_bucket)
    iam.put_role_policy(
        RoleName=world.role_name,
        PolicyName="sagewiz-least-privilege",
        PolicyDocument=json.dumps(before_issue),
    )
    with pytest.raises(ClientError) as refused:
        _start_job(role_factory, world, "before-the-fix")
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"

    state = read(factory, world)
    found = findings.check(state)
    lacking = {f.id: f for f in found if f.id in ABILITY_FINDINGS}
    assert set(lacking) == ABILITY_FINDINGS
    passing = lacking["role-cannot-pass-itself"]
    assert passing.severity == findings.WARNING and passing.fix == findings.FIX_ROLE_ABILITIES
    assert passing.evidence == f"iam:PassRole on {world.role_arn}"
    # The S3 part of that policy was already right: the role's policy gets one change, the abilities.
    proposals = [p for p in findings.proposed_changes(state, found) if p.change is not None]
    role_changes = [p for p in proposals if p.change and p.change.target.role_name == world.role_name]
    assert [p.title for p in role_changes] == ["Let role SageMaker-tt run the flow from the notebook"]
    assert set(role_changes[0].change.fixes) == ABILITY_FINDINGS
    change = role_changes[0].change
    assert change is not None and change.target.policy_name == "sagewiz-least-privilege"
    assert any(c.startswith("minimal change checked over") for c in change.checks)
    new = json.loads(change.new_text or "")
    assert new["Statement"][: len(before_issue["Statement"])] == before_issue["Statement"]

    apply.apply_change(factory, journal, change)
    after = findings.check(read(factory, world))
    assert not [f for f in after if f.id in ABILITY_FINDINGS]
    _start_job(role_factory, world, "after-the-fix")
    assert wait_done(role_factory.client("sagemaker"), "after-the-fix")["RoleArn"] == world.role_arn


def test_only_the_missing_abilities_are_added(factory, world):
    iam = factory.client("iam")
    full = least_privilege_policy(world.account, world.region, world.default_bucket, None, world.role_arn)
    full["Statement"] = [s for s in full["Statement"] if s["Sid"] != "SagewizPassItselfToSageMaker"]
    iam.put_role_policy(
        RoleName=world.role_name, PolicyName="sagewiz-least-privilege", PolicyDocument=json.dumps(full)
    )
    state = read(factory, world)
    found = findings.check(state)
    assert [f.id for f in found if f.id in ABILITY_FINDINGS] == ["role-cannot-pass-itself"]
    change = next(
        p.change
        for p in findings.proposed_changes(state, found)
        if p.change and p.change.fixes == ("role-cannot-pass-itself",)
    )
    added = json.loads(change.new_text or "")["Statement"][len(full["Statement"]) :]
    assert added == [
        {
            "Sid": "SagewizPassItselfToSageMaker",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": world.role_arn,
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        }
    ]


def test_the_full_access_managed_policy_has_every_ability(factory, world):
    factory.client("iam").attach_role_policy(
        RoleName=world.role_name, PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
    )
    assert not [f for f in findings.check(read(factory, world)) if f.id in ABILITY_FINDINGS]
