"""The minimal-change property, for every fix generator, on generated policies (Action/NotAction,
Resource/NotResource, Principal/NotPrincipal, conditions, duplicate Sids).

A generator may refuse (ValidationError / UnsafeFix: the fix is not offered). When it offers a
change, an oracle independent of the generator's own check evaluates requests it draws itself
(principals of this and other accounts, anonymous, with and without allow-all identity policies;
random keys and prefixes; request context that Deny conditions test) before and after with our
evaluator: only the subject's stated requests may go from denied to allowed, and no Deny may
disappear."""

from __future__ import annotations

import json
from collections.abc import Callable

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from services.doctor import fixes as dfx
from services.errors import ValidationError
from services.permissions.fixes.abilities import ABILITIES_POLICY, abilities_change
from services.permissions.fixes.bucket_policy import (
    BUCKET_ACTIONS,
    OBJECT_ACTIONS,
    bucket_policy_change,
    bucket_statement_grant_change,
)
from services.permissions.fixes.deny_exceptions import narrow_deny_change
from services.permissions.fixes.role_policy import narrow_grant_change, role_policy_change
from services.permissions.fixes.shapes import objects_arn
from services.policy import (
    NamedPolicy,
    PolicyError,
    PolicySet,
    RequestContext,
    evaluate_request,
    parse_policy,
)
from services.policy.wildcards import action_matches, arn_matches
from services.roles.abilities import AbilityKind, abilities, check_abilities

ACCT = "123456789012"
B = "sagemaker-eu-north-1-123456789012"
BA = f"arn:aws:s3:::{B}"
ROLE = f"arn:aws:iam::{ACCT}:role/service-role/SageMaker-tt"
SESSION = f"arn:aws:sts::{ACCT}:assumed-role/SageMaker-tt/oracle"
OTHER = f"arn:aws:iam::{ACCT}:role/analytics"
FOREIGN = "arn:aws:iam::210987654321:role/partner"
S3_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListBucket",
              "s3:GetBucketLocation", "s3:PutBucketPolicy", "s3:GetObjectTagging"]  # fmt: skip
ACTION_PATTERNS = [*S3_ACTIONS, "s3:*", "s3:Get*", "s3:put*", "s3:*Object"]
RESOURCES = [
    BA,
    f"{BA}/*",
    f"{BA}/team-a/*",
    f"{BA}/data/x.csv",
    f"{BA}/data/*",
    "arn:aws:s3:::other-bucket/*",
]
CONDITIONS = [
    {"Bool": {"aws:SecureTransport": "false"}},
    {"ArnNotEquals": {"aws:PrincipalArn": OTHER}},
    {"ArnNotLike": {"aws:PrincipalArn": [OTHER, f"arn:aws:iam::{ACCT}:role/admin-*"]}},
    {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
    {"StringEquals": {"aws:SourceVpce": "vpce-1a2b"}},
    {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    {"StringLike": {"s3:prefix": "team-a/*"}},
]
KEYS = st.sampled_from(
    ["data/x.csv", "data/y.csv", "team-a/r.csv", "team-b/x.csv", "x.csv", "data/deep/z.csv"]
)


def one_or_list(draw: st.DrawFn, pool: list, max_size: int = 3) -> object:  # type: ignore[type-arg]
    values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=max_size, unique=True))
    return values[0] if len(values) == 1 else values


