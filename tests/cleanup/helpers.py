"""Making sagewiz-like resources in the sandbox for the clean-up, cost and resume tests."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from services.journal_events import ResourceCreated
from services.plan import tags_list
from services.resource_kinds import ResourceKind
from tests.support import eventually_blocking

# Generous: a clean-up screen waits on several sandbox round trips at once, and machines running
# the suite are often loaded.
SCREEN_WAIT = 90.0

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def fast_notebooks() -> None:
    """Notebook transitions in a fraction of a second (when the sandbox's notebook extension is in)."""
    try:
        from services.sandbox.extensions.notebook import set_timings
    except ImportError:
        return
    set_timings(0.2, 0.1, 0.05)


def make_notebook(factory: Any, world: Any, journal: Any, name: str = "hk-nb", tagged: bool = True) -> None:
    kw = {"Tags": tags_list()} if tagged else {}
    factory.client("sagemaker").create_notebook_instance(
        NotebookInstanceName=name, InstanceType="ml.t3.medium", RoleArn=world.role_arn, **kw
    )
    if journal is not None:
        journal.append(ResourceCreated(ResourceKind.NOTEBOOK, name))


def make_bucket(
    factory: Any, journal: Any, name: str = "hk-bucket", objects: int = 3, versioned: bool = True
) -> None:
    s3 = factory.client("s3")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": factory.region})
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags_list()})
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    for n in range(objects):
        s3.put_object(Bucket=name, Key=f"k{n}", Body=b"v1")
        s3.put_object(Bucket=name, Key=f"k{n}", Body=b"v2")
    if objects:
        s3.delete_object(Bucket=name, Key="k0")  # a delete marker
    if journal is not None:
        journal.append(ResourceCreated(ResourceKind.BUCKET, name))


def make_role(factory: Any, journal: Any, name: str = "hk-role") -> str:
    iam = factory.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST), Tags=tags_list())[
        "Role"
    ]["Arn"]
    iam.put_role_policy(
        RoleName=name,
        PolicyName="bucket-access",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            }
        ),
    )
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess")
    if journal is not None:
        journal.append(ResourceCreated(ResourceKind.ROLE, name, arn))
    return arn


def append_legacy(journal: Any, kind: str, **data: Any) -> None:
    """Append a line as sagewiz wrote it before the journal's events were typed (a resource type
    spelled by its step, a job's name under `name`), to prove such journals still load."""
    line = {
        "id": uuid.uuid4().hex[:12], "at": "2025-01-01T00:00:00+00:00", "kind": kind,
        "session": journal.session_id, "account": journal.account, "region": journal.region,
        "sandbox": journal.sandbox, "data": data,
    }  # fmt: skip
    with Path(journal.path).open("a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


def wait_status(factory: Any, name: str, status: str, timeout: float = 10.0) -> None:
    """Poll (bounded) until the notebook reaches `status`; the sandbox moves it on reads."""
    sm = factory.client("sagemaker")
    eventually_blocking(
        lambda: sm.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"] == status,
        timeout,
        what=f"{name} to become {status}",
        every=0.02,
    )
