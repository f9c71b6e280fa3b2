"""The doctor screen with keys (Pilot) in the seeded sandbox: paste the seed's error, see the
causes with evidence, apply the fix, see the upload as the role succeed; a call handed over from
another screen; bad input said before any AWS call; and a snapshot of how the diagnosis looks."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input, TextArea

from screens.doctor import DoctorStep
from services.denied import DeniedCall
from services.session import SessionFactory
from tests.doctor.harness import fresh_world
from tests.support import eventually, wait_connected
from tests.ui_text import shown
from tui.focus import is_text_field
from tui.steps import StepState

SIZE = (120, 40)
SEED_ERROR = "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied"


@pytest.fixture
def world(sandbox: Any) -> Any:
    """The seeded world restored cheaply (see harness.fresh_world) instead of a full reset."""
    return fresh_world(sandbox)


@pytest.fixture
def make_app(world: Any, journal: Any) -> Any:
    from tui.app import SagewizApp

    def build(start_step: str = "doctor") -> SagewizApp:
        return SagewizApp(world.target(), sandbox=True, world=world, journal=journal, start_step=start_step)

    return build


async def diagnosed(pilot: Any) -> DoctorStep:
    screen = pilot.app.screen
    assert isinstance(screen, DoctorStep)
    await eventually(pilot, lambda: screen.diagnosis is not None and not screen.busy)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return screen


async def paste_and_diagnose(
    pilot: Any, text: str = SEED_ERROR, key: str = "ground-truth-demo/images/a.jpg"
) -> DoctorStep:
    await wait_connected(pilot)
    screen = pilot.app.screen
    screen.query_one("#error-text", TextArea).text = text
    screen.query_one("#key", Input).value = key
    await pilot.press("ctrl+r")
    return await diagnosed(pilot)


async def test_seed_error_to_fix_to_upload(make_app: Any, world: Any) -> None:
    app = make_app(start_step="doctor")
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        assert app.step_states["doctor"] is StepState.NOT_STARTED  # opening it diagnoses nothing
        screen = await paste_and_diagnose(pilot)
        assert app.step_states["doctor"] is StepState.ATTENTION  # the request is denied
        text = shown(screen.query_one("#doctor-verdict"))
        assert "DENIED" in text and "identity-wrong-resource" in text and '"DefaultBucket"' in text
        assert "bucket-policy-wrong-resource" in text
        assert "[not the cause] block-public-access" in text
        screen.set_focus(None)
        await pilot.press("f")
        await eventually(pilot, lambda: type(app.screen).__name__ == "ConfirmPlanScreen")
        assert "SANDBOX" in shown(app.screen.query_one("#confirm-where"))
        # The dialog focuses the plan (it scrolls at once); `a` applies, as the footer says.
        await pilot.press("a")
        await eventually(
            pilot,
            lambda: (
                screen.diagnosis is not None and screen.diagnosis.verdict == "allowed" and not screen.busy
            ),
        )
        await pilot.pause()
        assert app.step_states["doctor"] is StepState.DONE  # diagnosed again: nothing blocks
        after = shown(screen.query_one("#doctor-before-after"))
        assert "before: DENIED" in after and "after:  ALLOWED" in after
        assert "live check as the principal: PutObject" in after and "succeeded" in after
        # The upload as the role now succeeds for real, and the journal holds the old policy.
        role = SessionFactory(world.role_target())
        role.client("s3").put_object(
            Bucket=world.default_bucket, Key="ground-truth-demo/images/a.jpg", Body=b"ok"
        )
        assert app.journal.entries("policy-replaced", scope=False)
        # Undo restores the seed's policy: the role is refused again.
        screen.set_focus(None)
        await pilot.press("u")
        await pilot.pause()
        await eventually(pilot, lambda: not screen.busy)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen, f"undo failed: {type(app.screen).__name__}"
        try:
            role.client("s3").put_object(
                Bucket=world.default_bucket, Key="ground-truth-demo/images/b.jpg", Body=b"no"
            )
            raise AssertionError("undo did not restore the old policy")
        except Exception as exc:
            assert "AccessDenied" in str(exc)


async def test_call_handed_over_from_another_screen(make_app: Any, world: Any) -> None:
    app = make_app(start_step="connect")
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        app.open_doctor(DeniedCall(error_text=SEED_ERROR, principal_arn=world.role_arn, bucket=world.default_bucket,
                                   key="ground-truth-demo/images/x.jpg", operation="PutObject", source_step="data"))  # fmt: skip
        await eventually(pilot, lambda: isinstance(app.screen, DoctorStep))
        screen = await diagnosed(pilot)
        assert app.take_pending_doctor() is None  # consumed on mount
        assert screen.query_one("#principal", Input).value == world.role_arn
        assert screen.diagnosis.first_blocking.cause == "identity-wrong-resource"
        # Handed a call, the doctor opens on its content (not the filled box): ctrl+r, f act at once.
        assert screen.focused is not None and not is_text_field(screen.focused)


async def test_pasted_text_and_results_survive_leaving_the_step(make_app: Any) -> None:
    app = make_app(start_step="doctor")
    async with app.run_test(size=SIZE) as pilot:
        first = await paste_and_diagnose(pilot)
        verdict = shown(first.query_one("#doctor-verdict"))
        assert "DENIED" in verdict
        await pilot.press("escape")  # out of the error box, so the digit switches steps
        await pilot.press("3")
        await eventually(pilot, lambda: app.current_step == "bucket")
        await pilot.press("6")
        await eventually(pilot, lambda: isinstance(app.screen, DoctorStep) and app.screen is not first)
        await pilot.pause()
        again = app.screen
        assert again.query_one("#error-text", TextArea).text == SEED_ERROR
        assert again.query_one("#key", Input).value == "ground-truth-demo/images/a.jpg"
        assert again.query_one("#doctor-results").display
        assert shown(again.query_one("#doctor-verdict")) == verdict


async def test_bad_input_is_said_before_any_call(make_app: Any) -> None:
    app = make_app(start_step="doctor")
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        screen = pilot.app.screen
        screen.query_one("#error-text", TextArea).text = "my notebook says something about forbidden??"
        screen.query_one("#bucket", Input).value = "Not_A_Bucket"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert not screen.busy
        assert "not a valid S3 bucket name" in shown(screen.query_one("#doctor-error"))
        assert "UNKNOWN" in shown(screen.query_one("#doctor-verdict"))


async def test_send_to_admin_report(make_app: Any, tmp_path: Any) -> None:
    app = make_app(start_step="doctor")
    async with app.run_test(size=SIZE) as pilot:
        screen = await paste_and_diagnose(pilot)
        screen.set_focus(None)
        await pilot.press("a")
        await eventually(pilot, lambda: type(app.screen).__name__ == "AdminReportScreen")
        md = app.screen.query_one("#admin-text", TextArea).text
        assert md.startswith("# Access denied") and "```json" in md
        await pilot.press("s")
        await pilot.pause()
        assert "Saved to" in shown(app.screen.query_one("#admin-saved"))


def test_snapshot_seed_diagnosis(snap_compare: Any, make_app: Any) -> None:
    async def run_before(pilot: Any) -> None:
        screen = await paste_and_diagnose(pilot)
        screen.set_focus(None)  # no blinking cursor in the picture
        await pilot.pause()

    assert snap_compare(make_app(start_step="doctor"), terminal_size=SIZE, run_before=run_before)


async def test_the_screen_and_the_command_line_diagnose_alike(
    make_app: Any, world: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The doctor's two faces over the same pasted error: `sagewiz doctor --json` and the Doctor
    screen name the same principal, action, resource, causes in the same order, and the same fixes;
    every cause and summary the command line prints is on the screen."""
    import json

    from tui.cli import main

    key = "ground-truth-demo/images/a.jpg"
    app = make_app(start_step="doctor")
    async with app.run_test(size=SIZE) as pilot:
        screen = await paste_and_diagnose(pilot, SEED_ERROR, key)
        d = screen.diagnosis
        assert d is not None
        shown_text = shown(screen.query_one("#doctor-verdict"))
    code = main(["doctor", "--sandbox", "--json", "--error", SEED_ERROR, "--key", key])
    cli = json.loads(capsys.readouterr().out)
    assert code == 1 and cli["verdict"] == "denied"
    ours = json.loads(json.dumps(d.to_json(), default=str))
    assert {k: ours[k] for k in ("verdict", "principal", "action", "resource")} == {
        k: cli[k] for k in ("verdict", "principal", "action", "resource")
    }
    assert [(f["cause"], f["blocking"], f["fix"]) for f in ours["findings"]] == [
        (f["cause"], f["blocking"], f["fix"]) for f in cli["findings"]
    ]
    at = 0
    for finding in cli["findings"]:  # in the command line's order, each cause and its summary
        at = shown_text.index(finding["cause"], at)
        assert " ".join(finding["summary"].split()) in " ".join(shown_text.split()), finding["summary"]