@st.composite
def statements(draw: st.DrawFn, *, bucket_policy: bool) -> dict:  # type: ignore[type-arg]
    stmt: dict = {"Effect": draw(st.sampled_from(["Allow", "Deny"]))}
    sid = draw(st.sampled_from([None, "A", "B", "Guard"]))  # duplicates happen
    if sid:
        stmt["Sid"] = sid
    if bucket_policy:
        who = draw(st.sampled_from(["star", "role", "other", "session", "not"]))
        if who == "star" and stmt["Effect"] == "Deny":
            stmt["Principal"] = "*"
        elif who == "not":
            stmt["NotPrincipal"] = {"AWS": OTHER}
        else:
            stmt["Principal"] = {"AWS": {"role": ROLE, "other": OTHER, "session": SESSION, "star": ROLE}[who]}
    if draw(st.booleans()):
        stmt["Action"] = one_or_list(draw, ACTION_PATTERNS)
    else:
        stmt["NotAction"] = one_or_list(draw, S3_ACTIONS)
    pool = RESOURCES if bucket_policy else [*RESOURCES, "*"]
    if bucket_policy:
        pool = [r for r in pool if r.startswith(BA)]
    if draw(st.integers(0, 4)) > 0:
        stmt["Resource"] = one_or_list(draw, pool)
    else:
        stmt["NotResource"] = one_or_list(draw, pool, 2)
    if draw(st.integers(0, 2)) == 0:
        stmt["Condition"] = draw(st.sampled_from(CONDITIONS))
    return stmt


def policies(*, bucket_policy: bool) -> st.SearchStrategy[str]:
    return st.lists(statements(bucket_policy=bucket_policy), min_size=1, max_size=4).map(
        lambda s: json.dumps({"Version": "2012-10-17", "Statement": s})
    )


# -- the oracle -------------------------------------------------------------------------------------------
PRINCIPALS = [
    (SESSION, ROLE, True),
    (f"arn:aws:sts::{ACCT}:assumed-role/analytics/s", OTHER, False),
    ("arn:aws:sts::210987654321:assumed-role/partner/s", FOREIGN, False),
    ("*", None, False),
]
CONTEXTS = [
    {},
    {"aws:SecureTransport": "false"},
    {"s3:x-amz-server-side-encryption": "aws:kms"},
    {"aws:SourceVpce": "vpce-1a2b"},
    {"aws:SourceIp": "203.0.113.9"},
    {"s3:prefix": "team-a/x"},
]
ALLOW_ALL = NamedPolicy(
    "all",
    parse_policy(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    ),
)

Spec = Callable[[str, str], bool]  # may (action, resource) by the subject become allowed?


def decide(identity: str | None, bucket_policy: str | None, principal: tuple, action: str, resource: str,
           context: dict, allow_all: bool) -> bool:  # type: ignore[type-arg]  # fmt: skip
    caller, role, is_subject = principal
    ids: tuple[NamedPolicy, ...] = ()
    if is_subject and identity:
        ids = (NamedPolicy("id", parse_policy(identity)),)
    if allow_all and caller != "*":
        ids += (ALLOW_ALL,)
    in_bucket = resource == BA or resource.startswith(BA + "/")
    res = NamedPolicy("bp", parse_policy(bucket_policy), "resource") if bucket_policy and in_bucket else None
    ctx = RequestContext.build(action, resource, caller, role_arn=role, resource_account=ACCT if in_bucket else "999999999999",
                               secure_transport=True, extra=context)  # fmt: skip
    return evaluate_request(ctx, PolicySet(identity=ids, resource=res)).allowed


def assert_minimal(
    before: tuple[str | None, str | None], after: tuple[str | None, str | None], may: Spec, keys: list[str]
) -> None:
    resources = [BA, "arn:aws:s3:::other-bucket", "arn:aws:s3:::other-bucket/data/x.csv"] + [
        f"{BA}/{k}" for k in keys
    ]
    for action in S3_ACTIONS:
        for resource in resources:
            if (action in ("s3:ListBucket", "s3:GetBucketLocation", "s3:PutBucketPolicy")) == (
                "/" in resource.split(":::", 1)[1]
            ):
                continue
            for principal in PRINCIPALS:
                for context in CONTEXTS:
                    for allow_all in (False, True):
                        was = decide(*before, principal, action, resource, context, allow_all)
                        now = decide(*after, principal, action, resource, context, allow_all)
                        if now and not was:
                            assert principal[2] and may(action, resource), (
                                f"{principal[0]} (allow-all={allow_all}) {action} on {resource} {context} became allowed"
                            )


def denies(text: str | None) -> list[dict]:  # type: ignore[type-arg]
    if not text:
        return []
    return [s for s in json.loads(text)["Statement"] if s.get("Effect") == "Deny"]


