"""Evaluator unit tests, mostly from AWS's documented policy examples and evaluation rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.policy import (
    NamedPolicy,
    PolicyError,
    PolicySet,
    RequestContext,
    evaluate_request,
    parse_policy,
)
from services.policy.conditions import evaluate_clause
from services.policy.document import ConditionClause
from services.policy.s3 import BlockPublicAccess, S3Facts, evaluate_s3, is_public_policy
from services.policy.wildcards import action_matches, arn_like, arn_matches

ACCT = "111122223333"
OTHER = "444455556666"
ROLE = f"arn:aws:iam::{ACCT}:role/service-role/exec"
SESSION = f"arn:aws:sts::{ACCT}:assumed-role/exec/SageMaker"
USER = f"arn:aws:iam::{ACCT}:user/alice"
OBJ = "arn:aws:s3:::amzn-s3-demo-bucket/home/alice/file.txt"
BUCKET = "arn:aws:s3:::amzn-s3-demo-bucket"


def pol(*statements: dict, name: str = "p", kind: str = "identity-based policy") -> NamedPolicy:
    return NamedPolicy(name, parse_policy({"Version": "2012-10-17", "Statement": list(statements)}), kind)


def allow(action, resource="*", **kw):  # type: ignore[no-untyped-def]
    return {"Effect": "Allow", "Action": action, "Resource": resource, **kw}


def deny(action, resource="*", **kw):  # type: ignore[no-untyped-def]
    return {"Effect": "Deny", "Action": action, "Resource": resource, **kw}


def ctx(action="s3:GetObject", resource=OBJ, principal=SESSION, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("role_arn", ROLE if principal == SESSION else None)
    kw.setdefault("resource_account", ACCT)
    kw.setdefault("now", datetime(2026, 6, 1, tzinfo=UTC))
    return RequestContext.build(action, resource, principal, **kw)


def decide(c, **pset):  # type: ignore[no-untyped-def]
    return evaluate_request(c, PolicySet(**pset))


# -- wildcards ----------------------------------------------------------------------------------
def test_action_names_are_case_insensitive_and_arns_case_sensitive() -> None:
    assert action_matches("S3:getobject", "s3:GetObject")
    assert action_matches("s3:Get*", "s3:GetObject")
    assert action_matches("s3:?etObject", "s3:GetObject")
    assert not action_matches("s3:?Object", "s3:GetObject")
    assert arn_matches("arn:aws:s3:::amzn-s3-demo-bucket/*", OBJ)
    assert not arn_matches("arn:aws:s3:::Amzn-S3-Demo-Bucket/*", OBJ)
    assert arn_matches("arn:aws:s3:::amzn-s3-demo-bucket/home/alice/file?.txt", OBJ.replace("file", "file1"))
    assert not arn_matches("arn:aws:s3:::a.b", "arn:aws:s3:::aXb")  # '.' is literal, not a regex


def test_arn_like_matches_part_by_part() -> None:
    assert arn_like("arn:aws:iam::*:role/service-role/*", ROLE)
    assert not arn_like("arn:aws:iam::*:role/other/*", ROLE)


# -- documented evaluation examples --------------------------------------------------------------
def test_explicit_deny_overrides_allow() -> None:
    d = decide(ctx(), identity=(pol(allow("s3:*"), deny("s3:GetObject", OBJ)),))
    assert not d.allowed and d.kind == "explicit-deny" and d.denied_by == "identity-based policy"


def test_implicit_deny_without_allow() -> None:
    d = decide(ctx(), identity=(pol(allow("s3:ListBucket", BUCKET)),))
    assert not d.allowed and d.kind == "implicit-deny"


def test_notaction_allow_everything_except_iam() -> None:
    # IAM docs: "NotAction": "iam:*" with "Resource": "*" allows every non-IAM action.
    p = pol({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert decide(ctx(), identity=(p,)).allowed
    assert not decide(ctx("iam:CreateUser", "*"), identity=(p,)).allowed


def test_deny_with_notresource_denies_outside_the_listed_resources() -> None:
    p = pol(allow("s3:*"), {"Effect": "Deny", "Action": "s3:*", "NotResource": [BUCKET, BUCKET + "/*"]})
    assert decide(ctx(), identity=(p,)).allowed
    d = decide(ctx(resource="arn:aws:s3:::other-bucket/x"), identity=(p,))
    assert d.kind == "explicit-deny"


def test_deny_insecure_transport_example() -> None:
    # S3 docs example bucket policy: Deny s3:* when aws:SecureTransport is false.
    bp = pol(
        deny(
            "s3:*",
            [BUCKET, BUCKET + "/*"],
            Principal="*",
            Condition={"Bool": {"aws:SecureTransport": "false"}},
        ),
        kind="resource-based policy",
    )
    ident = (pol(allow("s3:GetObject", BUCKET + "/*")),)
    assert decide(ctx(), identity=ident, resource=bp).allowed
    assert decide(ctx(secure_transport=False), identity=ident, resource=bp).kind == "explicit-deny"


def test_source_ip_not_ip_address_deny() -> None:
    bp = pol(
        deny(
            "s3:*", BUCKET + "/*", Principal="*", Condition={"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}
        ),
        kind="resource-based policy",
    )
    ident = (pol(allow("s3:GetObject", BUCKET + "/*")),)
    assert decide(ctx(extra={"aws:SourceIp": "192.0.2.10"}), identity=ident, resource=bp).allowed
    assert not decide(ctx(extra={"aws:SourceIp": "203.0.113.5"}), identity=ident, resource=bp).allowed


def test_date_window_example() -> None:
    p = pol(
        allow(
            "s3:GetObject",
            BUCKET + "/*",
            Condition={
                "DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"},
                "DateLessThan": {"aws:CurrentTime": "2026-12-31T23:59:59Z"},
            },
        )
    )
    assert decide(ctx(), identity=(p,)).allowed
    assert not decide(ctx(now=datetime(2027, 1, 2, tzinfo=UTC)), identity=(p,)).allowed


def test_home_folder_with_username_variable() -> None:
    # IAM docs example: s3:prefix StringLike home/${aws:username}/*
    p = pol(
        allow("s3:ListBucket", BUCKET, Condition={"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}),
        allow(["s3:GetObject", "s3:PutObject"], BUCKET + "/home/${aws:username}/*"),
    )
    assert decide(ctx(principal=USER), identity=(p,)).allowed
    assert not decide(ctx(principal=USER, resource=OBJ.replace("alice", "bob")), identity=(p,)).allowed
    listing = ctx("s3:ListBucket", BUCKET, principal=USER, extra={"s3:prefix": "home/alice/docs"})
    assert decide(listing, identity=(p,)).allowed


def test_condition_set_operators_and_null() -> None:
    c = ctx(extra={"aws:TagKeys": ["team", "cost"]})
    assert evaluate_clause(
        ConditionClause("ForAllValues:StringEquals", "aws:TagKeys", ("team", "cost", "x")), c
    ).matched
    assert not evaluate_clause(
        ConditionClause("ForAllValues:StringEquals", "aws:TagKeys", ("team",)), c
    ).matched
    assert evaluate_clause(ConditionClause("ForAnyValue:StringEquals", "aws:TagKeys", ("team",)), c).matched
    assert evaluate_clause(ConditionClause("ForAllValues:StringEquals", "aws:missing", ("x",)), c).matched
    assert not evaluate_clause(ConditionClause("ForAnyValue:StringEquals", "aws:missing", ("x",)), c).matched
    assert evaluate_clause(ConditionClause("Null", "aws:missing", ("true",)), c).matched
    assert evaluate_clause(ConditionClause("StringEqualsIfExists", "aws:missing", ("x",)), c).matched
    assert evaluate_clause(ConditionClause("StringNotEquals", "aws:missing", ("x",)), c).matched
    assert not evaluate_clause(ConditionClause("StringEquals", "aws:missing", ("x",)), c).matched
    assert evaluate_clause(
        ConditionClause("NumericLessThan", "s3:max-keys", ("10",)), ctx(extra={"s3:max-keys": "5"})
    ).matched
    assert evaluate_clause(
        ConditionClause("stringequalsignorecase", "AWS:PrincipalArn", (ROLE.upper(),)), c
    ).matched
    assert not evaluate_clause(ConditionClause("MadeUpOperator", "aws:x", ("y",)), c).matched


# -- same account / cross account (IAM evaluation page) ---------------------------------------------
def test_same_account_bucket_policy_naming_the_role_suffices() -> None:
    bp = pol(allow("s3:GetObject", BUCKET + "/*", Principal={"AWS": ROLE}), kind="resource-based policy")
    assert decide(ctx(), resource=bp).allowed


def test_role_grant_is_limited_by_boundary_but_session_grant_is_not() -> None:
    boundary = pol(allow("s3:ListBucket", BUCKET), kind="permissions boundary")
    by_role = pol(allow("s3:GetObject", BUCKET + "/*", Principal={"AWS": ROLE}), kind="resource-based policy")
    d = decide(ctx(), resource=by_role, boundary=boundary)
    assert not d.allowed and d.denied_by == "permissions boundary"
    by_session = pol(
        allow("s3:GetObject", BUCKET + "/*", Principal={"AWS": SESSION}), kind="resource-based policy"
    )
    assert decide(ctx(), resource=by_session, boundary=boundary).allowed


def test_role_arn_without_path_does_not_name_the_role() -> None:
    no_path = f"arn:aws:iam::{ACCT}:role/exec"
    bp = pol(allow("s3:GetObject", BUCKET + "/*", Principal={"AWS": no_path}), kind="resource-based policy")
    assert not decide(ctx(), resource=bp).allowed


def test_account_principal_delegates_within_the_account() -> None:
    bp = pol(
        allow("s3:GetObject", BUCKET + "/*", Principal={"AWS": f"arn:aws:iam::{ACCT}:root"}),
        kind="resource-based policy",
    )
    assert not decide(ctx(), resource=bp).allowed


def test_session_policy_limits_identity_allow() -> None:
    d = decide(
        ctx(), identity=(pol(allow("s3:*")),), session=pol(allow("s3:ListBucket"), kind="session policy")
    )
    assert not d.allowed and d.denied_by == "session policy"


def test_cross_account_needs_both_sides() -> None:
    c = ctx(resource_account=OTHER)
    ident = (pol(allow("s3:GetObject", BUCKET + "/*")),)
    d = decide(c, identity=ident)
    assert not d.allowed and d.denied_by == "resource-based policy"
    bp = pol(
        allow("s3:GetObject", BUCKET + "/*", Principal={"AWS": f"arn:aws:iam::{ACCT}:root"}),
        kind="resource-based policy",
    )
    assert decide(c, identity=ident, resource=bp).allowed
    assert not decide(c, resource=bp).allowed


def test_scp_supplied_must_allow() -> None:
    scp = pol(allow("ec2:*"), kind="service control policy")
    d = decide(ctx(), identity=(pol(allow("s3:*")),), scps=(scp,))
    assert not d.allowed and d.denied_by == "service control policy"


# -- S3 layers ----------------------------------------------------------------------------------------
def test_block_public_access_is_not_blamed_for_a_same_account_identity_grant() -> None:
    facts = S3Facts(bucket_owner_account=ACCT, bpa=BlockPublicAccess(True, True, True, True))
    d = evaluate_s3(ctx(), PolicySet(identity=(pol(allow("s3:GetObject", BUCKET + "/*")),)), facts)
    assert d.allowed


def test_restrict_public_buckets_blocks_cross_account_use_of_a_public_policy() -> None:
    public = pol(allow("s3:GetObject", BUCKET + "/*", Principal="*"), kind="resource-based policy")
    assert is_public_policy(public.policy)
    facts = S3Facts(bucket_owner_account=OTHER, bpa=BlockPublicAccess(restrict_public_buckets=True))
    d = evaluate_s3(
        ctx(resource_account=OTHER), PolicySet(identity=(pol(allow("s3:*")),), resource=public), facts
    )
    assert not d.allowed and d.denied_by == "block-public-access"


def test_fixed_principal_condition_makes_a_policy_non_public() -> None:
    p = pol(
        allow(
            "s3:GetObject",
            BUCKET + "/*",
            Principal="*",
            Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        ),
        kind="resource-based policy",
    )
    assert not is_public_policy(p.policy)
    # aws:PrincipalAccount is not on AWS's documented list (aws-facts-2 section 1: unconfirmed), so
    # sagewiz counts such a grant as public: it never proposes it and never calls it safe.
    q = pol(allow("s3:GetObject", BUCKET + "/*", Principal="*", Condition={"StringEquals": {"aws:PrincipalAccount": ACCT}}),
            kind="resource-based policy")  # fmt: skip
    assert is_public_policy(q.policy)


def test_kms_key_policy_delegating_to_iam_needs_identity_permission() -> None:
    key = "arn:aws:kms:eu-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    key_policy = parse_policy(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ]
        }
    )
    facts = S3Facts(bucket_owner_account=ACCT, kms_key_arn=key, kms_key_policy=key_policy)
    s3_only = PolicySet(identity=(pol(allow("s3:PutObject", BUCKET + "/*")),))
    d = evaluate_s3(ctx("s3:PutObject"), s3_only, facts)
    assert not d.allowed and "kms:GenerateDataKey" in d.reason
    with_kms = PolicySet(
        identity=(pol(allow("s3:PutObject", BUCKET + "/*"), allow("kms:GenerateDataKey", key)),)
    )
    assert evaluate_s3(ctx("s3:PutObject"), with_kms, facts).allowed


def test_foreign_object_ignores_bucket_policy_allow() -> None:
    bp = pol(allow("s3:GetObject", BUCKET + "/*", Principal={"AWS": ROLE}), kind="resource-based policy")
    facts = S3Facts(bucket_owner_account=ACCT, object_owner_account=OTHER, object_ownership="ObjectWriter")
    d = evaluate_s3(ctx(), PolicySet(resource=bp), facts)
    assert not d.allowed


def test_requester_pays_cross_account() -> None:
    bp = pol(allow("s3:GetObject", BUCKET + "/*", Principal={"AWS": ROLE}), kind="resource-based policy")
    ps = PolicySet(identity=(pol(allow("s3:GetObject")),), resource=bp)
    facts = S3Facts(bucket_owner_account=OTHER, requester_pays=True)
    d = evaluate_s3(ctx(resource_account=OTHER), ps, facts)
    assert not d.allowed and d.denied_by == "requester-pays"
    assert evaluate_s3(
        ctx(resource_account=OTHER),
        ps,
        S3Facts(bucket_owner_account=OTHER, requester_pays=True, request_payer_sent=True),
    ).allowed


# -- parsing --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "doc",
    [
        "",
        "{not json",
        "[]",
        {"Statement": "x"},
        {"Statement": [{"Effect": "Maybe", "Action": "s3:*"}]},
        {"Statement": [{"Effect": "Allow"}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*"}]},
        {"Statement": [{"Effect": "Allow", "Action": 5}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Condition": {"Bool": "x"}}]},
    ],
)
def test_bad_policies_raise_policy_error(doc) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PolicyError):
        parse_policy(doc)


def test_single_statement_object_and_string_values_are_accepted() -> None:
    p = parse_policy(
        '{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": true}}}}'
    )
    assert p.statements[0].conditions[0].values == ("true",)


def test_policy_slots_decide_the_kind_and_short_kind_names_are_accepted() -> None:
    # A bucket policy passed with kind="resource" (or in the resource slot with the default kind)
    # still has its Principal checked.
    for kind in ("resource", "identity-based policy"):
        bp = pol(
            allow("s3:GetObject", BUCKET + "/*", Principal={"AWS": "arn:aws:iam::999999999999:role/other"}),
            kind=kind,
        )
        assert not decide(ctx(), resource=bp).allowed
        ok = pol(allow("s3:GetObject", BUCKET + "/*", Principal={"AWS": ROLE}), kind=kind)
        assert decide(ctx(), resource=ok).allowed


def test_principal_star_with_principal_arn_condition_and_notprincipal() -> None:
    by_condition = pol(
        allow(
            "s3:GetObject", BUCKET + "/*", Principal="*", Condition={"ArnEquals": {"aws:PrincipalArn": ROLE}}
        ),
        kind="resource-based policy",
    )
    assert decide(ctx(), resource=by_condition).allowed
    assert not decide(ctx(principal=USER), resource=by_condition).allowed
    not_principal = pol(
        {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": [ROLE, SESSION]},
            "Action": "s3:*",
            "Resource": BUCKET + "/*",
        },
        kind="resource-based policy",
    )
    ident = (pol(allow("s3:*")),)
    assert decide(ctx(), identity=ident, resource=not_principal).allowed
    assert decide(ctx(principal=USER), identity=ident, resource=not_principal).kind == "explicit-deny"


def test_root_user_of_the_account() -> None:
    root = f"arn:aws:iam::{ACCT}:root"
    assert decide(ctx(principal=root)).allowed
    bp = pol(deny("s3:*", BUCKET + "/*", Principal="*"), kind="resource-based policy")
    assert not decide(ctx(principal=root), resource=bp).allowed
