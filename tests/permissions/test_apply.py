"""Apply, journal, undo byte for byte, and refusal when the document changed since it was read."""

from __future__ import annotations

import json

import pytest

from services.errors import ConflictError, NotFoundError, ValidationError
from services.permissions import apply
from services.permissions.apply import PolicyChangedError
from services.permissions.fixes.bucket_policy import bucket_policy_change
from services.permissions.fixes.change import (
    BUCKET_POLICY,
    PUBLIC_ACCESS_BLOCK,
    ROLE_INLINE_POLICY,
    PolicyChange,
    PolicyTarget,
)
from services.permissions.fixes.public_access import BPA_KEYS, public_access_change
from services.permissions.fixes.role_policy import role_policy_change

ODD = '{\n    "Version":"2012-10-17",  "Statement" : [ {"Sid":"Keep", "Effect":"Allow","Principal":{"AWS":"%s"},\n "Action":"s3:GetObject","Resource":"arn:aws:s3:::%s"} ] }\n'


def bucket_target(world):
    return PolicyTarget(BUCKET_POLICY, bucket=world.default_bucket)


def test_apply_journals_the_complete_old_document_and_undo_restores_it_byte_for_byte(factory, world, journal):
    odd = ODD % (world.role_arn, world.default_bucket)
    factory.client("s3").put_bucket_policy(Bucket=world.default_bucket, Policy=odd)
    old = apply.read_current(factory, bucket_target(world))
    assert old == odd
    change = bucket_policy_change(world.default_bucket, world.role_arn, old)
    result = apply.apply_change(factory, journal, change)
    assert result.took_effect
    entry = journal.last_policy_change()
    assert entry.kind == "policy-replaced"
    assert entry.data["target"] == f"s3:bucket-policy:{world.default_bucket}"
    assert entry.data["document_kind"] == "bucket-policy"
    assert entry.data["old_document"] == odd  # complete and exact
    undo = apply.undo_last(factory, journal)
    assert undo.exact and apply.read_current(factory, bucket_target(world)) == odd
    assert journal.entries("policy-restored")[-1].data["undoes"] == entry.id
    with pytest.raises(NotFoundError):
        apply.undo_last(factory, journal)


def test_undo_deletes_a_policy_that_was_absent(factory, world, journal):
    factory.client("s3").delete_bucket_policy(Bucket=world.default_bucket)
    change = bucket_policy_change(world.default_bucket, world.role_arn, None)
    apply.apply_change(factory, journal, change)
    assert journal.last_policy_change().data["old_document"] == "absent"
    apply.undo_last(factory, journal)
    assert apply.read_current(factory, bucket_target(world)) is None


def test_role_inline_policy_undo_is_exact(factory, world, journal):
    odd = (
        '{"Version":"2012-10-17",\n  "Statement":[{"Effect":"Allow","Action":["s3:ListBucket","s3:PutObject"],'
        f'"Resource":"arn:aws:s3:::{world.default_bucket}"}}]}}'
    )
    factory.client("iam").put_role_policy(
        RoleName=world.role_name, PolicyName="SageMaker-tt-access", PolicyDocument=odd
    )
    target = PolicyTarget(ROLE_INLINE_POLICY, role_name=world.role_name, policy_name="SageMaker-tt-access")
    old = apply.read_current(factory, target)
    assert old == odd
    change = role_policy_change(
        world.role_name, world.account, world.region, world.default_bucket, [("SageMaker-tt-access", old)]
    )
    apply.apply_change(factory, journal, change)
    assert json.loads(apply.read_current(factory, target)) == json.loads(change.new_text)
    apply.undo_last(factory, journal, target.key)
    assert apply.read_current(factory, target) == odd


def test_concurrent_change_is_refused_and_nothing_is_written(factory, world, journal):
    old = apply.read_current(factory, bucket_target(world))
    change = bucket_policy_change(world.default_bucket, world.role_arn, old)
    someone_else = ODD % (world.role_arn, world.default_bucket)
    factory.client("s3").put_bucket_policy(Bucket=world.default_bucket, Policy=someone_else)
    with pytest.raises(PolicyChangedError) as info:
        apply.apply_change(factory, journal, change)
    assert info.value.current == someone_else
    assert apply.read_current(factory, bucket_target(world)) == someone_else
    assert journal.last_policy_change() is None
    # re-planning against the fresh text works
    fresh = bucket_policy_change(world.default_bucket, world.role_arn, info.value.current)
    assert apply.apply_change(factory, journal, fresh).took_effect


