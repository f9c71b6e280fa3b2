"""Test data for tuning: the sample images as XGBoost CSV rows in the default bucket, readable by the role."""

from __future__ import annotations

import json
from typing import Any

from services.sandbox.images import features, sample_set
from services.tuning.config import TrainingBase

IMAGE = "662702820516.dkr.ecr.eu-north-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def channel(bucket: str, name: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": f"s3://{bucket}/tune-data/{name}/",
                "S3DataDistributionType": "FullyReplicated",
            }
        },
        "ContentType": "text/csv",
    }


def prepare(world: Any, factory: Any, num_round: int = 12) -> TrainingBase:
    """Upload train/validation CSVs and let the role read and write the bucket (the fix the
    Permissions step makes); returns the TrainingBase the Train step would hand over."""
    s3 = factory.client("s3")
    images = sample_set()
    classes = sorted({i.label for i in images})
    rows = [",".join([str(classes.index(i.label)), *(f"{x:.5f}" for x in features(i.data))]) for i in images]
    bucket = world.default_bucket
    s3.put_object(Bucket=bucket, Key="tune-data/train/train.csv", Body="\n".join(rows[::2]).encode())
    s3.put_object(
        Bucket=bucket, Key="tune-data/validation/validation.csv", Body="\n".join(rows[1::2]).encode()
    )
    factory.client("iam").put_role_policy(
        RoleName=world.role_name,
        PolicyName="tune-test-data",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    }
                ],
            }
        ),
    )
    return TrainingBase(
        image=IMAGE,
        role_arn=world.role_arn,
        input_channels=(channel(bucket, "train"), channel(bucket, "validation")),
        output_path=f"s3://{bucket}/tune-output/",
        instance_type="ml.m5.large",
        static_hyperparameters={"objective": "multi:softmax", "num_class": "5", "num_round": str(num_round)},
    )
