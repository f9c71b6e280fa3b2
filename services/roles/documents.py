"""The execution role's policy documents, and whether SageMaker could assume a role.

- `trust_policy(account)`: sagemaker.amazonaws.com may assume the role, only on behalf of this
  account (`aws:SourceAccount`), which guards against the confused-deputy problem.
- `least_privilege_policy(...)`: bucket-level actions on the bucket ARN, object actions on
  `bucket/*` (or `bucket/prefix*`), CloudWatch Logs for `/aws/sagemaker/*`, ECR pull, metrics.
- `sagemaker_role_problem(trust)`: why SageMaker could not assume a role, or None.
"""

from __future__ import annotations

import fnmatch
import json
import urllib.parse
from typing import Any

from services import regions
from services.roles.abilities import statements as ability_statements

SAGEMAKER_SERVICE = regions.service_principal("sagemaker")


def trust_policy(account: str) -> dict[str, Any]:
    """SageMaker may assume the role, only when acting for `account`."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "SageMakerAssumeRoleForThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": SAGEMAKER_SERVICE},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }


def least_privilege_policy(
    account: str, region: str, bucket: str, prefix: str | None = None, role_arn: str | None = None
) -> dict[str, Any]:
    """What a notebook, training or tuning job needs and no more, scoped to one bucket (and prefix).

    Bucket-level actions (ListBucket, GetBucketLocation) apply to the bucket ARN, object actions to
    `bucket/*`: mixing the two up is the classic cause of "access is forbidden". With `role_arn`
    (the role this policy is for) it also holds the abilities of `services.roles.abilities`, so
    that code in the notebook can start the flow's jobs as the role and pass the role to them.
    """
    prefix = (prefix or "").lstrip("/")
    bucket_arn = regions.global_arn("s3", region, "", bucket)
    bucket_stmts: list[dict[str, Any]]
    if prefix:
        # s3:prefix exists only on list requests: a GetBucketLocation under that condition would
        # never be allowed, so it gets a statement of its own.
        bucket_stmts = [
            {
                "Sid": "BucketLevel",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*", prefix.rstrip("/")]}},
            },
            {
                "Sid": "BucketLocation",
                "Effect": "Allow",
                "Action": "s3:GetBucketLocation",
                "Resource": bucket_arn,
            },
        ]
    else:
        bucket_stmts = [
            {
                "Sid": "BucketLevel",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": bucket_arn,
            }
        ]
    log_groups = regions.arn("logs", region, account, "log-group:/aws/sagemaker/*")
    return {
        "Version": "2012-10-17",
        "Statement": [
            *bucket_stmts,
            {
                "Sid": "ObjectLevel",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                "Resource": f"{bucket_arn}/{prefix}*",
            },
            {
                "Sid": "JobLogs",
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                    "logs:GetLogEvents",
                ],
                "Resource": [log_groups, f"{log_groups}:log-stream:*"],
            },
            {
                # GetAuthorizationToken has no resource-level permissions: it must be "*".
                "Sid": "EcrAuth",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*",
            },
            {
                "Sid": "EcrPull",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                ],
                "Resource": f"arn:{regions.partition_of(region)}:ecr:*:*:repository/*",
            },
            {
                # PutMetricData has no resource-level permissions; the namespace condition narrows it.
                "Sid": "Metrics",
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {
                    "StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}
                },
            },
            *(ability_statements(account, region, role_arn) if role_arn else []),
        ],
    }


def autostop_statement(account: str, region: str, notebook: str) -> dict[str, Any]:
    """What the idle auto-stop lifecycle script needs: stop (and read) its own notebook only."""
    # SageMaker lower-cases notebook instance names in ARNs.
    return {
        "Sid": "IdleAutoStop",
        "Effect": "Allow",
        "Action": ["sagemaker:StopNotebookInstance", "sagemaker:DescribeNotebookInstance"],
        "Resource": regions.arn("sagemaker", region, account, f"notebook-instance/{notebook.lower()}"),
    }


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def parse_document(doc: dict[str, Any] | str) -> dict[str, Any]:
    if isinstance(doc, str):
        text = urllib.parse.unquote(doc) if doc.startswith("%7B") else doc
        parsed = json.loads(text)
        if not isinstance(parsed, dict):
            raise TypeError("a policy document is a JSON object")
        return parsed
    return doc


def sagemaker_role_problem(trust_policy: dict[str, Any] | str) -> str | None:
    """None when sagemaker.amazonaws.com may assume a role with this trust policy; else why not."""
    try:
        doc = parse_document(trust_policy)
    except (ValueError, TypeError):
        return "its trust policy is not valid JSON"
    statements = as_list(doc.get("Statement"))
    allowed = False
    for st in statements:
        if not isinstance(st, dict):
            continue
        actions = as_list(st.get("Action"))
        if not any(fnmatch.fnmatchcase("sts:assumerole", str(a).lower()) for a in actions):
            continue
        principal = st.get("Principal")
        services: list[str] = []
        if principal == "*":
            services = ["*"]
        elif isinstance(principal, dict):
            services = [str(s) for s in as_list(principal.get("Service"))]
        names_sagemaker = "*" in services or SAGEMAKER_SERVICE in services
        if not names_sagemaker:
            continue
        if st.get("Effect") == "Deny":
            return "its trust policy denies sagemaker.amazonaws.com the sts:AssumeRole action"
        if st.get("Effect") == "Allow":
            allowed = True
    if allowed:
        return None
    trusted = sorted(
        {
            str(s)
            for st in statements
            if isinstance(st, dict) and isinstance(st.get("Principal"), dict)
            for key in ("Service", "AWS", "Federated")
            for s in as_list(st["Principal"].get(key))
        }
    )
    if trusted:
        return "its trust policy lets only " + ", ".join(trusted) + " assume it, not sagemaker.amazonaws.com"
    return "its trust policy does not let sagemaker.amazonaws.com assume it"