def offered(build: Callable[[], object]) -> object | None:
    try:
        result = build()
    except (ValidationError, PolicyError):
        event("refused (not offered)")
        return None
    event("offered")
    return result


def readable(text: str) -> bool:
    try:
        parse_policy(text)
    except PolicyError:
        return False
    return True


SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


# -- one property per generator ----------------------------------------------------------------------------
@SETTINGS
@given(
    policy=policies(bucket_policy=True),
    action=st.sampled_from(S3_ACTIONS[:4]),
    key=KEYS,
    keys=st.lists(KEYS, max_size=3),
)
def test_doctor_bucket_statement_grant_is_minimal(
    policy: str, action: str, key: str, keys: list[str]
) -> None:
    scope = dfx.refused_scope(B, key, action)
    change = offered(lambda: bucket_statement_grant_change(B, ROLE, policy, action, scope))
    if change is None:
        return
    assert denies(change.new_text) == denies(policy)  # type: ignore[attr-defined]
    assert_minimal(
        (None, policy),
        (None, change.new_text),
        lambda a, r: action_matches(action, a) and arn_matches(scope, r),
        [key, *keys],
    )  # type: ignore[attr-defined]


@st.composite
def guardrail_denies(draw: st.DrawFn) -> dict:  # type: ignore[type-arg]
    """A Deny not aimed at the role and enforcing no practice (the kind that may get an exception)."""
    stmt = draw(statements(bucket_policy=True))
    stmt["Effect"] = "Deny"
    stmt.pop("Principal", None)
    stmt.pop("NotPrincipal", None)
    if draw(st.booleans()):
        stmt["Principal"] = "*"
    else:
        stmt["NotPrincipal"] = {"AWS": OTHER}
    stmt["Condition"] = draw(st.sampled_from([None, CONDITIONS[1], CONDITIONS[2], CONDITIONS[6]]))
    if stmt["Condition"] is None:
        del stmt["Condition"]
    return stmt


@SETTINGS
@given(deny=guardrail_denies(), rest=st.lists(statements(bucket_policy=True), max_size=2),
       action=st.sampled_from(S3_ACTIONS[:4]), key=KEYS, keys=st.lists(KEYS, max_size=3))  # fmt: skip
def test_deny_exception_is_exact(deny: dict, rest: list, action: str, key: str, keys: list[str]) -> None:  # type: ignore[type-arg]
    stmts = [deny, *rest]
    policy = json.dumps({"Version": "2012-10-17", "Statement": stmts})
    index = 0
    resource = f"{BA}/{key}"
    change = offered(lambda: narrow_deny_change(B, ROLE, policy, index, action=action, resource=resource))
    if change is None:
        return
    after = change.new_text  # type: ignore[attr-defined]
    kept = json.loads(after)["Statement"][index]
    original = stmts[index]
    assert kept["Effect"] == "Deny" and {k: v for k, v in kept.items() if k != "Condition"} == {
        k: v for k, v in original.items() if k != "Condition"
    }
    for op, tests in (original.get("Condition") or {}).items():
        for k, v in tests.items():
            assert kept["Condition"][op][k] == v or op == "ArnNotEquals"
    assert_minimal((None, policy), (None, after), lambda a, r: a == action and r == resource, [key, *keys])


@SETTINGS
@given(policy=policies(bucket_policy=True), identity=policies(bucket_policy=False), prefix=st.sampled_from([None, "data/"]),
       keys=st.lists(KEYS, min_size=1, max_size=3))  # fmt: skip
def test_permissions_bucket_policy_repair_is_minimal(
    policy: str, identity: str, prefix: str | None, keys: list[str]
) -> None:
    change = offered(
        lambda: bucket_policy_change(B, ROLE, policy, prefix=prefix, identity=(("id", identity),))
    )
    if change is None:
        return
    named = {
        str(a).lower()
        for s in json.loads(policy)["Statement"]
        for a in ([s["Action"]] if isinstance(s.get("Action"), str) else s.get("Action", []))
    }
    flow = {a.lower() for a in (*OBJECT_ACTIONS, *BUCKET_ACTIONS)}

    def may(a: str, r: str) -> bool:
        return (a.lower() in flow or any(action_matches(n, a) for n in named)) and (
            r == BA or r.startswith(BA + "/")
        )

    assert denies(change.new_text) == denies(policy)  # type: ignore[attr-defined]
    assert_minimal(
        (identity if readable(identity) else None, policy),
        (identity if readable(identity) else None, change.new_text),
        may,
        keys,
    )  # type: ignore[attr-defined]


