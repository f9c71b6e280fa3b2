"""Helpers for the Train tests: a role that may use the bucket, CSV channels, a fast sandbox pace."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from services.sandbox import trainer
from services.training import ChannelInput, TrainingConfig
from tests.support import eventually_blocking

IMAGE = "662702820516.dkr.ecr.eu-north-1.amazonaws.com/sagemaker-xgboost:1.7-1"


@pytest.fixture(autouse=True)
def fast_pace() -> Iterator[None]:
    old = trainer.set_pace(0.0)
    yield
    trainer.set_pace(old)


def grant_bucket(factory: Any, world: Any) -> None:
    """What the Permissions step would do: let the role use the default bucket's objects."""
    b = world.default_bucket
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*"],
            }
        ],
    }
    factory.client("iam").put_role_policy(
        RoleName=world.role_name, PolicyName="fixed", PolicyDocument=json.dumps(doc)
    )


def upload_csv(factory: Any, world: Any, prefix: str = "xgb", rows: int = 120, classes: int = 3) -> None:
    import numpy as np

    rng = np.random.default_rng(1)
    x = rng.normal(size=(rows, 4))
    y = np.clip(((x[:, 0] + x[:, 1]) * 1.2 + classes / 2).astype(int), 0, classes - 1)
    body = "\n".join(",".join([str(int(a))] + [f"{v:.4f}" for v in r]) for a, r in zip(y, x, strict=True))
    s3 = factory.client("s3")
    s3.put_object(Bucket=world.default_bucket, Key=f"{prefix}/train/train.csv", Body=body.encode())
    s3.put_object(Bucket=world.default_bucket, Key=f"{prefix}/validation/validation.csv", Body=body.encode())


def xgb_config(world: Any, name: str = "job-a", prefix: str = "xgb", **hp: str) -> TrainingConfig:
    b = world.default_bucket
    params = {"num_round": "8", "objective": "multi:softmax", "num_class": "3", "max_depth": "3", **hp}
    return TrainingConfig(
        job_name=name,
        algorithm_id="xgboost",
        role_arn=world.role_arn,
        channels=(
            ChannelInput("train", f"s3://{b}/{prefix}/train/"),
            ChannelInput("validation", f"s3://{b}/{prefix}/validation/"),
        ),
        hyperparameters=params,
        output_path=f"s3://{b}/{prefix}/output",
        image_uri=IMAGE,
        instance_type="ml.m5.xlarge",
    )


def wait_done(sm: Any, name: str, timeout: float = 30.0) -> dict[str, Any]:
    """The training job's description once it has ended (completed, failed or stopped)."""

    def ended() -> dict[str, Any] | None:
        d = sm.describe_training_job(TrainingJobName=name)
        return d if d["TrainingJobStatus"] in ("Completed", "Failed", "Stopped") else None

    return eventually_blocking(ended, timeout, what=f"training job {name} to end")
