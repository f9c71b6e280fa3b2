"""What an execution role must be able to do for the notebook to run the whole flow itself.

The seed's notebook runs SDK code that creates the labeling, training and tuning jobs with the
notebook's own role, so that role needs the SageMaker actions of those jobs and iam:PassRole on
itself, besides the S3, Logs and ECR access jobs use. One table says so: each `Ability` has the
name shown to people and the grants (actions on resource ARNs) it needs. It builds the policy the
Notebook step proposes (`statements`) and is what the Permissions step checks an existing role
against (`missing_abilities`), with the same evaluator the doctor uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from services import regions
from services.policy.context import RequestContext
from services.policy.document import PolicyError, parse_policy
from services.policy.evaluate import BOUNDARY, IDENTITY, NamedPolicy, PolicySet, evaluate_request

SAGEMAKER_SERVICE = regions.service_principal("sagemaker")


class AbilityKind(Enum):
    RUN_JOBS = "run-jobs"
    MODELS = "models"
    PASS_ITSELF = "pass-itself"
    READ_WORKTEAMS = "read-workteams"


@dataclass(frozen=True)
class Condition:
    operator: str  # "StringEquals"
    key: str  # "iam:PassedToService"
    value: str


@dataclass(frozen=True)
class Grant:
    """One statement: `actions` on `resources` (IAM wildcards allowed), under `conditions`."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[Condition, ...] = ()

    def statement(self) -> dict[str, Any]:
        st: dict[str, Any] = {
            "Sid": self.sid,
            "Effect": "Allow",
            "Action": list(self.actions) if len(self.actions) > 1 else self.actions[0],
            "Resource": list(self.resources) if len(self.resources) > 1 else self.resources[0],
        }
        if self.conditions:
            cond: dict[str, dict[str, str]] = {}
            for c in self.conditions:
                cond.setdefault(c.operator, {})[c.key] = c.value
            st["Condition"] = cond
        return st

    def sample_requests(self) -> Iterable[tuple[str, str, dict[str, str]]]:
        """(action, resource, condition keys) a request using this grant would carry: the check
        asks the role's own policies about exactly these."""
        context = {c.key: c.value for c in self.conditions}
        for action in self.actions:
            for resource in self.resources:
                yield action, resource.replace("*", "sagewiz-check"), context


@dataclass(frozen=True)
class Ability:
    kind: AbilityKind
    label: str  # what the role can do, in words people read
    grants: tuple[Grant, ...]


_JOB_KINDS = ("labeling-job", "training-job", "hyper-parameter-tuning-job", "transform-job")


def abilities(account: str, region: str, role_arn: str) -> tuple[Ability, ...]:
    """The abilities the flow needs of the role `role_arn`, scoped to this account and region."""

    def arns(*kinds: str) -> tuple[str, ...]:
        return tuple(regions.arn("sagemaker", region, account, f"{k}/*") for k in kinds)

    # List* actions have no resource-level permissions in SageMaker (Resource must be "*"):
    # the requested-region condition keeps them to this region.
    in_region = (Condition("StringEquals", "aws:RequestedRegion", region),)
    return (
        Ability(
            AbilityKind.RUN_JOBS,
            "run labeling, training, tuning and transform jobs",
            (
                Grant(
                    "SagewizJobs",
                    (
                        "sagemaker:CreateLabelingJob",
                        "sagemaker:DescribeLabelingJob",
                        "sagemaker:StopLabelingJob",
                        "sagemaker:CreateTrainingJob",
                        "sagemaker:DescribeTrainingJob",
                        "sagemaker:StopTrainingJob",
                        "sagemaker:CreateHyperParameterTuningJob",
                        "sagemaker:DescribeHyperParameterTuningJob",
                        "sagemaker:StopHyperParameterTuningJob",
                        "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
                        "sagemaker:CreateTransformJob",
                        "sagemaker:DescribeTransformJob",
                        "sagemaker:StopTransformJob",
                        # Tags given to a Create call are authorized as AddTags on the new resource.
                        "sagemaker:AddTags",
                    ),
                    arns(*_JOB_KINDS),
                ),
                Grant(
                    "SagewizListJobs",
                    (
                        "sagemaker:ListLabelingJobs",
                        "sagemaker:ListTrainingJobs",
                        "sagemaker:ListHyperParameterTuningJobs",
                        "sagemaker:ListTransformJobs",
                    ),
                    ("*",),
                    in_region,
                ),
            ),
        ),
        Ability(
            AbilityKind.MODELS,
            "create and read models and endpoints",
            (
                Grant(
                    "SagewizModels",
                    (
                        "sagemaker:CreateModel",
                        "sagemaker:DescribeModel",
                        "sagemaker:CreateEndpointConfig",
                        "sagemaker:DescribeEndpointConfig",
                        "sagemaker:CreateEndpoint",
                        "sagemaker:DescribeEndpoint",
                        "sagemaker:AddTags",
                    ),
                    arns("model", "endpoint-config", "endpoint"),
                ),
                Grant(
                    "SagewizListModels",
                    ("sagemaker:ListModels", "sagemaker:ListEndpoints"),
                    ("*",),
                    in_region,
                ),
            ),
        ),
        Ability(
            AbilityKind.PASS_ITSELF,
            "pass itself to SageMaker for its jobs",
            (
                Grant(
                    "SagewizPassItselfToSageMaker",
                    ("iam:PassRole",),
                    (role_arn,),
                    (Condition("StringEquals", "iam:PassedToService", SAGEMAKER_SERVICE),),
                ),
            ),
        ),
        Ability(
            AbilityKind.READ_WORKTEAMS,
            "read the labeling work teams",
            (
                Grant("SagewizDescribeWorkteam", ("sagemaker:DescribeWorkteam",), arns("workteam")),
                Grant("SagewizListWorkteams", ("sagemaker:ListWorkteams",), ("*",), in_region),
            ),
        ),
    )


