"""`sagewiz doctor` per the contract, the cross-check's two response shapes, the admin report."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from services.doctor.crosscheck import read_decision, simulate
from services.doctor.engine import diagnose
from services.doctor.model import DoctorRequest
from services.doctor.report import admin_report, redact, render_text
from services.sandbox.server import Sandbox
from tests.doctor.harness import factory_for, fresh_world
from tui.cli import main

SEED_ERROR = "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied"


def test_doctor_json_contract_on_the_seed(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["doctor", "--sandbox", "--json", "--error", SEED_ERROR, "--key", "ground-truth-demo/images/a.jpg"]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert set(out) == {"verdict", "principal", "action", "resource", "findings"}
    assert out["verdict"] == "denied" and out["action"] == "s3:PutObject"
    assert out["principal"].endswith(":role/service-role/SageMaker-tt")
    assert out["resource"] == "arn:aws:s3:::sagemaker-eu-north-1-123456789012/ground-truth-demo/images/a.jpg"
    blocking = [f["blocking"] for f in out["findings"]]
    assert blocking == sorted(blocking, reverse=True), "blocking findings first"
    first = out["findings"][0]
    assert first["cause"] == "identity-wrong-resource" and first["fix"]["changes"]
    # In one account either grant is enough: the bucket policy's is an alternative, not a second cause.
    assert set(first) == {"cause", "blocking", "summary", "evidence", "fix", "alternatives", "recommended"}
    assert [a["cause"] for a in first["alternatives"]] == ["bucket-policy-wrong-resource"]
    assert "does not widen the bucket policy" in first["recommended"]
    assert sum(f["blocking"] for f in out["findings"]) == 1
    assert set(first["fix"]) == {"description", "changes"}
    bpa = [f for f in out["findings"] if f["cause"] == "block-public-access"]
    assert bpa and not bpa[0]["blocking"] and bpa[0]["fix"] is None


def test_doctor_text_and_allowed_exit_zero(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Through the standard AWS variables to the running emulator (as `sagewiz sandbox serve` users do).
    w = fresh_world(sandbox)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", w.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", w.admin.secret_key)
    monkeypatch.setenv("AWS_REGION", w.region)
    monkeypatch.setenv("AWS_ENDPOINT_URL", w.endpoint)
    code = main(["doctor", "--principal", "arn:aws:iam::123456789012:role/service-role/SageMaker-tt",
                 "--bucket", "sagemaker-sample-files", "--key", "datasets/image/caltech-101/inference/x.jpg", "--action", "s3:GetObject"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("sagewiz doctor: ALLOWED")


@pytest.mark.parametrize(
    "argv",
    [
        ["doctor"],
        ["doctor", "--error", "x", "--error-file", "y"],
        ["doctor", "--error-file", "/nonexistent/file"],
        ["doctor", "--error", "complete garbage"],
        [
            "doctor",
            "--principal",
            "arn:aws-cn:iam::123456789012:role/r",
            "--bucket",
            "b-ok",
            "--action",
            "s3:GetObject",
        ],
        [
            "doctor",
            "--principal",
            "arn:aws:iam::123456789012:role/r",
            "--bucket",
            "NO",
            "--action",
            "s3:GetObject",
        ],
    ],
)
def test_bad_usage_exits_2_without_aws(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("sagewiz doctor:") and "Traceback" not in err


def test_unknown_json_says_what_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "doctor",
                "--json",
                "--error",
                "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied",
            ]
        )
        == 2
    )
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "unknown" and out["action"] == "s3:PutObject" and out["findings"] == []


def test_credentials_text_needs_no_connection(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "doctor",
            "--json",
            "--error",
            "An error occurred (ExpiredToken) when calling the GetObject operation: The provided token has expired.",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["findings"][0]["cause"] == "invalid-credentials"


# -- cross-check ---------------------------------------------------------------------------------------------
ARN = "arn:aws:s3:::b/k"


def test_read_decision_old_and_new_shapes() -> None:
    old = {
        "EvaluationResults": [
            {"EvalActionName": "s3:PutObject", "EvalResourceName": ARN, "EvalDecision": "implicitDeny"}
        ]
    }
    new = {"EvaluationResults": [{"EvalActionName": "s3:PutObject", "EvalResourceName": "arn:${Partition}:s3:::${BucketName}/${KeyName}",
                                  "EvalDecision": "implicitDeny",
                                  "ResourceSpecificResults": [{"EvalResourceName": ARN, "EvalResourceDecision": "allowed"}]}]}  # fmt: skip
    assert read_decision(old, "s3:putobject", ARN) == "implicitDeny"
    assert read_decision(new, "s3:PutObject", ARN) == "allowed"
    assert read_decision({"EvaluationResults": []}, "s3:PutObject", ARN) is None


class _Factory:
    def __init__(self, client: Any) -> None:
        self._c = client

    def client(self, name: str) -> Any:
        return self._c


def _seed_diag(sandbox: Sandbox) -> Any:
    w = fresh_world(sandbox)
    f = factory_for(w.target())
    return diagnose(DoctorRequest(error_text=SEED_ERROR, default_principal=w.role_arn, default_bucket=w.default_bucket, key="a/b"),
                    f, caller_account=w.account, region=w.region, sandbox=True, cross_check=False)  # fmt: skip


def test_simulator_agreement_disagreement_and_refusal(sandbox: Sandbox) -> None:
    import boto3

    d = _seed_diag(sandbox)
    ctx = d.decision.context
    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    resource = ctx.resource
    old_shape = {
        "EvaluationResults": [
            {"EvalActionName": "s3:PutObject", "EvalResourceName": resource, "EvalDecision": "implicitDeny"}
        ],
        "IsTruncated": False,
    }
    new_shape_allowed = {"EvaluationResults": [{"EvalActionName": "s3:PutObject", "EvalResourceName": "*", "EvalDecision": "allowed",
                                                "ResourceSpecificResults": [{"EvalResourceName": resource, "EvalResourceDecision": "allowed"}]}], "IsTruncated": False}  # fmt: skip
    with Stubber(iam) as stub:
        # 1. the current API takes the bucket policy with the role as caller: the old shape, agreeing
        stub.add_response("simulate_custom_policy", old_shape)
        # 2. the new shape, disagreeing
        stub.add_response("simulate_custom_policy", new_shape_allowed)
        # 3. the older API refuses a resource policy for a role: retried on the identity side only
        stub.add_client_error(
            "simulate_custom_policy",
            "InvalidInput",
            "Simulation of resource-based policies isn't supported for IAM roles",
        )
        stub.add_response("simulate_custom_policy", old_shape)
        # 4. the caller may not simulate
        stub.add_client_error(
            "simulate_custom_policy",
            "AccessDenied",
            "User is not authorized to perform: iam:SimulateCustomPolicy",
        )
        agree = simulate(_Factory(iam), d.evidence, ctx, d.decision)
        differ = simulate(_Factory(iam), d.evidence, ctx, d.decision)
        fallback = simulate(_Factory(iam), d.evidence, ctx, d.decision)
        refused = simulate(_Factory(iam), d.evidence, ctx, d.decision)
    assert agree.ran and agree.agrees is True and "bucket policy" in agree.message
    assert differ.ran and differ.agrees is False and "DISAGREEMENT" in differ.message
    assert (
        fallback.ran
        and fallback.agrees is True
        and "identity side only" in fallback.message
        and fallback.calls == 2
    )
    assert not refused.ran and "could not run" in refused.message and "may not call" in refused.message


def test_sandbox_says_the_simulator_check_could_not_run(sandbox: Sandbox) -> None:
    w = fresh_world(sandbox)
    d = diagnose(DoctorRequest(error_text=SEED_ERROR, default_principal=w.role_arn, default_bucket=w.default_bucket),
                 factory_for(w.target()), caller_account=w.account, region=w.region, sandbox=True)  # fmt: skip
    assert d.cross_check and not d.cross_check.ran and "could not run" in d.cross_check.message
    assert "Cross-check" in render_text(d)


# -- admin report -------------------------------------------------------------------------------------------
def test_admin_report_is_redacted_and_names_the_policy(sandbox: Sandbox) -> None:
    w = fresh_world(sandbox)
    text = ('User: arn:aws:sts::123456789012:assumed-role/SageMaker-tt/jane.doe@example.com is not authorized to perform: '
            f's3:PutObject on resource: "arn:aws:s3:::{w.default_bucket}/k" because no identity-based policy allows the s3:PutObject action')  # fmt: skip
    d = diagnose(
        DoctorRequest(error_text=text),
        factory_for(w.target()),
        caller_account=w.account,
        region=w.region,
        sandbox=True,
    )
    md = admin_report(d, when="2026-11-27")
    assert "jane.doe" not in md and "<session>" in md
    assert "identity-wrong-resource" in md and '"DefaultBucket"' in md
    # Issue 14: the grant is for the refused object only (it was bucket/*: read/write/delete on all)
    assert "```json" in md and f'"Resource": "arn:aws:s3:::{w.default_bucket}/k"' in md
    assert f"arn:aws:s3:::{w.default_bucket}/*" not in md.split("## What to change", 1)[1]
    assert "Block Public Access" in md  # listed as checked and not the cause


def test_redact() -> None:
    # Issue 14: secrets by their known shapes and positions (a bare 40-character run is no longer
    # taken for a secret: ARNs, bucket and key names were being "(redacted)").
    s = redact("AKIAABCDEFGHIJKLMNOP secret_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY 10.1.2.3 a@b.co")
    assert "AKIAABCDEFGHIJKLMNOP" not in s and "EXAMPLEKEY" not in s and "10.1.x.x" in s and "a@b.co" not in s
