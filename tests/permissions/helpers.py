"""Small helpers shared by the permissions tests (real calls against the sandbox)."""

from __future__ import annotations

import json
from typing import Any

from services.permissions.state import PermissionsState, read_state


def read(factory: Any, world: Any, **kw: Any) -> PermissionsState:
    return read_state(
        factory,
        account=world.account,
        region=world.region,
        bucket=world.default_bucket,
        role_arn=world.role_arn,
        **kw,
    )


def put_bucket_policy(factory: Any, world: Any, statements: list[dict]) -> str:
    text = json.dumps({"Version": "2012-10-17", "Statement": statements})
    factory.client("s3").put_bucket_policy(Bucket=world.default_bucket, Policy=text)
    return text


def put_inline(factory: Any, world: Any, statements: list[dict], name: str = "SageMaker-tt-access") -> None:
    factory.client("iam").put_role_policy(
        RoleName=world.role_name,
        PolicyName=name,
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )


def ids(findings: list[Any]) -> list[str]:
    return [f.id for f in findings]
