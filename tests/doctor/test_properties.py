"""Property tests: no input text or policy document crashes the parser or the evaluator."""

from __future__ import annotations

import contextlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.policy import (
    NamedPolicy,
    PolicyError,
    PolicySet,
    RequestContext,
    evaluate_request,
    parse_policy,
)
from services.policy.s3 import BlockPublicAccess, S3Facts, evaluate_s3

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
pattern = st.text(alphabet="s3:*?/abcAB-_.${}", max_size=20)
statement = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Deny", "allow"]),
        "Action": st.one_of(pattern, st.lists(pattern, max_size=3)),
    },
    optional={
        "Sid": st.text(max_size=8),
        "Resource": st.one_of(pattern, st.lists(pattern, max_size=3)),
        "Principal": st.one_of(st.just("*"), st.dictionaries(st.sampled_from(["AWS", "Service"]), pattern, max_size=2)),
        "Condition": st.dictionaries(
            st.sampled_from(
                ["StringEquals", "StringLike", "ForAllValues:StringLike", "ForAnyValue:ArnLike", "NumericLessThan",
                 "DateGreaterThan", "Bool", "IpAddress", "NotIpAddressIfExists", "Null", "Weird"]
            ),
            st.dictionaries(
                st.sampled_from(["aws:SecureTransport", "aws:SourceIp", "aws:CurrentTime", "aws:PrincipalArn", "s3:prefix"]),
                st.one_of(st.text(max_size=12), st.lists(st.text(max_size=12), max_size=3), st.booleans(), st.integers()),
                max_size=2,
            ),
            max_size=3,
        ),
    },
)  # fmt: skip
policy_doc = st.fixed_dictionaries({"Statement": st.lists(statement, min_size=1, max_size=4)})


@SETTINGS
@given(st.one_of(st.text(max_size=200), json_value.map(json.dumps), json_value))
def test_parser_never_crashes(doc) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(PolicyError):
        parse_policy(doc)


@SETTINGS
@given(policy_doc, policy_doc, st.sampled_from(["s3:GetObject", "s3:PutObject", "S3:listbucket", "iam:PassRole"]),
       st.text(alphabet="abc/-*?.", max_size=12), st.booleans(), st.text(max_size=20))  # fmt: skip
def test_evaluator_never_crashes(ident, bucket, action, key, cross, ip) -> None:  # type: ignore[no-untyped-def]
    try:
        ip_p, bp = parse_policy(ident), parse_policy(bucket)
    except PolicyError:
        return
    ctx = RequestContext.build(
        action,
        f"arn:aws:s3:::b/{key}",
        "arn:aws:sts::111122223333:assumed-role/r/s",
        role_arn="arn:aws:iam::111122223333:role/r",
        resource_account="444455556666" if cross else "111122223333",
        extra={"aws:SourceIp": ip, "s3:prefix": key},
    )
    pset = PolicySet(
        identity=(NamedPolicy("i", ip_p),), resource=NamedPolicy("b", bp, "resource-based policy")
    )
    d = evaluate_request(ctx, pset)
    assert d.kind in {"allow", "explicit-deny", "implicit-deny"}
    facts = S3Facts(bucket_owner_account="111122223333", bpa=BlockPublicAccess(True, True, True, True),
                    kms_key_arn="arn:aws:kms:eu-north-1:111122223333:key/k", kms_key_policy=bp)  # fmt: skip
    assert evaluate_s3(ctx, pset, facts).kind in {"allow", "explicit-deny", "implicit-deny"}


@SETTINGS
@given(
    st.one_of(st.none(), st.text(max_size=60), st.sampled_from(["arn:aws:iam::123456789012:role/r", "arn:aws:sts::123456789012:assumed-role/r/s", "arn:aws-cn:iam::123456789012:user/u"])),
    st.one_of(st.none(), st.text(max_size=70), st.just("my-bucket")),
    st.one_of(st.none(), st.text(max_size=30), st.sampled_from(["s3:GetObject", "S3:putobject", "iam:PassRole"])),
    st.one_of(st.none(), st.text(max_size=40)),
    st.text(max_size=120),
)  # fmt: skip
def test_engine_never_crashes_on_any_fields(principal, bucket, action, key, text) -> None:  # type: ignore[no-untyped-def]
    from services.doctor.engine import diagnose, precheck
    from services.doctor.model import DoctorRequest

    req = DoctorRequest(
        error_text=text, principal=principal or None, bucket=bucket or None, action=action or None, key=key
    )
    early = precheck(req)
    assert early is None or early.verdict in {"unknown", "denied"}
    assert diagnose(req, None).verdict in {"allowed", "denied", "unknown"}
