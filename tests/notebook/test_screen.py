"""The Notebook step driven with keys (Pilot) against the sandbox, and snapshots of its looks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from screens.notebook import NotebookStep
from services import notebooks as nb
from services.sandbox.extensions import notebook as nb_ext
from tests.notebook.conftest import make_user
from tests.support import eventually, eventually_blocking, settled, steady_cursors
from tests.ui_text import shown

# An injected ThrottlingException has no error shape in SageMaker's model; moto warns, AWS sends it.
pytestmark = pytest.mark.filterwarnings("ignore:.*ThrottlingException does not match an error shape")

FIXED_NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(NotebookStep, "POLL_FAST", 0.2)
    monkeypatch.setattr(NotebookStep, "POLL_SLOW", 0.3)


@pytest.fixture
def frozen_clocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(NotebookStep, "wall_clock", staticmethod(lambda: FIXED_NOW))
    monkeypatch.setattr(NotebookStep, "monotonic", staticmethod(lambda: 1000.0))


def on(app, name: str):
    return lambda: type(app.screen).__name__ == name


async def open_step(app, pilot) -> NotebookStep:
    # Not tests.conftest.wait_connected: it waits for every worker, and this screen's poller runs
    # until the screen is left.
    await eventually(pilot, lambda: app.identity is not None)
    screen = app.screen
    assert isinstance(screen, NotebookStep)
    await eventually(pilot, lambda: screen.loaded)
    return screen


async def fill_form(app, pilot, name: str, pick_role: bool = True) -> None:
    await pilot.press("c")
    await eventually(pilot, on(app, "NotebookForm"))
    await pilot.press(*name)
    if pick_role:
        await pilot.press("ctrl+r")
        await eventually(pilot, on(app, "RolePicker"))
        await eventually(pilot, lambda: app.screen.listing is not None)
        await pilot.press("enter")
        await eventually(pilot, on(app, "NotebookForm"))


async def confirm(app, pilot, typed: str | None = None) -> None:
    await eventually(pilot, on(app, "ConfirmPlanScreen"))
    if typed:
        await pilot.press(*typed, "enter")  # a typed confirmation applies on Enter
    else:
        await pilot.press("a")  # the plan has focus (it scrolls); `a` applies


def create_notebook(factory, world, journal, name: str, **kw) -> None:
    spec = nb.NotebookSpec(name=name, role_arn=world.role_arn, **kw)
    nb.apply(nb.plan_create_notebook(spec, world.region), factory, journal, name=name)


def wait_service(factory, name: str, status: str, timeout: float = 5.0) -> None:
    eventually_blocking(
        lambda: nb.describe_notebook(factory, name).status == status, timeout, what=f"{name} to be {status}"
    )


def pin_creation_time(world, name: str, when: datetime) -> None:
    from moto.sagemaker.models import sagemaker_backends

    instance = sagemaker_backends[world.account][world.region].notebook_instances[name]
    instance.creation_time = when
    instance.last_modified_time = when + timedelta(seconds=30)


# -- the whole life of a notebook, from the keyboard ----------------------------------------------
async def test_create_watch_open_stop_delete_with_keys(make_app, world, journal):
    # Pending lasts long enough for the first poll to see it even on a loaded machine.
    nb_ext.set_timings(3.0)
    app = make_app(start_step="notebook")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_step(app, pilot)
        assert "No notebook instances" in shown(screen.query_one("#nb-empty"))

        # bad input first: clear messages, nothing sent
        await fill_form(app, pilot, "my_nb", pick_role=False)
        await pilot.press("ctrl+s")
        form = app.screen
        assert type(form).__name__ == "NotebookForm"
        assert "found '_'" in shown(form.query_one("#nb-name-error"))
        assert "Pick or create an execution role" in shown(form.query_one("#nb-role-error"))
        await pilot.press("ctrl+a", "ctrl+k", *"nb-ui")  # select the name field's text and retype it
        assert form.query_one("#nb-name").value == "nb-ui"
        await pilot.press("ctrl+r")
        await eventually(pilot, on(app, "RolePicker"))
        await eventually(pilot, lambda: app.screen.listing is not None)
        await pilot.press("enter")
        await eventually(pilot, on(app, "NotebookForm"))
        assert "SageMaker-tt" in shown(app.screen.query_one("#nb-role"))
        await pilot.press("ctrl+s")
        await confirm(app, pilot)

        # the live panel follows it from Pending to InService
        await eventually(pilot, lambda: screen.items.get("nb-ui") is not None)
        assert screen.followed == "nb-ui"
        await eventually(pilot, lambda: screen.items["nb-ui"].status == "InService")
        assert screen.history["nb-ui"] == ["Pending", "InService"]
        assert "Pending ✓ → InService ✓" in shown(screen.query_one("#nb-live"))
        assert app.state.notebook_name == "nb-ui"
        assert app.state.extra["notebook"] == {"instance_type": "ml.t3.medium", "volume_gb": 5,
                                               "platform": nb.DEFAULT_PLATFORM}  # fmt: skip
        assert app.step_states["notebook"].name == "DONE"

        # open: the presigned URL is shown whole
        await pilot.press("o")
        await eventually(pilot, on(app, "NotebookUrlScreen"))
        assert "nb-ui.notebook.eu-north-1.sagemaker.aws?authToken=" in shown(app.screen.query_one("#nb-url"))
        await pilot.press("c", "escape")
        await eventually(pilot, lambda: app.screen is screen)

        # delete while InService: said plainly, nothing sent
        await pilot.press("x")
        await eventually(pilot, on(app, "ErrorScreen"))
        assert "Only a stopped" in shown(app.screen.query_one("#error-message"))
        await pilot.press("escape")

        await pilot.press("s")
        await confirm(app, pilot)
        await eventually(pilot, lambda: screen.items["nb-ui"].status == "Stopped")
        await pilot.press("t")
        await confirm(app, pilot)
        await eventually(pilot, lambda: screen.history["nb-ui"][-1] == "InService")
        await pilot.press("s")
        await confirm(app, pilot)
        await eventually(pilot, lambda: screen.items["nb-ui"].status == "Stopped")
        await pilot.press("x")
        await confirm(app, pilot, typed="nb-ui")
        await eventually(pilot, lambda: "nb-ui" in screen.gone)
        assert "Stopped" in screen.history["nb-ui"]  # Deleting may pass between two polls
        assert "deleted" in shown(screen.query_one("#nb-live"))
    kinds = [e.kind for e in journal.entries(scope=False) if e.kind != "session"]
    assert kinds == ["resource-created", "choice"] + ["resource-changed"] * 3 + ["resource-deleted"]


async def test_new_least_privilege_role_is_created_with_the_notebook(make_app, world, journal, factory):
    app = make_app(start_step="notebook")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_step(app, pilot)
        await fill_form(app, pilot, "nb-newrole", pick_role=False)
        await pilot.press("ctrl+r")
        await eventually(pilot, on(app, "RolePicker"))
        await eventually(pilot, lambda: app.screen.listing is not None)
        await pilot.press("ctrl+n")
        said = shown(app.screen.query_one("#role-policy-text"))
        assert "can start jobs from the notebook: yes" in said
        assert "✓ pass itself to SageMaker for its jobs" in said and "✗" not in said
        assert '"iam:PassedToService": "sagemaker.amazonaws.com"' in said
        # The broad alternative has the abilities too, and stays explained.
        app.screen.query_one("#role-policy").focus()
        await pilot.press("down", "enter")
        said = shown(app.screen.query_one("#role-policy-text"))
        assert (
            "can start jobs from the notebook: yes" in said
            and "AmazonSageMakerFullAccess is AWS's broad" in said
        )
        await pilot.press("up", "enter")
        assert "can start jobs from the notebook: yes" in shown(app.screen.query_one("#role-policy-text"))
        app.screen.query_one("#role-name").focus()
        await pilot.press("ctrl+a", "ctrl+k", *"sw-nb-role", "ctrl+s")
        await eventually(pilot, on(app, "NotebookForm"))
        await pilot.press("ctrl+s")
        await eventually(pilot, on(app, "ConfirmPlanScreen"))
        ops = [a.operation for a in app.screen.plan.actions]
        assert ops == ["create_role", "put_role_policy", "create_notebook_instance"]
        await pilot.press("a")
        await eventually(pilot, lambda: screen.items.get("nb-newrole") is not None)
    role = factory.client("iam").get_role(RoleName="sw-nb-role")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"] == world.account
    assert nb.describe_notebook(factory, "nb-newrole").role_name == "sw-nb-role"
    policy = factory.client("iam").get_role_policy(
        RoleName="sw-nb-role", PolicyName="sagewiz-least-privilege"
    )
    sids = {st.get("Sid") for st in policy["PolicyDocument"]["Statement"]}
    assert {"SagewizJobs", "SagewizPassItselfToSageMaker", "SagewizListWorkteams"} <= sids


async def test_caller_without_pass_role_is_told_before_anything_is_created(world, factory, journal):
    from tui.app import SagewizApp

    stmts = [{"Effect": "Allow", "Action": ["sagemaker:*", "iam:List*", "iam:Get*"], "Resource": "*"}]
    user = make_user(factory, world, "nb-no-pass", stmts)
    app = SagewizApp(user.target, sandbox=True, world=world, journal=journal, start_step="notebook")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_step(app, pilot)
        await fill_form(app, pilot, "nb-denied")
        await pilot.press("ctrl+s")
        await eventually(pilot, on(app, "ErrorScreen"))
        err = app.screen
        assert err.error.title == "You may not pass this role to SageMaker"
        assert "iam:PassRole" in err.error.message
        assert err.offer_doctor
    assert nb.list_notebooks(factory) == []


async def test_quota_and_type_errors_are_said_plainly(make_app, world, journal, factory):
    app = make_app(start_step="notebook")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_step(app, pilot)
        app.state.role_arn = world.role_arn  # the form starts with this role chosen
        nb_ext.inject_fault(
            "create_notebook_instance", "ResourceLimitExceeded",
            "The account-level service limit 'ml.t3.medium for notebook instance usage' is 0 Instances", times=1,
        )  # fmt: skip
        await fill_form(app, pilot, "nb-quota", pick_role=False)
        await pilot.press("ctrl+s")
        await confirm(app, pilot)
        await eventually(pilot, on(app, "ErrorScreen"))
        assert app.screen.error.title == "Notebook instance quota reached"
        assert "Service Quotas" in app.screen.error.hint
        await pilot.press("escape")
        await eventually(pilot, lambda: app.screen is screen and not screen.busy)

        # throttling while watching: a line says so, the poller backs off and carries on
        nb_ext.inject_fault("list_notebook_instances", "ThrottlingException", "Rate exceeded", times=2)
        await eventually(pilot, lambda: "throttling" in shown(screen.query_one("#nb-problem")))
        await eventually(pilot, lambda: shown(screen.query_one("#nb-problem")).strip() == "")

        # the form comes back filled in; pick a type this region does not offer
        await pilot.press("c")
        await eventually(pilot, on(app, "NotebookForm"))
        assert app.screen.query_one("#nb-name").value == "nb-quota"
        app.screen.query_one("#nb-type").value = "ml.g4dn.xlarge"
        await pilot.press("ctrl+s")
        await confirm(app, pilot)
        await eventually(pilot, on(app, "ErrorScreen"))
        assert "ml.g4dn.xlarge is not offered" in app.screen.error.message
    assert nb.list_notebooks(factory) == []


async def test_name_taken_excluded_role_and_failed_instance(make_app, world, journal, factory):
    import base64

    create_notebook(factory, world, journal, "nb-taken")
    factory.client("sagemaker").create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName="broken",
        OnStart=[{"Content": base64.b64encode(b"#!/bin/bash\nexit 1\n").decode()}],
    )
    create_notebook(factory, world, journal, "nb-broken", lifecycle_config="broken")
    factory.client("iam").create_role(
        RoleName="ec2-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            }
        ),
    )
    app = make_app(start_step="notebook")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_step(app, pilot)
        await fill_form(app, pilot, "nb-taken")
        await pilot.press("ctrl+s")
        await eventually(pilot, on(app, "ErrorScreen"))
        assert "already exists" in app.screen.error.message
        await pilot.press("escape")
        # the picker does not offer the EC2 role, and says why
        await pilot.press("c")
        await eventually(pilot, on(app, "NotebookForm"))
        await pilot.press("ctrl+r")
        await eventually(pilot, on(app, "RolePicker"))
        await eventually(pilot, lambda: app.screen.listing is not None)
        assert "ec2-role: its trust policy lets only ec2.amazonaws.com" in shown(
            app.screen.query_one("#role-excluded")
        )


# -- snapshots -------------------------------------------------------------------------------------
def test_snapshot_list(snap_compare, make_app, world, journal, factory, frozen_clocks):
    create_notebook(factory, world, journal, "analysis-nb", instance_type="ml.t3.large")
    create_notebook(factory, world, journal, "old-nb", platform="notebook-al2-v3")
    wait_service(factory, "old-nb", "InService")
    factory.client("sagemaker").stop_notebook_instance(NotebookInstanceName="old-nb")
    wait_service(factory, "old-nb", "Stopped")
    wait_service(factory, "analysis-nb", "InService")
    pin_creation_time(world, "analysis-nb", FIXED_NOW - timedelta(hours=2))
    pin_creation_time(world, "old-nb", FIXED_NOW - timedelta(days=3, hours=1))
    app = make_app(start_step="notebook")

    async def settle(pilot) -> None:
        await open_step(app, pilot)
        await eventually(pilot, lambda: len(app.screen.items) == 2)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=settle)


def test_snapshot_live_panel_pending(snap_compare, make_app, world, journal, factory, frozen_clocks):
    nb_ext.set_timings(600)  # stays Pending while the snapshot is taken
    create_notebook(factory, world, journal, "watch-me", idle_minutes=45)
    pin_creation_time(world, "watch-me", FIXED_NOW - timedelta(seconds=40))
    app = make_app(start_step="notebook")

    async def settle(pilot) -> None:
        await open_step(app, pilot)
        await eventually(pilot, lambda: "watch-me" in app.screen.items)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=settle)


def test_snapshot_form(snap_compare, make_app, world, journal, frozen_clocks):
    app = make_app(start_step="notebook")

    async def settle(pilot) -> None:
        await open_step(app, pilot)
        await pilot.press("c")
        await eventually(pilot, on(app, "NotebookForm"))
        steady_cursors(app)
        await pilot.press(*"my-notebook")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=settle)


def test_snapshot_form_errors(snap_compare, make_app, world, journal, frozen_clocks):
    app = make_app(start_step="notebook")

    async def settle(pilot) -> None:
        await open_step(app, pilot)
        await pilot.press("c")
        await eventually(pilot, on(app, "NotebookForm"))
        steady_cursors(app)
        await pilot.press(*"-bad_name-")
        app.screen.query_one("#nb-volume").value = "2"
        app.screen.query_one("#nb-platform").value = "notebook-al2-v1"
        await pilot.press("ctrl+s")
        await settled(pilot)
        steady_cursors(app)

    assert snap_compare(app, terminal_size=(120, 40), run_before=settle)
