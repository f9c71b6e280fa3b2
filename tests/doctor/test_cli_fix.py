"""`sagewiz doctor --fix`: the recommended fix through the Doctor step's plan, from the command line.

Run as a user runs it (tui.cli.main against this process's sandbox): the seed's broken setup, the
plan printed, confirmed or not, applied, re-checked, and the upload retried live as the role.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from services.journal import Journal
from services.sandbox.seed import ROLE_NAME, SAMPLE_BUCKET
from services.sandbox.server import Sandbox
from services.sandbox.world import SandboxWorld
from services.session import SessionFactory
from tests.doctor.harness import fresh_world
from tui.cli import main

SEED_ERROR = "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied"
KEY = "ground-truth-demo/images/a.jpg"
SEED_ARGS = ["doctor", "--sandbox", "--error", SEED_ERROR, "--key", KEY, "--fix"]


@pytest.fixture
def seeded(sandbox: Sandbox) -> SandboxWorld:
    return fresh_world(sandbox)


@pytest.fixture
def as_admin(seeded: SandboxWorld, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The seeded world reached through the standard AWS variables (as `sagewiz sandbox serve`
    users do): the same world before and after the command, unlike `--sandbox`, which seeds anew.
    The doctor arguments for the seed's refused upload."""
    w = seeded
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", w.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", w.admin.secret_key)
    monkeypatch.setenv("AWS_REGION", w.region)
    monkeypatch.setenv("AWS_ENDPOINT_URL", w.endpoint)
    return ["doctor", "--error", SEED_ERROR, "--principal", w.role_arn, "--bucket", w.default_bucket,
            "--key", KEY, "--fix"]  # fmt: skip


def documents(w: SandboxWorld) -> dict[str, Any]:
    """Every document a doctor fix could change: the role's policies and the bucket policy."""
    f = SessionFactory(w.target())
    iam, s3 = f.client("iam"), f.client("s3")
    names = iam.list_role_policies(RoleName=ROLE_NAME)["PolicyNames"]
    inline = {n: iam.get_role_policy(RoleName=ROLE_NAME, PolicyName=n)["PolicyDocument"] for n in names}
    attached = [
        p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=ROLE_NAME)["AttachedPolicies"]
    ]
    return {
        "inline": inline,
        "attached": attached,
        "bucket": s3.get_bucket_policy(Bucket=w.default_bucket)["Policy"],
    }


def upload_as_role(w: SandboxWorld) -> str:
    """What AWS says to the upload the seed refuses, made as the execution role."""
    s3 = SessionFactory(w.role_target()).client("s3")
    try:
        s3.put_object(Bucket=w.default_bucket, Key="ground-truth-demo/images/probe-test.jpg", Body=b"x")
    except Exception as exc:
        return str(getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__)
    return "ok"


class Terminal(io.StringIO):
    """Standard input that is a terminal, holding what the person types."""

    def isatty(self) -> bool:
        return True


