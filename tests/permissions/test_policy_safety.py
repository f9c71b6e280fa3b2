"""Issue 14, case by case: fixes never weaken security. Denies are never switched off (an exception
is exact, and none for a Deny aimed at the principal or enforcing a practice), grants from pasted
text stay inside the wizard's flow, fixes keep the refusal's scope, "public" means AWS's public,
command lines are quoted, and the admin report redacts only secrets.

Every decision below is made by our evaluator (services.policy) on the documents the generators
return, independently of the minimal-change checker the generators themselves run."""

from __future__ import annotations

import json
import shlex
import subprocess
from types import SimpleNamespace

import pytest

from services.doctor import fixes as dfx
from services.doctor.model import Diagnosis, Finding, Fix
from services.doctor.report import admin_report, redact
from services.errors import ValidationError
from services.permissions import validate
from services.permissions.fixes.bucket_policy import bucket_policy_change, bucket_statement_grant_change
from services.permissions.fixes.change import PolicyChange
from services.permissions.fixes.deny_exceptions import narrow_deny_change
from services.permissions.fixes.role_policy import role_policy_change
from services.permissions.fixes.safety import UnsafeFix, subject_for
from services.policy import NamedPolicy, PolicySet, RequestContext, evaluate_request, parse_policy
from services.policy.minimal_change import Documents, Permitted, check_change
from services.policy.s3 import is_public_policy
from tui.commands.data_sync import doctor_command

ACCT = "123456789012"
B = "sagemaker-eu-north-1-123456789012"
BA = f"arn:aws:s3:::{B}"
ROLE = f"arn:aws:iam::{ACCT}:role/service-role/SageMaker-tt"
SESSION = f"arn:aws:sts::{ACCT}:assumed-role/SageMaker-tt/SageMaker"
OTHER_ROLE = f"arn:aws:iam::{ACCT}:role/analytics"
KEY = f"{BA}/data/x.csv"


def doc(*stmts: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(stmts)})


def allowed(
    bucket_policy: str | None,
    action: str,
    resource: str,
    *,
    principal: str = SESSION,
    role: str | None = ROLE,
    identity: tuple[dict, ...] = ({"Effect": "Allow", "Action": "*", "Resource": "*"},),
    extra: dict[str, str] | None = None,
) -> bool:
    """Our evaluator's answer, the caller holding an allow-everything identity policy (so only the
    bucket policy's Denies can refuse it)."""
    ids = (NamedPolicy("id", parse_policy(json.loads(doc(*identity)))),) if identity else ()
    res = NamedPolicy("bp", parse_policy(bucket_policy), "resource") if bucket_policy else None
    ctx = RequestContext.build(
        action,
        resource,
        principal,
        role_arn=role,
        resource_account=ACCT,
        secure_transport=True,
        extra=extra or {},
    )
    return evaluate_request(ctx, PolicySet(identity=ids, resource=res)).allowed


def new_text(change: PolicyChange) -> str:
    assert change.new_text is not None
    return change.new_text


# -- 2. Denies: never disabled, never removed ------------------------------------------------------------
def test_a_deny_aimed_at_the_role_itself_gets_no_exception() -> None:
    deny = {"Sid": "NoDelete", "Effect": "Deny", "Principal": {"AWS": ROLE}, "Action": "s3:DeleteObject",
            "Resource": f"{BA}/*"}  # fmt: skip
    with pytest.raises(UnsafeFix, match="aimed at SageMaker-tt itself"):
        narrow_deny_change(B, ROLE, doc(deny), 0, action="s3:DeleteObject", resource=KEY)
    # The old "narrowing" (ArnNotEquals aws:PrincipalArn <role>) matched nobody: the checker sees it.
    old_style = dict(deny, Condition={"ArnNotEquals": {"aws:PrincipalArn": ROLE}})
    result = check_change(
        subject_for(ROLE, B, "s3:DeleteObject", KEY),
        Documents(bucket_policy=doc(deny)),
        Documents(bucket_policy=doc(old_style)),
        (Permitted("s3:DeleteObject", KEY, "the request refused"),),
    )
    assert not result.ok and "s3:DeleteObject on arn:aws:s3:::" in result.summary()


