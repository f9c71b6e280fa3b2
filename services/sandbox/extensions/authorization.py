"""Authorize sandbox requests under the actions AWS uses, and S3 requests as S3 does.

moto 5.2.6 checks each request under `<service>:<operation>` (`s3:ListObjectsV2`, `s3:HeadObject`),
names IAM has never had, so a role granted `s3:ListBucket` is refused its listings and one granted
`s3:ListObjectsV2` (an impossible policy) is let through. This wraps moto's one authorization entry
point so that:

- every request is checked under the action of the Service Authorization Reference
  (`services/sandbox/authorization.py` says which), once per (action, resource) it needs;
- S3 requests are decided by sagewiz's policy evaluator with everything S3 itself consults: the
  caller's identity policies, permissions boundary and session policy, the bucket policy (moto
  ignores it), Block Public Access and the bucket owner, whichever account owns the bucket; a
  GET or HEAD of a missing key without `s3:ListBucket` answers 403, as AWS does (aws-facts-2 §2);
  a request whose `ExpectedBucketOwner` is not the bucket's owner answers 403 (moto ignores it);
- SageMaker requests made with a role's session are decided by the same evaluator, on the
  resource ARN the request names, with iam:PassRole on every role it hands SageMaker (context
  iam:PassedToService), refused with SageMaker's own AccessDeniedException text;
- other services keep moto's identity-policy check, under the right action name.

Signature checks, the "first N requests are free" switch and public operations stay moto's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from services.sandbox.authorization import ActionCheck, S3Call, action_for, s3_checks, sagemaker_checks
from services.sandbox.extensions import wrap_method

_OWNERSHIP = ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter")
# Request headers S3 exposes as condition keys (s3:x-amz-...).
_HEADER_KEYS = (
    "x-amz-acl",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-storage-class",
    "x-amz-copy-source",
    "x-amz-metadata-directive",
    "x-amz-content-sha256",
)


def _policy_text(policy: Any) -> str:
    """A moto policy as JSON text: inline policies are text or dicts, managed ones have versions."""
    if isinstance(policy, str):
        return policy
    if isinstance(policy, bytes):
        return policy.decode()
    if isinstance(policy, dict):
        doc = policy["policy_document"]
        return doc if isinstance(doc, str) else json.dumps(doc)
    version = next(v for v in policy.versions if v.is_default)
    doc = version.document
    return doc if isinstance(doc, str) else json.dumps(doc)


def _named(text: str, name: str, kind: str) -> Any:
    """The policy for the evaluator; None for a document AWS would have refused to store (moto
    stores anything), which therefore grants and denies nothing."""
    from services.policy.document import PolicyError, parse_policy
    from services.policy.evaluate import NamedPolicy

    try:
        return NamedPolicy(name, parse_policy(text), kind)
    except PolicyError:
        return None


def _caller(iam_request: Any) -> tuple[str, str | None, Any, Any]:
    """(principal ARN, role ARN, boundary, session policy) of the request's access key."""
    from moto.iam.access_control import AssumedRoleAccessKey
    from moto.sts.models import sts_backends

    key = iam_request._access_key
    backend = iam_request.backend
    if not isinstance(key, AssumedRoleAccessKey):
        return key.arn, None, None, None
    role = backend.get_role(key._owner_role_name)
    boundary = None
    if role.permissions_boundary_arn:
        managed = backend.get_policy(role.permissions_boundary_arn)
        boundary = _named(_policy_text(managed), role.permissions_boundary_arn, "boundary")
    session = None
    for assumed in sts_backends[key.account_id][key.partition].assumed_roles:
        if assumed.access_key_id == key._access_key_id and assumed.policy:
            session = _named(_policy_text(assumed.policy), "session policy", "session")
    return key.arn, role.arn, boundary, session


def _is_role_session(iam_request: Any) -> bool:
    from moto.iam.access_control import AssumedRoleAccessKey

    return isinstance(iam_request._access_key, AssumedRoleAccessKey)


def _find_bucket(response: Any, bucket_name: str | None) -> Any:
    """moto's bucket of that name, whichever account owns it (bucket names are global), or None."""
    if not bucket_name:
        return None
    bucket = response.backend.buckets.get(bucket_name)
    if bucket is not None:
        return bucket
    from moto.s3.models import s3_backends

    where = s3_backends.bucket_accounts.get(bucket_name)
    if where is None:
        return None
    partition, account = where
    return s3_backends[account][partition].buckets.get(bucket_name)


