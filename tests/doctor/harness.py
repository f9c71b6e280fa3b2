"""The doctor's scenario harness: a seeded emulator world restored cheaply between scenarios,
emulator-gap fillers, and the run loop (diagnose -> apply the first fix -> diagnose ... -> allowed,
with live probes signed as the role where the emulator enforces IAM).

Emulator gaps (moto 5.2, see moto-notes.md) are filled with botocore `before-call` handlers that
answer as AWS would (e.g. HeadBucket with a foreign ExpectedBucketOwner -> 403); they stand in for
AWS, never for sagewiz code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from services.doctor.engine import diagnose
from services.doctor.fixes import apply_fix
from services.doctor.model import Diagnosis, DoctorRequest
from services.doctor.probe import probe
from services.sandbox.seed import ROLE_NAME, bucket_policy, role_policy
from services.sandbox.server import Sandbox
from services.sandbox.world import SandboxWorld
from services.session import SessionFactory

BPA_ON = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
SEED_INLINE = "SageMaker-tt-access"
SCRATCH_PREFIX = "doctor-"


def fresh_world(sandbox: Sandbox) -> SandboxWorld:
    """The seeded world, restored to the seed's state. A full reset costs ~2 s, so when the current
    world is seeded, only what scenarios change is put back."""
    w = sandbox.world
    if w is None or not w.seeded or w.role_credentials is None:
        return sandbox.reset(seed=True, load_managed_policies=False)
    try:
        restore_seed(w)
    except Exception:
        return sandbox.reset(seed=True, load_managed_policies=False)
    return w


_FACTORIES: dict[Any, SessionFactory] = {}
_HOOKS: list[tuple[Any, str, Any]] = []


def factory_for(target: Any) -> SessionFactory:
    """One factory per target: creating boto3 clients costs far more than the emulator's calls."""
    key = (target.endpoint_url, target.credentials)
    if key not in _FACTORIES:
        _FACTORIES[key] = SessionFactory(target)
    return _FACTORIES[key]


def clear_hooks() -> None:
    while _HOOKS:
        client, event, handler = _HOOKS.pop()
        client.meta.events.unregister(event, handler)


