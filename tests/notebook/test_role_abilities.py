"""The execution role sagewiz proposes can run the flow from inside the notebook: acting as the role
(AssumeRole) in the sandbox, it creates a training job that passes itself to SageMaker; the policy
proposed before issue 23 (S3, Logs and ECR only) is refused, as AWS refuses it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from services.roles.abilities import AbilityKind, check_abilities
from services.roles.documents import least_privilege_policy, trust_policy
from services.sandbox import trainer
from services.session import AwsTarget, SessionFactory, StaticCredentials
from services.training import build_request
from tests.train.conftest import wait_done, xgb_config

ROLE = "sagewiz-abilities"


@pytest.fixture(autouse=True)
def fast_pace():
    old = trainer.set_pace(0.0)
    yield
    trainer.set_pace(old)


def _as_role(factory: Any, world: Any, policy: dict[str, Any]) -> tuple[SessionFactory, str]:
    """Create the role with `policy` as its only policy, and sign in as a session of it."""
    iam = factory.client("iam")
    trust = trust_policy(world.account)
    # The sandbox's STS checks the trust policy of an AssumeRole, so the admin may assume it too.
    trust["Statement"].append(
        {"Effect": "Allow", "Principal": {"AWS": world.admin_arn}, "Action": "sts:AssumeRole"}
    )
    arn = iam.create_role(RoleName=ROLE, Path="/service-role/", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    iam.put_role_policy(
        RoleName=ROLE, PolicyName="sagewiz-least-privilege", PolicyDocument=json.dumps(policy)
    )
    creds = factory.client("sts").assume_role(RoleArn=arn, RoleSessionName="notebook")["Credentials"]
    target = AwsTarget(
        region=world.region,
        endpoint_url=world.endpoint,
        credentials=StaticCredentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
        sandbox=True,
    )
    return SessionFactory(target), arn


def _role_arn(world: Any) -> str:
    return f"arn:aws:iam::{world.account}:role/service-role/{ROLE}"


def _training_request(world: Any, name: str) -> dict[str, Any]:
    request = build_request(xgb_config(world, name=name, prefix="nothing-here"))
    request["RoleArn"] = _role_arn(world)
    return request


def test_the_proposed_role_starts_a_training_job_that_passes_itself(world, factory):
    policy = least_privilege_policy(world.account, world.region, world.default_bucket, None, _role_arn(world))
    as_role, arn = _as_role(factory, world, policy)
    sm = as_role.client("sagemaker")
    sm.create_training_job(**_training_request(world, "from-the-notebook"))
    # The job is the role's to watch too (Describe, on its ARN).
    assert wait_done(sm, "from-the-notebook")["RoleArn"] == arn
    assert sm.list_training_jobs()["TrainingJobSummaries"]


def test_todays_policy_is_refused_like_aws_refuses_it(world, factory):
    policy = least_privilege_policy(world.account, world.region, world.default_bucket)
    as_role, _ = _as_role(factory, world, policy)
    with pytest.raises(ClientError) as exc:
        as_role.client("sagemaker").create_training_job(**_training_request(world, "refused"))
    error = exc.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (
        f"User: arn:aws:sts::{world.account}:assumed-role/{ROLE}/notebook is not authorized to perform: "
        f"sagemaker:CreateTrainingJob on resource: arn:aws:sagemaker:{world.region}:{world.account}:"
        "training-job/refused because no identity-based policy allows the sagemaker:CreateTrainingJob action"
    )


def test_without_pass_role_the_job_is_refused_on_the_role(world, factory):
    policy = least_privilege_policy(world.account, world.region, world.default_bucket, None, _role_arn(world))
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != "SagewizPassItselfToSageMaker"]
    as_role, arn = _as_role(factory, world, policy)
    with pytest.raises(ClientError) as exc:
        as_role.client("sagemaker").create_training_job(**_training_request(world, "no-pass"))
    assert exc.value.response["Error"]["Message"].endswith(
        f"iam:PassRole on resource: {arn} because no identity-based policy allows the iam:PassRole action"
    )


def test_pass_role_is_only_to_sagemaker():
    arn = "arn:aws:iam::123456789012:role/service-role/R"
    policy = least_privilege_policy("123456789012", "eu-north-1", "bkt", None, arn)
    found = {c.ability.kind: c for c in check_abilities(arn, "123456789012", "eu-north-1", [("p", policy)])}
    assert all(c.has for c in found.values())
    passing = next(s for s in policy["Statement"] if s["Sid"] == "SagewizPassItselfToSageMaker")
    assert passing["Resource"] == arn
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    today = least_privilege_policy("123456789012", "eu-north-1", "bkt")
    lacking = {
        c.ability.kind
        for c in check_abilities(arn, "123456789012", "eu-north-1", [("p", today)])
        if not c.has
    }
    assert lacking == set(AbilityKind)


SM = "arn:aws:sagemaker:eu-north-1:123456789012"
PASS = (("iam:PassedToService", "sagemaker.amazonaws.com"),)


@pytest.mark.parametrize(
    ("operation", "body", "expected"),
    [
        (
            "CreateTrainingJob",
            {"TrainingJobName": "Job-A", "RoleArn": "arn:r", "Tags": [{"Key": "k", "Value": "v"}]},
            [
                ("sagemaker:CreateTrainingJob", f"{SM}:training-job/job-a", ()),
                ("sagemaker:AddTags", f"{SM}:training-job/job-a", ()),
                ("iam:PassRole", "arn:r", PASS),
            ],
        ),
        (
            "CreateHyperParameterTuningJob",
            {
                "HyperParameterTuningJobName": "t",
                "TrainingJobDefinition": {"RoleArn": "arn:r"},
                "TrainingJobDefinitions": [{"RoleArn": "arn:r"}, {"RoleArn": "arn:s"}],
            },
            [
                ("sagemaker:CreateHyperParameterTuningJob", f"{SM}:hyper-parameter-tuning-job/t", ()),
                ("iam:PassRole", "arn:r", PASS),
                ("iam:PassRole", "arn:s", PASS),
            ],
        ),
        ("CreateModel", {"ModelName": "m", "ExecutionRoleArn": "arn:r"},
         [("sagemaker:CreateModel", f"{SM}:model/m", ()), ("iam:PassRole", "arn:r", PASS)]),
        ("DescribeLabelingJob", {"LabelingJobName": "l"}, [("sagemaker:DescribeLabelingJob", f"{SM}:labeling-job/l", ())]),
        ("DescribeWorkteam", {"WorkteamName": "w"},
         [("sagemaker:DescribeWorkteam", f"{SM}:workteam/private-crowd/w", ())]),
        ("ListTrainingJobs", {}, [("sagemaker:ListTrainingJobs", "*", ())]),
    ],
)  # fmt: skip
def test_the_sandbox_asks_what_sagemaker_asks(operation, body, expected):
    from services.sandbox.authorization import sagemaker_checks

    checks = sagemaker_checks(operation, body, "eu-north-1", "123456789012")
    assert [(c.action, c.resource, c.context) for c in checks] == expected
