"""Every finding type, on state read from the emulator with real boto3 calls."""

from __future__ import annotations

import json

from services.permissions import findings
from tests.permissions.helpers import ids, put_bucket_policy, put_inline, read


def by_id(found, fid):
    return [f for f in found if f.id == fid]


def test_seeded_world_explains_why_uploads_fail(factory, world):
    state = read(factory, world)
    found = findings.check(state)
    wrong = by_id(found, "object-actions-on-bucket-arn")
    assert {f.where for f in wrong} == {"bucket policy", "inline policy SageMaker-tt-access"}
    assert {f.cause for f in wrong} == {"bucket-policy-wrong-resource", "identity-wrong-resource"}
    assert all(f.evidence for f in wrong)
    # In one account either grant is enough: one blocking cause (the role's policy, recommended),
    # the bucket policy's statement its alternative.
    severity = {f.where: f.severity for f in wrong}
    assert severity == {"inline policy SageMaker-tt-access": "error", "bucket policy": "warning"}
    assert [f.id for f in found if f.blocking] == ["object-actions-on-bucket-arn"]
    lacks = by_id(found, "role-lacks-access")[0]
    assert "s3:PutObject" in lacks.explanation and lacks.fix == "role-policy"
    bpa = by_id(found, "block-public-access-account") + by_id(found, "block-public-access-bucket")
    assert len(bpa) == 2 and all(f.severity == "info" and "stays on" in f.explanation for f in bpa)
    assert found[0].severity == "error"  # most severe first
    assert "bucket-policy-public" not in ids(found)


