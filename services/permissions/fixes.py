"""Fixes as plain data: each is a `PolicyChange` (what, where, old text, new text, why, diff).

Reused by the permissions doctor. Every builder here is pure (no AWS calls): give it the current
document text and it returns the change. Every generated document is validated (JSON, IAM grammar,
S3's rules, the `parliament` linter when installed) and a bucket policy Block Public Access would
reject as public is never proposed.

- `bucket_policy_change`: grant the role (by role ARN) `s3:ListBucket` + `s3:GetBucketLocation` on
  the bucket and object actions on `bucket/*` (or `bucket/prefix*`), merged into the existing policy:
  unrelated statements keep their place and order; statements that meant to grant the role this
  bucket but got the Resource or Principal wrong are replaced in place.
- `role_policy_change`: a least-privilege inline role policy scoped to the bucket (and prefix)
  replacing statements with the wrong Resource shape and over-broad grants such as `s3:*` on
  `arn:aws:s3:::*`; other statements are kept.
- `narrow_deny_change`: add an exception for the role to a Deny (never delete a Deny).
- `public_access_change`: Block Public Access on (or, only when the user asks for public access, off).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, replace
from typing import Any

from services.errors import ValidationError
from services.permissions import validate
from services.permissions.matcher import as_list, statements
from services.plan import unified_json_diff
from services.policy.minimal_change import Documents, Permitted, Subject, check_change

OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")
BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation")
BUCKET_SID = "SagewizRoleBucketLevel"
OBJECT_SID = "SagewizRoleObjectLevel"
ROLE_BUCKET_SID = "SagewizBucketLevel"
ROLE_OBJECT_SID = "SagewizObjectLevel"
NEW_INLINE_POLICY = "sagewiz-least-privilege"
BPA_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")

BUCKET_POLICY = "bucket-policy"
ROLE_INLINE_POLICY = "role-inline-policy"
PUBLIC_ACCESS_BLOCK = "public-access-block"


@dataclass(frozen=True)
class PolicyTarget:
    """Where a document lives. `key` is what the journal records as the change's target."""

    kind: str  # BUCKET_POLICY | ROLE_INLINE_POLICY | PUBLIC_ACCESS_BLOCK
    bucket: str | None = None
    role_name: str | None = None
    policy_name: str | None = None

    @property
    def key(self) -> str:
        if self.kind == ROLE_INLINE_POLICY:
            return f"iam:role-policy:{self.role_name}/{self.policy_name}"
        if self.kind == PUBLIC_ACCESS_BLOCK:
            return f"s3:public-access-block:{self.bucket}"
        return f"s3:bucket-policy:{self.bucket}"

    def describe(self) -> str:
        if self.kind == ROLE_INLINE_POLICY:
            return f"inline policy {self.policy_name} of role {self.role_name}"
        if self.kind == PUBLIC_ACCESS_BLOCK:
            return f"Block Public Access of bucket {self.bucket}"
        return f"bucket policy of {self.bucket}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "bucket": self.bucket,
            "role_name": self.role_name,
            "policy_name": self.policy_name,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyTarget:
        return cls(data["kind"], data.get("bucket"), data.get("role_name"), data.get("policy_name"))


@dataclass(frozen=True)
class PolicyChange:
    """Replace the document at `target`: `old_text` exactly as read (None: there was none),
    `new_text` what will be sent (None: delete it)."""

    target: PolicyTarget
    title: str
    reason: str
    old_text: str | None
    new_text: str | None
    warnings: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()  # validations passed, for people
    fixes: tuple[str, ...] = field(default=())  # finding ids this change addresses

    @property
    def diff(self) -> str:
        return document_diff(self.old_text, self.new_text, self.target.describe())

    @property
    def resource(self) -> str:
        if self.target.kind == ROLE_INLINE_POLICY:
            return f"role {self.target.role_name}, inline policy {self.target.policy_name}"
        return f"bucket {self.target.bucket}"


def pretty(doc: Any) -> str:
    return json.dumps(doc, indent=2)


