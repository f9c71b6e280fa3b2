"""The statement shapes fixes read and write: bucket and object ARNs, whether a principal names the
role, a Resource of the wrong shape for its actions (and its repair, which only adds), unique Sids."""

from __future__ import annotations

from typing import Any

from services.permissions import validate
from services.permissions.matcher import as_list
from services.policy.minimal_change import Permitted


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def objects_arn(bucket: str, prefix: str | None = None) -> str:
    return f"arn:aws:s3:::{bucket}/{(prefix or '').lstrip('/')}*"


def role_name_of(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[-1]


def names_role(principal_value: str, role_arn: str, role_id: str | None = None) -> bool:
    """Any form of the role: its ARN, the ARN without its path, a session ARN, or its unique id."""
    name = role_name_of(role_arn)
    account = role_arn.split(":")[4]
    return (
        principal_value
        in {
            role_arn,
            f"arn:aws:iam::{account}:role/{name}",
        }
        or principal_value.startswith(f"arn:aws:sts::{account}:assumed-role/{name}/")
        or (role_id is not None and principal_value == role_id)
    )


def _explicit_actions(st: dict[str, Any], level: str) -> list[str]:
    return [str(a) for a in as_list(st.get("Action")) if validate.action_level(str(a)) == level]


def one_or_list(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


def repair_resource(
    st: dict[str, Any], bucket: str, prefix: str | None, objects_scope: str | None = None
) -> tuple[dict[str, Any], list[Permitted]]:
    """The statement with the Resource form its explicit actions need added (nothing removed):
    object actions get bucket/prefix*, bucket actions get the bucket ARN. What it adds, stated."""
    resources = [str(r) for r in as_list(st.get("Resource"))]
    added: list[Permitted] = []
    for problem in wrong_resource_shape(st, bucket):
        if problem.startswith("object"):
            target = objects_scope or objects_arn(bucket, prefix)
            acts = _explicit_actions(st, "object")
        else:
            target = bucket_arn(bucket)
            acts = _explicit_actions(st, "bucket")
        if target not in resources:
            resources.append(target)
        added += [
            Permitted(a, target, "the statement's own actions, on the resource form they need") for a in acts
        ]
    return {**st, "Resource": one_or_list(resources)}, added


def unique_sid(base: str, taken: set[str]) -> str:
    n = 2
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


def wrong_resource_shape(st: dict[str, Any], bucket: str) -> list[str]:
    """What is wrong with the Resource shape of an Allow for this bucket (empty when fine)."""
    if st.get("Effect") != "Allow" or "Action" not in st or "Resource" not in st:
        return []
    actions = [str(a) for a in as_list(st["Action"])]
    resources = [str(r) for r in as_list(st["Resource"])]
    on_bucket = bucket_arn(bucket) in resources
    on_objects = any(r.startswith(bucket_arn(bucket) + "/") for r in resources)
    problems = []
    obj = [a for a in actions if validate.action_level(a) == "object"]
    lst = [a for a in actions if validate.action_level(a) == "bucket"]
    if obj and on_bucket and not on_objects:
        problems.append(
            f"object actions ({', '.join(obj)}) on the bucket ARN {bucket_arn(bucket)} instead of {bucket_arn(bucket)}/*"
        )
    if lst and on_objects and not on_bucket:
        problems.append(
            f"bucket actions ({', '.join(lst)}) on {bucket_arn(bucket)}/* instead of the bucket ARN"
        )
    return problems