@SETTINGS
@given(identity=policies(bucket_policy=False), prefix=st.sampled_from([None, "data/"]), keys=st.lists(KEYS, min_size=1, max_size=3),
       missing=st.lists(st.sampled_from(["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"]), max_size=3))  # fmt: skip
def test_permissions_role_policy_repair_is_minimal(
    identity: str, prefix: str | None, keys: list[str], missing: list[str]
) -> None:
    pairs = tuple((a, BA if a == "s3:ListBucket" else f"{BA}/{prefix or ''}k") for a in missing)
    change = offered(lambda: role_policy_change("SageMaker-tt", ACCT, "eu-north-1", B, [("id", identity)],
                                                      prefix=prefix, missing=pairs, role_arn=ROLE))  # fmt: skip
    if change is None:
        return
    named = {
        str(a).lower()
        for s in json.loads(identity)["Statement"]
        for a in ([s["Action"]] if isinstance(s.get("Action"), str) else s.get("Action", []))
    }
    scope = objects_arn(B, prefix)

    def may(a: str, r: str) -> bool:
        stated = a.lower() in named or any(a.lower() == m.lower() for m in missing)
        return stated and (r == BA or arn_matches(scope, r))

    new = change.new_text if change.target.policy_name == "id" else None  # type: ignore[attr-defined]
    if new is None:  # a new sagewiz inline policy beside the user's: evaluate both
        combined = json.loads(identity)["Statement"] + json.loads(change.new_text)["Statement"]  # type: ignore[attr-defined]
        new = json.dumps({"Version": "2012-10-17", "Statement": combined})
    assert denies(new) == denies(identity)
    assert_minimal((identity, None), (new, None), may, keys)