def parse(text: str | None) -> dict[str, Any] | None:
    """The document, or None when absent. Raises ValidationError when it is not a JSON object."""
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            "existing policy", f"it is not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from exc
    except ValueError as exc:  # well-formed but unreadable, e.g. an integer past Python's digit limit
        raise ValidationError("existing policy", f"it is not valid JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise ValidationError("existing policy", "it is not a JSON object")
    return doc


def document_diff(old_text: str | None, new_text: str | None, name: str = "policy") -> str:
    """Unified diff of two document texts, both pretty-printed when they parse."""

    def norm(text: str | None) -> Any:
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return text  # malformed: diff the raw text

    return unified_json_diff(norm(old_text), norm(new_text), f"{name} (current)", f"{name} (proposed)")


# -- the minimal-change check ----------------------------------------------------------------------
class UnsafeFix(ValidationError):
    """A fix that failed the minimal-change check (or a rule of what sagewiz proposes): not offered."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(
            "fix",
            message,
            hint
            or "sagewiz does not offer it; the report for an administrator says what was refused and why.",
        )


def subject_for(role_arn: str, bucket: str | None, action: str, resource: str) -> Subject:
    """The grid subject for a role (a session of it) or a user (itself)."""
    parts = role_arn.split(":")
    account = parts[4] if len(parts) > 4 else ""
    if ":role/" in role_arn:
        session = f"arn:aws:sts::{account}:assumed-role/{role_name_of(role_arn)}/sagewiz-check"
    else:
        session = role_arn
    return Subject(account, role_arn, session, bucket, action, resource)


def verified(
    change: PolicyChange,
    subject: Subject,
    before: Documents,
    permitted: tuple[Permitted, ...],
    *,
    narrowing: bool = False,
) -> PolicyChange:
    """The change with its minimal-change proof in `checks`, or UnsafeFix when the grid shows more."""
    if change.target.kind == BUCKET_POLICY:
        after = before.with_bucket_policy(change.new_text)
    elif change.target.kind == ROLE_INLINE_POLICY:
        after = before.with_identity(change.target.policy_name or "", change.new_text)
    else:
        return change
    if change.target.kind == BUCKET_POLICY and change.old_text is not None and before.bucket_policy is None:
        before = before.with_bucket_policy(change.old_text)
    if (
        change.target.kind == ROLE_INLINE_POLICY
        and change.old_text is not None
        and not any(n == change.target.policy_name for n, _ in before.identity)
    ):
        before = before.with_identity(change.target.policy_name or "", change.old_text)
    result = check_change(subject, before, after, permitted, narrowing=narrowing)
    if not result.ok:
        raise UnsafeFix(result.summary() + ".")
    return replace(change, checks=(*change.checks, result.summary()))


def _stated(actions: list[str], resource: str, why: str) -> tuple[Permitted, ...]:
    return tuple(Permitted(a, resource, why) for a in actions)


# -- bucket policy -------------------------------------------------------------------------------
def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def objects_arn(bucket: str, prefix: str | None = None) -> str:
    return f"arn:aws:s3:::{bucket}/{(prefix or '').lstrip('/')}*"


def role_grant_statements(bucket: str, role_arn: str, prefix: str | None = None) -> list[dict[str, Any]]:
    """The two statements that let the role use the bucket (only when none exists to repair)."""
    return [
        {
            "Sid": BUCKET_SID,
            "Effect": "Allow",
            "Principal": {"AWS": role_arn},
            "Action": list(BUCKET_ACTIONS),
            "Resource": bucket_arn(bucket),
        },
        {
            "Sid": OBJECT_SID,
            "Effect": "Allow",
            "Principal": {"AWS": role_arn},
            "Action": list(OBJECT_ACTIONS),
            "Resource": objects_arn(bucket, prefix),
        },
    ]


def role_name_of(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[-1]


def names_role(principal_value: str, role_arn: str, role_id: str | None = None) -> bool:
    """Any form of the role: its ARN, the ARN without its path, a session ARN, or its unique id."""
    name = role_name_of(role_arn)
    account = role_arn.split(":")[4]
    return (
        principal_value
        in {
            role_arn,
            f"arn:aws:iam::{account}:role/{name}",
        }
        or principal_value.startswith(f"arn:aws:sts::{account}:assumed-role/{name}/")
        or (role_id is not None and principal_value == role_id)
    )


def _in_bucket(resource: str, bucket: str) -> bool:
    return resource == bucket_arn(bucket) or resource.startswith(bucket_arn(bucket) + "/")


def _grants_role_this_bucket(st: dict[str, Any], bucket: str, role_arn: str, role_id: str | None) -> bool:
    """An Allow that only means to give this role (in some form) S3 access to this bucket."""
    if st.get("Effect") != "Allow" or "Condition" in st or "Action" not in st or "Resource" not in st:
        return False
    principal = st.get("Principal")
    if not isinstance(principal, dict) or set(principal) != {"AWS"}:
        return False
    values = [str(v) for v in as_list(principal["AWS"])]
    if not values or not all(names_role(v, role_arn, role_id) for v in values):
        return False
    actions = [str(a) for a in as_list(st["Action"])]
    resources = [str(r) for r in as_list(st["Resource"])]
    return all(a.lower().startswith("s3:") for a in actions) and all(_in_bucket(r, bucket) for r in resources)


def _explicit_actions(st: dict[str, Any], level: str) -> list[str]:
    return [str(a) for a in as_list(st.get("Action")) if validate.action_level(str(a)) == level]


def _one_or_list(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


def _repair_resource(
    st: dict[str, Any], bucket: str, prefix: str | None, objects_scope: str | None = None
) -> tuple[dict[str, Any], list[Permitted]]:
    """The statement with the Resource form its explicit actions need added (nothing removed):
    object actions get bucket/prefix*, bucket actions get the bucket ARN. What it adds, stated."""
    resources = [str(r) for r in as_list(st.get("Resource"))]
    added: list[Permitted] = []
    for problem in wrong_resource_shape(st, bucket):
        if problem.startswith("object"):
            target = objects_scope or objects_arn(bucket, prefix)
            acts = _explicit_actions(st, "object")
        else:
            target = bucket_arn(bucket)
            acts = _explicit_actions(st, "bucket")
        if target not in resources:
            resources.append(target)
        added += [
            Permitted(a, target, "the statement's own actions, on the resource form they need") for a in acts
        ]
    return {**st, "Resource": _one_or_list(resources)}, added


def merge_bucket_policy(
    existing: dict[str, Any] | None,
    bucket: str,
    role_arn: str,
    prefix: str | None = None,
    role_id: str | None = None,
    objects_scope: str | None = None,
) -> tuple[dict[str, Any], list[Permitted]]:
    """The smallest repair: statements meant for this role and bucket keep their actions; a wrong
    Resource form gets the missing form added, a wrong Principal form (session, missing path,
    deleted role id) is replaced by the role's ARN. With none to repair, the role's two statements
    are added. Unrelated statements are untouched and keep their order. Returns what it grants."""
    doc = copy.deepcopy(existing) if existing else {"Version": "2012-10-17", "Statement": []}
    doc["Version"] = "2012-10-17"
    old = as_list(doc.get("Statement"))
    out: list[Any] = []
    permitted: list[Permitted] = []
    repaired = False
    for st in old:
        if isinstance(st, dict) and _grants_role_this_bucket(st, bucket, role_arn, role_id):
            new = dict(st)
            values = [str(v) for v in as_list(st["Principal"]["AWS"])]
            fixed = list(dict.fromkeys(role_arn if names_role(v, role_arn, role_id) else v for v in values))
            if fixed != values:
                new["Principal"] = {"AWS": _one_or_list(fixed)}
                acts = [str(a) for a in as_list(st.get("Action"))]
                permitted += [Permitted(a, str(r), "the statement's own grant, now naming the role by its ARN")
                              for a in acts for r in as_list(st.get("Resource"))]  # fmt: skip
            new, added = _repair_resource(new, bucket, prefix, objects_scope)
            permitted += added
            repaired = repaired or new != st
            out.append(new)
            continue
        out.append(st)
    if not repaired and not any(
        isinstance(s, dict) and _grants_role_this_bucket(s, bucket, role_arn, role_id) for s in old
    ):
        ours = role_grant_statements(bucket, role_arn, prefix)
        sids = {str(s.get("Sid")) for s in old if isinstance(s, dict) and s.get("Sid")}
        for st in ours:
            if st["Sid"] in sids:
                st["Sid"] = _unique_sid(st["Sid"], sids)
            sids.add(st["Sid"])
        out.extend(ours)
        permitted += list(_stated(list(BUCKET_ACTIONS), bucket_arn(bucket), "the role's bucket-level access"))
        permitted += list(
            _stated(list(OBJECT_ACTIONS), objects_arn(bucket, prefix), "the role's object access")
        )
    doc["Statement"] = out
    return doc, permitted


def _unique_sid(base: str, taken: set[str]) -> str:
    n = 2
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


def bucket_policy_change(
    bucket: str,
    role_arn: str,
    old_text: str | None,
    *,
    prefix: str | None = None,
    role_id: str | None = None,
    fixes: tuple[str, ...] = (),
    identity: tuple[tuple[str, str], ...] = (),
    objects_scope: str | None = None,
) -> PolicyChange:
    """Raises ValidationError when the current policy cannot be merged safely, UnsafeFix when the
    result fails the minimal-change check. `objects_scope` (the doctor's refused prefix) replaces
    bucket/prefix* as the object resource a repaired statement gains."""
    warnings: list[str] = []
    try:
        existing = parse(old_text)
    except ValidationError as exc:
        # AWS never stores a malformed bucket policy; an emulator may. Replace it, keep the backup.
        existing = None
        warnings.append(
            f"The current bucket policy is unreadable ({exc.message}); it is replaced as a whole. "
            "Its exact text is saved in the journal first, so undo restores it."
        )
    if existing is not None and validate.is_public(existing):
        raise ValidationError(
            "bucket policy",
            "the current bucket policy already grants public access; merging into it would produce a "
            "public policy, which Block Public Access rejects",
            "Remove the public statement first (or say you want public access), then re-check.",
        )
    new, permitted = merge_bucket_policy(existing, bucket, role_arn, prefix, role_id, objects_scope)
    checks = _validated(new, validate.BUCKET_POLICY, existing)
    change = PolicyChange(
        target=PolicyTarget(BUCKET_POLICY, bucket=bucket),
        title=f"Repair the grant to {role_name_of(role_arn)} in the bucket policy of {bucket}",
        reason=(
            "The statement meant for the role keeps its actions: object actions get the object ARN "
            f"({objects_scope or objects_arn(bucket, prefix)}), bucket-level actions the bucket ARN, and the role is named by its "
            "role ARN (with its path), which covers every session of the role. Other statements are kept as they are."
        ),
        old_text=old_text,
        new_text=pretty(new),
        warnings=tuple(warnings),
        checks=checks,
        fixes=fixes,
    )
    before = Documents(identity, old_text if existing is not None else None)
    subject = subject_for(role_arn, bucket, "s3:GetObject", objects_arn(bucket, prefix))
    return verified(change, subject, before, tuple(permitted))


def bucket_statement_grant_change(
    bucket: str,
    role_arn: str,
    old_text: str | None,
    action: str,
    resource: str,
    *,
    identity: tuple[tuple[str, str], ...] = (),
    reason: str = "",
) -> PolicyChange:
    """One new bucket-policy statement granting the role exactly `action` on `resource` (the
    doctor's fix for a refused request); every existing statement is kept as it is."""
    refusal = flow_grant_refusal(action, resource, bucket=bucket)
    if refusal:
        raise UnsafeFix(refusal)
    existing = parse(old_text) if old_text is not None else None
    if existing is not None and validate.is_public(existing):
        raise ValidationError("bucket policy", "the current bucket policy already grants public access",
                              "Remove the public statement first, then re-check.")  # fmt: skip
    doc = copy.deepcopy(existing) if existing else {"Version": "2012-10-17", "Statement": []}
    doc["Version"] = "2012-10-17"
    stmts = as_list(doc.get("Statement"))
    sids = {str(s.get("Sid")) for s in stmts if isinstance(s, dict) and s.get("Sid")}
    sid = (
        "SagewizDoctorGrant" if "SagewizDoctorGrant" not in sids else _unique_sid("SagewizDoctorGrant", sids)
    )
    stmts.append(
        {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"AWS": role_arn},
            "Action": action,
            "Resource": resource,
        }
    )
    doc["Statement"] = stmts
    checks = _validated(doc, validate.BUCKET_POLICY, existing)
    change = PolicyChange(
        target=PolicyTarget(BUCKET_POLICY, bucket=bucket),
        title=f"Allow {role_name_of(role_arn)} {action} on {resource} in the bucket policy",
        reason=reason
        or f"One statement for exactly the refused request ({action} on {resource}); the others stay as they are.",
        old_text=old_text,
        new_text=pretty(doc),
        checks=checks,
    )
    subject = subject_for(role_arn, bucket, action, resource)
    return verified(
        change, subject, Documents(identity, old_text), (Permitted(action, resource, "the request refused"),)
    )


# -- what a grant from pasted text may name -------------------------------------------------------
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


# -- role inline policy -----------------------------------------------------------------------------
def least_privilege(account: str, region: str, bucket: str, prefix: str | None = None) -> dict[str, Any]:
    """services.roles.least_privilege_policy (the notebook step's), the one source of that policy,
    with s3:GetBucketLocation moved out of any statement conditioned on s3:prefix (that key is
    never present for GetBucketLocation, so the condition would deny it)."""
    from services.roles import least_privilege_policy

    doc = copy.deepcopy(least_privilege_policy(account, region, bucket, prefix))
    out: list[Any] = []
    for st in as_list(doc.get("Statement")):
        actions = [str(a) for a in as_list(st.get("Action"))] if isinstance(st, dict) else []
        cond = json.dumps(st.get("Condition") or {}) if isinstance(st, dict) else ""
        if "s3:GetBucketLocation" in actions and "s3:prefix" in cond and len(actions) > 1:
            rest = [a for a in actions if a != "s3:GetBucketLocation"]
            out.append({**st, "Action": rest if len(rest) > 1 else rest[0]})
            out.append({"Sid": f"{st.get('Sid') or ''}Location", "Effect": "Allow", "Action": "s3:GetBucketLocation",
                        "Resource": st.get("Resource")})  # fmt: skip
        else:
            out.append(st)
    doc["Statement"] = out
    return doc


def _scoped_statements(account: str, region: str, bucket: str, prefix: str | None) -> list[dict[str, Any]]:
    """The S3 statements of the least-privilege role policy, with sagewiz's Sids (what a scoped
    replacement of an over-broad grant looks like)."""
    doc = least_privilege(account, region, bucket, prefix)
    out: list[dict[str, Any]] = []
    for st in statements(doc):
        acts = [str(a) for a in as_list(st.get("Action"))]
        if acts and all(a.startswith("s3:") for a in acts):
            st = dict(st)
            level = (
                "object"
                if any(validate.resource_level(str(r)) == "object" for r in as_list(st.get("Resource")))
                else "bucket"
            )
            sid = ROLE_OBJECT_SID if level == "object" else ROLE_BUCKET_SID
            st["Sid"] = sid if sid not in {o["Sid"] for o in out} else f"{sid}Location"
            out.append(st)
    return out


def is_over_broad(st: dict[str, Any]) -> bool:
    """An S3-only Allow on every bucket: `s3:*` (or `s3:*Object`) on `*` / `arn:aws:s3:::*`."""
    if st.get("Effect") != "Allow" or "Action" not in st:
        return False
    actions = [str(a) for a in as_list(st["Action"])]
    if not actions or not all(a.lower().startswith("s3:") for a in actions):
        return False
    resources = [str(r) for r in as_list(st.get("Resource"))]
    broad = [r for r in resources if r in {"*", "arn:aws:s3:::*", "arn:aws:s3:::*/*"}]
    return bool(broad) and any("*" in a for a in actions)


def wrong_resource_shape(st: dict[str, Any], bucket: str) -> list[str]:
    """What is wrong with the Resource shape of an Allow for this bucket (empty when fine)."""
    if st.get("Effect") != "Allow" or "Action" not in st or "Resource" not in st:
        return []
    actions = [str(a) for a in as_list(st["Action"])]
    resources = [str(r) for r in as_list(st["Resource"])]
    on_bucket = bucket_arn(bucket) in resources
    on_objects = any(r.startswith(bucket_arn(bucket) + "/") for r in resources)
    problems = []
    obj = [a for a in actions if validate.action_level(a) == "object"]
    lst = [a for a in actions if validate.action_level(a) == "bucket"]
    if obj and on_bucket and not on_objects:
        problems.append(
            f"object actions ({', '.join(obj)}) on the bucket ARN {bucket_arn(bucket)} instead of {bucket_arn(bucket)}/*"
        )
    if lst and on_objects and not on_bucket:
        problems.append(
            f"bucket actions ({', '.join(lst)}) on {bucket_arn(bucket)}/* instead of the bucket ARN"
        )
    return problems


def merge_role_policy(
    existing: dict[str, Any] | None,
    bucket: str,
    prefix: str | None = None,
    missing: tuple[tuple[str, str], ...] = (),
) -> tuple[dict[str, Any], list[Permitted]]:
    """The smallest repair of the role's policy for this bucket: a statement with the wrong
    Resource form gets the form its own actions need added (its actions, conditions and other
    resources stay); over-broad grants are left alone (narrowing them is a separate proposal).
    The `missing` (action, resource) pairs the repair does not cover are granted, nothing more."""
    doc = copy.deepcopy(existing) if existing else {"Version": "2012-10-17", "Statement": []}
    doc["Version"] = "2012-10-17"
    out: list[Any] = []
    permitted: list[Permitted] = []
    for st in as_list(doc.get("Statement")):
        if isinstance(st, dict) and wrong_resource_shape(st, bucket):
            new, added = _repair_resource(st, bucket, prefix)
            out.append(new)
            permitted += added
        else:
            out.append(st)
    still = [(a, r) for a, r in missing if not any(p.covers(a, r) for p in permitted)]
    if still:
        sids = {str(s.get("Sid")) for s in out if isinstance(s, dict) and s.get("Sid")}
        objects = [a for a, r in still if validate.action_level(a) == "object"]
        buckets = [a for a, r in still if validate.action_level(a) != "object"]
        for acts, res, sid in (
            (buckets, bucket_arn(bucket), ROLE_BUCKET_SID),
            (objects, objects_arn(bucket, prefix), ROLE_OBJECT_SID),
        ):
            if not acts:
                continue
            acts = list(dict.fromkeys(acts))
            out.append({"Sid": sid if sid not in sids else _unique_sid(sid, sids), "Effect": "Allow",
                        "Action": _one_or_list(acts), "Resource": res})  # fmt: skip
            sids.add(sid)
            permitted += list(_stated(acts, res, "what SageMaker needs on the bucket and the role lacks"))
    doc["Statement"] = out
    return doc, permitted


def role_policy_change(
    role_name: str,
    account: str,
    region: str,
    bucket: str,
    inline: list[tuple[str, str]],
    *,
    prefix: str | None = None,
    fixes: tuple[str, ...] = (),
    missing: tuple[tuple[str, str], ...] = (),
    role_arn: str | None = None,
) -> PolicyChange:
    """`inline` is the role's inline policies as (name, exact text). The first one holding a badly
    scoped statement for this bucket is repaired in place; with none, the `missing` pairs are
    granted in sagewiz's own inline policy. Checked for minimal change before it is returned."""
    del region
    chosen: tuple[str, str | None] = (NEW_INLINE_POLICY, None)
    for pname, ptext in inline:
        try:
            doc = parse(ptext)
        except ValidationError:
            continue
        if any(wrong_resource_shape(s, bucket) for s in statements(doc)):
            chosen = (pname, ptext)
            break
    else:
        for pname, ptext in inline:
            if pname == NEW_INLINE_POLICY:
                chosen = (pname, ptext)
    name, text = chosen
    existing = parse(text) if text is not None else None
    new, permitted = merge_role_policy(existing, bucket, prefix, missing)
    if not permitted:
        raise ValidationError(
            "role policy", "there is nothing to repair or grant in the role's policies for this bucket"
        )
    checks = _validated(new, validate.IDENTITY_POLICY, existing)
    where = f"s3://{bucket}/{(prefix or '').lstrip('/')}"
    stated = sorted({f"{p.action} on {p.resource}" for p in permitted})
    change = PolicyChange(
        target=PolicyTarget(ROLE_INLINE_POLICY, role_name=role_name, policy_name=name),
        title=f"Repair role {role_name}'s S3 access to {where}"
        if existing is not None
        else f"Grant role {role_name} what it lacks on {where}",
        reason=(
            "Only what the role's own statements already name, on the resource form those actions need, "
            f"or what it lacks: {'; '.join(stated)}. Every other statement and grant is kept as it is."
        ),
        old_text=text,
        new_text=pretty(new),
        checks=checks,
        fixes=fixes,
    )
    arn = role_arn or f"arn:aws:iam::{account}:role/{role_name}"
    subject = subject_for(arn, bucket, "s3:GetObject", objects_arn(bucket, prefix))
    return verified(change, subject, Documents(tuple(inline)), tuple(permitted))


def narrow_grant_change(
    role_name: str,
    bucket: str,
    inline: list[tuple[str, str]],
    *,
    prefix: str | None = None,
    fixes: tuple[str, ...] = (),
    role_arn: str | None = None,
) -> PolicyChange:
    """A separate proposal: over-broad S3 grants (`s3:*` on every bucket) keep their actions but
    are scoped to this bucket and its objects. It narrows on purpose, so its own diff lists what
    stops being allowed; nothing may become allowed."""
    found = None
    for pname, ptext in inline:
        try:
            pdoc = parse(ptext)
        except ValidationError:
            continue
        if pdoc is not None and any(is_over_broad(s) for s in statements(pdoc)):
            found = (pname, ptext, pdoc)
            break
    if found is None:
        raise ValidationError("role policy", "no inline policy of the role grants S3 on every bucket")
    name, text, doc = found
    new = copy.deepcopy(doc)
    out = []
    for st in as_list(new.get("Statement")):
        if isinstance(st, dict) and is_over_broad(st):
            st = {**st, "Resource": [bucket_arn(bucket), objects_arn(bucket, prefix)]}
        out.append(st)
    new["Statement"] = out
    # s3:* kept on the bucket: some S3 actions name other resource types (the linter says so)
    checks = _validated(new, validate.IDENTITY_POLICY, doc, ignore=("RESOURCE_MISMATCH",))
    change = PolicyChange(
        target=PolicyTarget(ROLE_INLINE_POLICY, role_name=role_name, policy_name=name),
        title=f"Narrow role {role_name}'s S3 grant on every bucket to {bucket}",
        reason=(
            "A separate change: the statement keeps every action it grants, but only on "
            f"{bucket_arn(bucket)} and {objects_arn(bucket, prefix)}. The role loses access to every other bucket."
        ),
        old_text=text,
        new_text=pretty(new),
        warnings=(
            "The role loses S3 access to every other bucket: if it needs one, grant it by name first.",
        ),
        checks=checks,
        fixes=fixes,
    )
    arn = role_arn or f"arn:aws:iam::000000000000:role/{role_name}"
    subject = subject_for(arn, bucket, "s3:GetObject", objects_arn(bucket, prefix))
    return verified(change, subject, Documents(tuple(inline)), (), narrowing=True)


# -- Deny exceptions -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Practice:
    """A Deny that enforces a practice: it gets no exception; the request complies instead."""

    name: str  # "TLS", "encryption", "VPC endpoint", "organization", "network"
    how_to_comply: str


_PRACTICES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("aws:securetransport", "s3:tlsversion"), "TLS",
     "send the request over HTTPS (boto3's default; remove use_ssl=False or an http:// endpoint)"),
    (("s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id",
      "s3:x-amz-server-side-encryption-customer-algorithm"), "encryption",
     "send the encryption header the Deny asks for, for example ServerSideEncryption='aws:kms' and "
     "SSEKMSKeyId='<the key it names>' in boto3 (x-amz-server-side-encryption: aws:kms on the wire)"),
    (("aws:sourcevpce", "aws:sourcevpc"), "VPC endpoint",
     "send the request through the VPC endpoint the Deny names (the notebook's or job's VPC settings)"),
    (("aws:principalorgid", "aws:principalorgpaths", "aws:resourceorgid", "aws:sourceorgid"), "organization",
     "make the request from an account of the organization the Deny names"),
    (("aws:sourceip", "aws:vpcsourceip"), "network",
     "make the request from the network addresses the Deny allows"),
)  # fmt: skip


