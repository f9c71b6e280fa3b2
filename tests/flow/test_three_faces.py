"""The three faces of each step agree: for the same choices, the screen, `--plain` and
`sagewiz apply --dry-run` show the same plan, request for request, in the sandbox.

`--plain` runs first and declines its plan, so AWS is unchanged for the other two; the screen
runs last (the Data screen copies without asking). Each face picks its own defaults; a default
that drifts in one face makes its plan differ here."""

from __future__ import annotations

import argparse
import asyncio
import io
from pathlib import Path
from typing import Any

import pytest

from screens.confirm_plan import ConfirmPlanScreen
from services.flow import data as flow_data
from services.flow.context import FlowContext
from services.journal import Journal
from services.session import SessionFactory
from services.state import WizardState
from tests.plain.test_plain import CLEAR, DOWN, ENTER, keys
from tests.support import eventually, wait_connected
from tui.app import SagewizApp
from tui.commands import plain
from tui.commands.export_apply import run_apply

SIZE = (120, 40)
FINISH = (DOWN, DOWN, ENTER, "n", "n")  # at the next step: finish here; no export, no clean-up review


@pytest.fixture
def signed_in(world, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
    return world


def write_config(tmp_path: Path, world: Any, text: str) -> Path:
    path = tmp_path / "faces.toml"
    path.write_text(f'region = "{world.region}"\n{text}')
    return path


def plain_face(world: Any, journal: Journal, step: str, config: Path | None, *presses: str) -> str:
    """`--plain` with scripted key presses (in a thread of its own: prompt_toolkit runs its own loop)."""
    args = argparse.Namespace(
        command=None, plain=True, yes=False, config=str(config) if config else None, step=step,
        profile=None, region=world.region, endpoint_url=world.endpoint, sandbox=False,
    )  # fmt: skip
    out, err = io.StringIO(), io.StringIO()
    with keys(*presses):
        code = plain.run(args, out, err, interactive=True, journal=journal)
    text = out.getvalue() + err.getvalue()
    assert code == 0, text
    assert "not applied (declined)" in text, text
    return text


def apply_face(world: Any, journal: Journal, config: Path) -> str:
    args = argparse.Namespace(
        command="apply", file=str(config), dry_run=True, yes=False, profile=None, region=world.region,
        endpoint_url=world.endpoint, sandbox=False,
    )  # fmt: skip
    out, err = io.StringIO(), io.StringIO()
    code = run_apply(args, out, err, journal=journal)
    assert code == 0, out.getvalue() + err.getvalue()
    return out.getvalue()


def agree(screen_text: str, plain_text: str, apply_text: str) -> None:
    """The screen's plan, every line in order, is what the other two printed."""
    assert screen_text.count("\n") >= 1, screen_text  # a title and at least one request
    for face, text in (("--plain", plain_text), ("apply --dry-run", apply_text)):
        assert screen_text in text, f"{face} planned something else.\nscreen:\n{screen_text}\n{face}:\n{text}"


def agree_in_order(screen_text: str, plain_text: str, apply_text: str) -> None:
    """For a plan the confirmation shows shortened (without its diff): each of its lines, in order."""
    for face, text in (("--plain", plain_text), ("apply --dry-run", apply_text)):
        lines = text.splitlines()
        at = 0
        for line in screen_text.splitlines():
            if line.strip().startswith("undo:"):
                # How to undo is a Remedy each face renders its own way (a key on the screen, a
                # command on the command line); that there is one, at this place, is what agrees.
                found = [i for i, own in enumerate(lines[at:], at) if own.strip().startswith("undo:")]
                assert found, f"{face} offers no undo.\nscreen:\n{screen_text}\n{face}:\n{text}"
                at = found[0] + 1
                continue
            assert line in lines[at:], f"{face} lacks {line!r}.\nscreen:\n{screen_text}\n{face}:\n{text}"
            at = lines.index(line, at) + 1


def same_requests(screen_plan: Any, planned: Any, *printed: str) -> None:
    """The plan's lines shorten long parameters (HumanTaskConfig, hyperparameters); the requests
    themselves equal the ones --plain and apply build from the same configuration, and those two
    print every request in full, as JSON."""
    from services.flow.walk import requests_json

    assert planned.requests is not None, planned.message
    ours = [(a.operation, a.params) for a in screen_plan.actions]
    assert ours == [(a.operation, a.params) for a in planned.requests.actions]
    full = requests_json(planned.requests)
    for text in printed:
        assert full in text, f"not printed in full:\n{full}\n---\n{text}"


def from_config(factory: SessionFactory, world: Any, journal: Journal, config: Path) -> tuple[Any, Any]:
    """The flow context and state `apply` starts from for this configuration file."""
    from services import config_file

    ctx = FlowContext(factory, world.account, world.region, journal, world.admin_arn, world=world)
    return ctx, config_file.load(config).to_state()


def app_on(world: Any, journal: Journal, step: str, **state: Any) -> SagewizApp:
    app = SagewizApp(world.target(), sandbox=True, world=world, journal=journal, start_step=step)
    app.state.update(**state)
    return app


async def confirmed_plan(pilot: Any, timeout: float = 30) -> ConfirmPlanScreen:
    app = pilot.app
    await eventually(pilot, lambda: isinstance(app.screen, ConfirmPlanScreen), timeout, what="the plan")
    screen = app.screen
    assert isinstance(screen, ConfirmPlanScreen)
    return screen


# -- the steps ---------------------------------------------------------------------------------------
async def test_bucket(empty_world, journal, tmp_path, monkeypatch) -> None:
    world = empty_world
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
    plain_text = await asyncio.to_thread(
        plain_face, world, journal, "bucket", None, ENTER, ENTER, "n", *FINISH
    )
    apply_text = await asyncio.to_thread(apply_face, world, journal, write_config(tmp_path, world, ""))
    app = app_on(world, journal, "bucket")
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        await eventually(pilot, lambda: getattr(app.screen, "check", None) is not None)
        await pilot.press("k")
        screen_text = (await confirmed_plan(pilot)).plan.render_text()
    assert world.default_bucket in screen_text and "CreateBucketConfiguration" in screen_text
    agree(screen_text, plain_text, apply_text)


async def test_notebook(signed_in, journal, tmp_path) -> None:
    world = signed_in
    plain_text = await asyncio.to_thread(
        plain_face,
        world, journal, "role", None,
        ENTER, ENTER,  # Execution role: go; the first usable role
        ENTER, "y", CLEAR + "faces-nb" + ENTER, ENTER,  # Notebook: go; use one; its name; the default type
        "n", *FINISH,
    )  # fmt: skip
    config = write_config(
        tmp_path, world, f'[notebook]\nname = "faces-nb"\n[role]\narn = "{world.role_arn}"\n'
    )
    apply_text = await asyncio.to_thread(apply_face, world, journal, config)
    app = app_on(world, journal, "notebook")
    async with app.run_test(size=SIZE) as pilot:
        await eventually(pilot, lambda: app.identity is not None)
        await eventually(pilot, lambda: getattr(app.screen, "loaded", False))
        await pilot.press("c")
        await eventually(pilot, lambda: type(app.screen).__name__ == "NotebookForm")
        await pilot.press(*"faces-nb")
        await pilot.press("ctrl+r")
        await eventually(pilot, lambda: type(app.screen).__name__ == "RolePicker")
        await eventually(pilot, lambda: app.screen.listing is not None)
        await pilot.press("enter")
        await eventually(pilot, lambda: type(app.screen).__name__ == "NotebookForm")
        await pilot.press("ctrl+s")
        screen_text = (await confirmed_plan(pilot)).plan.render_text()
    assert "faces-nb" in screen_text and world.role_arn in screen_text
    agree(screen_text, plain_text, apply_text)


async def test_data(signed_in, journal, tmp_path) -> None:
    world = signed_in
    config = write_config(tmp_path, world, f'[bucket]\nname = "{world.default_bucket}"\n')
    plain_text = await asyncio.to_thread(
        plain_face, world, journal, "data", config, ENTER, ENTER, ENTER, "n", *FINISH
    )  # go; the sample; the default prefix; decline
    apply_text = await asyncio.to_thread(apply_face, world, journal, config)
    app = app_on(world, journal, "data", bucket=world.default_bucket)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        await eventually(pilot, lambda: bool(screen.query_one("#dest").value))
        await pilot.press("c")
        await eventually(pilot, lambda: getattr(screen, "planned", None) is not None, 30)
        screen_text = screen.planned.render_text()
        await eventually(pilot, lambda: not screen.running, 30)
    assert "50" in screen_text and f"s3://{world.default_bucket}/ground-truth-demo/images/" in screen_text
    agree(screen_text, plain_text, apply_text)


async def test_permissions(signed_in, journal, tmp_path) -> None:
    world = signed_in
    config = write_config(
        tmp_path, world, f'[bucket]\nname = "{world.default_bucket}"\n[role]\narn = "{world.role_arn}"\n'
    )
    plain_text = await asyncio.to_thread(
        plain_face, world, journal, "permissions", config, ENTER, "n", *FINISH
    )
    apply_text = await asyncio.to_thread(apply_face, world, journal, config)
    app = app_on(world, journal, "permissions", bucket=world.default_bucket, role_arn=world.role_arn)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        await eventually(pilot, lambda: screen.perm_state is not None and not screen.busy, 30)
        await pilot.press("f")
        await eventually(pilot, lambda: type(app.screen).__name__ == "FixReviewScreen")
        await pilot.press("a")
        screen_text = (await confirmed_plan(pilot)).plan.render_text()
    assert "iam:PutRolePolicy" in screen_text or "s3:PutBucketPolicy" in screen_text, screen_text
    agree_in_order(screen_text, plain_text, apply_text)


async def test_train(signed_in, journal, tmp_path, factory: SessionFactory) -> None:
    from tests.train.conftest import grant_bucket

    world = signed_in
    grant_bucket(factory, world)
    ctx = FlowContext(factory, world.account, world.region, journal, world.admin_arn, world=world)
    state = WizardState(region=world.region, account=world.account, bucket=world.default_bucket)
    copy = flow_data.plan(ctx, state, flow_data.DataChoices())
    flow_data.apply(ctx, state, copy)  # the images the derived dataset is made from
    config = write_config(
        tmp_path, world,
        f'[bucket]\nname = "{world.default_bucket}"\n[role]\narn = "{world.role_arn}"\n'
        f'[data]\nprefix = "{state.data_prefix}"\n[training]\njob = "faces-xgb"\nalgorithm = "xgboost"\n',
    )  # fmt: skip
    plain_text = await asyncio.to_thread(
        plain_face,
        world, journal, "train", config,
        ENTER, ENTER, ENTER, ENTER,  # go; XGBoost on derived features; the default instance type; 20%
        CLEAR + "faces-xgb" + ENTER, "n",  # the job's name; keep the hyperparameters
        "n", *FINISH,
    )  # fmt: skip
    apply_text = await asyncio.to_thread(apply_face, world, journal, config)
    app = app_on(
        world,
        journal,
        "train",
        bucket=world.default_bucket,
        role_arn=world.role_arn,
        data_prefix=state.data_prefix,
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        step = app.screen
        await eventually(pilot, lambda: step.query_one("#in-job_name").value != "")
        step._set("job_name", "faces-xgb")
        await pilot.press("f5")
        screen_plan = (await confirmed_plan(pilot, 60)).plan
        screen_text = screen_plan.render_text()
    assert "faces-xgb" in screen_text and "ml.m5.xlarge" in screen_text
    agree(screen_text, plain_text, apply_text)
    from services.flow import train as flow_train

    ctx, state = from_config(factory, world, journal, config)
    choices = flow_train.choices_from_state(state)
    assert choices is not None
    same_requests(screen_plan, flow_train.plan(ctx, state, choices), plain_text, apply_text)


async def test_tune(signed_in, journal, tmp_path, factory: SessionFactory) -> None:
    from services.sandbox import trainer
    from tests.tune.data import prepare
    from tests.tune.test_tune_screen import start_training_job

    world = signed_in
    old = trainer.set_pace(0.0)
    try:
        job = start_training_job(factory, prepare(world, factory, num_round=6))
    finally:
        trainer.set_pace(old)
    config = write_config(
        tmp_path, world, f'[training]\njob = "{job}"\nalgorithm = "xgboost"\n[tuning]\njob = "faces-tune"\n'
    )
    plain_text = await asyncio.to_thread(
        plain_face,
        world, journal, "tune", config,
        ENTER, ENTER, ENTER, ENTER,  # go; the default strategy, jobs in total, at the same time
        CLEAR + "faces-tune" + ENTER, "n", "n", "n",  # the name; decline; no export, no clean-up review
    )  # fmt: skip
    apply_text = await asyncio.to_thread(apply_face, world, journal, config)
    app = app_on(world, journal, "tune", training_job=job)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        await eventually(pilot, lambda: job in str(screen.query_one("#base-note").render()), 30)
        screen.query_one("#tuning-name").value = "faces-tune"
        await pilot.pause()
        await pilot.press("ctrl+r")
        screen_plan = (await confirmed_plan(pilot, 60)).plan
        screen_text = screen_plan.render_text()
    assert "faces-tune" in screen_text and "CreateHyperParameterTuningJob" in screen_text
    agree(screen_text, plain_text, apply_text)
    from services.flow import tune as flow_tune

    ctx, state = from_config(factory, world, journal, config)
    choices = flow_tune.choices_from_state(state)
    assert choices is not None
    same_requests(screen_plan, flow_tune.plan(ctx, state, choices), plain_text, apply_text)


async def test_tune_warm_start_in_plain_and_apply(
    signed_in, journal, tmp_path, factory: SessionFactory
) -> None:
    """--plain offers the finished parent with its best and the type that fits; apply reads the
    same warm start from [tuning.warm_start]; both plan the very same request."""
    from services.flow import tune as flow_tune
    from services.sandbox import trainer
    from tests.tune.data import prepare
    from tests.tune.test_sandbox_tuning import wait_done
    from tests.tune.test_tune_screen import start_training_job

    world = signed_in
    old = trainer.set_pace(0.0)
    try:
        job = start_training_job(factory, prepare(world, factory, num_round=6))
        ctx = FlowContext(factory, world.account, world.region, journal, world.admin_arn, world=world)
        first = flow_tune.TuneChoices(name="faces-parent", training_job=job, max_jobs=2)
        flow_tune.apply(ctx, WizardState(), flow_tune.plan(ctx, WizardState(), first))
        wait_done(factory.client("sagemaker"), "faces-parent")
    finally:
        trainer.set_pace(old)
    head = f'[training]\njob = "{job}"\nalgorithm = "xgboost"\n[tuning]\njob = "faces-warm"\n'
    plain_text = await asyncio.to_thread(
        plain_face,
        world, journal, "tune", write_config(tmp_path, world, head),
        ENTER, ENTER, ENTER, ENTER,  # go; the default strategy, jobs in total, at the same time
        CLEAR + "faces-warm" + ENTER,  # the name
        DOWN + ENTER, ENTER,  # warm start from the parent; the type that fits
        "n", "n", "n",  # decline; no export, no clean-up review
    )  # fmt: skip
    assert "faces-parent (best validation:mlogloss = " in plain_text
    assert "Fits IdenticalDataAndAlgorithm: same data" in plain_text
    assert "warm start (IdenticalDataAndAlgorithm) from faces-parent" in plain_text
    warm = '[tuning.warm_start]\nparents = ["faces-parent"]\ntype = "IdenticalDataAndAlgorithm"\n'
    config = write_config(tmp_path, world, head + warm)
    apply_text = await asyncio.to_thread(apply_face, world, journal, config)
    ctx, state = from_config(factory, world, journal, config)
    choices = flow_tune.choices_from_state(state)
    assert choices is not None
    planned = flow_tune.plan(ctx, state, choices)
    assert planned.requests is not None
    request = planned.requests.actions[0].params
    assert request["WarmStartConfig"] == {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "faces-parent"}],
        "WarmStartType": "IdenticalDataAndAlgorithm",
    }
    same_requests(planned.requests, planned, plain_text, apply_text)