def test_undo_refuses_to_overwrite_a_later_change_unless_forced(factory, world, journal):
    old = apply.read_current(factory, bucket_target(world))
    apply.apply_change(factory, journal, bucket_policy_change(world.default_bucket, world.role_arn, old))
    later = ODD % (world.role_arn, world.default_bucket)
    factory.client("s3").put_bucket_policy(Bucket=world.default_bucket, Policy=later)
    with pytest.raises(ConflictError):
        apply.undo_last(factory, journal)
    assert apply.read_current(factory, bucket_target(world)) == later
    apply.undo_last(factory, journal, force=True)
    assert apply.read_current(factory, bucket_target(world)) == old


def test_malformed_existing_policy_round_trip(factory, world, journal):
    bad = '{"Version": "2012-10-17", "Statement": ['
    factory.client("s3").put_bucket_policy(Bucket=world.default_bucket, Policy=bad)
    change = bucket_policy_change(
        world.default_bucket, world.role_arn, apply.read_current(factory, bucket_target(world))
    )
    apply.apply_change(factory, journal, change)
    assert journal.last_policy_change().data["old_document"] == bad
    apply.undo_last(factory, journal)
    assert apply.read_current(factory, bucket_target(world)) == bad


def test_an_invalid_new_document_is_never_sent(factory, world, journal):
    old = apply.read_current(factory, bucket_target(world))
    bad = PolicyChange(bucket_target(world), "bad", "", old, json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{world.default_bucket}/*"}]}))  # fmt: skip
    with pytest.raises(ValidationError):
        apply.apply_change(factory, journal, bad)
    assert apply.read_current(factory, bucket_target(world)) == old and journal.last_policy_change() is None


def test_block_public_access_change_and_undo(factory, world, journal):
    target = PolicyTarget(PUBLIC_ACCESS_BLOCK, bucket=world.default_bucket)
    factory.client("s3").delete_public_access_block(Bucket=world.default_bucket)
    assert apply.read_current(factory, target) is None
    apply.apply_change(factory, journal, public_access_change(world.default_bucket, None))
    assert json.loads(apply.read_current(factory, target)) == {k: True for k in BPA_KEYS}
    apply.undo_last(factory, journal)
    assert apply.read_current(factory, target) is None


def test_plan_and_confirmation_name_everything(factory, world):
    from services.session import connect

    change = bucket_policy_change(world.default_bucket, world.role_arn, None)
    plan = apply.to_plan(change)
    assert plan.actions[0].api_call() == "s3:PutBucketPolicy" and plan.actions[0].diff
    line = apply.confirmation(change, connect(factory)).line()
    assert world.account in line and world.region in line and world.admin_arn in line
    assert f"bucket policy of {world.default_bucket}" in line and "SANDBOX" in line


def test_undo_is_a_plan_with_the_diff_back_to_the_journaled_document(factory, world, journal):
    old = apply.read_current(factory, bucket_target(world))
    change = bucket_policy_change(world.default_bucket, world.role_arn, old)
    apply.apply_change(factory, journal, change)
    undo = apply.plan_undo(factory, journal)
    # planning writes nothing: the fix is still in place
    assert apply.read_current(factory, bucket_target(world)) == change.new_text
    assert undo.change.old_text == change.new_text and undo.change.new_text == old
    assert undo.undoes == journal.last_policy_change().id
    plan = apply.undo_to_plan(undo)
    action = plan.actions[0]
    assert action.api_call() == "s3:PutBucketPolicy" and action.params["Policy"] == old
    assert action.diff == change_diff_reversed(change)
    assert apply.apply_undo(factory, journal, undo).exact
    assert apply.read_current(factory, bucket_target(world)) == old
    assert journal.last_policy_change() is None


def change_diff_reversed(change):
    from services.permissions.fixes.change import document_diff

    return document_diff(change.new_text, change.old_text, change.target.describe())


def test_an_undo_planned_then_overtaken_is_refused_and_writes_nothing(factory, world, journal):
    old = apply.read_current(factory, bucket_target(world))
    apply.apply_change(factory, journal, bucket_policy_change(world.default_bucket, world.role_arn, old))
    undo = apply.plan_undo(factory, journal)
    later = ODD % (world.role_arn, world.default_bucket)
    factory.client("s3").put_bucket_policy(Bucket=world.default_bucket, Policy=later)
    with pytest.raises(PolicyChangedError):
        apply.apply_undo(factory, journal, undo)
    assert apply.read_current(factory, bucket_target(world)) == later
    assert journal.last_policy_change() is not None  # not marked undone
    # and an undo applied twice is refused the second time
    factory.client("s3").put_bucket_policy(Bucket=world.default_bucket, Policy=undo.change.old_text)
    apply.apply_undo(factory, journal, undo)
    with pytest.raises(ConflictError):
        apply.apply_undo(factory, journal, undo)
