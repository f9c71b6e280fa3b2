"""The S3 layers around policy evaluation: bucket owner, Block Public Access, Object Ownership and
ACLs, SSE-KMS key policies and Requester Pays.

Block Public Access only ever concerns *public* bucket policies and *public* ACLs (S3 user guide,
"Access denied due to Block Public Access settings" and "The meaning of 'public'"): it never
denies a same-account principal whose access comes from an identity policy or a non-public bucket
policy. `evaluate_s3` therefore blames it only when the request's access depends on something public.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from typing import Any

from services.policy.context import RequestContext
from services.policy.document import Policy, Statement
from services.policy.evaluate import (
    IDENTITY,
    KEY_POLICY,
    RESOURCE,
    Decision,
    NamedPolicy,
    PolicySet,
    evaluate_policy,
    evaluate_request,
)

# Operation (API name) -> the IAM action S3 authorises it with (botocore S3 model "Permissions").
OPERATION_ACTIONS: dict[str, str] = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "GetObjectAttributes": "s3:GetObject",
    "SelectObjectContent": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "UploadPartCopy": "s3:PutObject",
    "CopyObject": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "DeleteObject": "s3:DeleteObject",
    "DeleteObjects": "s3:DeleteObject",
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "ListParts": "s3:ListMultipartUploadParts",
    "GetObjectAcl": "s3:GetObjectAcl",
    "PutObjectAcl": "s3:PutObjectAcl",
    "GetObjectTagging": "s3:GetObjectTagging",
    "PutObjectTagging": "s3:PutObjectTagging",
    "RestoreObject": "s3:RestoreObject",
    "GetBucketPolicy": "s3:GetBucketPolicy",
    "PutBucketPolicy": "s3:PutBucketPolicy",
    "DeleteBucketPolicy": "s3:DeleteBucketPolicy",
    "GetBucketPolicyStatus": "s3:GetBucketPolicyStatus",
    "GetBucketAcl": "s3:GetBucketAcl",
    "PutBucketAcl": "s3:PutBucketAcl",
    "GetBucketLocation": "s3:GetBucketLocation",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "GetBucketOwnershipControls": "s3:GetBucketOwnershipControls",
    "PutBucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "GetBucketCors": "s3:GetBucketCORS",
    "PutBucketCors": "s3:PutBucketCORS",
    "GetBucketRequestPayment": "s3:GetBucketRequestPayment",
    "GetBucketVersioning": "s3:GetBucketVersioning",
    "PutBucketVersioning": "s3:PutBucketVersioning",
    "GetBucketTagging": "s3:GetBucketTagging",
    "PutBucketTagging": "s3:PutBucketTagging",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "CreateBucket": "s3:CreateBucket",
    "DeleteBucket": "s3:DeleteBucket",
    "ListBuckets": "s3:ListAllMyBuckets",
}
# Operations whose Resource is the bucket (the rest act on objects).
BUCKET_LEVEL_ACTIONS = {
    a.lower()
    for op, a in OPERATION_ACTIONS.items()
    if op
    not in {
        "GetObject", "HeadObject", "GetObjectAttributes", "SelectObjectContent", "PutObject",
        "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "UploadPartCopy", "CopyObject",
        "AbortMultipartUpload", "DeleteObject", "DeleteObjects", "GetObjectAcl", "PutObjectAcl",
        "GetObjectTagging", "PutObjectTagging", "RestoreObject",
    }
}  # fmt: skip
READ_ACTIONS = {"s3:getobject"}
WRITE_ACTIONS = {"s3:putobject"}
PUBLIC_ACLS = {"public-read", "public-read-write", "authenticated-read"}


def action_for_operation(operation: str) -> str | None:
    return OPERATION_ACTIONS.get(operation)


def is_bucket_action(action: str) -> bool:
    return action.lower() in BUCKET_LEVEL_ACTIONS


@dataclass(frozen=True)
class BlockPublicAccess:
    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False

    @classmethod
    def from_config(cls, cfg: dict[str, Any] | None) -> BlockPublicAccess:
        cfg = cfg or {}
        return cls(
            bool(cfg.get("BlockPublicAcls")),
            bool(cfg.get("IgnorePublicAcls")),
            bool(cfg.get("BlockPublicPolicy")),
            bool(cfg.get("RestrictPublicBuckets")),
        )

    def combine(self, other: BlockPublicAccess) -> BlockPublicAccess:
        """Bucket and account settings: the most restrictive combination applies."""
        return BlockPublicAccess(
            self.block_public_acls or other.block_public_acls,
            self.ignore_public_acls or other.ignore_public_acls,
            self.block_public_policy or other.block_public_policy,
            self.restrict_public_buckets or other.restrict_public_buckets,
        )

    @property
    def any_on(self) -> bool:
        return any(
            (
                self.block_public_acls,
                self.ignore_public_acls,
                self.block_public_policy,
                self.restrict_public_buckets,
            )
        )


@dataclass(frozen=True)
class S3Facts:
    """What is known about the bucket and object besides the policies."""

    bucket_owner_account: str | None = None
    bpa: BlockPublicAccess = BlockPublicAccess()
    object_ownership: str | None = None  # BucketOwnerEnforced | BucketOwnerPreferred | ObjectWriter
    object_owner_account: str | None = None  # when the object exists and its owner is known
    object_acl_grants_caller: bool = False  # the object's ACL grants the caller's account
    public_acl_grants_read: bool = False  # a public ACL grant (AllUsers / AuthenticatedUsers) exists
    requester_pays: bool = False
    request_payer_sent: bool = False
    kms_key_arn: str | None = None  # SSE-KMS key that applies to this request
    kms_key_policy: Policy | None = None
    kms_key_managed_by_aws: bool = False  # the aws/s3 key: usable only within its own account
    request_acl: str | None = None  # canned ACL the request sets (x-amz-acl)
    new_bucket_policy: Policy | None = None  # for PutBucketPolicy: the policy being written


# -- "public" per the S3 user guide ------------------------------------------------------------------
# S3 user guide, "The meaning of 'public'": a bucket-policy grant to a wildcard principal is
# non-public only when a condition pins it to fixed values (no wildcard, no policy variable) of one
# of these keys; aws:SourceIp counts only for ranges no wider than /8 (IPv4) or /32 (IPv6), RFC1918
# ranges excepted. aws:PrincipalAccount is not on AWS's list: it does not count (conservative).
_FIXED_KEYS = {
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "aws:userid",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
}
# Operators that pin a key to the listed values: the request must carry one of them. Negated
# operators, ...IfExists (true when the key is absent) and ForAllValues (true when absent) do not.
_FIXING_OPS = {"stringequals", "stringequalsignorecase", "arnequals", "arnlike", "stringlike"}
_RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def _wide_principal(stmt: Statement) -> bool:
    if stmt.not_principal is not None:
        return True  # Allow with NotPrincipal: everyone but a few
    spec = stmt.principal
    if spec is None:
        return False
    if spec.wildcard:
        return True
    # {"CanonicalUser": "*"}, {"Federated": ...} (AWS: a federated web identity principal is public)
    return any(v == "*" or t == "Federated" for t, v in spec.entries)


def _fixed_value(key: str, value: str) -> bool:
    if "${" in value:
        return False
    if key == "s3:dataaccesspointarn":
        # the access-point name may be wildcarded in a bucket policy when the account is fixed
        parts = value.split(":")
        return len(parts) >= 6 and not any(c in ":".join(parts[:5]) for c in "*?") and parts[4] != ""
    return not ("*" in value or "?" in value)


def _pins(op: str, key: str, values: tuple[str, ...]) -> bool:
    low = op.lower()
    if low.startswith("forallvalues:") or low.endswith("ifexists"):
        return False
    low = low.removeprefix("foranyvalue:")
    if not values:
        return False
    if key == "aws:sourceip":
        return low == "ipaddress" and all(_narrow_ip(v) for v in values)
    if key not in _FIXED_KEYS or low not in _FIXING_OPS:
        return False
    if key == "aws:userid" and any(v.endswith(":*") for v in values):
        return False
    return all(_fixed_value(key, v) for v in values)


def _statement_is_public(stmt: Statement) -> bool:
    if stmt.effect != "Allow" or not _wide_principal(stmt):
        return False
    return not any(_pins(c.operator, c.key.lower(), c.values) for c in stmt.conditions)


def _narrow_ip(value: str) -> bool:
    try:
        net = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return False
    if isinstance(net, ipaddress.IPv4Network) and any(net.subnet_of(r) for r in _RFC1918):
        return True
    return net.prefixlen >= (8 if net.version == 4 else 32)


def is_public_policy(policy: Policy | None) -> bool:
    return policy is not None and any(_statement_is_public(s) for s in policy.statements)


def public_statements(policy: Policy | None) -> tuple[Statement, ...]:
    return tuple(s for s in policy.statements if _statement_is_public(s)) if policy else ()


# -- the layered decision --------------------------------------------------------------------------
def evaluate_s3(ctx: RequestContext, pset: PolicySet, facts: S3Facts) -> Decision:
    """Policies first (evaluate_request), then the S3 layers that can still refuse."""
    if facts.bucket_owner_account and ctx.resource_account != facts.bucket_owner_account:
        ctx = replace(ctx, resource_account=facts.bucket_owner_account)
    notes: list[str] = []
    bucket_policy = pset.resource.policy if pset.resource else None
    public = is_public_policy(bucket_policy)
    action = ctx.action.lower()

    # Block Public Access rejects the request itself (explicit) in these documented cases.
    if facts.bpa.block_public_acls and facts.request_acl in PUBLIC_ACLS and action in {
        "s3:putobject", "s3:putbucketacl", "s3:putobjectacl", "s3:createbucket",
    }:  # fmt: skip
        return _layer_deny(
            ctx, pset, "block-public-access", "public ACLs are prevented by the BlockPublicAcls setting"
        )
    if (
        facts.bpa.block_public_policy
        and action == "s3:putbucketpolicy"
        and is_public_policy(facts.new_bucket_policy)
    ):
        return _layer_deny(
            ctx, pset, "block-public-access", "public policies are prevented by the BlockPublicPolicy setting"
        )

    effective = pset
    if public and facts.bpa.restrict_public_buckets:
        if not ctx.same_account or ctx.principal_arn == "*":
            return _layer_deny(
                ctx,
                pset,
                "block-public-access",
                "RestrictPublicBuckets: the bucket policy is public, so only the bucket owner's account "
                "(and AWS services) may use it",
            )
        notes.append(
            "the bucket policy is public and RestrictPublicBuckets is on; the caller is in the bucket "
            "owner's account, so it is not affected"
        )

    # Objects owned by another account: bucket-policy Allows do not apply, only the object ACL grants.
    foreign_object = (
        facts.object_owner_account is not None
        and facts.bucket_owner_account is not None
        and facts.object_owner_account != facts.bucket_owner_account
        and facts.object_ownership != "BucketOwnerEnforced"
        and not is_bucket_action(ctx.action)
    )
    if foreign_object and pset.resource is not None:
        only_denies = Policy(
            tuple(s for s in pset.resource.policy.statements if s.effect == "Deny"),
            pset.resource.policy.version,
        )
        effective = replace(pset, resource=replace(pset.resource, policy=only_denies))
        notes.append("the object is owned by another account: bucket-policy Allows do not apply to it")

    decision = evaluate_request(ctx, effective)
    if not decision.allowed:
        return replace(decision, layers=tuple(notes))
    if foreign_object and not (
        facts.object_acl_grants_caller and not (facts.bpa.ignore_public_acls and facts.public_acl_grants_read)
    ):
        return _layer_deny(
            ctx,
            pset,
            "object-ownership",
            f"the object is owned by account {facts.object_owner_account}, not the bucket owner, and its ACL "
            "does not grant the caller",
            notes,
            decision,
        )
    if facts.requester_pays and not ctx.same_account and not facts.request_payer_sent:
        return _layer_deny(
            ctx, pset, "requester-pays", "the bucket is Requester Pays and the request did not say RequestPayer=requester",
            notes, decision,
        )  # fmt: skip
    if facts.kms_key_arn and action in READ_ACTIONS | WRITE_ACTIONS:
        kms = evaluate_kms(ctx, pset, facts)
        if not kms.allowed:
            return replace(kms, layers=tuple(notes), results=decision.results + kms.results)
        notes.append(f"the SSE-KMS key allows {kms_action(ctx.action)}")
    return replace(decision, layers=tuple(notes))


def kms_action(s3_action: str) -> str:
    return "kms:GenerateDataKey" if s3_action.lower() in WRITE_ACTIONS else "kms:Decrypt"


def evaluate_kms(ctx: RequestContext, pset: PolicySet, facts: S3Facts) -> Decision:
    """The KMS request S3 makes on the caller's behalf. Key policies must allow explicitly: either
    naming the principal, or delegating to the account (root), in which case IAM must allow too."""
    key_arn = facts.kms_key_arn or ""
    action = kms_action(ctx.action)
    parts = key_arn.split(":")
    key_account = parts[4] if len(parts) > 5 else None
    kctx = replace(
        ctx,
        action=action,
        resource=key_arn,
        resource_account=key_account,
        keys={
            **ctx.keys,
            "kms:viaservice": (f"s3.{ctx.lookup('aws:requestedregion') or '*'}.amazonaws.com",),
        },
    )
    if facts.kms_key_managed_by_aws and key_account and key_account != ctx.principal_account:
        return Decision(
            False,
            "implicit-deny",
            "the AWS managed aws/s3 key cannot be used from another account",
            KEY_POLICY,
            (),
            (),
            kctx,
        )
    if facts.kms_key_policy is None:
        return Decision(True, "allow", "key policy not readable; assumed to allow", None, (), (), kctx)
    key = NamedPolicy("key policy", facts.kms_key_policy, KEY_POLICY, f"key policy of {key_arn}")
    kres = evaluate_policy(key, kctx)
    ids = [evaluate_policy(p, kctx) for p in pset.identity]
    results = (kres, *ids)
    if kres.decision == "deny" or any(r.decision == "deny" for r in ids):
        return Decision(
            False, "explicit-deny", f"explicit deny of {action} on the KMS key", KEY_POLICY, (), results, kctx
        )
    via = kres.allow_via if kres.decision == "allow" else set()
    if via & {"session", "user", "role", "wildcard"}:
        return Decision(True, "allow", f"the key policy allows {action}", None, (), results, kctx)
    if "account" in via:
        if any(r.decision == "allow" for r in ids):
            return Decision(
                True,
                "allow",
                f"the key policy delegates to IAM and an identity policy allows {action}",
                None,
                (),
                results,
                kctx,
            )
        return Decision(
            False,
            "implicit-deny",
            f"no identity-based policy allows {action} on the KMS key",
            IDENTITY,
            (),
            results,
            kctx,
        )
    return Decision(
        False,
        "implicit-deny",
        f"the KMS key policy does not allow {action} for this principal",
        KEY_POLICY,
        (),
        results,
        kctx,
    )


def _layer_deny(
    ctx: RequestContext,
    pset: PolicySet,
    layer: str,
    reason: str,
    notes: list[str] | None = None,
    base: Decision | None = None,
) -> Decision:
    return Decision(
        False,
        "explicit-deny" if layer == "block-public-access" else "implicit-deny",
        reason,
        layer,
        (),
        base.results if base else (),
        ctx,
        tuple(notes or ()),
    )


__all__ = [
    "BlockPublicAccess",
    "OPERATION_ACTIONS",
    "RESOURCE",
    "S3Facts",
    "action_for_operation",
    "evaluate_kms",
    "evaluate_s3",
    "is_bucket_action",
    "is_public_policy",
    "kms_action",
    "public_statements",
]
