"""The Permissions step with keys (Pilot) in the seeded sandbox, and snapshots of how it looks."""

from __future__ import annotations

import json
from typing import Any

from screens.permissions import PermissionsStep
from services.permissions import apply
from services.permissions.fixes.change import BUCKET_POLICY, ROLE_INLINE_POLICY, PolicyTarget
from services.sandbox.seed import bucket_policy, role_policy
from tests.support import eventually, wait_connected
from tests.ui_text import shown

SIZE = (120, 40)


async def checked(pilot: Any) -> PermissionsStep:
    await wait_connected(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, PermissionsStep)
    await eventually(pilot, lambda: screen.perm_state is not None and not screen.busy)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return screen


async def settled(pilot: Any, screen: PermissionsStep, before: int) -> None:
    """Wait for the re-check that follows an apply or undo."""
    await eventually(pilot, lambda: screen.checks_done > before and not screen.busy)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def apply_first_fix(pilot: Any, screen: PermissionsStep) -> str:
    app = pilot.app
    await pilot.press("f")
    await eventually(pilot, lambda: type(app.screen).__name__ == "FixReviewScreen")
    diff = shown(app.screen.query_one("#review-diff"))
    await pilot.press("a")
    await eventually(pilot, lambda: type(app.screen).__name__ == "ConfirmPlanScreen")
    where = shown(app.screen.query_one("#confirm-where"))
    assert "account 123456789012" in where and "eu-north-1" in where and "sagewiz-admin" in where
    before = screen.checks_done
    await pilot.click("#apply")
    await settled(pilot, screen, before)
    return diff + "\n" + where


def bpa_on(factory: Any, world: Any) -> bool:
    conf = factory.client("s3").get_public_access_block(Bucket=world.default_bucket)[
        "PublicAccessBlockConfiguration"
    ]
    acct = factory.client("s3control").get_public_access_block(AccountId=world.account)[
        "PublicAccessBlockConfiguration"
    ]
    return all(conf.values()) and all(acct.values())


async def test_new_user_sees_why_fixes_with_diffs_proves_and_undoes(
    make_app, factory, world, journal
) -> None:
    app = make_app(start_step="permissions")
    async with app.run_test(size=SIZE) as pilot:
        screen = await checked(pilot)
        # why uploads as the role fail: the findings and a real denied PutObject as the role
        titles = [f.title for f in screen.findings]
        assert "Object actions granted on the bucket ARN instead of bucket/*" in titles
        proof = shown(screen.query_one("#perm-proof"))
        assert "s3:PutObject" in proof and "AccessDenied" in proof and "the role is denied" in proof
        assert not screen.proof_now.ok
        detail = shown(screen.query_one("#perm-finding-text"))
        assert "never applies" in detail
        # fix 1: the role's inline policy, reviewed as a diff
        text = await apply_first_fix(pilot, screen)
        assert '+      "Resource": "arn:aws:s3:::sagemaker-eu-north-1-123456789012/*"' in text
        assert "inline policy SageMaker-tt-access of role SageMaker-tt" in text
        assert screen.proof_now.ok and not screen.proof_before.ok
        proof = shown(screen.query_one("#perm-proof"))
        assert "Before" in proof and "✓ allowed" in proof and "the role can use the bucket" in proof
        # fix 2: the bucket policy
        text = await apply_first_fix(pilot, screen)
        assert f"bucket policy of {world.default_bucket}" in text
        # fix 3: what the notebook's code needs of the role to start the flow's jobs itself
        assert "The role cannot pass itself to SageMaker for its jobs" in [f.title for f in screen.findings]
        text = await apply_first_fix(pilot, screen)
        assert "inline policy sagewiz-least-privilege of role SageMaker-tt" in text
        assert '"iam:PassedToService": "sagemaker.amazonaws.com"' in text
        assert not [p for p in screen.proposals if p.change is not None]
        assert not [f for f in screen.findings if f.severity == "error"]
        assert bpa_on(factory, world)  # Block Public Access stays on
        assert app.step_states["permissions"].value == "done"
        # The same policies when the proof cannot run (no in-process sandbox to sign as the role, as
        # against `sandbox serve`): nothing is proven, so the step is not done.
        app.world = None
        before = screen.checks_done
        await pilot.press("p")
        await settled(pilot, screen, before)
        assert screen.proof_now is not None and screen.proof_now.method == "unavailable"
        assert app.step_states["permissions"].value == "needs attention"
        app.world = world
        # undo each change, newest first, exactly
        for expected, target in (
            (None, PolicyTarget(ROLE_INLINE_POLICY, role_name=world.role_name, policy_name="sagewiz-least-privilege")),
            (json.dumps(bucket_policy(world.default_bucket, world.role_arn)), PolicyTarget(BUCKET_POLICY, bucket=world.default_bucket)),
            (json.dumps(role_policy(world.default_bucket)), PolicyTarget(ROLE_INLINE_POLICY, role_name=world.role_name, policy_name="SageMaker-tt-access")),
        ):  # fmt: skip
            changed = apply.read_current(factory, target)
            await pilot.press("u")  # a plan first: nothing is written before the confirmation
            await eventually(pilot, lambda: type(app.screen).__name__ == "ConfirmPlanScreen")
            assert apply.read_current(factory, target) == changed
            plan = shown(app.screen.query_one("#plan-text"))
            assert "Undo: " in plan and target.describe() in plan
            assert f"{target.describe()} (current)" in plan and "-" in plan and "+" in plan
            assert "account 123456789012" in shown(app.screen.query_one("#confirm-where"))
            before = screen.checks_done
            await pilot.click("#apply")
            await settled(pilot, screen, before)  # then the re-check
            assert apply.read_current(factory, target) == expected
        assert not screen.proof_now.ok
        await pilot.press("u")  # nothing left: says so, changes nothing
        await pilot.pause()
        assert app.screen is screen
        assert bpa_on(factory, world)