def restore_seed(w: SandboxWorld) -> None:
    clear_hooks()
    f = factory_for(w.target())
    iam, s3 = f.client("iam"), f.client("s3")
    for name in iam.list_role_policies(RoleName=ROLE_NAME)["PolicyNames"]:
        if name != SEED_INLINE:
            iam.delete_role_policy(RoleName=ROLE_NAME, PolicyName=name)
    iam.put_role_policy(
        RoleName=ROLE_NAME, PolicyName=SEED_INLINE, PolicyDocument=json.dumps(role_policy(w.default_bucket))
    )
    for p in iam.list_attached_role_policies(RoleName=ROLE_NAME)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=ROLE_NAME, PolicyArn=p["PolicyArn"])
    if iam.get_role(RoleName=ROLE_NAME)["Role"].get("PermissionsBoundary"):
        iam.delete_role_permissions_boundary(RoleName=ROLE_NAME)
    for u in iam.list_users()["Users"]:
        name = u["UserName"]
        if not name.startswith(SCRATCH_PREFIX):
            continue
        for grp in iam.list_groups_for_user(UserName=name)["Groups"]:
            iam.remove_user_from_group(GroupName=grp["GroupName"], UserName=name)
        for pn in iam.list_user_policies(UserName=name)["PolicyNames"]:
            iam.delete_user_policy(UserName=name, PolicyName=pn)
        for ap in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
            iam.detach_user_policy(UserName=name, PolicyArn=ap["PolicyArn"])
        iam.delete_user(UserName=name)
    for grp in iam.list_groups()["Groups"]:
        if grp["GroupName"].startswith(SCRATCH_PREFIX):
            for pn in iam.list_group_policies(GroupName=grp["GroupName"])["PolicyNames"]:
                iam.delete_group_policy(GroupName=grp["GroupName"], PolicyName=pn)
            iam.delete_group(GroupName=grp["GroupName"])
    for p in iam.list_policies(Scope="Local")["Policies"]:
        for v in iam.list_policy_versions(PolicyArn=p["Arn"])["Versions"]:
            if not v["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=p["Arn"], VersionId=v["VersionId"])
        iam.delete_policy(PolicyArn=p["Arn"])
    s3.put_bucket_policy(
        Bucket=w.default_bucket, Policy=json.dumps(bucket_policy(w.default_bucket, w.role_arn))
    )
    s3.put_public_access_block(Bucket=w.default_bucket, PublicAccessBlockConfiguration=BPA_ON)
    f.client("s3control").put_public_access_block(AccountId=w.account, PublicAccessBlockConfiguration=BPA_ON)
    s3.put_bucket_ownership_controls(
        Bucket=w.default_bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    s3.put_bucket_encryption(
        Bucket=w.default_bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    for b in s3.list_buckets()["Buckets"]:
        if b["Name"].startswith(SCRATCH_PREFIX):
            for o in s3.list_objects_v2(Bucket=b["Name"]).get("Contents", []):
                s3.delete_object(Bucket=b["Name"], Key=o["Key"])
            s3.delete_bucket(Bucket=b["Name"])
    for o in s3.list_objects_v2(Bucket=w.default_bucket).get("Contents", []):
        s3.delete_object(Bucket=w.default_bucket, Key=o["Key"])


# -- emulator gap fillers ------------------------------------------------------------------------------
def aws_answers(
    factory: SessionFactory,
    service: str,
    operation: str,
    answer: Any,
    when: Callable[[str, dict], bool] = lambda u, h: True,
) -> None:
    """Make `operation` answer like AWS would where the emulator cannot: `answer` is a dict (a
    successful response) or an (http_status, code, message) tuple (an error). `when(url_path,
    headers)` picks the requests it applies to."""
    client = factory.client(service)

    def handler(params: dict, **_: Any) -> Any:
        url = str(params.get("url_path", "")) + " " + str(params.get("url", ""))
        headers = {str(k).lower(): v for k, v in (params.get("headers") or {}).items()}
        if not when(url, headers):
            return None
        if isinstance(answer, tuple):
            status, code, message = answer
            return SimpleNamespace(status_code=status, headers={}), {
                "Error": {"Code": code, "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": status},
            }
        return SimpleNamespace(status_code=200, headers={}), {
            **answer,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    event = f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register(event, handler)
    _HOOKS.append((client, event, handler))


def foreign_bucket(factory: SessionFactory, bucket: str, *, payer: str | None = None) -> None:
    """`bucket` behaves as another account's bucket: the owner check fails, the policy answers 405."""
    is_b = lambda u, h: f"/{bucket}" in u or f"//{bucket}." in u  # noqa: E731
    aws_answers(
        factory,
        "s3",
        "HeadBucket",
        (403, "403", "Forbidden"),
        lambda u, h: is_b(u, h) and "x-amz-expected-bucket-owner" in h,
    )
    aws_answers(
        factory,
        "s3",
        "GetBucketPolicy",
        (405, "MethodNotAllowed", "The specified method is not allowed against this resource."),
        is_b,
    )
    for op in ("GetPublicAccessBlock", "GetBucketOwnershipControls", "GetBucketEncryption"):
        aws_answers(factory, "s3", op, (403, "AccessDenied", "Access Denied"), is_b)
    if payer:
        aws_answers(factory, "s3", "GetBucketRequestPayment", {"Payer": payer}, is_b)


# -- scenarios ---------------------------------------------------------------------------------------
@dataclass
class Scenario:
    id: str
    request: Callable[[SandboxWorld], DoctorRequest]
    first: str  # the expected first blocking cause
    setup: Callable[[SandboxWorld, SessionFactory], None] | None = None
    admin: Callable[[SandboxWorld, SessionFactory, Diagnosis, DoctorRequest], DoctorRequest | None] | None = (
        None
    )
    probe_before: bool = False  # the emulator enforces the denial: a live request as the role fails
    probe_after: bool = False  # the emulator enforces the allow: a live request as the role succeeds
    causes: tuple[str, ...] = ()  # other blocking causes (or alternatives) that must be found too
    never_blocking: tuple[str, ...] = ("block-public-access",)
    max_fixes: int = 3
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def run(sc: Scenario, world: SandboxWorld, journal: Any) -> list[Diagnosis]:
    try:
        return _run(sc, world, journal)
    finally:
        clear_hooks()


def _run(sc: Scenario, world: SandboxWorld, journal: Any) -> list[Diagnosis]:
    factory = factory_for(world.target())
    if sc.setup:
        sc.setup(world, factory)
    req = sc.request(world)
    kw = {"caller_account": world.account, "region": world.region, "sandbox": True}
    d = diagnose(req, factory, **kw)
    history = [d]
    assert d.verdict == "denied", f"{sc.id}: expected denied, got {d.verdict}: {d.headline} {d.missing}"
    assert d.first_blocking is not None and d.first_blocking.cause == sc.first, (
        f"{sc.id}: first blocking cause {d.first_blocking.cause if d.first_blocking else None}, expected {sc.first}; "
        f"findings: {[(f.cause, f.blocking) for f in d.findings]}"
    )
    # In one account a missing grant is one cause: the other side's grant is its alternative.
    named = {f.cause for f in d.blocking} | {a.cause for f in d.blocking for a in f.alternatives}
    for cause in sc.causes:
        assert cause in named, f"{sc.id}: {cause} not among blocking findings or their alternatives"
    for cause in sc.never_blocking:
        if cause != sc.first and cause not in sc.causes:
            assert not any(f.cause == cause and f.blocking for f in d.findings), (
                f"{sc.id}: {cause} must not be blamed"
            )
    role = factory_for(world.role_target())
    if sc.probe_before:
        p = probe(role, d.action, d.bucket, d.key)
        assert p.ran and p.allowed is False, f"{sc.id}: live probe before the fix: {p.message}"
    for _ in range(sc.max_fixes):
        f = d.first_blocking
        if f is None:
            break
        assert f.fix is not None, f"{sc.id}: {f.cause} has no fix"
        fix = f.fix
        req = d.recheck_request()
        assert "PublicAccessBlock" not in json.dumps([c.get("call") for c in fix.changes]), (
            "never turn BPA off"
        )
        if fix.request_changes:
            req = req.with_(**fix.request_changes)
        elif fix.applicable:
            apply_fix(factory, journal, fix)
        elif sc.admin is not None:
            req = sc.admin(world, factory, d, req) or req
        else:
            raise AssertionError(
                f"{sc.id}: the fix for {f.cause} needs an administrator and the scenario has none"
            )
        d = diagnose(req, factory, **kw)
        history.append(d)
    assert d.verdict == "allowed", (
        f"{sc.id}: after the fixes: {d.verdict}: {d.headline} {[(f.cause, f.blocking) for f in d.findings]}"
    )
    if sc.probe_after:
        p = probe(role, d.action, d.bucket, d.key)
        assert p.ran and p.allowed is True, f"{sc.id}: live probe after the fix: {p.message}"
    return history
