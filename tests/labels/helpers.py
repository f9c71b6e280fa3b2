"""World preparation the earlier steps would have done (Data and Permissions), for Labels tests."""

from __future__ import annotations

import json
from typing import Any

from services.labeling import jobs
from services.sandbox.seed import role_policy
from tests.support import eventually_blocking

LABELS = ("Airplane", "Car", "Ferry", "Helicopter", "Motorbike")


def copy_samples(factory: Any, world: Any, count: int | None = None) -> str:
    """Copy the sample images into s3://<bucket>/ground-truth-demo/images/ as the Data step does."""
    s3 = factory.client("s3")
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=world.sample_bucket, Prefix=world.sample_prefix)["Contents"]
    ]
    for key in keys[:count]:
        s3.copy_object(Bucket=world.default_bucket, Key="ground-truth-demo/images/" + key.rsplit("/", 1)[-1],
                       CopySource={"Bucket": world.sample_bucket, "Key": key})  # fmt: skip
    return f"s3://{world.default_bucket}/ground-truth-demo/images/"


def fix_role(factory: Any, world: Any) -> None:
    """What the Permissions step's fix does: object actions on bucket/*."""
    pol = role_policy(world.default_bucket)
    pol["Statement"][1]["Resource"] = [
        f"arn:aws:s3:::{world.default_bucket}",
        f"arn:aws:s3:::{world.default_bucket}/*",
    ]
    factory.client("iam").put_role_policy(RoleName=world.role_name, PolicyName="SageMaker-tt-access",
                                          PolicyDocument=json.dumps(pol))  # fmt: skip


def wait_job_done(factory: Any, name: str, timeout: float = 20.0) -> jobs.JobStatus:
    """The labeling job's status once it has finished (completed, stopped or failed)."""

    def finished() -> jobs.JobStatus | None:
        st = jobs.describe_job(factory, name)
        return st if st.finished else None

    return eventually_blocking(finished, timeout, what=f"labeling job {name} to finish", every=0.02)