async def test_undo_cancelled_at_its_confirmation_changes_nothing(make_app, factory, world) -> None:
    app = make_app(start_step="permissions")
    async with app.run_test(size=SIZE) as pilot:
        screen = await checked(pilot)
        await apply_first_fix(pilot, screen)
        target = PolicyTarget(
            ROLE_INLINE_POLICY, role_name=world.role_name, policy_name="SageMaker-tt-access"
        )
        fixed = apply.read_current(factory, target)
        assert fixed != json.dumps(role_policy(world.default_bucket))
        await pilot.press("u")
        await eventually(pilot, lambda: type(app.screen).__name__ == "ConfirmPlanScreen")
        plan = shown(app.screen.query_one("#plan-text"))
        assert "iam:PutRolePolicy" in plan
        await pilot.press("escape")
        await eventually(pilot, lambda: app.screen is screen)
        await pilot.app.workers.wait_for_complete()
        assert apply.read_current(factory, target) == fixed
        assert app.journal.last_policy_change() is not None  # still there to undo


async def test_a_change_made_meanwhile_is_refused_and_replanned(make_app, factory, world) -> None:
    app = make_app(start_step="permissions")
    async with app.run_test(size=SIZE) as pilot:
        screen = await checked(pilot)
        bucket_fix = [
            n for n, p in enumerate(screen.proposals) if p.change and p.change.target.kind == "bucket-policy"
        ][0]
        screen.action_review_fix(bucket_fix)
        await eventually(pilot, lambda: type(app.screen).__name__ == "FixReviewScreen")
        meanwhile = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "Other", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{world.account}:role/x"}, "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{world.default_bucket}/x/*"}]})  # fmt: skip
        factory.client("s3").put_bucket_policy(Bucket=world.default_bucket, Policy=meanwhile)
        await pilot.press("a")
        await eventually(pilot, lambda: type(app.screen).__name__ == "ConfirmPlanScreen")
        before = screen.checks_done
        await pilot.click("#apply")
        await settled(pilot, screen, before)
        target = PolicyTarget(BUCKET_POLICY, bucket=world.default_bucket)
        assert apply.read_current(factory, target) == meanwhile  # nothing was overwritten
        assert screen.perm_state.bucket_policy.text == meanwhile  # re-read and re-planned
        assert app.journal.last_policy_change() is None


async def test_bad_input_is_explained_before_any_call_and_public_access_needs_the_typed_word(
    make_app, factory, world
) -> None:
    app = make_app(start_step="permissions")
    async with app.run_test(size=SIZE) as pilot:
        screen = await checked(pilot)
        # public access: only behind a warning and the typed word
        await pilot.press("P")
        await eventually(pilot, lambda: type(app.screen).__name__ == "ConfirmPlanScreen")
        assert "SECURITY WARNING" in shown(app.screen.query_one("#confirm-warning"))
        app.screen.query_one("#apply").press()  # nothing typed: said, and the dialog stays
        await pilot.pause()
        assert "does not match" in shown(app.screen.query_one("#confirm-mismatch"))
        await pilot.press("escape")
        await eventually(pilot, lambda: app.screen is screen)
        assert bpa_on(factory, world)
        # a name that cannot be a role's: explained, no check runs
        done = screen.checks_done
        screen.query_one("#perm-role").value = "Sage Maker"
        await pilot.press("r")
        await pilot.pause()
        assert "only letters, digits" in shown(screen.query_one("#perm-input-error"))
        assert screen.checks_done == done


async def test_a_role_given_by_name_or_by_an_arn_without_its_path_is_checked_as_the_real_role(
    make_app, world
) -> None:
    app = make_app(start_step="permissions")
    async with app.run_test(size=SIZE) as pilot:
        screen = await checked(pilot)
        role = screen.query_one("#perm-role")
        for given in ("SageMaker-tt", f"arn:aws:iam::{world.account}:role/SageMaker-tt"):
            role.value = ""
            role.focus()
            before = screen.checks_done
            await pilot.press(*given, "enter")
            await settled(pilot, screen, before)
            assert role.value == given  # what was typed stays
            assert screen.perm_state.role_arn == world.role_arn
            assert screen.state.role_arn == world.role_arn  # the later steps get the real ARN
            assert shown(screen.query_one("#perm-input-error")) == ""
            proof = shown(screen.query_one("#perm-proof"))
            assert "could not run" not in proof and "s3:PutObject" in proof
            assert screen.proposals and all(p.change is not None for p in screen.proposals)
            titles = [f.title for f in screen.findings]
            assert ("The role ARN given lacks its path" in titles) is (given != "SageMaker-tt")
        settings = shown(screen.query_one("#perm-settings"))
        assert f"{world.role_arn} (given as arn:aws:iam::{world.account}:role/SageMaker-tt)" in settings


def test_snapshot_seeded_findings(snap_compare: Any, make_app: Any) -> None:
    assert snap_compare(make_app(start_step="permissions"), terminal_size=SIZE, run_before=_settle)


def test_snapshot_fix_review_diff(snap_compare: Any, make_app: Any) -> None:
    async def review(pilot: Any) -> None:
        await checked(pilot)
        await pilot.press("f")
        await eventually(pilot, lambda: type(pilot.app.screen).__name__ == "FixReviewScreen")
        await pilot.pause()

    assert snap_compare(make_app(start_step="permissions"), terminal_size=SIZE, run_before=review)


async def _settle(pilot: Any) -> None:
    await checked(pilot)


async def test_a_role_picked_from_the_list_is_checked(make_app, world) -> None:
    app = make_app(start_step="permissions")
    async with app.run_test(size=SIZE) as pilot:
        screen = await checked(pilot)
        screen.query_one("#perm-role").value = ""
        screen.query_one("#perm-findings").focus()  # l is a key of the step, not a letter for a field
        await pilot.press("l")
        await eventually(pilot, lambda: type(app.screen).__name__ == "RolePicker")
        picker = app.screen
        await eventually(pilot, lambda: picker.listing is not None)
        assert not picker.query_one("#new-role").display  # creating a role is the Notebook step's
        await pilot.press("ctrl+n")
        assert not picker.query_one("#role-new").display
        assert [r.arn for r in picker.listing.usable] == [world.role_arn]
        before = screen.checks_done
        await pilot.press("enter")
        await eventually(pilot, lambda: app.screen is screen)
        await settled(pilot, screen, before)
        assert screen.query_one("#perm-role").value == world.role_arn
        assert screen.perm_state.role_arn == world.role_arn