def statements(account: str, region: str, role_arn: str) -> list[dict[str, Any]]:
    """The policy statements that give the role every ability."""
    return [g.statement() for a in abilities(account, region, role_arn) for g in a.grants]


@dataclass(frozen=True)
class AbilityCheck:
    ability: Ability
    has: bool
    lacking: tuple[str, ...] = ()  # "sagemaker:CreateTrainingJob on arn:..." the role is refused
    denied: bool = False  # an explicit Deny refuses some of it: adding an Allow would not help


def check_abilities(
    role_arn: str,
    account: str,
    region: str,
    identity: Sequence[tuple[str, dict[str, Any] | str]],
    boundary: dict[str, Any] | str | None = None,
) -> tuple[AbilityCheck, ...]:
    """Which abilities the role's policies (`identity` as (name, document)) give a session of it.
    A document the evaluator cannot read grants nothing, as AWS would never have stored it."""
    named = tuple(p for p in (_named(n, d, IDENTITY) for n, d in identity) if p is not None)
    bound = _named("permissions boundary", boundary, BOUNDARY) if boundary is not None else None
    name = role_arn.rsplit("/", 1)[-1]
    session = f"arn:{regions.partition_of(region)}:sts::{account}:assumed-role/{name}/sagewiz-check"
    out = []
    for ability in abilities(account, region, role_arn):
        lacking = []
        denied = False
        for grant in ability.grants:
            for action, resource, keys in grant.sample_requests():
                ctx = RequestContext.build(
                    action,
                    resource,
                    session,
                    role_arn=role_arn,
                    resource_account=account,
                    region=region,
                    secure_transport=True,
                    extra=dict(keys),
                )
                decision = evaluate_request(ctx, PolicySet(identity=named, boundary=bound))
                if not decision.allowed:
                    lacking.append(f"{action} on {resource}")
                    denied = denied or decision.kind == "explicit-deny"
        out.append(AbilityCheck(ability, not lacking, tuple(lacking), denied))
    return tuple(out)


def _named(name: str, doc: dict[str, Any] | str, kind: str) -> NamedPolicy | None:
    try:
        return NamedPolicy(name, parse_policy(doc), kind)
    except PolicyError:
        return None


FULL_ACCESS_ABILITIES = (
    "AmazonSageMakerFullAccess allows every SageMaker action on every resource and passing roles "
    "to SageMaker, so it has each of these abilities too."
)


def ability_lines(account: str, region: str, role_arn: str, *, full_access: bool) -> tuple[str, ...]:
    """What a new role will be able to do, for the form that proposes it: the verdict first
    ("can start jobs from the notebook: yes"), then each ability of the proposed policy, as the
    evaluator decides it."""
    if full_access:
        return ("can start jobs from the notebook: yes", FULL_ACCESS_ABILITIES)
    proposed = {"Version": "2012-10-17", "Statement": statements(account, region, role_arn)}
    checks = check_abilities(role_arn, account, region, [("proposed", proposed)])
    verdict = "yes" if all(c.has for c in checks) else "no"
    return (
        f"can start jobs from the notebook: {verdict}",
        *(f"{'✓' if c.has else '✗'} {c.ability.label}" for c in checks),
    )
