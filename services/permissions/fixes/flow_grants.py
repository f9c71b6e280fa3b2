"""What a grant proposed from a refused request (pasted text) may name: only the wizard's own flow."""

from __future__ import annotations

from services.permissions.fixes.shapes import bucket_arn

# Only the wizard's own flow: S3 object and bucket actions on the chosen bucket, iam:PassRole on the
# execution role (to SageMaker only), the flow's SageMaker actions, CloudWatch Logs for
# /aws/sagemaker/*, image pull from SageMaker's algorithm registries, KMS use of the bucket's key.
FLOW_S3_ACTIONS = frozenset(
    a.lower()
    for a in (
        "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts", "s3:ListBucket", "s3:GetBucketLocation",
        "s3:ListBucketMultipartUploads", "s3:GetBucketCORS", "s3:PutBucketCORS",
        "s3:GetEncryptionConfiguration", "s3:GetBucketOwnershipControls", "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketPolicyStatus", "s3:GetBucketTagging", "s3:GetBucketVersioning", "s3:GetObjectTagging",
    )
)  # fmt: skip
FLOW_SAGEMAKER_ACTIONS = frozenset(
    a.lower()
    for a in (
        "sagemaker:CreateNotebookInstance", "sagemaker:DescribeNotebookInstance",
        "sagemaker:StartNotebookInstance", "sagemaker:StopNotebookInstance", "sagemaker:DeleteNotebookInstance",
        "sagemaker:CreatePresignedNotebookInstanceUrl", "sagemaker:CreateTrainingJob",
        "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob", "sagemaker:CreateHyperParameterTuningJob",
        "sagemaker:DescribeHyperParameterTuningJob", "sagemaker:StopHyperParameterTuningJob",
        "sagemaker:ListTrainingJobsForHyperParameterTuningJob", "sagemaker:CreateLabelingJob",
        "sagemaker:DescribeLabelingJob", "sagemaker:StopLabelingJob", "sagemaker:CreateModel",
        "sagemaker:DescribeModel", "sagemaker:CreateEndpointConfig", "sagemaker:CreateEndpoint",
        "sagemaker:DescribeEndpoint", "sagemaker:DeleteEndpoint", "sagemaker:InvokeEndpoint",
        "sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob", "sagemaker:AddTags",
        "sagemaker:ListTags",
    )
)  # fmt: skip
FLOW_LOGS_ACTIONS = frozenset(
    a.lower() for a in ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                        "logs:DescribeLogStreams", "logs:GetLogEvents")
)  # fmt: skip
FLOW_ECR_ACTIONS = frozenset(
    a.lower() for a in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")
)
FLOW_KMS_ACTIONS = frozenset(a.lower() for a in ("kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"))
NEVER_SERVICES = ("iam", "organizations", "sts", "account", "sso", "identitystore")


def flow_grant_refusal(
    action: str,
    resource: str,
    *,
    bucket: str | None = None,
    execution_role: str | None = None,
    kms_key: str | None = None,
    account: str | None = None,
    region: str | None = None,
    algorithm_registries: frozenset[str] = frozenset(),
) -> str:
    """Why sagewiz will not propose granting `action` on `resource` from a refused request ("" when
    it may). Whatever the error text says, only the wizard's own flow is ever granted."""
    low = action.lower()
    svc = low.split(":", 1)[0]
    if "*" in action or "?" in action or ":" not in action:
        return f"sagewiz never proposes a wildcard action ({action})."
    body = resource[:-2] if svc == "s3" and resource.endswith("/*") else resource  # a prefix scope
    if resource.strip() == "*" or "*" in body or "?" in body:
        return f"sagewiz never proposes a grant on a wildcard resource ({resource})."
    if "policy" in low.split(":", 1)[1] and low not in ("s3:getbucketpolicystatus",):
        return f"{action} writes or reads policies: sagewiz never proposes policy-writing grants."
    if svc == "s3":
        if low not in FLOW_S3_ACTIONS:
            return f"{action} is not one of the S3 actions the wizard's flow uses; ask an administrator."
        if not bucket or not (
            resource == bucket_arn(bucket) or resource.startswith(bucket_arn(bucket) + "/")
        ):
            return f"{resource} is not on the chosen bucket{f' {bucket}' if bucket else ''}."
        return ""
    if low == "iam:passrole":
        if not execution_role or resource != execution_role:
            return (f"iam:PassRole is proposed only on the wizard's execution role"
                    f"{f' ({execution_role})' if execution_role else ''}, not on {resource}.")  # fmt: skip
        return ""
    if svc in NEVER_SERVICES:
        return f"{action} is an {svc.upper()} action: sagewiz never proposes identity or organization grants."
    if svc == "sagemaker":
        if low not in FLOW_SAGEMAKER_ACTIONS:
            return f"{action} is not one of the SageMaker actions of the wizard's flow."
        parts = resource.split(":")
        if len(parts) < 6 or parts[2] != "sagemaker" or (account and parts[4] != account):
            return f"{resource} is not a SageMaker resource of this account."
        return ""
    if svc == "logs":
        if low not in FLOW_LOGS_ACTIONS or ":log-group:/aws/sagemaker/" not in resource:
            return f"CloudWatch Logs grants are proposed only for /aws/sagemaker/* log groups, not {action} on {resource}."
        if account and resource.split(":")[4] != account:
            return f"{resource} is not in this account."
        return ""
    if svc == "ecr":
        parts = resource.split(":")
        registry = parts[4] if len(parts) > 4 else ""
        if low not in FLOW_ECR_ACTIONS or registry not in algorithm_registries:
            return (f"image pull is proposed only from SageMaker's algorithm registries of {region or 'the region'}; "
                    f"{resource} is not one of them.")  # fmt: skip
        return ""
    if svc == "kms":
        if low not in FLOW_KMS_ACTIONS or not kms_key or resource != kms_key:
            return f"KMS use is proposed only on the bucket's own key{f' ({kms_key})' if kms_key else ''}."
        return ""
    return f"{action} is outside the wizard's flow: sagewiz does not propose it; ask an administrator."
