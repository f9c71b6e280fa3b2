"""The embedded AWS: the seeded world reproduces the seed's story, for real."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from services.sandbox.extensions import ExtensionConflict, add_operation
from services.sandbox.images import CLASSES, sample_set, true_class
from services.sandbox.world import SandboxWorld
from services.session import SessionFactory


def test_seeded_world_has_the_broken_setup(world: SandboxWorld, factory: SessionFactory) -> None:
    iam, s3 = factory.client("iam"), factory.client("s3")
    role = iam.get_role(RoleName="SageMaker-tt")["Role"]
    assert role["Path"] == "/service-role/"
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "sagemaker.amazonaws.com"
    }
    bucket = "sagemaker-eu-north-1-123456789012"
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"][0]["Resource"] == f"arn:aws:s3:::{bucket}"  # lacks /*
    bpa = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(bpa.values())
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=world.sample_bucket, Prefix=world.sample_prefix)["Contents"]
    ]
    assert len(keys) == 50 and all(k.endswith(".jpg") for k in keys)


def test_upload_as_the_role_is_really_denied_then_really_allowed(
    world: SandboxWorld, factory: SessionFactory, role_factory: SessionFactory
) -> None:
    as_role = role_factory.client("s3")
    with pytest.raises(ClientError) as denied:
        as_role.put_object(Bucket=world.default_bucket, Key="probe.txt", Body=b"x")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    factory.client("iam").put_role_policy(
        RoleName=world.role_name,
        PolicyName="fix",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{world.default_bucket}/*",
                    }
                ],
            }
        ),
    )
    as_role.put_object(Bucket=world.default_bucket, Key="probe.txt", Body=b"x")


def test_the_role_can_read_the_samples(world: SandboxWorld, role_factory: SessionFactory) -> None:
    s3 = role_factory.client("s3")
    body = s3.get_object(Bucket=world.sample_bucket, Key=world.sample_prefix + "image_0001.jpg")[
        "Body"
    ].read()
    assert true_class(body) in CLASSES


def test_reset_wipes_what_a_test_created(world: SandboxWorld, sandbox, factory: SessionFactory) -> None:  # noqa: ANN001
    factory.client("s3").create_bucket(
        Bucket="scratch-bucket-x", CreateBucketConfiguration={"LocationConstraint": "eu-north-1"}
    )
    fresh = sandbox.reset(seed=True)
    names = [b["Name"] for b in SessionFactory(fresh.target()).client("s3").list_buckets()["Buckets"]]
    assert "scratch-bucket-x" not in names


def test_sample_images_differ_by_class_and_are_recoverable() -> None:
    images = sample_set(per_class=4, seed=7)
    assert sorted({i.label for i in images}) == sorted(CLASSES)
    assert all(true_class(i.data) == i.label for i in images)


def test_extensions_refuse_to_shadow_what_moto_implements() -> None:
    from moto.sagemaker.responses import SageMakerResponse

    for implemented in ("create_training_job", "list_endpoints", "describe_notebook_instance"):
        with pytest.raises(ExtensionConflict):
            add_operation(SageMakerResponse, implemented, lambda self: None)