def test_fix_yes_applies_rechecks_and_the_live_upload_works(
    sandbox: Sandbox, seeded: SandboxWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    assert upload_as_role(seeded) == "AccessDenied"
    code = main([*SEED_ARGS, "--yes"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert out.startswith("sagewiz doctor: DENIED")
    assert "The fix, for account 123456789012 in eu-north-1 (SANDBOX)" in out
    assert "call: iam:PutRolePolicy" in out and "undo:" in out
    assert "applied: " in out and "after: ALLOWED" in out
    assert "live check as the principal: PutObject" in out and "succeeded" in out
    assert "the access is allowed after the fix" in out and "Traceback" not in err
    used = sandbox.world  # `--sandbox` seeded the world it fixed
    assert used is not None and upload_as_role(used) == "ok"
    # The old document is in the journal (bound to the account and region), so undo can restore it.
    replaced = Journal().entries("policy-replaced", scope=False)
    assert len(replaced) == 1 and replaced[0].account == used.account and replaced[0].region == used.region


def test_fix_json_reports_plan_after_and_probe(
    seeded: SandboxWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*SEED_ARGS, "--yes", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(out) == {"result", "message", "before", "plan", "applied", "after", "probe"}
    assert out["result"] == "allowed"
    assert out["before"]["verdict"] == "denied" and out["after"]["verdict"] == "allowed"
    assert [a["call"] for a in out["plan"]["actions"]] == ["iam:PutRolePolicy"]
    assert len(out["applied"]) == 1
    assert out["probe"]["ran"] is True and out["probe"]["allowed"] is True


def test_dry_run_prints_the_plan_and_changes_nothing(
    seeded: SandboxWorld, as_admin: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    before = documents(seeded)
    code = main([*as_admin, "--dry-run"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "call: iam:PutRolePolicy" in out and "applied:" not in out
    assert "dry run: nothing was changed" in err
    assert documents(seeded) == before and upload_as_role(seeded) == "AccessDenied"
    assert Journal().entries("policy-replaced", scope=False) == []


def test_declining_changes_nothing(
    seeded: SandboxWorld,
    as_admin: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = documents(seeded)
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    code = main(as_admin)
    out, err = capsys.readouterr()
    assert code == 1
    assert "call: iam:PutRolePolicy" in out
    assert "Apply this change to account 123456789012 in eu-north-1" in err
    assert "declined: nothing was changed" in err
    assert documents(seeded) == before and upload_as_role(seeded) == "AccessDenied"


def test_answering_yes_at_the_terminal_applies(
    seeded: SandboxWorld,
    as_admin: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    code = main(as_admin)
    out, _ = capsys.readouterr()
    # The caller is not the role, so there is no live retry here: the verdict read back decides.
    assert code == 0, out
    assert "after: ALLOWED" in out and "live check: not possible here" in out
    assert upload_as_role(seeded) == "ok"


def test_without_a_terminal_or_yes_it_does_not_wait(
    seeded: SandboxWorld,
    as_admin: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = documents(seeded)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # not a terminal: nothing is read from it
    code = main(as_admin)
    _, err = capsys.readouterr()
    assert code == 2
    assert "pass --yes" in err and "Apply this change" not in err
    assert documents(seeded) == before


def test_already_allowed_is_exit_zero(
    seeded: SandboxWorld, as_admin: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["doctor", "--principal", seeded.role_arn, "--bucket", SAMPLE_BUCKET, "--action", "s3:GetObject",
                 "--key", "datasets/image/caltech-101/inference/x.jpg", "--fix", "--yes"])  # fmt: skip
    out, _ = capsys.readouterr()
    assert code == 0, out
    assert out.startswith("sagewiz doctor: ALLOWED") and "nothing to fix" in out
    assert Journal().entries("policy-replaced", scope=False) == []


def test_nothing_appliable_is_exit_two_and_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    # Expired credentials: no policy is at fault, so there is no fix sagewiz could apply (no AWS call).
    expired = "An error occurred (ExpiredToken) when calling the GetObject operation: The provided token has expired."
    code = main(["doctor", "--error", expired, "--fix", "--yes", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 2
    assert out["result"] == "not-applicable" and out["plan"] is None and out["applied"] == []


@pytest.mark.parametrize("flag", ["--yes", "--dry-run"])
def test_yes_and_dry_run_need_fix(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--error", SEED_ERROR, flag]) == 2
    assert "go with --fix" in capsys.readouterr().err


def test_a_write_to_another_accounts_bucket_is_not_fixed_here(
    seeded: SandboxWorld, as_admin: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # The sample bucket belongs to the sandbox's second account, as in AWS: granting the role a write
    # there would be half a fix at best (the owner's bucket policy must allow it too), so none is applied.
    before = documents(seeded)
    code = main(["doctor", "--principal", seeded.role_arn, "--bucket", SAMPLE_BUCKET, "--key", "datasets/x.jpg",
                 "--action", "s3:PutObject", "--fix", "--yes", "--json"])  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert code == 2
    assert out["result"] == "not-applicable" and out["plan"] is None and out["applied"] == []
    causes = [f["cause"] for f in out["before"]["findings"]]
    assert "bucket-owned-by-other-account" in causes
    assert documents(seeded) == before
    assert Journal().entries("policy-replaced", scope=False) == []


def test_a_fix_for_another_accounts_role_is_never_applied(seeded: SandboxWorld, journal: Journal) -> None:
    """Defence in depth under every front end: a role of another account that shares a name with
    one here (SageMaker-tt) must not get the change through this account's IAM."""
    from services.doctor.fixes import fix_plan
    from services.doctor.model import Diagnosis, Finding, Fix
    from services.errors import SagewizError
    from services.flow import doctor
    from services.flow.context import FlowContext
    from services.flow.outcome import Verdict
    from services.permissions.fixes.change import ROLE_INLINE_POLICY, PolicyChange, PolicyTarget
    from services.remedy import Face
    from services.sandbox.world import SAMPLE_ACCOUNT

    foreign_role = f"arn:aws:iam::{SAMPLE_ACCOUNT}:role/service-role/{ROLE_NAME}"
    grant = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}],
    }
    change = PolicyChange(
        target=PolicyTarget(ROLE_INLINE_POLICY, role_name=ROLE_NAME, policy_name="sagewiz-doctor-grants"),
        title="Add a statement", reason="test", old_text=None, new_text=json.dumps(grant),
    )  # fmt: skip
    fix = Fix(description="grant it", policy_changes=(change,))
    d = Diagnosis(verdict="denied", principal=foreign_role, action="s3:PutObject", resource="arn:aws:s3:::b/k",
                  findings=(Finding("identity-no-allow", True, "no allow", fix=fix),), role_arn=foreign_role)  # fmt: skip
    plan = doctor.DoctorPlan(
        verdict=Verdict.SEND, message="m", requests=fix_plan(fix, Face.CLI), diagnosis=d, fix=fix
    )
    ctx = FlowContext(
        SessionFactory(seeded.target()), seeded.account, seeded.region, journal, seeded.admin_arn
    )
    before = documents(seeded)
    assert doctor.foreign_targets(ctx, plan) == (
        f"inline policy sagewiz-doctor-grants of role {ROLE_NAME} (account {SAMPLE_ACCOUNT})",
    )
    with pytest.raises(SagewizError, match="nothing was changed"):
        doctor.apply(ctx, plan)
    assert documents(seeded) == before and journal.entries("policy-replaced", scope=False) == []
