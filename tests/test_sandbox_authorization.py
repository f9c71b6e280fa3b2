"""The sandbox authorizes every request under the action AWS uses (Service Authorization Reference).

Each row names an operation and the (action, resource) pairs AWS checks for it. Against the live
sandbox, a throwaway IAM user is given exactly those grants (the call must go through), then
everything except one of them (the call must be refused). A second test replays the Permissions
proof's requests as the role, for the seeded world before and after each fix, and asserts that the
sandbox's answer is the doctor's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from services.doctor.engine import diagnose
from services.doctor.model import DoctorRequest
from services.permissions import apply, findings
from services.sandbox.authorization import ActionCheck, S3Call, action_for, s3_checks
from services.session import AwsTarget, SessionFactory, StaticCredentials
from tests.permissions.helpers import read

ACCOUNT_BPA = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


# -- the table, as a pure function ------------------------------------------------------------------
B = "arn:aws:s3:::b"
K = "arn:aws:s3:::b/k"

PURE_ROWS: list[tuple[S3Call, tuple[tuple[str, str], ...]]] = [
    (S3Call("ListObjectsV2", "b"), (("s3:ListBucket", B),)),
    (S3Call("ListObjects", "b"), (("s3:ListBucket", B),)),
    (S3Call("HeadBucket", "b"), (("s3:ListBucket", B),)),
    (S3Call("ListObjectVersions", "b"), (("s3:ListBucketVersions", B),)),
    (S3Call("GetObject", "b", "k"), (("s3:GetObject", K),)),
    (S3Call("HeadObject", "b", "k"), (("s3:GetObject", K),)),
    (S3Call("GetObject", "b", "k", query={"versionId": "v1"}), (("s3:GetObjectVersion", K),)),
    (S3Call("DeleteObject", "b", "k", query={"versionId": "v1"}), (("s3:DeleteObjectVersion", K),)),
    (S3Call("GetObjectAttributes", "b", "k"), (("s3:GetObject", K), ("s3:GetObjectAttributes", K))),
    (S3Call("PutObject", "b", "k"), (("s3:PutObject", K),)),
    (S3Call("CreateMultipartUpload", "b", "k"), (("s3:PutObject", K),)),
    (S3Call("UploadPart", "b", "k"), (("s3:PutObject", K),)),
    (S3Call("CompleteMultipartUpload", "b", "k"), (("s3:PutObject", K),)),
    (S3Call("AbortMultipartUpload", "b", "k"), (("s3:AbortMultipartUpload", K),)),
    (S3Call("ListParts", "b", "k"), (("s3:ListMultipartUploadParts", K),)),
    (S3Call("ListMultipartUploads", "b"), (("s3:ListBucketMultipartUploads", B),)),
    (
        S3Call("CopyObject", "b", "k", headers={"x-amz-copy-source": "/src/a%20b.csv"}),
        (("s3:GetObject", "arn:aws:s3:::src/a b.csv"), ("s3:PutObject", K)),
    ),
    (
        S3Call("UploadPartCopy", "b", "k", headers={"x-amz-copy-source": "src/x?versionId=3"}),
        (("s3:GetObjectVersion", "arn:aws:s3:::src/x"), ("s3:PutObject", K)),
    ),
    (
        S3Call(
            "DeleteObjects",
            "b",
            body=b"<Delete><Object><Key>x&amp;y</Key></Object><Object><Key>z</Key>"
            b"<VersionId>2</VersionId></Object></Delete>",
        ),
        (("s3:DeleteObject", "arn:aws:s3:::b/x&y"), ("s3:DeleteObjectVersion", "arn:aws:s3:::b/z")),
    ),
    (S3Call("GetBucketPolicy", "b"), (("s3:GetBucketPolicy", B),)),
    (S3Call("GetPublicAccessBlock", "b"), (("s3:GetBucketPublicAccessBlock", B),)),
    (S3Call("DeletePublicAccessBlock", "b"), (("s3:PutBucketPublicAccessBlock", B),)),
    (S3Call("GetBucketEncryption", "b"), (("s3:GetEncryptionConfiguration", B),)),
    (S3Call("DeleteBucketCors", "b"), (("s3:PutBucketCORS", B),)),
    (S3Call("PutBucketLifecycleConfiguration", "b"), (("s3:PutLifecycleConfiguration", B),)),
    (S3Call("ListBuckets"), (("s3:ListAllMyBuckets", "*"),)),
]


@pytest.mark.parametrize(("call", "expected"), PURE_ROWS, ids=[f"{c.operation}" for c, _ in PURE_ROWS])
def test_each_s3_operation_maps_to_the_documented_action(call: S3Call, expected: tuple[tuple[str, str], ...]):
    assert s3_checks(call) == tuple(ActionCheck(a, r) for a, r in expected)


@pytest.mark.parametrize(
    ("api", "service", "operation", "action"),
    [
        ("s3control", "s3", "GetPublicAccessBlock", "s3:GetAccountPublicAccessBlock"),
        ("s3control", "s3", "PutPublicAccessBlock", "s3:PutAccountPublicAccessBlock"),
        ("s3control", "s3", "DeletePublicAccessBlock", "s3:PutAccountPublicAccessBlock"),
        ("iam", "iam", "PutRolePolicy", "iam:PutRolePolicy"),
        ("sts", "sts", "AssumeRole", "sts:AssumeRole"),
        ("sagemaker", "sagemaker", "CreateTrainingJob", "sagemaker:CreateTrainingJob"),
        ("logs", "logs", "GetLogEvents", "logs:GetLogEvents"),
        ("kms", "kms", "Decrypt", "kms:Decrypt"),
    ],
)
def test_other_services_use_the_operation_name_except_s3_control(api, service, operation, action):
    assert action_for(api, service, operation) == action


# -- the table, live -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    name: str
    checks: tuple[tuple[str, str], ...]  # (action, resource) with {b} for the bucket
    call: Callable[[Any, Any, dict[str, str]], Any]  # (user factory, admin factory, prepared) -> response
    prepare: Callable[[Any, str], dict[str, str]] = lambda admin, bucket: {}


def _upload(admin: Any, bucket: str, with_part: bool = False) -> dict[str, str]:
    s3 = admin.client("s3")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp.bin")["UploadId"]
    out = {"upload": upload}
    if with_part:
        out["etag"] = s3.upload_part(Bucket=bucket, Key="mp.bin", UploadId=upload, PartNumber=1, Body=b"x")[
            "ETag"
        ]
    return out


def _complete(u: Any, _a: Any, p: dict[str, str]) -> Any:
    return u.client("s3").complete_multipart_upload(
        Bucket=p["bucket"], Key="mp.bin", UploadId=p["upload"],
        MultipartUpload={"Parts": [{"ETag": p["etag"], "PartNumber": 1}]},
    )  # fmt: skip


OBJ = "arn:aws:s3:::{b}/data/obj.csv"
BUCKET = "arn:aws:s3:::{b}"
MP = "arn:aws:s3:::{b}/mp.bin"
LIVE_ROWS = [
    Row("ListObjectsV2", (("s3:ListBucket", BUCKET),), lambda u, a, p: u.client("s3").list_objects_v2(Bucket=p["bucket"])),
    Row("ListObjects", (("s3:ListBucket", BUCKET),), lambda u, a, p: u.client("s3").list_objects(Bucket=p["bucket"])),
    Row("HeadBucket", (("s3:ListBucket", BUCKET),), lambda u, a, p: u.client("s3").head_bucket(Bucket=p["bucket"])),
    Row("HeadObject", (("s3:GetObject", OBJ),), lambda u, a, p: u.client("s3").head_object(Bucket=p["bucket"], Key="data/obj.csv")),
    Row("GetObject", (("s3:GetObject", OBJ),), lambda u, a, p: u.client("s3").get_object(Bucket=p["bucket"], Key="data/obj.csv")),
    Row("PutObject", (("s3:PutObject", OBJ),), lambda u, a, p: u.client("s3").put_object(Bucket=p["bucket"], Key="data/obj.csv", Body=b"1")),
    Row("DeleteObject", (("s3:DeleteObject", OBJ),), lambda u, a, p: u.client("s3").delete_object(Bucket=p["bucket"], Key="data/obj.csv")),
    Row("CopyObject", (("s3:GetObject", "arn:aws:s3:::{b}/data/src.csv"), ("s3:PutObject", OBJ)),
        lambda u, a, p: u.client("s3").copy_object(Bucket=p["bucket"], Key="data/obj.csv", CopySource={"Bucket": p["bucket"], "Key": "data/src.csv"})),
    Row("CreateMultipartUpload", (("s3:PutObject", MP),), lambda u, a, p: u.client("s3").create_multipart_upload(Bucket=p["bucket"], Key="mp.bin")),
    Row("UploadPart", (("s3:PutObject", MP),),
        lambda u, a, p: u.client("s3").upload_part(Bucket=p["bucket"], Key="mp.bin", UploadId=p["upload"], PartNumber=1, Body=b"x"), _upload),
    Row("CompleteMultipartUpload", (("s3:PutObject", MP),), _complete, lambda a, b: _upload(a, b, with_part=True)),
    Row("AbortMultipartUpload", (("s3:AbortMultipartUpload", MP),),
        lambda u, a, p: u.client("s3").abort_multipart_upload(Bucket=p["bucket"], Key="mp.bin", UploadId=p["upload"]), _upload),
    Row("ListParts", (("s3:ListMultipartUploadParts", MP),),
        lambda u, a, p: u.client("s3").list_parts(Bucket=p["bucket"], Key="mp.bin", UploadId=p["upload"]), _upload),
    Row("ListMultipartUploads", (("s3:ListBucketMultipartUploads", BUCKET),), lambda u, a, p: u.client("s3").list_multipart_uploads(Bucket=p["bucket"])),
    Row("DeleteObjects", (("s3:DeleteObject", OBJ),),
        lambda u, a, p: _no_errors(u.client("s3").delete_objects(Bucket=p["bucket"], Delete={"Objects": [{"Key": "data/obj.csv"}]}))),
    Row("GetBucketPolicy", (("s3:GetBucketPolicy", BUCKET),), lambda u, a, p: u.client("s3").get_bucket_policy(Bucket=p["bucket"])),
    Row("GetBucketLocation", (("s3:GetBucketLocation", BUCKET),), lambda u, a, p: u.client("s3").get_bucket_location(Bucket=p["bucket"])),
    Row("GetPublicAccessBlock", (("s3:GetBucketPublicAccessBlock", BUCKET),), lambda u, a, p: u.client("s3").get_public_access_block(Bucket=p["bucket"])),
    Row("GetBucketEncryption", (("s3:GetEncryptionConfiguration", BUCKET),), lambda u, a, p: u.client("s3").get_bucket_encryption(Bucket=p["bucket"])),
    Row("ListBuckets", (("s3:ListAllMyBuckets", "*"),), lambda u, a, p: u.client("s3").list_buckets()),
    Row("s3control GetPublicAccessBlock", (("s3:GetAccountPublicAccessBlock", "*"),),
        lambda u, a, p: u.client("s3control").get_public_access_block(AccountId=p["account"])),
    Row("iam GetRole", (("iam:GetRole", "*"),), lambda u, a, p: u.client("iam").get_role(RoleName=p["role"])),
    Row("sagemaker ListTrainingJobs", (("sagemaker:ListTrainingJobs", "*"),), lambda u, a, p: u.client("sagemaker").list_training_jobs()),
    Row("logs DescribeLogGroups", (("logs:DescribeLogGroups", "*"),), lambda u, a, p: u.client("logs").describe_log_groups()),
]  # fmt: skip


def _no_errors(response: dict) -> dict:
    # DeleteObjects reports refusals per key in a 200 answer; turn them into the refusal they are.
    errors = response.get("Errors") or []
    if errors:
        raise ClientError(
            {"Error": {"Code": errors[0]["Code"], "Message": errors[0].get("Message", "")}}, "DeleteObjects"
        )
    return response


def _doc(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _refused(call: Callable[[], Any]) -> bool:
    try:
        call()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("AccessDenied", "AccessDeniedException", "403"):
            return True
        raise
    return False


@pytest.fixture
def probe(factory, world):
    """A throwaway IAM user whose inline policy each row sets, plus the objects the rows read."""
    iam = factory.client("iam")
    iam.create_user(UserName="probe")
    key = iam.create_access_key(UserName="probe")["AccessKey"]
    user = SessionFactory(
        AwsTarget(region=world.region, endpoint_url=world.endpoint,
                  credentials=StaticCredentials(key["AccessKeyId"], key["SecretAccessKey"]), sandbox=True)
    )  # fmt: skip
    s3 = factory.client("s3")
    for name in ("data/obj.csv", "data/src.csv"):
        s3.put_object(Bucket=world.default_bucket, Key=name, Body=b"a,b\n")

    def grant(statements: list[dict]) -> None:
        iam.put_user_policy(UserName="probe", PolicyName="probe", PolicyDocument=_doc(statements))

    return user, grant


@pytest.mark.parametrize("row", LIVE_ROWS, ids=[r.name for r in LIVE_ROWS])
def test_the_sandbox_checks_exactly_the_documented_action(row: Row, probe, factory, world):
    user, grant = probe
    checks = [(a, r.format(b=world.default_bucket)) for a, r in row.checks]
    base = {"bucket": world.default_bucket, "account": world.account, "role": world.role_name}

    grant([{"Effect": "Allow", "Action": a, "Resource": r} for a, r in checks])
    assert not _refused(
        lambda: row.call(user, factory, {**base, **row.prepare(factory, world.default_bucket)})
    ), f"{row.name} was refused although {checks} were granted"

    for action, resource in checks:
        grant([
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": action, "Resource": resource},
        ])  # fmt: skip
        prepared = {**base, **row.prepare(factory, world.default_bucket)}
        assert _refused(lambda p=prepared: row.call(user, factory, p)), (
            f"{row.name} went through although {action} on {resource} was denied"
        )


def test_operation_named_actions_grant_nothing(probe, world):
    """The emulator's own names (`s3:ListObjectsV2`, `s3:HeadObject`) are not IAM actions."""
    user, grant = probe
    grant(
        [
            {
                "Effect": "Allow",
                "Action": ["s3:ListObjectsV2", "s3:HeadObject", "s3:HeadBucket"],
                "Resource": "*",
            }
        ]
    )
    s3 = user.client("s3")
    assert _refused(lambda: s3.list_objects_v2(Bucket=world.default_bucket))
    assert _refused(lambda: s3.head_object(Bucket=world.default_bucket, Key="data/obj.csv"))
    assert _refused(lambda: s3.head_bucket(Bucket=world.default_bucket))


