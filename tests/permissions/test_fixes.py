"""The fix builders: merges keep unrelated statements in order, Denies are narrowed never deleted,
public policies are never proposed, and every generated document passes the grammar and the linter."""

from __future__ import annotations

import json

import pytest
from parliament import analyze_policy_string

from services.errors import ValidationError
from services.permissions import validate
from services.permissions.fixes.bucket_policy import (
    BUCKET_SID,
    OBJECT_SID,
    bucket_policy_change,
    merge_bucket_policy,
)
from services.permissions.fixes.change import parse
from services.permissions.fixes.deny_exceptions import deny_exception_statements, narrow_deny_change
from services.permissions.fixes.public_access import BPA_KEYS, public_access_change
from services.permissions.fixes.role_policy import (
    NEW_INLINE_POLICY,
    ROLE_BUCKET_SID,
    ROLE_OBJECT_SID,
    narrow_grant_change,
    role_policy_change,
)
from services.sandbox.seed import bucket_policy, role_policy

ACCT = "123456789012"
B = "sagemaker-eu-north-1-123456789012"
ROLE = f"arn:aws:iam::{ACCT}:role/service-role/SageMaker-tt"
SECURE = {
    "Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
    "Resource": [f"arn:aws:s3:::{B}", f"arn:aws:s3:::{B}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}  # fmt: skip
OTHER = {
    "Sid": "Analytics", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:role/analytics"},
    "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{B}/reports/*",
}  # fmt: skip
BROKEN = {
    "Sid": "AllowSageMakerRole", "Effect": "Allow", "Principal": {"AWS": ROLE},
    "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"arn:aws:s3:::{B}",
}  # fmt: skip


def lint(doc: dict) -> list[str]:
    return [f"{f.issue} {f.detail}" for f in analyze_policy_string(json.dumps(doc)).findings]


def test_merge_repairs_in_place_and_keeps_unrelated_statements_and_their_order():
    # Issue 14: the role's statement keeps its actions and gains the object ARN; it is no longer
    # replaced by read/write/delete on bucket/*.
    existing = {"Version": "2012-10-17", "Id": "keep-me", "Statement": [SECURE, BROKEN, OTHER]}
    merged, granted = merge_bucket_policy(existing, B, ROLE)
    assert [s["Sid"] for s in merged["Statement"]] == ["DenyInsecure", "AllowSageMakerRole", "Analytics"]
    assert merged["Statement"][0] == SECURE and merged["Statement"][2] == OTHER
    assert merged["Id"] == "keep-me"
    repaired = merged["Statement"][1]
    assert repaired["Action"] == BROKEN["Action"] and repaired["Principal"] == {"AWS": ROLE}
    assert repaired["Resource"] == [f"arn:aws:s3:::{B}", f"arn:aws:s3:::{B}/*"]
    assert {(p.action, p.resource) for p in granted} == {
        ("s3:GetObject", f"arn:aws:s3:::{B}/*"),
        ("s3:PutObject", f"arn:aws:s3:::{B}/*"),
    }
    # merging again changes nothing
    assert merge_bucket_policy(merged, B, ROLE)[0] == merged


def test_merge_renames_wrong_principal_forms_but_leaves_shared_statements():
    session = dict(
        BROKEN, Sid="Session", Principal={"AWS": f"arn:aws:sts::{ACCT}:assumed-role/SageMaker-tt/SageMaker"}
    )
    shared = dict(BROKEN, Sid="Shared", Principal={"AWS": [ROLE, f"arn:aws:iam::{ACCT}:role/analytics"]})
    merged, _ = merge_bucket_policy({"Version": "2012-10-17", "Statement": [session, shared]}, B, ROLE)
    assert [s["Sid"] for s in merged["Statement"]] == ["Session", "Shared"]
    assert merged["Statement"][0]["Principal"] == {"AWS": ROLE}
    assert merged["Statement"][1] == shared  # a statement shared with another role is not touched


def test_merge_into_no_policy_and_with_prefix():
    doc, granted = merge_bucket_policy(None, B, ROLE, prefix="data/")
    assert doc["Statement"][1]["Resource"] == f"arn:aws:s3:::{B}/data/*"
    assert all(p.resource in (f"arn:aws:s3:::{B}", f"arn:aws:s3:::{B}/data/*") for p in granted)


def test_role_policy_repair_keeps_other_statements_and_the_statement_s_actions():
    change = role_policy_change(
        "SageMaker-tt", ACCT, "eu-north-1", B, [("SageMaker-tt-access", json.dumps(role_policy(B)))],
        role_arn=ROLE,
    )  # fmt: skip
    new = json.loads(change.new_text)
    old = role_policy(B)
    assert [s.get("Sid") for s in new["Statement"]] == ["ReadSampleData", "DefaultBucket", "JobLogsAndImages"]
    assert new["Statement"][0] == old["Statement"][0] and new["Statement"][2] == old["Statement"][2]
    assert new["Statement"][1]["Action"] == old["Statement"][1]["Action"]
    assert new["Statement"][1]["Resource"] == [f"arn:aws:s3:::{B}", f"arn:aws:s3:::{B}/*"]
    assert change.target.policy_name == "SageMaker-tt-access"
    assert any(c.startswith("minimal change checked over") for c in change.checks)


def test_role_policy_grants_only_what_is_missing_beyond_the_repair():
    missing = (("s3:DeleteObject", f"arn:aws:s3:::{B}/x"), ("s3:GetBucketLocation", f"arn:aws:s3:::{B}"))
    change = role_policy_change(
        "SageMaker-tt", ACCT, "eu-north-1", B, [("SageMaker-tt-access", json.dumps(role_policy(B)))],
        missing=missing, role_arn=ROLE,
    )  # fmt: skip
    added = json.loads(change.new_text)["Statement"][3:]
    assert added == [
        {"Sid": ROLE_BUCKET_SID, "Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": f"arn:aws:s3:::{B}"},
        {"Sid": ROLE_OBJECT_SID, "Effect": "Allow", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{B}/*"},
    ]  # fmt: skip


def test_over_broad_grant_is_left_alone_and_narrowed_only_as_its_own_change():
    broad = {"Version": "2012-10-17", "Statement": [{"Sid": "All", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                                                    {"Sid": "Logs", "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}  # fmt: skip
    with pytest.raises(ValidationError, match="nothing to repair"):
        role_policy_change("r", ACCT, "eu-north-1", B, [("p", json.dumps(broad))])
    change = narrow_grant_change("r", B, [("p", json.dumps(broad))], role_arn=f"arn:aws:iam::{ACCT}:role/r")
    new = json.loads(change.new_text)
    assert new["Statement"][0] == {"Sid": "All", "Effect": "Allow", "Action": "s3:*",
                                   "Resource": [f"arn:aws:s3:::{B}", f"arn:aws:s3:::{B}/*"]}  # fmt: skip
    assert new["Statement"][1] == broad["Statement"][1]
    assert change.warnings and "every other bucket" in change.warnings[0]


def test_role_policy_keeps_other_buckets_in_a_mixed_statement():
    mixed = {"Version": "2012-10-17", "Statement": [{"Sid": "Mixed", "Effect": "Allow", "Action": ["s3:GetObject"],
             "Resource": [f"arn:aws:s3:::{B}", "arn:aws:s3:::other/*"]}]}  # fmt: skip
    new = json.loads(role_policy_change("r", ACCT, "eu-north-1", B, [("p", json.dumps(mixed))]).new_text)
    kept = [s for s in new["Statement"] if s.get("Sid") == "Mixed"][0]
    assert kept["Resource"] == [f"arn:aws:s3:::{B}", "arn:aws:s3:::other/*", f"arn:aws:s3:::{B}/*"]


def test_new_inline_policy_when_none_to_fix():
    missing = (("s3:PutObject", f"arn:aws:s3:::{B}/k"),)
    change = role_policy_change("r", ACCT, "eu-north-1", B, [], missing=missing)
    assert change.old_text is None and change.target.policy_name == NEW_INLINE_POLICY
    assert json.loads(change.new_text)["Statement"] == [
        {"Sid": ROLE_OBJECT_SID, "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{B}/*"}
    ]  # fmt: skip


def test_a_deny_exception_is_exact_and_keeps_the_deny():
    allowlist = {"Sid": "OnlyAdmins", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": f"arn:aws:s3:::{B}/*",
                 "Condition": {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:role/admin"}}}  # fmt: skip
    text = json.dumps({"Version": "2012-10-17", "Statement": [OTHER, allowlist]})
    key = f"arn:aws:s3:::{B}/data/x.csv"
    change = narrow_deny_change(B, ROLE, text, 1, action="s3:PutObject", resource=key)
    new = json.loads(change.new_text)
    assert new["Statement"][0] == OTHER
    everyone, other_actions, other_resources = new["Statement"][1:]
    assert everyone["Effect"] == "Deny" and everyone["Action"] == "s3:*"
    assert everyone["Condition"]["ArnNotLike"] == allowlist["Condition"]["ArnNotLike"]
    assert everyone["Condition"]["ArnNotEquals"] == {"aws:PrincipalArn": ROLE}
    assert other_actions["NotAction"] == "s3:PutObject" and other_actions["Condition"]["ArnEquals"] == {
        "aws:PrincipalArn": ROLE
    }
    assert other_resources["Action"] == "s3:PutObject" and other_resources["NotResource"] == key
    assert any("exception to a guardrail" in w for w in change.warnings)
    # The sandbox decides S3 requests with the same evaluator as AWS-facing checks: no caveat to add.
    assert not any("Sandbox" in w for w in change.warnings)
    with pytest.raises(ValueError):
        deny_exception_statements(OTHER, ROLE, "s3:GetObject", key)


def test_public_policies_are_never_proposed():
    public = {
        "Sid": "Public",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{B}/*",
    }
    with pytest.raises(ValidationError, match="public"):
        bucket_policy_change(B, ROLE, json.dumps({"Version": "2012-10-17", "Statement": [public]}))
    assert validate.is_public({"Statement": [public]})
    with_condition = dict(public, Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}})
    assert not validate.is_public({"Statement": [with_condition]})
    with pytest.raises(ValidationError, match="public"):
        validate.check({"Version": "2012-10-17", "Statement": [public]}, validate.BUCKET_POLICY)


@pytest.mark.parametrize(
    ("doc", "kind", "expected"),
    [
        ({"Statement": [OTHER]}, "bucket-policy", "Version"),
        (
            {"Version": "2012-10-17", "Statement": [dict(OTHER, Principal=None) | {"Principal": None}]},
            "identity-policy",
            "Principal",
        ),
        (
            {"Version": "2012-10-17", "Statement": [{k: v for k, v in OTHER.items() if k != "Principal"}]},
            "bucket-policy",
            'needs a "Principal"',
        ),
        (
            {"Version": "2012-10-17", "Statement": [dict(OTHER, Action="s3:ListBucket")]},
            "bucket-policy",
            "MalformedPolicy",
        ),
        (
            {"Version": "2012-10-17", "Statement": [dict(OTHER, Action="s3PutObject")]},
            "bucket-policy",
            "service:Action",
        ),
        ({"Version": "2012-10-17", "Statement": [dict(OTHER, Effect="allow")]}, "bucket-policy", "Effect"),
        ({"Version": "2012-10-17", "Statement": [OTHER, OTHER]}, "bucket-policy", "Sid is used twice"),
        ({"Version": "2012-10-17", "Statement": []}, "bucket-policy", "at least one statement"),
    ],
)
def test_validation_names_the_rule(doc, kind, expected):
    assert any(expected in p for p in validate.problems(doc, kind)), validate.problems(doc, kind)


def test_existing_malformed_policy_is_replaced_whole_with_a_warning():
    change = bucket_policy_change(B, ROLE, '{"Statement": [')
    assert change.old_text == '{"Statement": [' and "unreadable" in change.warnings[0]
    assert [s["Sid"] for s in json.loads(change.new_text)["Statement"]] == [
        BUCKET_SID,
        OBJECT_SID,
    ]
    assert '-{"Statement": [' in change.diff


def test_parliament_reports_nothing_on_every_generated_document():
    generated = {
        "bucket policy from none": json.loads(bucket_policy_change(B, ROLE, None).new_text),
        "bucket policy merged into the seed's": json.loads(
            bucket_policy_change(B, ROLE, json.dumps(bucket_policy(B, ROLE))).new_text
        ),
        "bucket policy with prefix": json.loads(bucket_policy_change(B, ROLE, None, prefix="data/").new_text),
        "new inline role policy": json.loads(
            role_policy_change(
                "r",
                ACCT,
                "eu-north-1",
                B,
                [],
                missing=(("s3:GetObject", f"arn:aws:s3:::{B}/k"), ("s3:ListBucket", f"arn:aws:s3:::{B}")),
            ).new_text
        ),
        "deny exception": json.loads(
            narrow_deny_change(
                B,
                ROLE,
                json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            dict(
                                SECURE,
                                Condition={
                                    "ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:role/admin"}
                                },
                            )
                        ],
                    }
                ),
                0,
                action="s3:GetObject",
                resource=f"arn:aws:s3:::{B}/a/b.csv",
            ).new_text
        ),
    }
    for name, doc in generated.items():
        assert lint(doc) == [], name
        assert (
            validate.problems(doc, validate.IDENTITY_POLICY if "role" in name else validate.BUCKET_POLICY)
            == []
        ), name
    # A merge into the user's own policy adds no finding the user's document did not already have.
    seed_role = role_policy(B)
    merged = json.loads(
        role_policy_change("r", ACCT, "eu-north-1", B, [("p", json.dumps(seed_role))]).new_text
    )
    assert set(lint(merged)) <= set(lint(seed_role))


def test_block_public_access_changes():
    on = public_access_change(B, json.dumps({"BlockPublicAcls": False}))
    assert json.loads(on.new_text) == {k: True for k in BPA_KEYS} and not on.warnings
    off = public_access_change(B, json.dumps({k: True for k in BPA_KEYS}), want_public=True)
    new = json.loads(off.new_text)
    assert new["BlockPublicAcls"] and new["IgnorePublicAcls"]
    assert not new["BlockPublicPolicy"] and not new["RestrictPublicBuckets"]
    assert "SECURITY" in off.warnings[0]


@pytest.mark.parametrize(
    ("text", "says"),
    [("{", "not valid JSON"), ('{"n": ' + "1" * 5000 + "}", "not valid JSON"), ("[1]", "not a JSON object")],
)
def test_an_unreadable_existing_policy_is_a_clear_refusal(text, says):
    with pytest.raises(ValidationError) as err:
        parse(text)
    assert says in err.value.message
