"""The seeded world: the classic broken SageMaker setup, reproduced in the emulator.

- region eu-north-1, an administrator caller (IAM user `sagewiz-admin`);
- execution role `SageMaker-tt` under /service-role/, trusting sagemaker.amazonaws.com (and the
  sandbox admin, so a person can act as the role from the AWS CLI), whose
  inline policy grants object actions on the bucket ARN instead of `bucket/*` (so it cannot write);
- the default bucket `sagemaker-eu-north-1-<account>` with Block Public Access on and a bucket
  policy naming the role whose Resource lacks `/*`;
- `sagemaker-sample-files` holding generated vehicle images under the seed's prefix, owned by a
  second account (SAMPLE_ACCOUNT) as in AWS, with a bucket policy that lets everyone read and list it.
IAM enforcement is switched on afterwards, so requests signed as the role get real AccessDenied.
"""

from __future__ import annotations

import json
from typing import Any

from services.sandbox.world import SAMPLE_ACCOUNT, SANDBOX_ACCOUNT, SANDBOX_REGION, SandboxWorld
from services.session import AwsTarget, SessionFactory, StaticCredentials

ROLE_NAME = "SageMaker-tt"
ROLE_PATH = "/service-role/"
ADMIN_USER = "sagewiz-admin"
SAMPLE_BUCKET = "sagemaker-sample-files"
SAMPLE_PREFIX = "datasets/image/caltech-101/inference/"
BOOTSTRAP = StaticCredentials("AKIASANDBOXBOOTSTRAP", "sandbox-bootstrap-secret")

TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def trust_policy(admin_arn: str) -> dict[str, Any]:
    """SageMaker's trust, unchanged, plus one sandbox-only statement: the sandbox's admin user may
    assume the role, so a person can act as it from the AWS CLI (`sagewiz sandbox serve` prints
    how). A real execution role need not trust anybody but SageMaker."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            *TRUST_POLICY["Statement"],
            {
                "Sid": "SandboxAdminMayActAsTheRole",
                "Effect": "Allow",
                "Principal": {"AWS": admin_arn},
                "Action": "sts:AssumeRole",
            },
        ],
    }


def default_bucket(account: str = SANDBOX_ACCOUNT, region: str = SANDBOX_REGION) -> str:
    return f"sagemaker-{region}-{account}"


def role_policy(bucket: str) -> dict[str, Any]:
    """What the seed's role had: reads the samples; 'can use' the bucket but with object
    actions on the bucket ARN, so every object request is denied."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadSampleData",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{SAMPLE_BUCKET}", f"arn:aws:s3:::{SAMPLE_BUCKET}/*"],
            },
            {
                "Sid": "DefaultBucket",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:aws:s3:::{bucket}",
            },
            {
                "Sid": "JobLogsAndImages",
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "cloudwatch:PutMetricData",
                ],
                "Resource": "*",
            },
        ],
    }


def bucket_policy(bucket: str, role_arn: str) -> dict[str, Any]:
    """The policy the seed pasted: names the role, but Resource lacks `/*`."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowSageMakerRole",
                "Effect": "Allow",
                "Principal": {"AWS": role_arn},
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:aws:s3:::{bucket}",
            }
        ],
    }


def sample_bucket_policy() -> dict[str, Any]:
    """The sample bucket's policy: anyone may list and read it (a public dataset, as in AWS)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{SAMPLE_BUCKET}", f"arn:aws:s3:::{SAMPLE_BUCKET}/*"],
            }
        ],
    }


def _seed_sample_bucket(region: str) -> None:
    """The public sample bucket in the second account, written straight into the emulator (every
    request to the sandbox acts in the user's account, so no client can create it there). Its
    Block Public Access is off (it is public on purpose); encryption and ownership are AWS's defaults."""
    from moto.s3.models import s3_backends

    from services.sandbox.images import sample_set

    backend = s3_backends[SAMPLE_ACCOUNT]["aws"]
    backend.create_bucket(SAMPLE_BUCKET, region)
    backend.put_bucket_encryption(
        SAMPLE_BUCKET, {"Rule": {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}}
    )
    backend.put_bucket_ownership_controls(SAMPLE_BUCKET, "BucketOwnerEnforced")  # type: ignore[arg-type]
    backend.put_bucket_policy(SAMPLE_BUCKET, json.dumps(sample_bucket_policy()).encode())
    # Written directly (50 HTTP round trips were a third of the seed, and the seed is what a first
    # `--sandbox` waits for).
    for img in sample_set():
        key = backend.put_object(SAMPLE_BUCKET, SAMPLE_PREFIX + img.key, img.data)
        key.set_metadata({"Content-Type": "image/jpeg"})


def seed_world(endpoint: str, full: bool = True) -> SandboxWorld:
    """Build the world with enforcement off (the caller switches it on afterwards)."""
    region, account = SANDBOX_REGION, SANDBOX_ACCOUNT
    boot = SessionFactory(
        AwsTarget(region=region, endpoint_url=endpoint, credentials=BOOTSTRAP, sandbox=True)
    )
    iam = boot.client("iam")
    iam.create_user(UserName=ADMIN_USER)
    iam.put_user_policy(
        UserName=ADMIN_USER,
        PolicyName="AdministratorAccess",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    admin = StaticCredentials(key["AccessKeyId"], key["SecretAccessKey"])
    admin_arn = f"arn:aws:iam::{account}:user/{ADMIN_USER}"
    role_arn = f"arn:aws:iam::{account}:role{ROLE_PATH}{ROLE_NAME}"
    bucket = default_bucket(account, region)
    if not full:
        return SandboxWorld(endpoint, region, account, admin, admin_arn, role_arn, ROLE_NAME, None, bucket,
                            SAMPLE_BUCKET, SAMPLE_PREFIX, seeded=False)  # fmt: skip

    iam.create_role(
        RoleName=ROLE_NAME,
        Path=ROLE_PATH,
        AssumeRolePolicyDocument=json.dumps(trust_policy(admin_arn)),
        Description="Execution role of the seed's notebook (sandbox)",
        MaxSessionDuration=43200,
    )
    iam.put_role_policy(
        RoleName=ROLE_NAME, PolicyName="SageMaker-tt-access", PolicyDocument=json.dumps(role_policy(bucket))
    )
    # Minted while enforcement is off: moto cannot evaluate a Service-only trust policy.
    creds = boot.client("sts").assume_role(
        RoleArn=role_arn, RoleSessionName="SageMaker", DurationSeconds=43200
    )["Credentials"]
    role_creds = StaticCredentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])

    s3 = boot.client("s3")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    # AWS gives every bucket these defaults; moto does not, so state them explicitly.
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(bucket_policy(bucket, role_arn)))
    boot.client("s3control").put_public_access_block(
        AccountId=account,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    _seed_sample_bucket(region)
    return SandboxWorld(endpoint, region, account, admin, admin_arn, role_arn, ROLE_NAME, role_creds, bucket,
                        SAMPLE_BUCKET, SAMPLE_PREFIX, seeded=True)  # fmt: skip