def test_a_missing_key_is_403_without_list_bucket_and_404_with_it(probe, world):
    user, grant = probe
    obj = f"arn:aws:s3:::{world.default_bucket}/*"
    grant([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": obj}])
    s3 = user.client("s3")
    assert _refused(lambda: s3.get_object(Bucket=world.default_bucket, Key="nope.csv"))
    grant([
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": obj},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{world.default_bucket}"},
    ])  # fmt: skip
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=world.default_bucket, Key="nope.csv")
    assert err.value.response["Error"]["Code"] == "NoSuchKey"


def test_bucket_policy_deny_and_block_public_policy_are_enforced(probe, factory, world):
    """moto alone ignores bucket policies; S3 does not."""
    user, grant = probe
    grant([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
    s3 = factory.client("s3")
    bucket = world.default_bucket
    s3.put_bucket_policy(Bucket=bucket, Policy=_doc([
        {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{world.account}:user/probe"},
         "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
    ]))  # fmt: skip
    assert _refused(lambda: user.client("s3").delete_object(Bucket=bucket, Key="data/obj.csv"))
    assert not _refused(lambda: user.client("s3").get_object(Bucket=bucket, Key="data/obj.csv"))
    public = _doc(
        [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ]
    )
    assert _refused(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=public))  # BlockPublicPolicy is on


# -- the sandbox agrees with the doctor -----------------------------------------------------------------
PROOF_SET = ("s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:DeleteObject")


def _live(role_factory: Any, bucket: str, key: str, action: str) -> str:
    s3 = role_factory.client("s3")
    call = {
        "s3:GetObject": lambda: s3.get_object(Bucket=bucket, Key=key),
        "s3:ListBucket": lambda: s3.list_objects_v2(Bucket=bucket, Prefix=key),
        "s3:PutObject": lambda: s3.put_object(Bucket=bucket, Key=key, Body=b"marker"),
        "s3:DeleteObject": lambda: s3.delete_object(Bucket=bucket, Key=key),
    }[action]
    return "denied" if _refused(call) else "allowed"


def _answers(factory: Any, role_factory: Any, world: Any) -> dict[str, tuple[str, str]]:
    bucket, key = world.default_bucket, "sagewiz-permission-check.txt"
    factory.client("s3").put_object(Bucket=bucket, Key=key, Body=b"marker")  # Get reads an object
    out = {}
    for action in PROOF_SET:
        doctor = diagnose(
            DoctorRequest(principal=world.role_arn, bucket=bucket, key=key, action=action),
            factory, region=world.region, cross_check=False, sandbox=True,
        ).verdict  # fmt: skip
        out[action] = (doctor, _live(role_factory, bucket, key, action))
    return out


def test_sandbox_and_doctor_agree_before_and_after_each_fix(factory, role_factory, world, journal):
    stages = [("seeded", _answers(factory, role_factory, world))]
    assert stages[0][1]["s3:PutObject"] == ("denied", "denied")  # the seed's story starts broken
    state = read(factory, world)
    changes = [p.change for p in findings.proposed_changes(state, findings.check(state)) if p.change]
    assert changes, "the seeded world has fixes to offer"
    for change in changes:
        apply.apply_change(factory, journal, change)
        stages.append((f"after {change.target.kind}", _answers(factory, role_factory, world)))
    for stage, answers in stages:
        for action, (doctor, live) in answers.items():
            assert doctor == live, f"{stage}: {action}: the doctor says {doctor}, the sandbox {live}"
    assert all(live == "allowed" for _, live in stages[-1][1].values()), stages[-1]
