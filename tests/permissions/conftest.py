"""A faster `world` for this package: the seeded world is built once per module and put back to
the seed's permission state after each test (resetting the whole emulator costs ~3 s a test).
If another module reset the emulator in between, the world is rebuilt."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from services.sandbox.seed import bucket_policy, role_policy
from services.sandbox.server import Sandbox
from services.sandbox.world import SandboxWorld
from services.session import SessionFactory

_ALL_ON = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
_cache: dict[str, Any] = {}


@pytest.fixture
def world(sandbox: Sandbox) -> Iterator[SandboxWorld]:
    w = _cache.get("world")
    if w is None or sandbox.world is not w:
        w = sandbox.reset(seed=True)
        _cache["world"] = w
    yield w
    if sandbox.world is w:
        try:
            restore(w)
        except Exception:  # anything odd: rebuild from scratch next time
            _cache.pop("world", None)


def restore(w: SandboxWorld) -> None:
    f = _cache.get("factory")  # type: ignore[assignment]
    if f is None or f.target != w.target():
        f = SessionFactory(w.target())  # clients are slow to build: keep one per world
        _cache["factory"] = f  # type: ignore[assignment]
    s3, iam = f.client("s3"), f.client("iam")
    b = w.default_bucket
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(bucket_policy(b, w.role_arn)))
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=_ALL_ON)
    f.client("s3control").put_public_access_block(AccountId=w.account, PublicAccessBlockConfiguration=_ALL_ON)
    s3.put_bucket_encryption(
        Bucket=b,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_ownership_controls(
        Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    for obj in s3.list_objects_v2(Bucket=b).get("Contents", []):
        s3.delete_object(Bucket=b, Key=obj["Key"])
    role = w.role_name
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role, PolicyName=name)
    iam.put_role_policy(
        RoleName=role, PolicyName="SageMaker-tt-access", PolicyDocument=json.dumps(role_policy(b))
    )
    for pol in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=role, PolicyArn=pol["PolicyArn"])
    if iam.get_role(RoleName=role)["Role"].get("PermissionsBoundary"):
        iam.delete_role_permissions_boundary(RoleName=role)
    for pol in iam.list_policies(Scope="Local")["Policies"]:
        iam.delete_policy(PolicyArn=pol["Arn"])


def seed_texts(w: SandboxWorld) -> dict[str, Any]:
    return {
        "bucket": json.dumps(bucket_policy(w.default_bucket, w.role_arn)),
        "role": json.dumps(role_policy(w.default_bucket)),
    }


@pytest.fixture
def factory(world: SandboxWorld) -> SessionFactory:
    """The admin factory, shared across tests of the same world (building clients is slow)."""
    f = _cache.get("factory")
    if f is None or f.target != world.target():
        f = SessionFactory(world.target())
        _cache["factory"] = f
    return f


@pytest.fixture
def role_factory(world: SandboxWorld) -> SessionFactory:
    f = _cache.get("role_factory")
    if f is None or f.target != world.role_target():
        f = SessionFactory(world.role_target())
        _cache["role_factory"] = f
    return f
