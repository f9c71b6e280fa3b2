"""Existence, ownership (squatting), facts and creation, against the sandbox over real boto3 calls."""

from __future__ import annotations

import pytest

from services.buckets.creation import create_bucket, create_plan
from services.buckets.facts import read_facts
from services.buckets.ownership import BucketStatus, check_bucket
from services.errors import ConflictError
from services.plan import TAG_KEY
from services.session import SessionFactory
from tests.bucket.helpers import OTHER_ACCOUNT, create_foreign_bucket


def test_seeded_default_bucket_is_owned(world, factory) -> None:
    check = check_bucket(factory, world.default_bucket, world.account)
    assert check.status is BucketStatus.OWNED
    assert check.usable
    assert check.region == "eu-north-1"
    assert "ExpectedBucketOwner=123456789012" in check.ownership_evidence


def test_missing_bucket(empty_world) -> None:
    factory = SessionFactory(empty_world.target())
    check = check_bucket(factory, empty_world.default_bucket, empty_world.account)
    assert check.status is BucketStatus.MISSING
    assert not check.usable


def test_squatted_default_name_is_detected_and_never_used(sandbox, empty_world) -> None:
    name = empty_world.default_bucket
    create_foreign_bucket(sandbox, empty_world, name)
    factory = SessionFactory(empty_world.target())
    check = check_bucket(factory, name, empty_world.account)
    assert check.status is BucketStatus.OTHER_ACCOUNT
    assert not check.usable
    assert "another AWS account" in check.problem
    # and creating it is refused with a plain explanation
    with pytest.raises(ConflictError) as info:
        create_bucket(factory, create_plan(name, empty_world.region, empty_world.account), None)
    assert "taken" in info.value.title
    assert OTHER_ACCOUNT not in info.value.message  # we cannot know who; we do not guess


def test_create_in_region_with_location_constraint_tagged_and_journaled(empty_world, journal) -> None:
    factory = SessionFactory(empty_world.target())
    name = empty_world.default_bucket
    plan = create_plan(name, "eu-north-1", empty_world.account)
    assert plan.actions[0].params["CreateBucketConfiguration"] == {"LocationConstraint": "eu-north-1"}
    assert "--dry-run" not in plan.render_text()
    create_bucket(factory, plan, journal)
    check = check_bucket(factory, name, empty_world.account)
    assert check.status is BucketStatus.OWNED
    facts = read_facts(factory, name, empty_world.account)
    assert facts.region.value == "eu-north-1"
    assert facts.created_by_sagewiz and facts.tags[TAG_KEY] == "sagewiz"
    assert facts.block_public_access.value == "all four settings on"
    assert facts.object_ownership.value.startswith("BucketOwnerEnforced")
    created = [e for e in journal.read().entries if e.kind == "resource-created"]
    assert created and created[0].data["id"] == name and created[0].data["region"] == "eu-north-1"
    # the plan said it, and the bucket has it: incomplete multipart uploads are aborted after 7 days
    assert "Abort multipart uploads left incomplete for 7 days" in plan.render_text()
    rules = factory.client("s3").get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert [(r["Status"], r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]) for r in rules] == [
        ("Enabled", 7)
    ]
    assert "Expiration" not in rules[0]  # no object is ever expired by it


def test_create_in_us_east_1_has_no_location_constraint(empty_world, journal) -> None:
    factory = SessionFactory(empty_world.target().with_(region="us-east-1"))
    name = f"sagemaker-us-east-1-{empty_world.account}"
    plan = create_plan(name, "us-east-1", empty_world.account)
    assert "CreateBucketConfiguration" not in plan.actions[0].params
    create_bucket(factory, plan, journal)
    facts = read_facts(factory, name, empty_world.account)
    assert facts.region.value == "us-east-1"


def test_moto_missing_defaults_are_shown_as_aws_defaults(empty_world) -> None:
    factory = SessionFactory(empty_world.target())
    s3 = factory.client("s3")
    s3.create_bucket(Bucket="sagemaker-plain", CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    facts = read_facts(factory, "sagemaker-plain", empty_world.account)
    assert facts.encryption.value == "SSE-S3 (AES256)" and facts.encryption.source == "default"
    assert "default" in facts.encryption.note and "emulator" in facts.encryption.note
    assert facts.object_ownership.source == "default"
    assert facts.versioning.value == "Disabled (never enabled)"
    assert facts.block_public_access.value == "not set on the bucket"
    assert not facts.created_by_sagewiz


def test_seeded_bucket_facts_are_read(world, factory) -> None:
    facts = read_facts(factory, world.default_bucket, world.account)
    assert facts.encryption.value == "SSE-S3 (AES256)" and facts.encryption.source == "read"
    assert facts.block_public_access.value == "all four settings on"


def test_name_without_sagemaker_warns_in_the_plan(empty_world) -> None:
    plan = create_plan("wiz-data", "eu-north-1", empty_world.account)
    assert any("AmazonSageMakerFullAccess" in w for w in plan.warnings)
