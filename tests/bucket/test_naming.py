"""Every S3 general-purpose bucket naming rule, valid and invalid names, and the 'sagemaker' warning."""

from __future__ import annotations

import pytest

from services.buckets.naming import (
    RULES,
    expected_bucket_name,
    naming_problem,
    naming_problems,
    sagemaker_warning,
    validate_bucket_name,
)
from services.errors import ValidationError
from services.s3uri import console_url, parse_s3_uri

VALID = [
    "sagemaker-eu-north-1-123456789012",
    "sagemaker-ap-southeast-2-123456789012",
    "abc",
    "a" * 63,
    "my.sagemaker.data",
    "1-bucket-2",
    "xn-single-dash",
    "my-bucket-s3alias-not-at-end",
]

INVALID = [
    ("ab", "length"),
    ("a" * 64, "length"),
    ("My-Bucket", "charset"),
    ("my_bucket", "charset"),
    ("my bucket", "charset"),
    ("bücket", "charset"),
    ("-bucket", "edges"),
    ("bucket-", "edges"),
    (".bucket", "edges"),
    ("my..bucket", "adjacent-periods"),
    ("192.168.5.4", "ip-address"),
    ("xn--bucket", "prefix-xn"),
    ("sthree-bucket", "prefix-sthree"),
    ("amzn-s3-demo-bucket", "prefix-amzn-demo"),
    ("bucket-s3alias", "suffix-s3alias"),
    ("bucket--ol-s3", "suffix-ol-s3"),
    ("bucket.mrap", "suffix-mrap"),
    ("bucket--x-s3", "suffix-x-s3"),
    ("bucket--table-s3", "suffix-table-s3"),
    ("bucket-an", "suffix-an"),
]


@pytest.mark.parametrize("name", VALID)
def test_valid_names_pass_every_rule(name: str) -> None:
    assert naming_problems(name) == []
    assert validate_bucket_name(name) == name


@pytest.mark.parametrize(("name", "rule"), INVALID)
def test_invalid_names_name_the_rule_that_fails(name: str, rule: str) -> None:
    problem = naming_problem(name)
    assert problem is not None
    assert problem.rule.id == rule
    assert problem.message and problem.hint
    with pytest.raises(ValidationError) as info:
        validate_bucket_name(name)
    assert RULES[rule].text in info.value.message


def test_every_rule_is_exercised() -> None:
    assert {rule for _, rule in INVALID} == set(RULES)


def test_hints_offer_the_fixed_name() -> None:
    assert "my-bucket" in naming_problem("My-Bucket").hint.lower()
    assert "my-bucket" in naming_problem("my_bucket").hint


def test_several_problems_are_all_reported() -> None:
    ids = [p.rule.id for p in naming_problems("-Bad_Name..")]
    assert ids[:3] == ["charset", "edges", "adjacent-periods"]


def test_expected_name_is_the_sdk_rule() -> None:
    assert expected_bucket_name("us-east-1", "123456789012") == "sagemaker-us-east-1-123456789012"


def test_sagemaker_warning_only_without_sagemaker() -> None:
    assert sagemaker_warning("sagemaker-eu-north-1-123456789012") is None
    assert sagemaker_warning("team-SageMaker-data") is None
    warning = sagemaker_warning("wiz-data")
    assert warning and "AmazonSageMakerFullAccess" in warning


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("bucket/prefix", "does not start with s3://"),
        ("https://bucket.s3.amazonaws.com/x", "web address"),
        ("arn:aws:s3:::bucket", "ARN"),
        ("S3://bucket/x", "lower-case"),
        ("s3://", "no bucket"),
        ("s3://Bad_Bucket/x", "not valid"),
        ("s3://bucket//x", "empty path segment"),
        ("s3://bucket/" + "k" * 1025, "1,024"),
    ],
)
def test_malformed_s3_uris_are_explained(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_s3_uri(text)
    assert fragment in info.value.message


def test_s3_uri_parts_and_console_link() -> None:
    uri = parse_s3_uri("s3://my-sagemaker-bucket/ground-truth-demo/images")
    assert (uri.bucket, uri.prefix) == ("my-sagemaker-bucket", "ground-truth-demo/images/")
    url = console_url(uri.as_prefix(), "eu-north-1")
    assert url.startswith(
        "https://eu-north-1.console.aws.amazon.com/s3/buckets/my-sagemaker-bucket?region=eu-north-1"
    )
    assert "prefix=ground-truth-demo/images/" in url