@SETTINGS
@given(identity=policies(bucket_policy=False), keys=st.lists(KEYS, min_size=1, max_size=3))
def test_narrowing_an_over_broad_grant_allows_nothing_new(identity: str, keys: list[str]) -> None:
    doc = json.loads(identity)
    doc["Statement"].append({"Sid": "Broad", "Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    text = json.dumps(doc)
    change = offered(lambda: narrow_grant_change("SageMaker-tt", B, [("id", text)], role_arn=ROLE))
    if change is None:
        return
    assert denies(change.new_text) == denies(text)  # type: ignore[attr-defined]
    assert_minimal((text, None), (change.new_text, None), lambda a, r: False, keys)  # type: ignore[attr-defined]


@SETTINGS
@given(
    identity=policies(bucket_policy=False),
    action=st.sampled_from(S3_ACTIONS),
    key=KEYS,
    keys=st.lists(KEYS, max_size=3),
)
def test_doctor_identity_grant_is_minimal(identity: str, action: str, key: str, keys: list[str]) -> None:
    inline = [("user-policy", identity)]
    scope = dfx.refused_scope(B, key, action)
    fix = offered(lambda: dfx.grant_fix(dfx.GrantScope(ROLE, ACCT, "eu-north-1", B, identity=tuple(inline)), inline,
                                        action, scope, "Grant it:"))  # fmt: skip
    if fix is None or not fix.policy_changes:  # type: ignore[attr-defined]
        event("refused (admin fix)")
        return
    change = fix.policy_changes[0]  # type: ignore[attr-defined]
    combined = json.loads(identity)["Statement"] + json.loads(change.new_text)["Statement"]
    new = json.dumps({"Version": "2012-10-17", "Statement": combined})
    assert_minimal(
        (identity, None), (new, None), lambda a, r: a == action and arn_matches(scope, r), [key, *keys]
    )


def test_the_oracle_catches_the_old_deny_narrowing() -> None:
    """The property can fail: the pre-issue-14 narrowing (ArnNotEquals aws:PrincipalArn <role>
    on the whole Deny) is caught for a NotAction Deny."""
    deny = {"Effect": "Deny", "Principal": "*", "NotAction": "s3:GetObject", "Resource": f"{BA}/*"}
    old = dict(deny, Condition={"ArnNotEquals": {"aws:PrincipalArn": ROLE}})
    before = json.dumps({"Version": "2012-10-17", "Statement": [deny]})
    after = json.dumps({"Version": "2012-10-17", "Statement": [old]})
    try:
        assert_minimal(
            (None, before),
            (None, after),
            lambda a, r: a == "s3:DeleteObject" and r == f"{BA}/data/x.csv",
            ["data/x.csv"],
        )
    except AssertionError as exc:
        assert "became allowed" in str(exc)
    else:
        raise AssertionError("the oracle missed a Deny switched off for the role")


# -- the role's abilities (services.roles.abilities) ---------------------------------------------------
REGION = "eu-north-1"
SM = f"arn:aws:sagemaker:{REGION}:{ACCT}"
ABILITY_REQUESTS = [
    ("sagemaker:CreateTrainingJob", f"{SM}:training-job/j"),
    ("sagemaker:CreateTrainingJob", f"arn:aws:sagemaker:us-east-1:{ACCT}:training-job/j"),
    ("sagemaker:CreateTrainingJob", "arn:aws:sagemaker:eu-north-1:210987654321:training-job/j"),
    ("sagemaker:DeleteModel", f"{SM}:model/m"),
    ("sagemaker:CreateModel", f"{SM}:model/m"),
    ("sagemaker:CreateNotebookInstance", f"{SM}:notebook-instance/n"),
    ("sagemaker:ListTrainingJobs", "*"),
    ("sagemaker:DescribeWorkteam", f"{SM}:workteam/private-crowd/t"),
    ("iam:PassRole", ROLE),
    ("iam:PassRole", OTHER),
    ("iam:CreateRole", "*"),
    ("s3:GetObject", f"{BA}/data/x.csv"),
    ("s3:PutBucketPolicy", BA),
]
ABILITY_CONTEXTS = [
    {},
    {"iam:PassedToService": "sagemaker.amazonaws.com"},
    {"iam:PassedToService": "ec2.amazonaws.com"},
    {"aws:RequestedRegion": "us-east-1"},
]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(identity=policies(bucket_policy=False), kinds=st.sets(st.sampled_from(list(AbilityKind)), min_size=1))
def test_an_ability_fix_grants_that_ability_and_nothing_else(identity: str, kinds: set[AbilityKind]) -> None:
    missing = [a for a in abilities(ACCT, REGION, ROLE) if a.kind in kinds]
    change = offered(
        lambda: abilities_change(
            "SageMaker-tt", ROLE, ACCT, REGION, B, [(ABILITIES_POLICY, identity)], missing
        )
    )
    if change is None:
        return
    after = change.new_text  # type: ignore[attr-defined]
    assert denies(after) == denies(identity)
    assert {c.ability.kind for c in check_abilities(ROLE, ACCT, REGION, [("p", after)]) if c.has} >= kinds

    def may(action: str, resource: str, context: dict) -> bool:  # type: ignore[type-arg]
        return any(
            action_matches(a, action)
            and arn_matches(r, resource)
            and all(context.get(c.key) == c.value for c in g.conditions)
            for ability in missing
            for g in ability.grants
            for a in g.actions
            for r in g.resources
        )

    for action, resource in ABILITY_REQUESTS:
        for principal in PRINCIPALS:
            for context in ABILITY_CONTEXTS:
                ctx = {"aws:RequestedRegion": REGION, **context}
                for allow_all in (False, True):
                    was = decide(identity, None, principal, action, resource, ctx, allow_all)
                    now = decide(after, None, principal, action, resource, ctx, allow_all)
                    if now and not was:
                        assert principal[2] and may(action, resource, ctx), (
                            f"{principal[0]} (allow-all={allow_all}) {action} on {resource} {ctx} became allowed"
                        )
