"""Assumptions and remedies are values: an assumption appears only when its gap exists, and a
remedy is said in each front end's own terms (a field or key in the TUI, a flag or command on the
command line, a sentence in plain text)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input, TextArea

from services.denied import DeniedCall
from services.doctor.engine import diagnose
from services.doctor.model import AssumptionReason, DoctorRequest
from services.permissions.apply import to_plan
from services.permissions.fixes.bucket_policy import bucket_policy_change
from services.remedy import Face, Remedy, RemedyKind
from services.sandbox.server import Sandbox
from tests.doctor.harness import factory_for, fresh_world
from tests.support import wait_connected
from tests.ui_text import shown
from tui.cli import main

SEED_ERROR = "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied"
KEY = "ground-truth-demo/images/a.jpg"
ROLE = "arn:aws:iam::123456789012:role/r"


def reasons(d: Any) -> set[AssumptionReason]:
    return {a.reason for a in d.assumptions}


def test_defaults_are_assumptions_only_when_the_request_did_not_say(sandbox: Sandbox) -> None:
    w = fresh_world(sandbox)
    kw = {"caller_account": w.account, "region": w.region, "sandbox": True, "cross_check": False}
    factory = factory_for(w.target())
    defaults = {"default_principal": w.role_arn, "default_bucket": w.default_bucket}

    gaps = diagnose(DoctorRequest(error_text=SEED_ERROR, **defaults), factory, **kw)
    assert gaps.verdict == "denied"
    made = reasons(gaps)
    assert {
        AssumptionReason.PRINCIPAL_FROM_WIZARD,
        AssumptionReason.BUCKET_FROM_WIZARD,
        AssumptionReason.ANY_KEY,
    } <= made
    said = next(a for a in gaps.assumptions if a.reason is AssumptionReason.BUCKET_FROM_WIZARD)
    assert w.default_bucket in said.text

    given = DoctorRequest(
        error_text=SEED_ERROR, principal=w.role_arn, bucket=w.default_bucket, key=KEY, **defaults
    )
    full = diagnose(given, factory, **kw)
    assert full.verdict == "denied"
    assert not reasons(full) & {
        AssumptionReason.PRINCIPAL_FROM_WIZARD,
        AssumptionReason.BUCKET_FROM_WIZARD,
        AssumptionReason.ANY_KEY,
    }, full.assumptions
    assert AssumptionReason.PASSED_TO_SAGEMAKER not in made

    passrole = DoctorRequest(principal=w.role_arn, action="iam:PassRole", resource=w.role_arn)
    assert AssumptionReason.PASSED_TO_SAGEMAKER in reasons(diagnose(passrole, factory, **kw))


def test_nothing_filled_in_means_nothing_assumed() -> None:
    d = diagnose(DoctorRequest(principal=ROLE, action="s3:GetObject"), None)  # stops before AWS
    assert d.verdict == "unknown" and not d.assumptions
    assert [n.remedy for n in d.needs] == [Remedy(RemedyKind.GIVE_BUCKET)]


@pytest.mark.parametrize("kind", list(RemedyKind))
def test_every_remedy_reads_differently_in_each_front_end(kind: RemedyKind) -> None:
    remedy = Remedy(kind, "bucket policy of b-ok")
    said = {face: remedy.render(face) for face in Face}
    assert len(set(said.values())) == len(Face), said
    assert all(text.strip() for text in said.values())


@pytest.mark.parametrize(
    ("kind", "flag", "field"),
    [
        (RemedyKind.GIVE_PRINCIPAL, "--principal", "Principal field"),
        (RemedyKind.GIVE_ACTION, "--action", "Action field"),
        (RemedyKind.GIVE_BUCKET, "--bucket", "Bucket field"),
    ],
)
def test_a_missing_field_is_a_flag_on_the_command_line_and_a_field_on_the_screen(
    kind: RemedyKind, flag: str, field: str
) -> None:
    remedy = Remedy(kind)
    assert flag in remedy.render(Face.CLI) and field not in remedy.render(Face.CLI)
    assert field in remedy.render(Face.TUI) and "--" not in remedy.render(Face.TUI)
    assert "--" not in remedy.render(Face.PLAIN)


def test_undo_is_a_key_in_the_tui_and_never_a_key_on_the_command_line() -> None:
    restore = bucket_policy_change("b-ok", ROLE, None)
    assert restore.old_text is None
    tui = to_plan(restore, Face.TUI).actions[0].undo
    cli = to_plan(restore, Face.CLI).actions[0].undo
    assert "(u)" in tui and "deletes the bucket policy of b-ok again" in tui
    assert "(u)" not in cli and "`sagewiz`" in cli and "deletes the bucket policy of b-ok again" in cli
    assert "(u)" not in to_plan(restore).render_text()  # --dry-run, plain mode and apply print it


def test_the_command_says_which_flag_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "--principal", ROLE, "--action", "s3:GetObject"])
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot diagnose: the bucket: give --bucket" in err


def test_from_denied_keeps_the_call_and_the_defaults() -> None:
    call = DeniedCall(
        error_text=SEED_ERROR, principal_arn=ROLE, bucket="b-ok", operation="PutObject", source_step="data"
    )
    req = DoctorRequest.from_denied(call, default_bucket="other", notebook_name="nb")
    assert (req.error_text, req.principal, req.bucket, req.operation) == (
        SEED_ERROR,
        ROLE,
        "b-ok",
        "PutObject",
    )
    assert (req.source_step, req.default_bucket, req.notebook_name, req.default_principal) == (
        "data", "other", "nb", None
    )  # fmt: skip


@pytest.fixture
def make_app(sandbox: Sandbox, journal: Any) -> Any:
    from tui.app import SagewizApp

    world = fresh_world(sandbox)

    def build() -> SagewizApp:
        return SagewizApp(world.target(), sandbox=True, world=world, journal=journal, start_step="doctor")

    return build


async def test_the_screen_names_the_field_to_fill_not_a_flag(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        screen = pilot.app.screen
        screen.query_one("#error-text", TextArea).text = "Access Denied"
        screen.query_one("#action", Input).value = ""
        await pilot.press("ctrl+r")
        await pilot.pause()
        said = shown(screen.query_one("#doctor-error"))
        assert "fill in the Action field" in said, said
        assert "--action" not in said
