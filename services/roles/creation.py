"""The plan to create a least-privilege execution role (trust policy, inline policy, tags)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from services import regions
from services.buckets.naming import naming_problem
from services.errors import SagewizError, ValidationError
from services.journal_events import Change, ResourceChanged, ResourceCreated
from services.plan import Action, Plan, pretty_json, tags_list
from services.resource_kinds import ResourceKind
from services.roles.documents import autostop_statement, least_privilege_policy, trust_policy
from services.roles.listing import role_name_problem
from services.s3uri import policy_prefix_problem

FULL_ACCESS_POLICY = "AmazonSageMakerFullAccess"
INLINE_POLICY_NAME = "sagewiz-least-privilege"
ROLE_PATH = "/service-role/"


@dataclass(frozen=True)
class RoleSpec:
    name: str
    account: str
    region: str
    bucket: str
    prefix: str | None = None
    full_access: bool = False  # attach AmazonSageMakerFullAccess instead of the inline policy
    autostop_notebook: str | None = None  # let the idle auto-stop script stop this notebook
    path: str = ROLE_PATH  # the ARN a configuration names keeps its path

    @property
    def arn(self) -> str:
        return regions.global_arn("iam", self.region, self.account, f"role{self.path}{self.name}")


FULL_ACCESS_EXPLAINED = (
    "AmazonSageMakerFullAccess is AWS's broad managed policy: all SageMaker actions, iam:PassRole to "
    "SageMaker, and S3 access to every bucket whose name contains 'sagemaker'. It is convenient but far "
    "wider than one bucket; the least-privilege policy is recommended."
)


def spec_problems(spec: RoleSpec) -> dict[str, str]:
    """Every rule the new role's fields break, by field ("role name", "bucket", "prefix"); no AWS call."""
    problems: dict[str, str] = {}
    if problem := role_name_problem(spec.name):
        problems["role name"] = problem
    if not spec.full_access:
        if not spec.bucket:
            problems["bucket"] = "The least-privilege policy is scoped to a bucket: give its name."
        elif bucket_problem := naming_problem(spec.bucket):
            problems["bucket"] = f"'{spec.bucket}': {bucket_problem.message} {bucket_problem.hint}".strip()
        if spec.prefix and (prefix_problem := policy_prefix_problem(spec.prefix)):
            problems["prefix"] = prefix_problem
    return problems


def plan_create_role(spec: RoleSpec, existing_names: set[str] | None = None) -> Plan:
    """The calls that create the execution role, with both policy documents shown in full."""
    problem = role_name_problem(spec.name)
    if problem:
        raise ValidationError("role name", problem, "Example: AmazonSageMaker-ExecutionRole-notebook")
    if existing_names and spec.name in existing_names:
        raise ValidationError(
            "role name",
            f"A role named {spec.name} already exists.",
            "Pick it from the list, or choose another name.",
        )
    for field, message in spec_problems(spec).items():
        if field != "role name":
            raise ValidationError(field, message)
    trust = trust_policy(spec.account)
    actions = [
        Action(
            service="iam",
            operation="create_role",
            params={
                "RoleName": spec.name,
                "Path": spec.path,
                "AssumeRolePolicyDocument": json.dumps(trust),
                "Description": "SageMaker execution role created by sagewiz",
                "Tags": tags_list(),
            },
            description=f"Create role {spec.name} that only SageMaker, acting for account {spec.account}, can assume",
            diff=_added("trust policy", trust),
            undo=f"delete role {spec.name} (detach/delete its policies first)",
            resource=spec.arn,
            journal=ResourceCreated(ResourceKind.ROLE, spec.name, spec.arn),
        )
    ]
    if spec.full_access:
        full_access = regions.global_arn("iam", spec.region, "aws", f"policy/{FULL_ACCESS_POLICY}")
        actions.append(
            Action(
                service="iam",
                operation="attach_role_policy",
                params={"RoleName": spec.name, "PolicyArn": full_access},
                description="Attach AWS's managed AmazonSageMakerFullAccess (broad; see the warning)",
                undo=f"detach {full_access} from {spec.name}",
                resource=spec.arn,
                journal=ResourceChanged(
                    ResourceKind.ROLE,
                    spec.name,
                    change=Change.POLICY_ATTACHED,
                    attributes={"policy_arn": full_access},
                ),
            )
        )
    else:
        policy = least_privilege_policy(spec.account, spec.region, spec.bucket, spec.prefix, spec.arn)
        if spec.autostop_notebook:
            policy["Statement"].append(autostop_statement(spec.account, spec.region, spec.autostop_notebook))
        scope = f"s3://{spec.bucket}/{(spec.prefix or '').lstrip('/')}"
        actions.append(
            Action(
                service="iam",
                operation="put_role_policy",
                params={
                    "RoleName": spec.name,
                    "PolicyName": INLINE_POLICY_NAME,
                    "PolicyDocument": json.dumps(policy),
                },
                description=f"Give {spec.name} a least-privilege inline policy scoped to {scope}",
                diff=_added("inline policy " + INLINE_POLICY_NAME, policy),
                undo=f"delete inline policy {INLINE_POLICY_NAME} of {spec.name}",
                resource=spec.arn,
                journal=ResourceChanged(
                    ResourceKind.ROLE,
                    spec.name,
                    change=Change.INLINE_POLICY_PUT,
                    attributes={"policy_name": INLINE_POLICY_NAME},
                ),
            )
        )
    warnings = (FULL_ACCESS_EXPLAINED,) if spec.full_access else ()
    return Plan(f"Create the SageMaker execution role {spec.name}", tuple(actions), warnings)


def _added(name: str, doc: dict[str, Any]) -> str:
    lines = [f"--- (no {name})", f"+++ {name}"] + ["+" + line for line in pretty_json(doc).splitlines()]
    return "\n".join(lines)


def describe_role_error(err: SagewizError) -> SagewizError:
    """Errors from the role calls, said plainly."""
    if err.code == "EntityAlreadyExists":
        return ValidationError(
            "role name", "A role of that name already exists.", "Pick it from the list instead."
        )
    return err