def practice_of(stmt: dict[str, Any]) -> Practice | None:
    cond = stmt.get("Condition") or {}
    keys = {str(k).lower() for tests in cond.values() if isinstance(tests, dict) for k in tests}
    for names, label, how in _PRACTICES:
        if keys & set(names):
            return Practice(label, how)
    return None


def aimed_at(stmt: dict[str, Any], role_arn: str, role_id: str | None = None) -> bool:
    """The Deny names the principal itself: in its Principal, or in a condition that tests
    aws:PrincipalArn / aws:userid / aws:username for it with a positive operator."""
    principal = stmt.get("Principal")
    if isinstance(principal, dict) and any(
        names_role(str(v), role_arn, role_id) for v in as_list(principal.get("AWS"))
    ):
        return True
    cond = stmt.get("Condition") or {}
    for op, tests in cond.items():
        if not isinstance(tests, dict) or "not" in str(op).lower():
            continue
        for key, values in tests.items():
            if str(key).lower() in ("aws:principalarn", "aws:userid", "aws:username"):
                for v in as_list(values):
                    if (
                        str(v) == role_arn
                        or names_role(str(v), role_arn, role_id)
                        or role_name_of(role_arn) in str(v)
                    ):
                        return True
    return False


def deny_exception_statements(
    stmt: dict[str, Any], role_arn: str, action: str, resource: str
) -> list[dict[str, Any]]:
    """The Deny rewritten so it stops refusing exactly (role, action, resource) and nothing else:
    1. the original for everyone but the role (ArnNotEquals aws:PrincipalArn <role>, ANDed);
    2. for the role, every other action the Deny covers;
    3. for the role, `action` on every other resource the Deny covers.
    The minimal-change check proves the three together change only that one request."""
    from services.policy.wildcards import action_matches, arn_matches

    if stmt.get("Effect") != "Deny":
        raise ValueError("only a Deny statement gets an exception")
    base = copy.deepcopy(stmt)
    sid = str(stmt.get("Sid") or "Deny")

    def with_cond(st: dict[str, Any], op: str, value: str) -> dict[str, Any]:
        st = copy.deepcopy(st)
        cond = st.setdefault("Condition", {})
        tests = cond.setdefault(op, {})
        current = [str(v) for v in as_list(tests.get("aws:PrincipalArn"))]
        if value not in current:
            current.append(value)
        tests["aws:PrincipalArn"] = _one_or_list(current)
        return st

    everyone_else = with_cond(base, "ArnNotEquals", role_arn)
    role_only = with_cond({k: v for k, v in base.items() if k != "Sid"}, "ArnEquals", role_arn)
    out = [everyone_else]
    # 2. the role, other actions
    other_actions = copy.deepcopy(role_only)
    if "Action" in stmt:
        acts = [str(a) for a in as_list(stmt["Action"])]
        if any(a.lower() == action.lower() for a in acts) and not any(
            action_matches(a, action) and a.lower() != action.lower() for a in acts
        ):
            rest = [a for a in acts if a.lower() != action.lower()]
            if rest:
                other_actions["Action"] = _one_or_list(rest)
            else:
                other_actions = {}
        else:
            # a wildcard covers it: every action but this one (S3 resources bound it to S3 actions)
            del other_actions["Action"]
            other_actions["NotAction"] = action
            if not _s3_only(stmt):
                raise UnsafeFix(
                    "the Deny's Action is a wildcard over resources of several services; no exact exception can be written"
                )
    else:
        other_actions["NotAction"] = _one_or_list([*map(str, as_list(stmt["NotAction"])), action])
    if other_actions:
        other_actions["Sid"] = f"{sid}ExceptRoleOtherActions"
        out.append(other_actions)
    # 3. the role, this action, other resources
    other_res = copy.deepcopy(role_only)
    other_res.pop("NotAction", None)
    other_res["Action"] = action
    if "Resource" in stmt:
        res = [str(r) for r in as_list(stmt["Resource"])]
        if resource in res and not any(arn_matches(r, resource) and r != resource for r in res):
            rest = [r for r in res if r != resource]
            if rest:
                other_res["Resource"] = _one_or_list(rest)
            else:
                other_res = {}
        else:
            del other_res["Resource"]
            other_res["NotResource"] = resource
    else:
        other_res["NotResource"] = _one_or_list([*map(str, as_list(stmt["NotResource"])), resource])
    if other_res:
        other_res["Sid"] = f"{sid}ExceptRoleOtherResources"
        out.append(other_res)
    if "Sid" not in stmt:
        for st in out[1:]:
            st.pop("Sid", None)
    return [
        {"Sid": st["Sid"], **{k: v for k, v in st.items() if k != "Sid"}} if "Sid" in st else st for st in out
    ]