def _bucket_layers(
    response: Any, bucket_name: str | None, *, any_account: bool = True
) -> tuple[Any, str | None, Any, str | None]:
    """(bucket policy as a NamedPolicy or None, owner account, Block Public Access in force,
    object ownership) from moto's S3 state; without `any_account`, of the caller's own buckets only."""
    from moto.s3control.models import s3control_backends

    from services.policy.s3 import BlockPublicAccess

    account, partition = response.current_account, response.partition
    bucket = (
        _find_bucket(response, bucket_name)
        if any_account
        else (response.backend.buckets.get(bucket_name) if bucket_name else None)
    )
    policy = None
    bpa = BlockPublicAccess()
    owner = None
    ownership = None
    if bucket is not None:
        owner = bucket.account_id
        if bucket.policy:
            policy = _named(_policy_text(bucket.policy), f"bucket policy of {bucket_name}", "resource")
        block = bucket.public_access_block
        if block is not None:
            bpa = BlockPublicAccess(
                block.block_public_acls,
                block.ignore_public_acls,
                block.block_public_policy,
                block.restrict_public_buckets,
            )
        ownership = next((o for o in _OWNERSHIP if o in str(bucket.ownership_rule or "")), None)
    account_block = s3control_backends[owner or account][partition].public_access_block
    if account_block is not None:
        bpa = bpa.combine(
            BlockPublicAccess(
                account_block.block_public_acls,
                account_block.ignore_public_acls,
                account_block.block_public_policy,
                account_block.restrict_public_buckets,
            )
        )
    return policy, owner, bpa, ownership


def _condition_keys(call: S3Call, check: ActionCheck) -> dict[str, str | list[str] | tuple[str, ...]]:
    keys: dict[str, str | list[str] | tuple[str, ...]] = {
        "s3:signatureversion": "AWS4-HMAC-SHA256",
        "s3:authtype": "REST-HEADER",
    }
    if check.action == "s3:ListBucket":
        for name in ("prefix", "delimiter", "max-keys"):
            if name in call.query:
                keys[f"s3:{name}"] = call.query[name]
    lowered = {k.lower(): v for k, v in call.headers.items()}
    for header in _HEADER_KEYS:
        if header in lowered:
            keys[f"s3:{header}"] = lowered[header]
    return keys


def s3_allowed(response: Any, iam_request: Any, call: S3Call) -> bool:
    """Whether AWS would let this S3 request through: every check it needs must be allowed."""
    from services.policy.context import RequestContext
    from services.policy.evaluate import PolicySet
    from services.policy.s3 import S3Facts, evaluate_s3

    principal, role_arn, boundary, session = _caller(iam_request)
    named = (
        _named(_policy_text(p), f"policy {i}", "identity")
        for i, p in enumerate(iam_request._access_key.collect_policies())
    )
    identity = tuple(p for p in named if p is not None)
    checks = s3_checks(call)
    expected = {k.lower(): v for k, v in call.headers.items()}.get("x-amz-expected-bucket-owner")
    target = _find_bucket(response, call.bucket)
    if expected and target is not None and target.account_id != expected and call.operation != "CreateBucket":
        return False  # S3 refuses a request whose ExpectedBucketOwner is not the owner (403), moto does not
    if call.operation in ("GetObject", "HeadObject") and call.bucket and call.key is not None:
        bucket = target
        if bucket is not None and call.key not in bucket.keys:
            # Without ListBucket a missing key is refused, so that callers cannot probe for keys.
            checks = (*checks, ActionCheck("s3:ListBucket", call.arn()))
    for check in checks:
        bucket_name = check.resource.split(":::", 1)[1].split("/", 1)[0] if ":::" in check.resource else None
        # CreateBucket of a name another account holds is S3's BucketAlreadyExists, not a denial.
        resource_policy, owner, bpa, ownership = _bucket_layers(
            response, bucket_name, any_account=call.operation != "CreateBucket"
        )
        ctx = RequestContext.build(
            check.action,
            check.resource,
            principal,
            role_arn=role_arn,
            resource_account=owner or response.current_account,
            region=iam_request._region,
            secure_transport=True,  # the sandbox stands in for S3's HTTPS endpoint
            extra=_condition_keys(call, check),
        )
        lowered = {k.lower(): v for k, v in call.headers.items()}
        facts = S3Facts(
            bucket_owner_account=owner,
            bpa=bpa,
            object_ownership=ownership,
            request_acl=lowered.get("x-amz-acl"),
            new_bucket_policy=_new_bucket_policy(call),
        )
        pset = PolicySet(identity=identity, resource=resource_policy, boundary=boundary, session=session)
        if not evaluate_s3(ctx, pset, facts).allowed:
            return False
    return True


