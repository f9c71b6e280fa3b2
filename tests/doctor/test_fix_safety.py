"""Issue 14 through the doctor itself (real boto3 calls against the emulator): text naming actions
outside the flow gets no grant, a refusal on another prefix is granted for that prefix and action
only (and the fix, applied, works and opens nothing else), a Deny aimed at the role gets no
exception, and the JSON contract carries none of it as an applicable change."""

from __future__ import annotations

import json

import pytest

from services.doctor.engine import diagnose
from services.doctor.fixes import GRANTS_POLICY, apply_fix
from services.doctor.model import DoctorRequest
from services.sandbox.server import Sandbox
from tests.doctor.harness import factory_for, fresh_world
from tests.doctor.test_scenarios import ACCT, SESSION, allow, b_arn, bucket_policy, deny, doc, role_policy


def message(action: str, resource: str) -> str:
    return (f"An error occurred (AccessDenied) when calling the X operation: User: {SESSION} is not authorized to "
            f"perform: {action} on resource: {resource} because no identity-based policy allows the {action} action")  # fmt: skip


@pytest.mark.parametrize(
    ("action", "resource", "why"),
    [
        ("iam:CreateAccessKey", "*", "wildcard resource"),
        ("iam:PassRole", f"arn:aws:iam::{ACCT}:role/*", "wildcard resource"),
        ("iam:PassRole", f"arn:aws:iam::{ACCT}:role/Admin", "execution role"),
        ("s3:PutBucketPolicy", "arn:aws:s3:::sagemaker-eu-north-1-123456789012", "policy"),
    ],
)
def test_text_naming_actions_outside_the_flow_gets_no_grant(
    sandbox: Sandbox, action: str, resource: str, why: str
) -> None:
    w = fresh_world(sandbox)
    d = diagnose(DoctorRequest(error_text=message(action, resource)), factory_for(w.target()),
                 caller_account=w.account, region=w.region, sandbox=True)  # fmt: skip
    assert d.verdict == "denied"
    for f in d.findings:
        if f.fix is not None:
            assert not f.fix.applicable and not f.fix.policy_changes, f
            assert all(c.get("call") == "none" or c.get("document") is None for c in f.fix.changes)
    first = d.first_blocking
    assert first is not None and first.fix is not None and why in first.fix.description


def test_a_refusal_on_another_prefix_is_fixed_for_that_prefix_and_action_only(
    sandbox: Sandbox, journal
) -> None:  # type: ignore[no-untyped-def]
    w = fresh_world(sandbox)
    f = factory_for(w.target())
    role_policy(f, doc(allow("s3:GetObject", b_arn(w) + "/team-a/*")))
    bucket_policy(f, w, None)
    f.client("s3").put_object(Bucket=w.default_bucket, Key="team-b/x.csv", Body=b"x")
    req = DoctorRequest(
        principal=w.role_arn, bucket=w.default_bucket, key="team-b/x.csv", action="s3:GetObject"
    )
    d = diagnose(req, f, caller_account=w.account, region=w.region, sandbox=True)
    fix = d.first_blocking.fix  # type: ignore[union-attr]
    assert fix is not None and fix.applicable
    [change] = fix.changes
    assert change["target"].endswith(f"policy {GRANTS_POLICY} of role SageMaker-tt")
    assert change["document"]["Statement"] == [
        {"Sid": "SagewizDoctorGrant", "Effect": "Allow", "Action": "s3:GetObject", "Resource": b_arn(w) + "/team-b/*"}
    ]  # fmt: skip
    apply_fix(f, journal, fix)
    after = diagnose(
        req.with_(), f, caller_account=w.account, region=w.region, sandbox=True, cross_check=False
    )
    assert after.verdict == "allowed", [(x.cause, x.summary) for x in after.findings] + list(after.trace)
    for action, key in (
        ("s3:PutObject", "team-b/x.csv"),
        ("s3:GetObject", "team-c/x.csv"),
        ("s3:DeleteObject", "team-a/r.csv"),
    ):
        other = diagnose(req.with_(action=action, key=key), f, caller_account=w.account, region=w.region,
                         sandbox=True, cross_check=False)  # fmt: skip
        assert other.verdict == "denied", (action, key)
    team_a = f.client("iam").get_role_policy(RoleName="SageMaker-tt", PolicyName="SageMaker-tt-access")[
        "PolicyDocument"
    ]
    team_a = json.loads(team_a) if isinstance(team_a, str) else team_a
    assert team_a == doc(allow("s3:GetObject", b_arn(w) + "/team-a/*"))  # the existing grant is kept as it is
    f.client("s3").delete_object(Bucket=w.default_bucket, Key="team-b/x.csv")


def test_a_deny_aimed_at_the_role_gets_no_exception_in_the_json_contract(sandbox: Sandbox) -> None:
    w = fresh_world(sandbox)
    f = factory_for(w.target())
    role_policy(f, doc(allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], b_arn(w) + "/*")))
    bucket_policy(f, w, doc(deny("s3:DeleteObject", b_arn(w) + "/*", Principal={"AWS": w.role_arn})))
    req = DoctorRequest(
        principal=w.role_arn, bucket=w.default_bucket, key="data/x.csv", action="s3:DeleteObject"
    )
    out = diagnose(
        req, f, caller_account=w.account, region=w.region, sandbox=True, cross_check=False
    ).to_json()
    first = out["findings"][0]
    assert out["verdict"] == "denied" and first["cause"] == "bucket-policy-explicit-deny"
    assert "aimed at SageMaker-tt itself" in first["fix"]["description"]
    assert first["fix"]["changes"] == []