def _deny_covers(stmt: dict[str, Any], action: str, resource: str) -> bool:
    """The Deny's Action/NotAction and Resource/NotResource take in this request (its principal and
    conditions are the evaluator's business)."""
    from services.policy.wildcards import action_matches, arn_matches

    if "Action" in stmt:
        act = any(action_matches(str(a), action) for a in as_list(stmt["Action"]))
    else:
        act = not any(action_matches(str(a), action) for a in as_list(stmt.get("NotAction")))
    if "Resource" in stmt:
        res = any(arn_matches(str(r), resource) for r in as_list(stmt["Resource"]))
    else:
        res = not any(arn_matches(str(r), resource) for r in as_list(stmt.get("NotResource")))
    return act and res


def _s3_only(stmt: dict[str, Any]) -> bool:
    res = [str(r) for r in as_list(stmt.get("Resource", stmt.get("NotResource")))]
    return bool(res) and all(r.startswith("arn:aws:s3:::") for r in res) and "Resource" in stmt


def narrow_deny_change(
    bucket: str,
    role_arn: str,
    old_text: str,
    index: int,
    *,
    action: str,
    resource: str,
    role_id: str | None = None,
    fixes: tuple[str, ...] = (),
    identity: tuple[tuple[str, str], ...] = (),
) -> PolicyChange:
    """An exception to a bucket-policy Deny for exactly the refused request. Refused (UnsafeFix)
    for a Deny aimed at the principal itself or one that enforces a practice."""
    doc = parse(old_text)
    assert doc is not None
    stmts = as_list(doc.get("Statement"))
    if not (0 <= index < len(stmts)) or not isinstance(stmts[index], dict):
        raise ValidationError("statement", f"the bucket policy has no statement {index + 1}")
    stmt = stmts[index]
    label = stmt.get("Sid") or f"statement {index + 1}"
    practice = practice_of(stmt)
    if practice is not None:
        raise UnsafeFix(
            f"the Deny {label} enforces a practice ({practice.name}); sagewiz offers no exception to it.",
            f"Comply instead: {practice.how_to_comply}.",
        )
    if aimed_at(stmt, role_arn, role_id):
        raise UnsafeFix(
            f"the Deny {label} is aimed at {role_name_of(role_arn)} itself: someone decided this principal may not "
            "do this, so sagewiz offers no exception.",
            "Ask the bucket's owner whether the Deny is still meant; the report for an administrator has the details.",
        )
    if not _deny_covers(stmt, action, resource):
        raise ValidationError(
            "statement",
            f"the Deny {label} does not refuse {action} on {resource}: there is nothing to except",
        )
    new_stmts = list(copy.deepcopy(stmts))
    taken = {str(s.get("Sid")) for s in stmts if isinstance(s, dict) and s.get("Sid")}
    parts = deny_exception_statements(stmt, role_arn, action, resource)
    for st in parts[1:]:
        if "Sid" in st and st["Sid"] in taken:
            st["Sid"] = _unique_sid(st["Sid"], taken)
        if "Sid" in st:
            taken.add(st["Sid"])
    new_stmts[index : index + 1] = parts
    new = copy.deepcopy(doc)
    new["Statement"] = new_stmts
    checks = _validated(new, validate.BUCKET_POLICY, doc)
    warnings = [
        f"This is an exception to a guardrail: the Deny {label} stays for everyone else and for every other "
        f"request of the role; only {action} on {resource} by {role_name_of(role_arn)} is let through. "
        "Confirm it separately and only if the guardrail's owner agrees."
    ]
    change = PolicyChange(
        target=PolicyTarget(BUCKET_POLICY, bucket=bucket),
        title=f"Exception to the Deny {label}: let {role_name_of(role_arn)} do {action} on {resource} only",
        reason=(
            "A Deny is never deleted or switched off: it is split so it keeps denying everyone else everything it "
            f"denied, and keeps denying {role_name_of(role_arn)} everything but this one request."
        ),
        old_text=old_text,
        new_text=pretty(new),
        warnings=tuple(warnings),
        checks=checks,
        fixes=fixes,
    )
    subject = subject_for(role_arn, bucket, action, resource)
    return verified(
        change, subject, Documents(identity, old_text), (Permitted(action, resource, "the request refused"),)
    )