def sagemaker_refusal(response: Any, iam_request: Any, operation: str) -> str | None:
    """AWS's refusal text for a SageMaker request made with a role's session, or None when
    every (action, resource) it needs is allowed by the role's policies."""
    from services.policy.context import RequestContext
    from services.policy.evaluate import PolicySet, evaluate_request

    principal, role_arn, boundary, session = _caller(iam_request)
    named = (
        _named(_policy_text(p), f"policy {i}", "identity")
        for i, p in enumerate(iam_request._access_key.collect_policies())
    )
    pset = PolicySet(identity=tuple(p for p in named if p is not None), boundary=boundary, session=session)
    try:
        body = json.loads(response.body or "{}")
    except ValueError:
        body = {}
    account = response.current_account
    for check in sagemaker_checks(
        operation, body if isinstance(body, dict) else {}, response.region, account, response.partition
    ):
        ctx = RequestContext.build(
            check.action,
            check.resource,
            principal,
            role_arn=role_arn,
            resource_account=account,
            region=response.region,
            secure_transport=True,
            extra=dict(check.context),
        )
        decision = evaluate_request(ctx, pset)
        if decision.allowed:
            continue
        kind = decision.denied_by or "identity-based policy"
        why = (
            f"with an explicit deny in a {kind}"
            if decision.kind == "explicit-deny"
            else f"because no {kind} allows the {check.action} action"
        )
        return f"User: {principal} is not authorized to perform: {check.action} on resource: {check.resource} {why}"
    return None


def _new_bucket_policy(call: S3Call) -> Any:
    if call.operation != "PutBucketPolicy" or not call.body:
        return None
    from services.policy.document import PolicyError, parse_policy

    try:
        return parse_policy(call.body)
    except PolicyError:
        return None  # S3 answers MalformedPolicy for it; authorization has nothing to add


def _s3_call(response: Any, resource: str) -> S3Call:
    bucket: str | None = None
    key: str | None = None
    if ":::" in resource and not resource.endswith(":::*"):
        bucket, _, rest = resource.split(":::", 1)[1].partition("/")
        key = rest if _ else None
    query = {k: (v[0] if isinstance(v, list) and v else v) for k, v in (response.querystring or {}).items()}
    return S3Call(
        operation=response._get_action(),
        bucket=bucket,
        key=key,
        query={k: str(v) for k, v in query.items()},
        headers=dict(response.headers),
        body=response.raw_body if isinstance(response.raw_body, bytes) else b"",
        partition=response.partition,
    )


def _authorize(original: Callable[..., Any]) -> Callable[..., Any]:
    def _authenticate_and_authorize_action(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin
        from moto.iam.access_control import S3IAMRequest

        if (
            ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT
            or self.headers.get("X-Amz-Target") in ActionAuthenticatorMixin.PUBLIC_OPERATIONS
            or "Authorization" not in self.headers  # presigned or anonymous: moto's own handling
        ):
            original(self, iam_request_cls, resource)
            return
        path = self.raw_path
        query = urlparse(self.uri).query
        if query:
            path += "?" + query
        operation = self._get_action()
        iam_request = iam_request_cls(
            account_id=self.current_account,
            method=self.method,
            path=path,
            data=self.data,
            body=self.raw_body,
            headers=self.headers,
            action=operation or self.data.get("Action", ""),
        )
        iam_request.check_signature()
        if iam_request_cls is S3IAMRequest:
            if not s3_allowed(self, iam_request, _s3_call(self, resource)):
                iam_request._raise_access_denied()
            return
        if operation and self.service_name == "sagemaker" and _is_role_session(iam_request):
            refusal = sagemaker_refusal(self, iam_request, operation)
            if refusal is not None:
                from moto.core.exceptions import JsonRESTError

                raise JsonRESTError("AccessDeniedException", refusal)
            return
        if operation:
            iam_request._action = action_for(self.service_name, iam_request._service, operation)
        if self.service_name != "s3control":
            iam_request.check_action_permitted(resource)
            return
        from moto.core.exceptions import AccessDeniedError
        from xmltodict import unparse

        try:
            iam_request.check_action_permitted(resource)
        except AccessDeniedError as exc:
            # S3 Control answers in S3's error shape (<Error><Code>), not IAM's <ErrorResponse>.
            exc.description = unparse({"Error": {"Code": "AccessDenied", "Message": exc.message}})
            raise

    return _authenticate_and_authorize_action


def install() -> None:
    from moto.core.authorization import ActionAuthenticatorMixin

    wrap_method(ActionAuthenticatorMixin, "_authenticate_and_authorize_action", _authorize)