async def test_labels(signed_in, journal, tmp_path, factory: SessionFactory) -> None:
    from screens.labels_builder import LabelsBuilderScreen
    from tests.labels.helpers import copy_samples
    from tests.labels.test_screens import ACS, PRE, fill_mturk, open_builder

    world = signed_in
    copy_samples(factory, world, 4)
    config = write_config(
        tmp_path, world,
        f'[bucket]\nname = "{world.default_bucket}"\n[role]\narn = "{world.role_arn}"\n'
        '[labels]\ncategories = ["Car", "Ferry"]\njob = "faces-labels"\nworkforce = "public"\n'
        f'free_of_pii = true\nfree_of_adult_content = true\nacknowledged = true\n'
        f'pre_annotation_lambda = "{PRE}"\nconsolidation_lambda = "{ACS}"\n',
    )  # fmt: skip
    plain_text = await asyncio.to_thread(
        plain_face,
        world, journal, "labels", config,
        ENTER, ENTER, ENTER, ENTER, ENTER,  # go; a labeling job; the labels; its name; Mechanical Turk
        ENTER, ENTER,  # the Lambdas the configuration gives (eu-north-1 has no documented ones)
        "y", "y", "y",  # free of PII, free of adult content, accepted
        "n", *FINISH,
    )  # fmt: skip
    # A declined plan is never summed up as "nothing to change".
    assert "Nothing changed: you declined" in plain_text and "already matches" not in plain_text
    apply_text = await asyncio.to_thread(apply_face, world, journal, config)
    app = app_on(
        world, journal, "labels",
        bucket=world.default_bucket, role_arn=world.role_arn, labels=["Car", "Ferry"],
    )  # fmt: skip
    async with app.run_test(size=(120, 60)) as pilot:
        screen = await open_builder(pilot)
        assert isinstance(screen, LabelsBuilderScreen)
        screen.query_one("#job-name").value = "faces-labels"  # type: ignore[attr-defined]
        await fill_mturk(pilot, screen)
        await eventually(pilot, lambda: "4 images" in str(screen.query_one("#images-note").render()))
        await pilot.press("ctrl+s")
        screen_text = (await confirmed_plan(pilot)).plan.render_text()
        screen_plan = app.screen.plan
    assert "faces-labels" in screen_text and "CreateLabelingJob" in screen_text, screen_text
    agree(screen_text, plain_text, apply_text)
    from services.flow import labels as flow_labels

    ctx, state = from_config(factory, world, journal, config)
    same_requests(
        screen_plan, flow_labels.plan(ctx, state, flow_labels.choices_from_state(state, world.region))
    )