# -- Block Public Access ---------------------------------------------------------------------------
def public_access_change(bucket: str, old_text: str | None, *, want_public: bool = False) -> PolicyChange:
    """All four settings on; or, only when the user asks for public access, the two policy ones off."""
    current = parse(old_text) or {}
    warnings: tuple[str, ...]
    if want_public:
        new = {
            **{k: bool(current.get(k, True)) for k in BPA_KEYS},
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        }
        title = f"Allow a public bucket policy on {bucket} (Block Public Access partly off)"
        reason = (
            "You said the bucket must be public. This turns off BlockPublicPolicy and RestrictPublicBuckets on "
            "this bucket only; ACL blocking stays on. It is never needed for the role's own access."
        )
        warnings = (
            "SECURITY: anyone on the internet could then read what a public policy exposes. The account-level "
            "Block Public Access still applies and sagewiz does not change it.",
        )
    else:
        new = {k: True for k in BPA_KEYS}
        title = f"Turn Block Public Access fully on for {bucket}"
        reason = "Block Public Access never blocks the role's same-account access; keeping it on is the safe default."
        warnings = ()
    return PolicyChange(
        target=PolicyTarget(PUBLIC_ACCESS_BLOCK, bucket=bucket),
        title=title,
        reason=reason,
        old_text=old_text,
        new_text=pretty(new),
        warnings=warnings,
        checks=("settings are the four Block Public Access flags",),
    )


def _validated(
    doc: dict[str, Any], kind: str, baseline: dict[str, Any] | None = None, ignore: tuple[str, ...] = ()
) -> tuple[str, ...]:
    validate.check(doc, kind, baseline=baseline, ignore=ignore)
    done = ["valid JSON", "IAM policy grammar", "policy linter (parliament): no new findings"]
    if kind == validate.BUCKET_POLICY:
        done += [
            "S3: every action applies to a listed resource",
            "not public (Block Public Access accepts it)",
        ]
    return tuple(done)
