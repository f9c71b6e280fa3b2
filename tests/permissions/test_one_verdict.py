"""The doctor and the Permissions step give one verdict on the same request: both read it from
services.policy.verdict. In one account a missing grant is one cause with two alternative fixes
(the role's policy, recommended, or the bucket policy); across accounts both are needed."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.doctor.engine import diagnose
from services.doctor.model import DoctorRequest
from services.permissions import apply, findings
from services.policy import NamedPolicy, PolicySet, RequestContext, evaluate_request, parse_policy
from services.policy.evaluate import IDENTITY, RESOURCE
from services.policy.verdict import Grant, Refusal, judge
from tests.permissions.helpers import put_bucket_policy, put_inline, read

KEY = "sagewiz-check"
GRANTS = ("none", "wrong-resource", "right")
DENIES = ("none", "identity", "bucket")
_ACTIONS = ["s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
_OBJECT = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]


def _grant(b: str, how: str) -> list[dict[str, Any]]:
    bucket, objects = f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*"
    if how == "none":
        return []
    listing = {"Effect": "Allow", "Action": _ACTIONS[:2], "Resource": bucket}
    # The seed's mistake: object actions granted on the bucket ARN.
    obj = {"Effect": "Allow", "Action": _OBJECT, "Resource": objects if how == "right" else bucket}
    return [listing, obj]


def _deny(b: str) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{b}/*"}


def _set_up(factory: Any, world: Any, identity: str, bucket: str, deny: str) -> None:
    b = world.default_bucket
    put_inline(
        factory, world, _grant(b, identity) + ([_deny(b)] if deny == "identity" else []) or [_deny("x")]
    )
    stmts = [{**s, "Principal": {"AWS": world.role_arn}} for s in _grant(b, bucket)]
    stmts += [{**_deny(b), "Principal": {"AWS": world.role_arn}}] if deny == "bucket" else []
    if stmts:
        put_bucket_policy(factory, world, stmts)
    else:
        factory.client("s3").delete_bucket_policy(Bucket=b)


def _doctor(factory: Any, world: Any) -> Any:
    req = DoctorRequest(principal=world.role_arn, bucket=world.default_bucket, key=KEY, action="s3:PutObject")
    return diagnose(req, factory, caller_account=world.account, region=world.region, cross_check=False)


def _permissions(factory: Any, world: Any) -> tuple[bool, int, list[findings.Finding]]:
    state = read(factory, world)
    found = findings.check(state)
    verdicts = findings.request_verdicts(state)
    assert verdicts is not None
    v = verdicts[("s3:PutObject", f"arn:aws:s3:::{world.default_bucket}/{KEY}")]
    return v.allowed, sum(f.blocking for f in found), found


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(identity=st.sampled_from(GRANTS), bucket=st.sampled_from(GRANTS), deny=st.sampled_from(DENIES))
def test_doctor_and_permissions_agree_on_the_same_request(factory, world, identity, bucket, deny):
    _set_up(factory, world, identity, bucket, deny)
    d = _doctor(factory, world)
    allowed, blocking, found = _permissions(factory, world)
    # Every request SageMaker needs stands or falls with PutObject in these worlds.
    assert (d.verdict == "allowed") == allowed == (blocking == 0), (d.verdict, [f.title for f in found])
    if allowed:
        return
    assert d.verdict == "denied" and len(d.blocking) == 1
    if deny == "none":  # a missing allow in one account: one cause, either side is enough
        assert blocking == 1, [f.title for f in found if f.blocking]
        first = d.blocking[0]
        assert first.either_text and first.alternatives
        sides = {first.cause.split("-")[0]} | {a.cause.split("-")[0] for a in first.alternatives}
        assert sides == {"identity", "bucket"}
        if first.cause.startswith("identity"):
            assert "does not widen the bucket policy" in first.either_text
        # The same recommendation on both screens.
        error = next(f for f in found if f.blocking)
        assert error.cause.split("-")[0] == first.cause.split("-")[0], (error.cause, first.cause)
        assert "Either fix is enough" in error.explanation


def test_seed_is_one_problem_with_two_alternatives_and_the_recommended_fix_alone_allows(factory, world):
    d = _doctor(factory, world)
    assert d.verdict == "denied" and len(d.blocking) == 1
    first = d.blocking[0]
    assert first.cause == "identity-wrong-resource"
    assert [a.cause for a in first.alternatives] == ["bucket-policy-wrong-resource"]
    assert "stays with the role" in first.either_text
    state = read(factory, world)
    found = findings.check(state)
    errors = [f for f in found if f.blocking]
    assert [(f.id, f.where) for f in errors] == [
        ("object-actions-on-bucket-arn", "inline policy SageMaker-tt-access")
    ]
    assert "Either fix is enough" in errors[0].explanation and "bucket policy" in errors[0].explanation
    bucket_side = [f for f in found if f.where == "bucket policy" and f.id == "object-actions-on-bucket-arn"]
    assert bucket_side and bucket_side[0].severity == "warning"
    # The recommended fix only: the role's policy.
    role_fix = findings.proposed_changes(state, found)[0].change
    assert role_fix is not None and role_fix.target.kind != "bucket-policy"
    apply.write(factory, role_fix.target, role_fix.new_text)
    assert _doctor(factory, world).verdict == "allowed"
    allowed, blocking, found = _permissions(factory, world)
    assert allowed and blocking == 0, [f.title for f in found if f.blocking]


def _named(doc: dict[str, Any], kind: str) -> NamedPolicy:
    return NamedPolicy(kind, parse_policy(doc), kind)


_B = "arn:aws:s3:::b"
_ROLE = "arn:aws:iam::111111111111:role/r"


def _doc(stmts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": stmts}


@given(
    identity=st.booleans(),
    bucket=st.booleans(),
    deny=st.sampled_from(DENIES),
    owner=st.sampled_from(["111111111111", "222222222222"]),
)
def test_the_verdict_names_the_grants_that_fix_a_missing_allow(identity, bucket, deny, owner):
    """Same account: either grant; cross account: every side that lacks one. Adding the grants
    the verdict names (only the first, when either is enough) makes the request allowed."""

    def decide(id_ok: bool, res_ok: bool) -> Any:
        allow = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{_B}/*"}
        id_stmts = ([allow] if id_ok else []) + ([{**allow, "Effect": "Deny"}] if deny == "identity" else [])
        res_stmts = [{**allow, "Principal": {"AWS": _ROLE}}] if res_ok else []
        res_stmts += [{**allow, "Effect": "Deny", "Principal": "*"}] if deny == "bucket" else []
        pset = PolicySet(
            identity=(_named(_doc(id_stmts or [{**allow, "Resource": "arn:aws:s3:::other/*"}]), IDENTITY),),
            resource=_named(_doc(res_stmts), RESOURCE) if res_stmts else None,
        )
        ctx = RequestContext.build("s3:PutObject", f"{_B}/k", _ROLE, resource_account=owner)
        return judge(evaluate_request(ctx, pset))

    v = decide(identity, bucket)
    same = owner == "111111111111"
    if deny != "none":
        assert v.refusal is Refusal.EXPLICIT_DENY and v.causes == 1
        return
    if (identity or bucket) if same else (identity and bucket):
        assert v.allowed and v.causes == 0
        return
    assert v.refusal is Refusal.MISSING_ALLOW
    if same:
        assert v.either and v.grants == (Grant.IDENTITY, Grant.BUCKET) and v.causes == 1
        fixed = [decide(True, bucket), decide(identity, True)]  # each alternative alone
        assert all(f.allowed for f in fixed)
    else:
        assert not v.either and v.causes == len(v.grants)
        assert set(v.grants) == {
            g for g, ok in ((Grant.IDENTITY, identity), (Grant.BUCKET, bucket)) if not ok
        }
        assert decide(True, True).allowed
