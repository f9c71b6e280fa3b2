"""The proof: real requests signed as the role in the sandbox; the simulator's two response shapes."""

from __future__ import annotations

from botocore.stub import Stubber

from services.permissions import apply, findings, proof
from services.permissions.fixes.change import ROLE_INLINE_POLICY
from services.permissions.state import read_state
from services.session import AwsTarget, SessionFactory, StaticCredentials
from tests.permissions.helpers import read


def test_marker_proof_fails_before_and_succeeds_after_the_fix(factory, role_factory, world, journal):
    before = proof.marker_proof(role_factory, world.default_bucket)
    assert (
        not before.ok
        and before.steps[0].action == "s3:PutObject"
        and "AccessDenied" in before.steps[0].detail
    )
    state = read(factory, world)
    found = findings.check(state)
    change = [
        p.change
        for p in findings.proposed_changes(state, found)
        if p.change and p.change.target.kind == ROLE_INLINE_POLICY
    ][0]
    apply.apply_change(factory, journal, change)
    after = proof.prove(factory, read(factory, world), world=world)
    assert after.method == "marker-object" and after.ok, after.steps
    assert [s.action for s in after.steps] == [
        "s3:PutObject",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:DeleteObject",
    ]
    left = factory.client("s3").list_objects_v2(Bucket=world.default_bucket).get("Contents", [])
    assert not left  # the marker was deleted
    apply.undo_last(factory, journal)
    assert not proof.marker_proof(role_factory, world.default_bucket).ok


def test_proof_for_another_role_in_the_sandbox_says_it_cannot_run(factory, world):
    state = read_state(factory, account=world.account, region=world.region, bucket=world.default_bucket,
                       role_arn=f"arn:aws:iam::{world.account}:role/other")  # fmt: skip
    p = proof.prove(factory, state, world=world)
    assert p.method == "unavailable" and not p.ok


B = "arn:aws:s3:::b"
OBJ = "arn:aws:s3:::b/sagewiz-permission-check.txt"


def test_parse_older_shape_one_result_per_action_and_resource():
    results = [
        {"EvalActionName": "s3:GetObject", "EvalResourceName": OBJ, "EvalDecision": "allowed"},
        {"EvalActionName": "s3:GetObject", "EvalResourceName": B, "EvalDecision": "implicitDeny"},
        {"EvalActionName": "s3:ListBucket", "EvalResourceName": B, "EvalDecision": "allowed"},
    ]
    got = proof.parse_simulation(results, [B, OBJ])
    assert got[("s3:GetObject", OBJ)] == "allowed" and got[("s3:GetObject", B)] == "implicitDeny"
    assert got[("s3:ListBucket", B)] == "allowed"


def test_parse_newer_shape_one_result_per_action_with_resource_specific_results():
    results = [
        {"EvalActionName": "s3:GetObject", "EvalResourceName": "arn:${Partition}:s3:::${BucketName}/${KeyName}",
         "EvalDecision": "implicitDeny", "ResourceSpecificResults": [
             {"EvalResourceName": OBJ, "EvalResourceDecision": "allowed"},
             {"EvalResourceName": B, "EvalResourceDecision": "implicitDeny"}]},
        {"EvalActionName": "s3:PutObject", "EvalResourceName": "*", "EvalDecision": "explicitDeny"},
    ]  # fmt: skip
    got = proof.parse_simulation(results, [B, OBJ])
    assert got[("s3:GetObject", OBJ)] == "allowed" and got[("s3:GetObject", B)] == "implicitDeny"
    assert got[("s3:PutObject", OBJ)] == "explicitDeny" and got[("s3:PutObject", B)] == "explicitDeny"


def test_simulate_proof_with_both_shapes(factory, world):
    """On AWS the simulator answers; here botocore's Stubber stands in for it (moto lacks it)."""
    state = read(factory, world)
    aws = SessionFactory(
        AwsTarget(region="eu-north-1", credentials=StaticCredentials("AKIAEXAMPLE", "secret"))
    )
    iam = aws.client("iam")
    obj = f"arn:aws:s3:::{world.default_bucket}/sagewiz-permission-check.txt"
    bucket = f"arn:aws:s3:::{world.default_bucket}"
    old_shape = [{"EvalActionName": a, "EvalResourceName": r, "EvalDecision": "allowed"}
                 for a in proof.SIM_ACTIONS for r in (bucket, obj)]  # fmt: skip
    new_shape = [{"EvalActionName": a, "EvalResourceName": "*", "EvalDecision": "implicitDeny",
                  "ResourceSpecificResults": [{"EvalResourceName": bucket, "EvalResourceDecision": "allowed"},
                                              {"EvalResourceName": obj, "EvalResourceDecision": "allowed" if a != "s3:PutObject" else "implicitDeny"}]}
                 for a in proof.SIM_ACTIONS]  # fmt: skip
    with Stubber(iam) as stub:
        stub.add_response(
            "simulate_custom_policy",
            {"EvaluationResults": old_shape[:4], "IsTruncated": True, "Marker": "m1"},
        )
        stub.add_response(
            "simulate_custom_policy", {"EvaluationResults": old_shape[4:], "IsTruncated": False}
        )
        stub.add_response("simulate_custom_policy", {"EvaluationResults": new_shape, "IsTruncated": False})
        first = proof.simulate_proof(aws, state)
        second = proof.simulate_proof(aws, state)
    assert first.method == "simulation" and first.ok
    put = [s for s in second.steps if s.action == "s3:PutObject"][0]
    assert not put.ok and not second.ok
    # the seed's bucket policy names the role but misses /*, so it cannot rescue PutObject
    assert put.detail == "no policy allows it"