@pytest.mark.parametrize(
    ("name", "deny", "action"),
    [
        ("NotAction", {"Effect": "Deny", "Principal": "*", "NotAction": "s3:GetObject", "Resource": f"{BA}/*"},
         "s3:DeleteObject"),
        ("NotResource", {"Effect": "Deny", "Principal": "*", "Action": ["s3:PutObject", "s3:DeleteObject"],
                         "NotResource": f"{BA}/public/*"}, "s3:PutObject"),
        ("NotPrincipal", {"Effect": "Deny", "NotPrincipal": {"AWS": OTHER_ROLE}, "Action": "s3:*",
                          "Resource": [BA, f"{BA}/*"]}, "s3:PutObject"),
        ("wildcard", {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [BA, f"{BA}/*"],
                      "Condition": {"ArnNotLike": {"aws:PrincipalArn": OTHER_ROLE}}}, "s3:GetObject"),
    ],
)  # fmt: skip
def test_a_deny_exception_lets_through_exactly_the_refused_request(
    name: str, deny: dict, action: str
) -> None:
    deny = {"Sid": f"Guard{name}", **deny}
    before = doc(deny)
    assert not allowed(before, action, KEY)
    after = new_text(narrow_deny_change(B, ROLE, before, 0, action=action, resource=KEY))
    assert allowed(after, action, KEY)  # the one request refused
    # ... and nothing else the Deny refused: other keys, other actions, other principals.
    probes = [
        (action, f"{BA}/data/y.csv", SESSION, ROLE),
        (action, f"{BA}/other/x.csv", SESSION, ROLE),
        ("s3:PutObject", KEY, SESSION, ROLE),
        ("s3:DeleteObject", KEY, SESSION, ROLE),
        ("s3:PutBucketPolicy", BA, SESSION, ROLE),
        (action, KEY, f"arn:aws:sts::{ACCT}:assumed-role/someone/s", f"arn:aws:iam::{ACCT}:role/someone"),
        (action, KEY, "arn:aws:sts::210987654321:assumed-role/x/s", "arn:aws:iam::210987654321:role/x"),
    ]
    for a, r, p, role in probes:
        if (a, r) == (action, KEY) and p == SESSION:
            continue
        assert allowed(after, a, r, principal=p, role=role) == allowed(before, a, r, principal=p, role=role), (
            name, a, r, p,
        )  # fmt: skip
    # The Deny is still there, with every element it had (one condition added for the exception).
    first = json.loads(after)["Statement"][0]
    assert {k: v for k, v in first.items() if k != "Condition"} == {
        k: v for k, v in deny.items() if k != "Condition"
    }
    assert first["Condition"]["ArnNotEquals"] == {"aws:PrincipalArn": ROLE}