def test_list_bucket_on_objects(factory, world):
    b = world.default_bucket
    put_inline(
        factory, world, [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{b}/*"}]
    )
    found = findings.check(read(factory, world))
    hit = by_id(found, "list-bucket-on-objects")
    assert hit and hit[0].cause == "identity-wrong-resource" and hit[0].fix == "role-policy"


def test_principal_forms(factory, world):
    b, acct = world.default_bucket, world.account
    state0 = read(factory, world)
    forms = [
        f"arn:aws:sts::{acct}:assumed-role/SageMaker-tt/SageMaker",
        f"arn:aws:iam::{acct}:role/SageMaker-tt",
        "AROAEXAMPLEDELETEDROLE1",
    ]
    put_bucket_policy(factory, world, [
        {"Sid": f"S{n}", "Effect": "Allow", "Principal": {"AWS": p}, "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/*"}
        for n, p in enumerate(forms)
    ])  # fmt: skip
    found = findings.check(read(factory, world))
    got = {f.id: f for f in found if f.cause == "bucket-policy-principal-mismatch"}
    assert set(got) == {"principal-session-arn", "principal-missing-path", "principal-unique-id"}
    assert got["principal-session-arn"].severity == "warning"
    # The seed's role policy misses too: one blocking cause, led by the role's statement that
    # nearly matches; this grant is an alternative to it.
    assert got["principal-missing-path"].severity == "warning"
    assert "part of one blocking cause" in got["principal-missing-path"].explanation
    assert state0.role_arn in got["principal-unique-id"].explanation


def test_explicit_deny_with_conditions(factory, world):
    b = world.default_bucket
    other = f"arn:aws:iam::{world.account}:role/someone-else"
    put_bucket_policy(factory, world, [
        # catches the role: the allow-list names only another role
        {"Sid": "OnlyOther", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{b}/*", "Condition": {"ArnNotEquals": {"aws:PrincipalArn": other}}},
        # does not catch it: the role is excepted
        {"Sid": "ExceptRole", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
         "Resource": f"arn:aws:s3:::{b}/*", "Condition": {"ArnNotEquals": {"aws:PrincipalArn": world.role_arn}}},
        # depends on the network path
        {"Sid": "OnlyVpce", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{b}/*", "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}},
    ])  # fmt: skip
    found = by_id(findings.check(read(factory, world)), "explicit-deny")
    sids = {json.loads(f.evidence)["Sid"]: f for f in found}
    assert set(sids) == {"OnlyOther", "OnlyVpce"}
    assert sids["OnlyOther"].severity == "error" and sids["OnlyOther"].cause == "bucket-policy-explicit-deny"
    # Issue 14: the Permissions step has no refused request, so it offers no exception to a Deny
    # (it used to offer one for the whole Deny); it says where an exact exception can be had.
    assert sids["OnlyOther"].fix is None and sids["OnlyOther"].statement_index == 0
    assert "only for a request that was actually refused" in sids["OnlyOther"].explanation
    assert sids["OnlyVpce"].severity == "warning" and sids["OnlyVpce"].fix is None
    assert "enforces a practice (VPC endpoint)" in sids["OnlyVpce"].explanation


def test_identity_deny(factory, world):
    b = world.default_bucket
    put_inline(factory, world, [
        {"Effect": "Allow", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*"]},
        {"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
    ])  # fmt: skip
    found = by_id(findings.check(read(factory, world)), "explicit-deny")
    assert found and found[0].cause == "identity-explicit-deny" and found[0].fix is None


def test_role_lacking_everything(factory, world):
    factory.client("iam").delete_role_policy(RoleName=world.role_name, PolicyName="SageMaker-tt-access")
    factory.client("s3").delete_bucket_policy(Bucket=world.default_bucket)
    found = findings.check(read(factory, world))
    lacks = by_id(found, "role-lacks-access")[0]
    for action in (
        "s3:ListBucket",
        "s3:GetBucketLocation",
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
    ):
        assert action in lacks.evidence


def test_over_broad_grant_is_a_warning_with_a_narrower_replacement(factory, world):
    put_inline(
        factory, world, [{"Sid": "All", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::*"}]
    )
    found = findings.check(read(factory, world))
    broad = by_id(found, "over-broad-grant")[0]
    # Issue 14: narrowing is its own proposal (it was a side effect of the role-policy fix).
    assert broad.severity == "warning" and broad.fix == "narrow-grant"
    assert f"arn:aws:s3:::{world.default_bucket}/*" in broad.explanation
    assert "role-lacks-access" not in ids(found)
    proposals = findings.proposed_changes(read(factory, world), found)
    narrow = [p for p in proposals if p.title.startswith("Narrow role")]
    assert len(narrow) == 1 and narrow[0].change is not None
    new = json.loads(narrow[0].change.new_text)["Statement"][0]
    assert new["Action"] == "s3:*"  # every action kept, never silently cut
    assert new["Resource"] == [
        f"arn:aws:s3:::{world.default_bucket}",
        f"arn:aws:s3:::{world.default_bucket}/*",
    ]


def test_sse_kms_without_key_permissions(factory, world):
    key = factory.client("kms").create_key(Description="sagewiz test")["KeyMetadata"]["Arn"]
    factory.client("s3").put_bucket_encryption(
        Bucket=world.default_bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}
            ]
        },
    )
    state = read(factory, world)
    assert state.encryption.kms_key_id == key and state.key_policy is not None
    kms = by_id(findings.check(state), "kms-key-access")
    assert kms and kms[0].severity == "error" and "kms:GenerateDataKey" in kms[0].explanation
    put_inline(
        factory,
        world,
        [{"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key}],
        name="kms",
    )
    assert not by_id(findings.check(read(factory, world)), "kms-key-access")


def test_block_public_access_off_is_a_warning_with_a_fix(factory, world):
    factory.client("s3").delete_public_access_block(Bucket=world.default_bucket)
    found = findings.check(read(factory, world))
    off = by_id(found, "block-public-access-bucket")[0]
    assert off.severity == "warning" and off.fix == "bpa-on"
    assert "does not fix a same-account AccessDenied" in off.explanation
    proposals = findings.proposed_changes(read(factory, world), found)
    assert any(p.change and p.change.target.kind == "public-access-block" for p in proposals)


def test_public_bucket_policy_is_flagged_and_never_merged(factory, world):
    # With BlockPublicPolicy on, S3 refuses to store a public policy at all: switch it off first.
    factory.client("s3").delete_public_access_block(Bucket=world.default_bucket)
    factory.client("s3control").delete_public_access_block(AccountId=world.account)
    put_bucket_policy(factory, world, [
        {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{world.default_bucket}/*"},
        {"Effect": "Allow", "Principal": {"AWS": world.role_arn}, "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{world.default_bucket}"},
    ])  # fmt: skip
    state = read(factory, world)
    found = findings.check(state)
    assert state.policy_public is True and "bucket-policy-public" in ids(found)
    bucket_fix = [
        p for p in findings.proposed_changes(state, found) if p.title.startswith("Fix the bucket policy")
    ][0]
    assert bucket_fix.change is None and "public" in bucket_fix.refused


def test_denied_reads_are_reported_and_the_rest_continues(role_factory, world):
    state = read(role_factory, world)
    lines = [u.line() for u in state.unreadable]
    assert "could not read the bucket policy: needs s3:GetBucketPolicy" in lines
    assert f"could not read role {world.role_name}: needs iam:GetRole" in lines
    assert "could not read the bucket's Block Public Access: needs s3:GetBucketPublicAccessBlock" in lines
    assert state.bucket_exists is True  # what the role may read is still read
    found = findings.check(state)
    assert "could-not-read" in ids(found)


def test_malformed_existing_bucket_policy(factory, world):
    factory.client("s3").put_bucket_policy(
        Bucket=world.default_bucket, Policy='{"Version": "2012-10-17", "Statement": ['
    )
    state = read(factory, world)
    found = findings.check(state)
    bad = by_id(found, "malformed-policy")[0]
    assert bad.where == "bucket policy" and "not valid JSON" in bad.explanation
    proposal = [
        p
        for p in findings.proposed_changes(state, found)
        if p.change and p.change.target.kind == "bucket-policy"
    ][0]
    assert any("unreadable" in w for w in proposal.change.warnings)


def test_permissions_boundary_that_does_not_allow(factory, world):
    iam = factory.client("iam")
    b = world.default_bucket
    put_inline(factory, world, [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": f"arn:aws:s3:::{b}"},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], "Resource": f"arn:aws:s3:::{b}/*"},
    ])  # fmt: skip
    arn = iam.create_policy(PolicyName="boundary", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"], "Resource": "*"}],
    }))["Policy"]["Arn"]  # fmt: skip
    iam.put_role_permissions_boundary(RoleName=world.role_name, PermissionsBoundary=arn)
    found = findings.check(read(factory, world))
    hit = by_id(found, "boundary-blocks")[0]
    assert (
        hit.cause == "permissions-boundary"
        and "s3:PutObject" in hit.evidence
        and "s3:GetObject" not in hit.evidence
    )


def test_object_ownership_with_acls(factory, world):
    factory.client("s3").put_bucket_ownership_controls(
        Bucket=world.default_bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    found = by_id(findings.check(read(factory, world)), "object-ownership")
    assert found and "ObjectWriter" in found[0].title


def test_missing_bucket(factory, world):
    state = read_state_for(factory, world, "sagewiz-no-such-bucket-x1")
    assert ids(findings.check(state)) == ["bucket-missing"]


def read_state_for(factory, world, bucket):
    from services.permissions.state import read_state

    return read_state(
        factory, account=world.account, region=world.region, bucket=bucket, role_arn=world.role_arn
    )


def test_kms_key_policy_naming_the_role_suffices_and_one_that_does_not_delegate_blocks(factory, world):
    kms = factory.client("kms")
    direct = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": world.admin_arn}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Role", "Effect": "Allow", "Principal": {"AWS": world.role_arn},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"}]}  # fmt: skip
    key = kms.create_key(Policy=json.dumps(direct))["KeyMetadata"]["Arn"]
    factory.client("s3").put_bucket_encryption(
        Bucket=world.default_bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}
            ]
        },
    )
    assert not by_id(findings.check(read(factory, world)), "kms-key-access")
    # identity grants but a key policy that neither names the role nor delegates to IAM
    only_admin = {"Version": "2012-10-17", "Statement": [direct["Statement"][0]]}
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(only_admin))
    put_inline(
        factory,
        world,
        [{"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key}],
        name="kms",
    )
    hit = by_id(findings.check(read(factory, world)), "kms-key-access")
    assert hit and "neither names the role nor delegates" in hit[0].explanation
