"""The error parser over every documented message form (aws-facts.md §2), and bad input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.doctor.model import DoctorRequest
from services.doctor.parse import parse_error

B = "amzn-s3-demo-bucket1"


@pytest.mark.parametrize(
    ("text", "form", "ptype", "explicit"),
    [
        (
            f'An error occurred (AccessDenied) when calling the GetObject operation:\nUser: arn:aws:iam::777788889999:user/MaryMajor is not authorized to perform:\ns3:GetObject on resource: "arn:aws:s3:::{B}/object-name"\nwith an explicit deny in a resource control policy',
            "enhanced",
            "resource control",
            True,
        ),
        (
            "User: arn:aws:iam::777788889999:user/MaryMajor is not authorized to perform:\ns3:GetObject because no service control policy allows the s3:GetObject action",
            "enhanced",
            "service control",
            False,
        ),
        (
            "User: arn:aws:iam::777788889999:user/MaryMajor is not authorized to perform:\ns3:GetObject with an explicit deny in a service control policy",
            "enhanced",
            "service control",
            True,
        ),
        (
            "User: arn:aws:iam::123456789012:user/MaryMajor is not authorized to perform:\ns3:GetObject because no VPC endpoint policy allows the s3:GetObject action",
            "enhanced",
            "VPC endpoint",
            False,
        ),
        (
            f'User: arn:aws:iam::123456789012:user/MaryMajor is not authorized to perform:\ns3:GetObject on resource: "arn:aws:s3:::{B}/object-name" with\nan explicit deny in a VPC endpoint policy',
            "enhanced",
            "VPC endpoint",
            True,
        ),
        (
            f'User: arn:aws:iam::123456789012:user/MaryMajor is not authorized to perform:\ns3:GetObject on resource: "arn:aws:s3:::{B}/object-name"\nbecause no permissions boundary allows the s3:GetObject action',
            "enhanced",
            "permissions boundary",
            False,
        ),
        (
            "User: arn:aws:iam::777788889999:user/MaryMajor is not authorized to perform:\ns3:GetObject with an explicit deny in a permissions boundary",
            "enhanced",
            "permissions boundary",
            True,
        ),
        (
            "User: arn:aws:iam::123456789012:user/MaryMajor is not authorized to perform:\ns3:GetObject because no session policy allows the s3:GetObject action",
            "enhanced",
            "session",
            False,
        ),
        (
            f'User: arn:aws:iam::123456789012:user/MaryMajor is not authorized to perform:\ns3:GetObject on resource: "arn:aws:s3:::{B}/object-name" with\nan explicit deny in a session policy',
            "enhanced",
            "session",
            True,
        ),
        (
            "User: arn:aws:iam::123456789012:user/MaryMajor is not authorized to perform:\ns3:GetObject because no resource-based policy allows the s3:GetObject action",
            "enhanced",
            "resource-based",
            False,
        ),
        (
            f'User: arn:aws:iam::123456789012:user/MaryMajor is not authorized to perform:\ns3:GetObject on resource: "arn:aws:s3:::{B}/object-name" with\nan explicit deny in a resource-based policy',
            "enhanced",
            "resource-based",
            True,
        ),
        (
            "User: arn:aws:iam::123456789012:user/MaryMajor is not authorized to perform:\ns3:GetObject because no identity-based policy allows the s3:GetObject action",
            "enhanced",
            "identity-based",
            False,
        ),
        (
            f'User: arn:aws:iam::123456789012:user/MaryMajor is not authorized to perform:\ns3:GetObject on resource: "arn:aws:s3:::{B}/object-name" with\nan explicit deny in an identity-based policy',
            "enhanced",
            "identity-based",
            True,
        ),
        (
            f'An error occurred (AccessDenied) when calling the CopyObject operation:\nUser: arn:aws:sts::123456789012:user/MaryMajor is not authorized to\nperform: s3:CopyObject on resource: "arn:aws:s3:::{B}/object-name"\nbecause public ACLs are prevented by the BlockPublicAcls setting in S3 Block Public Access.',
            "enhanced",
            "bpa-acls",
            True,
        ),
        (
            f'An error occurred (AccessDenied) when calling the PutBucketPolicy operation:\nUser: arn:aws:sts::123456789012:user/MaryMajor is not authorized to\nperform: s3:PutBucketPolicy on resource: "arn:aws:s3:::{B}/object-name"\nbecause public policies are prevented by the BlockPublicPolicy setting in S3 Block Public Access.',
            "enhanced",
            "bpa-policy",
            True,
        ),
        (
            f'An error occurred (AccessDenied) when calling the PutObject operation:\nUser: arn:aws:iam::123456789012:user/MaryMajor  is not\nauthorized to perform: s3:PutObject on resource:\n"arn:aws:s3:::{B}/object-name" because this\nbucket has blocked upload requests that specify\nServer Side Encryption with Customer provided keys (SSE-C).\nPlease specify a different server-side encryption type',
            "enhanced",
            "sse-c",
            True,
        ),
        (
            "User: arn:aws:iam::123456789012:user/John is not authorized to perform:\nsecretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:* with an explicit deny in a resource control policy",
            "other-service",
            "resource control",
            True,
        ),
        (
            "User: arn:aws:iam::123456789012:user/John is not authorized to perform:\ncodedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit deny in a sessions policy",
            "other-service",
            "session",
            True,
        ),
        (
            "User: arn:aws:iam::123456789012:user/John is not authorized to perform:\nsts:AssumeRole because no role trust policy allows the sts:AssumeRole action",
            "other-service",
            "role trust",
            False,
        ),
        (
            "User: arn:aws:iam::777788889999:user/John is not authorized to perform:\nsts:AssumeRole with an explicit deny in the role trust policy",
            "other-service",
            "role trust",
            True,
        ),
        (
            "An error occurred (AccessDeniedException) when calling the CreateStateMachine operation: User: arn:aws:sts::510096416228:assumed-role/AmazonSageMaker-ExecutionRole-20250321T133435/SageMaker is not authorized to perform: iam:PassRole on resource: arn:aws:iam::510096416228:role/xin-stepfunction because no identity-based policy allows the iam:PassRole action",
            "other-service",
            "identity-based",
            False,
        ),
    ],
)
def test_documented_forms(text: str, form: str, ptype: str, explicit: bool) -> None:
    p = parse_error(text)
    assert p.form == form
    assert p.policy_type == ptype
    assert p.explicit is explicit
    assert p.principal and p.action


def test_policy_arn_suffix_and_transitive_vpce() -> None:
    p = parse_error(
        "An error occurred (AccessDenied) when calling the ListRoles operation: User: arn:aws:iam::123456789012:user/Matt is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::123456789012:role/* with an explicit deny in a service control policy: arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd"
    )
    assert (
        p.policy_arn
        == "arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd"
    )
    assert p.operation == "ListRoles" and p.resource == "arn:aws:iam::123456789012:role/*"
    p = parse_error(
        "User: arn:aws:sts::111122223333:assumed-role/role-name/role-session-name is not authorized to perform:\nSNS:Publish on resource: arn:aws:sns:us-east-1:444455556666:role-name-2\nwith an explicit deny in a VPC endpoint policy transitively through a service control policy"
    )
    assert p.policy_type == "VPC endpoint" and p.via


def test_resource_gives_bucket_and_key() -> None:
    p = parse_error(
        f'User: arn:aws:iam::1:user/x is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::{B}/a/b.txt" because no identity-based policy allows the s3:GetObject action'
    )
    assert (p.bucket, p.key) == (B, "a/b.txt")


@pytest.mark.parametrize(
    ("text", "form", "action"),
    [
        (
            "An error occurred (AccessDenied) when calling the GetObject operation: Access Denied",
            "generic",
            "s3:GetObject",
        ),
        (
            "An error occurred (403) when calling the HeadObject operation: Forbidden",
            "head-forbidden",
            "s3:GetObject",
        ),
        (
            "An error occurred (403) when calling the HeadBucket operation: Forbidden",
            "head-forbidden",
            "s3:ListBucket",
        ),
        (
            "botocore.exceptions.ClientError: An error occurred (403) when calling the HeadObject operation: Forbidden",
            "head-forbidden",
            "s3:GetObject",
        ),
        (
            "Bucket sagemaker-eu-north-1-123456789012 exists, but access is forbidden. Please try again after adding appropriate access.",
            "sdk-bucket",
            "s3:ListBucket",
        ),
        (
            "Bucket sagemaker-us-east-1-111122223333 is not accessible as the default bucket. It may be owned by another account or access is forbidden. To unblock, pass a custom default_bucket parameter to sagemaker.Session.",
            "sdk-bucket",
            "s3:ListBucket",
        ),
        (
            "ClientError: Data download failed:Unable to download object s3://sagemaker-repository-dub/model-data-model-package_llama2-7b-v3 (AccessDenied: Access Denied)",
            "sagemaker-job",
            "s3:GetObject",
        ),
        (
            'An error occurred (403) when calling the ListTrainingJobs operation: <?xml version="1.0" encoding="utf-8"?>\n<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/SageMaker-tt/SageMaker is not authorized to perform: sagemaker:ListTrainingJobs</Message><Type>Sender</Type></Error></Errors></ErrorResponse>',
            "other-service",
            "sagemaker:ListTrainingJobs",
        ),
    ],
)
def test_reasonless_forms(text: str, form: str, action: str) -> None:
    p = parse_error(text)
    assert (p.form, p.action) == (form, action)


@pytest.mark.parametrize(
    "text",
    [
        "An error occurred (ExpiredToken) when calling the GetObject operation: The provided token has expired.",
        "An error occurred (InvalidAccessKeyId) when calling the PutObject operation: The AWS Access Key Id you provided does not exist in our records.",
        "An error occurred (SignatureDoesNotMatch) when calling the GetObject operation: The request signature we calculated does not match the signature you provided.",
        "An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid.",
        "An error occurred (ExpiredTokenException) when calling the ListTrainingJobs operation: The security token included in the request is expired",
    ],
)
def test_credentials(text: str) -> None:
    assert parse_error(text).is_credentials


# -- bad input -> unknown, with what was understood and what is missing (never a crash) -------------------------
@pytest.mark.parametrize(
    ("req", "missing_word"),
    [
        (DoctorRequest(error_text="hello, my upload did not work"), "recognisable"),
        (
            DoctorRequest(
                error_text="An error occurred (AccessDenied) when calling the GetObject operation: User: arn:aws:iam::1234"
            ),
            "principal",
        ),
        (
            DoctorRequest(
                error_text="An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist."
            ),
            "not an access-denied",
        ),
        (
            DoctorRequest(
                error_text='User: arn:aws-cn:iam::123456789012:user/x is not authorized to perform: s3:GetObject on resource: "arn:aws-cn:s3:::b/k" because no identity-based policy allows the s3:GetObject action'
            ),
            "aws-cn",
        ),
        (
            DoctorRequest(
                principal="arn:aws-us-gov:iam::123456789012:role/r", bucket="b-ok", action="s3:GetObject"
            ),
            "aws-us-gov",
        ),
        (DoctorRequest(principal="not-an-arn", bucket="b-ok", action="s3:GetObject"), "not a principal ARN"),
        (
            DoctorRequest(
                principal="arn:aws:iam::123456789012:role/r", bucket="Bad_Bucket", action="s3:GetObject"
            ),
            "bucket name",
        ),
        (
            DoctorRequest(principal="arn:aws:iam::123456789012:role/r", bucket="b-ok", action="GetObject"),
            "service:Action",
        ),
        (
            DoctorRequest(
                error_text="An error occurred (AccessDenied) when calling the PutObject operation: Access Denied"
            ),
            "bucket",
        ),
    ],
)
def test_bad_input_is_unknown_before_any_aws_call(req: DoctorRequest, missing_word: str) -> None:
    from services.doctor.engine import diagnose, precheck

    d = precheck(req, principal_from_caller=False)
    assert d is not None and d.verdict == "unknown"
    assert any(missing_word in m for m in d.missing), d.missing
    d2 = diagnose(req, None)  # no factory: must stop before AWS
    assert d2.verdict == "unknown"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_parser_never_crashes_on_any_text(text: str) -> None:
    p = parse_error(text)
    assert p.form


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "An error occurred (AccessDenied) when calling the ",
                "PutObject",
                " operation: ",
                "User: ",
                "arn:aws:sts::123456789012:assumed-role/r/s",
                " is not authorized to perform: ",
                "s3:GetObject",
                ' on resource: "arn:aws:s3:::b/k"',
                " because no ",
                "with an explicit deny in a ",
                "policy",
                " allows the s3:GetObject action",
                "\n",
                "Forbidden",
                "(403)",
                "<Code>",
                "</Code>",
                ": arn:",
            ]
        ),
        max_size=14,
    )
)
def test_parser_never_crashes_on_fragments(parts: list[str]) -> None:  # fmt: skip
    from services.doctor.engine import diagnose

    text = "".join(parts)
    assert parse_error(text).form
    assert diagnose(DoctorRequest(error_text=text), None).verdict in {"unknown", "denied"}