def test_a_deny_enforcing_encryption_gets_no_exception_but_the_header_to_send() -> None:
    deny = {"Sid": "RequireKms", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"{BA}/*",
            "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}}  # fmt: skip
    with pytest.raises(UnsafeFix) as info:
        narrow_deny_change(B, ROLE, doc(deny), 0, action="s3:PutObject", resource=KEY)
    assert "enforces a practice (encryption)" in info.value.message
    assert "ServerSideEncryption='aws:kms'" in info.value.hint
    # the request that complies is allowed as it is
    assert allowed(doc(deny), "s3:PutObject", KEY, extra={"s3:x-amz-server-side-encryption": "aws:kms"})


@pytest.mark.parametrize(
    ("condition", "practice"),
    [
        ({"Bool": {"aws:SecureTransport": "false"}}, "TLS"),
        ({"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b"}}, "VPC endpoint"),
        ({"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}, "organization"),
        ({"Null": {"s3:x-amz-server-side-encryption": "true"}}, "encryption"),
    ],
)
def test_practice_denies_get_no_exception(condition: dict, practice: str) -> None:
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": f"{BA}/*",
        "Condition": condition,
    }
    fix = dfx.deny_exception_fix(B, ROLE, doc(deny), 0, "s3:GetObject", KEY)
    assert fix.admin_only and not fix.policy_changes
    assert f"enforces a practice ({practice})" in fix.description and "Comply instead" in fix.description


# -- 3. grants from pasted text stay inside the flow -----------------------------------------------------
SCOPE = dfx.GrantScope(role_arn=ROLE, account=ACCT, region="eu-north-1", bucket=B, execution_role=ROLE)


@pytest.mark.parametrize(
    ("action", "resource", "why"),
    [
        ("iam:CreateAccessKey", "*", "wildcard resource"),
        ("iam:CreateAccessKey", f"arn:aws:iam::{ACCT}:user/admin", "IAM action"),
        ("iam:PassRole", f"arn:aws:iam::{ACCT}:role/*", "wildcard resource"),
        ("iam:PassRole", f"arn:aws:iam::{ACCT}:role/Admin", "only on the wizard's execution role"),
        ("s3:PutBucketPolicy", BA, "policy-writing"),
        ("s3:PutBucketAcl", BA, "not one of the S3 actions"),
        ("s3:*", f"{BA}/*", "wildcard action"),
        ("s3:GetObject", "arn:aws:s3:::someone-elses-bucket/x", "not on the chosen bucket"),
        ("organizations:LeaveOrganization", "*", "wildcard resource"),
        ("sts:AssumeRole", f"arn:aws:iam::{ACCT}:role/Admin", "never proposes identity"),
        ("logs:PutLogEvents", f"arn:aws:logs:eu-north-1:{ACCT}:log-group:secrets", "/aws/sagemaker/"),
        ("kms:Decrypt", f"arn:aws:kms:eu-north-1:{ACCT}:key/other", "bucket's own key"),
        ("ec2:RunInstances", f"arn:aws:ec2:eu-north-1:{ACCT}:instance/i-1", "outside the wizard's flow"),
    ],
)
def test_grants_from_text_outside_the_flow_are_never_proposed(action: str, resource: str, why: str) -> None:
    fix = dfx.grant_fix(SCOPE, [], action, resource, "Grant it:")
    assert fix.admin_only and not fix.policy_changes and not fix.changes
    assert why in fix.description and "administrator" in fix.description


def test_pass_role_is_granted_only_on_the_execution_role_and_only_to_sagemaker() -> None:
    fix = dfx.grant_fix(SCOPE, [], "iam:PassRole", ROLE, "Grant it:")
    assert fix.applicable
    stmt = json.loads(new_text(fix.policy_changes[0]))["Statement"][0]
    assert stmt["Action"] == "iam:PassRole" and stmt["Resource"] == ROLE
    assert stmt["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


# -- 4. fixes keep the scope of the refusal and every existing grant ---------------------------------------
TEAM_A = {"Sid": "TeamA", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BA}/team-a/*"}


def test_a_refusal_on_another_prefix_is_granted_for_that_prefix_and_action_only() -> None:
    inline = [("team", doc(TEAM_A))]
    scope_arn = dfx.refused_scope(B, "team-b/x.csv", "s3:GetObject")
    assert scope_arn == f"{BA}/team-b/*"
    fix = dfx.grant_fix(dfx.GrantScope(ROLE, ACCT, "eu-north-1", B, identity=tuple(inline)), inline,
                        "s3:GetObject", scope_arn, "Grant it:")  # fmt: skip
    change = fix.policy_changes[0]
    added = json.loads(new_text(change))["Statement"]
    assert added == [{"Sid": "SagewizDoctorGrant", "Effect": "Allow", "Action": "s3:GetObject",
                      "Resource": f"{BA}/team-b/*"}]  # fmt: skip
    text = json.dumps(added)
    for never in ("s3:PutObject", "s3:DeleteObject", "logs:", "ecr:", "cloudwatch:", f'{BA}/*"'):
        assert never not in text
    assert change.target.policy_name == dfx.GRANTS_POLICY  # the team-a policy is not touched


def test_a_bucket_policy_grant_for_one_prefix_is_kept_and_the_refused_prefix_added_alone() -> None:
    team_a = {"Sid": "TeamA", "Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject",
              "Resource": f"{BA}/team-a/*"}  # fmt: skip
    change = bucket_statement_grant_change(B, ROLE, doc(team_a), "s3:GetObject", f"{BA}/team-b/*")
    stmts = json.loads(new_text(change))["Statement"]
    assert stmts[0] == team_a and len(stmts) == 2
    assert stmts[1]["Action"] == "s3:GetObject" and stmts[1]["Resource"] == f"{BA}/team-b/*"


def test_an_s3_star_grant_is_never_cut_by_a_fix() -> None:
    star = {"Sid": "Star", "Effect": "Allow", "Action": "s3:*", "Resource": [BA, f"{BA}/*"]}
    wrong = {"Sid": "Wrong", "Effect": "Allow", "Action": "s3:PutObject", "Resource": BA}
    change = role_policy_change(
        "SageMaker-tt", ACCT, "eu-north-1", B, [("p", doc(star, wrong))], role_arn=ROLE
    )
    assert json.loads(new_text(change))["Statement"][0] == star


def test_a_fix_that_would_broaden_is_refused_with_the_requests_it_would_open() -> None:
    # A hand-made "fix" granting the whole bucket for a refusal on one prefix fails the check.
    result = check_change(
        subject_for(ROLE, B, "s3:GetObject", f"{BA}/team-b/x.csv"),
        Documents((("team", doc(TEAM_A)),)),
        Documents((("team", doc(TEAM_A, {"Effect": "Allow", "Action": "s3:*", "Resource": f"{BA}/*"})),)),
        (Permitted("s3:GetObject", f"{BA}/team-b/*", "the request refused"),),
    )
    assert not result.ok and "it would also allow this principal" in result.summary()


# -- 5. public means public ---------------------------------------------------------------------------------
def public(statement: dict) -> bool:
    stmt = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BA}/*", **statement}
    return is_public_policy(
        parse_policy({"Version": "2012-10-17", "Statement": [stmt]})
    ) and validate.is_public({"Version": "2012-10-17", "Statement": [stmt]})


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        # AWS's documented examples (S3 user guide, "The meaning of public")
        ({"Principal": {"Federated": "graph.facebook.com"}}, True),
        ({"Principal": "*"}, True),
        ({"Principal": "*", "Condition": {"StringLike": {"aws:SourceVpc": "vpc-*"}}}, True),
        ({"Principal": "*", "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-91237329"}}}, False),
        # issue 14's cases: condition key names alone used to make these "not public"
        ({"Principal": "*", "Condition": {"StringLike": {"aws:SourceArn": "*"}}}, True),
        ({"Principal": "*", "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}}, True),
        ({"Principal": {"AWS": "*"}, "Condition": {"StringNotEquals": {"aws:SourceAccount": ACCT}}}, True),
        ({"Principal": {"CanonicalUser": "*"}}, True),
        # pinned to fixed values
        ({"Principal": "*", "Condition": {"StringEquals": {"aws:SourceAccount": ACCT}}}, False),
        ({"Principal": "*", "Condition": {"ArnEquals": {"aws:SourceArn": f"arn:aws:sagemaker:eu-north-1:{ACCT}:training-job/j"}}}, False),
        ({"Principal": "*", "Condition": {"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}}}, True),
        ({"Principal": "*", "Condition": {"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}}, True),
        ({"Principal": "*", "Condition": {"StringEquals": {"aws:userid": "AROAEXAMPLEID:*"}}}, True),
        ({"Principal": "*", "Condition": {"StringEquals": {"aws:userid": "AIDAEXAMPLEID"}}}, False),
        # aws:SourceIp: no wider than /8 (IPv4) or /32 (IPv6); RFC1918 ranges are not public
        ({"Principal": "*", "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}, False),
        ({"Principal": "*", "Condition": {"IpAddress": {"aws:SourceIp": "11.0.0.0/7"}}}, True),
        ({"Principal": "*", "Condition": {"IpAddress": {"aws:SourceIp": "172.16.0.0/12"}}}, False),
        ({"Principal": "*", "Condition": {"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}}, False),
        ({"Principal": "*", "Condition": {"IpAddress": {"aws:SourceIp": "2001::/16"}}}, True),
        ({"Principal": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}, True),
        ({"Principal": {"AWS": ROLE}}, False),
        ({"NotPrincipal": {"AWS": ROLE}}, True),
    ],
)  # fmt: skip
def test_is_public_follows_aws_rule(statement: dict, expected: bool) -> None:
    stmt = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BA}/*", **statement}
    policy = {"Version": "2012-10-17", "Statement": [stmt]}
    assert is_public_policy(parse_policy(policy)) is expected
    assert validate.is_public(policy) is expected


def test_a_merge_into_a_policy_public_by_values_is_refused_not_labelled_safe() -> None:
    hidden = {"Sid": "Looks", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BA}/*",
              "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}}  # fmt: skip
    with pytest.raises(ValidationError, match="public"):
        bucket_policy_change(B, ROLE, doc(hidden))


# -- 6. command lines are quoted -------------------------------------------------------------------------
HOSTILE_KEYS = [
    "x'; touch ${HOME}-PWNED; echo '",
    'a"$(touch /tmp/sagewiz-pwned)"b',
    "data/`id`.csv",
    "new\nline; rm -rf ~",
    "-rf --all",
]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_the_doctor_line_is_quoted_for_the_shell(key: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    denied = SimpleNamespace(principal_arn=SESSION, bucket=B, key=key, action="s3:GetObject")
    line = doctor_command(denied)
    assert shlex.split(line) == ["sagewiz", "doctor", "--principal", SESSION, "--bucket", B, "--key", key,
                                 "--action", "s3:GetObject"]  # fmt: skip
    # Pasted into a real shell (with printf standing in for sagewiz), it runs nothing else.
    home = tmp_path / "home"
    home.mkdir()
    files_before = set(tmp_path.rglob("*"))
    script = "printf '%s\\n' " + line.removeprefix("sagewiz doctor ")
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env={"HOME": str(home), "PATH": "/usr/bin:/bin"}, check=True)  # fmt: skip
    assert key in done.stdout
    assert set(tmp_path.rglob("*")) == files_before  # no file was created


# -- 7. the admin report redacts only secrets ---------------------------------------------------------------
def test_admin_report_keeps_arns_names_and_policy_values_and_masks_secrets() -> None:
    long_key = "ground-truth-demo/images/" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0UvWxYz.jpg"
    resource = f"{BA}/{long_key}"
    stmt = {"Sid": "SagewizDoctorGrant", "Effect": "Allow", "Action": "s3:GetObject", "Resource": resource,
            "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.0/24"]}}}  # fmt: skip
    policy = {"Version": "2012-10-17", "Statement": [stmt]}
    fix = Fix(
        "Attach this statement.",
        ({"target": ROLE, "call": "iam:PutRolePolicy", "document": policy},),
        admin_only=True,
    )
    finding = Finding(
        "identity-no-allow",
        True,
        f"No identity policy of {ROLE} allows s3:GetObject on {resource}.",
        (
            "the caller came from 198.51.100.7 and 2001:db8:85a3::8a2e:370:7334",
            "credentials in the log: aws_access_key_id=AKIAIOSFODNN7EXAMPLE "
            "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_session_token=IQoJb3JpZ2luX2VjEXAMPLEtokenEXAMPLEtokenEXAMPLEtoken",
        ),
        fix,
    )
    d = Diagnosis("denied", SESSION, "s3:GetObject", resource, (finding,), role_arn=ROLE)
    md = admin_report(d)
    assert resource in md and ROLE in md and B in md  # ARNs and names intact (40+ characters)
    assert "AKIAIOSFODNN7EXAMPLE" not in md and "wJalrXUtnFEMI" not in md and "IQoJb3JpZ2luX2Vj" not in md
    assert "198.51.100.7" not in md and "8a2e:370:7334" not in md  # addresses in prose masked
    block = md.split("```json\n", 1)[1].split("\n```", 1)[0]
    attached = json.loads(block)
    assert attached == policy  # the policy to attach is exactly the proposed one
    assert validate.problems(attached, validate.IDENTITY_POLICY) == []


def test_redact_is_limited_to_known_secret_shapes() -> None:
    arn = f"arn:aws:iam::{ACCT}:role/service-role/AmazonSageMaker-ExecutionRole-20250101T000000"
    text = f"{arn} {BA}/a/very/long/key/name/that/is/over/forty/characters.csv AROAEXAMPLEUNIQUEID12"
    assert redact(text) == text
    assert "AKIA…(redacted)" in redact("key AKIAIOSFODNN7EXAMPLE")
    # inside a policy document, addresses (IPv4 and IPv6) are policy values and stay exact
    block = '```json\n{"IpAddress": {"aws:SourceIp": ["203.0.113.7/32", "2001:db8::/32"]}}\n```\n'
    assert redact(block) == block
    assert redact("from 2001:db8:85a3::8a2e:370:7334 at 12:30:45") == "from 2001:db8:x:x at 12:30:45"
