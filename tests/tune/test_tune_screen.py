"""The Tune step with Pilot: prefill from the Train step's job, bad input, plan/confirm/create, the
live dashboard (sort, a child's log, stop, model from the best), 500 children, snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Select, Static

import screens.tune as tune_screen
from screens.confirm_plan import ConfirmPlanScreen
from screens.tune import TuneStep
from services.sandbox import trainer
from services.tuning.config import TrainingBase
from services.tuning.dashboard import ChildJob, JobCounters, ObjectiveCounters, TuningSnapshot
from services.tuning.request import build_request
from tests.support import eventually, steady_cursors, wait_connected
from tests.tune.test_sandbox_tuning import tuning_config
from tests.ui_text import shown

SIZE = (130, 45)
# Generous: the dashboard follows a whole tuning run, its children trained one after another.
WAIT = 40.0


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard polls every 2 s; the sandbox answers at once, so tests poll faster."""
    monkeypatch.setattr(tune_screen, "POLL_SECONDS", 0.3)


FIXED = datetime(2026, 11, 27, 9, 30, 0, tzinfo=UTC)


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def start_training_job(factory: Any, base: TrainingBase, name: str = "xgb-train-1") -> str:
    sm = factory.client("sagemaker")
    sm.create_training_job(
        TrainingJobName=name,
        HyperParameters=dict(base.static_hyperparameters),
        AlgorithmSpecification={"TrainingImage": base.image, "TrainingInputMode": "File"},
        RoleArn=base.role_arn,
        InputDataConfig=list(base.input_channels),
        OutputDataConfig={"S3OutputPath": base.output_path},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 1800},
    )
    return name


def fixed_clock(monkeypatch: Any) -> None:
    monkeypatch.setattr(TuneStep, "clock", staticmethod(lambda: FIXED))


async def test_form_prefills_from_the_train_step_and_refuses_bad_input(
    make_app: Any, factory: Any, base: TrainingBase, monkeypatch: Any
) -> None:
    fixed_clock(monkeypatch)
    # The training job ran with subsample and eta set, both tuned by default: the form's Static
    # line must not carry them too (AWS refuses a hyperparameter that is both).
    job = start_training_job(
        factory,
        base.with_(static_hyperparameters={**base.static_hyperparameters, "subsample": "0.8", "eta": "0.2"}),
    )
    app = make_app(start_step="tune")
    app.state.training_job = job
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        await eventually(
            pilot, lambda: "xgb-train-1" in text_of(screen, "#base-note"), WAIT, what="base loaded"
        )
        static = screen.query_one("#base-static", Input).value
        assert "eta=" not in static and "subsample=" not in static and "num_round=" in static
        assert screen.query_one("#base-image", Input).value == base.image
        assert screen.query_one("#base-role", Input).value == base.role_arn
        assert screen.query_one("#base-train", Input).value.endswith("/tune-data/train/")
        assert "objective=multi:softmax" in screen.query_one("#base-static", Input).value
        assert screen.query_one("#base-runtime", Input).value == "1800"
        # documented recommended ranges, objectives that fit a multiclass objective
        assert (screen.query_one("#min-eta", Input).value, screen.query_one("#max-eta", Input).value) == (
            "0.1",
            "0.5",
        )
        assert screen.query_one("#objective", Select).value == "validation:mlogloss"
        assert "Upper bound" in text_of(screen, "#cost")
        assert "Ready" in text_of(screen, "#problems")
        # bad input: said at once, and nothing is sent
        screen.query_one("#min-eta", Input).value = "0.9"
        screen.query_one("#strategy", Select).value = "Grid"
        await pilot.pause()
        problems = text_of(screen, "#problems")
        assert "eta: minimum 0.9 is not below maximum 0.5" in problems
        assert "grid search works only with categorical ranges" in problems
        await pilot.press("ctrl+r")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmPlanScreen)
        listed = factory.client("sagemaker").list_hyper_parameter_tuning_jobs()[
            "HyperParameterTuningJobSummaries"
        ]
        assert listed == []
        # Hyperband shows its settings
        screen.query_one("#strategy", Select).value = "Hyperband"
        await pilot.pause()
        assert screen.query_one("#hyperband-row").display
        assert "Hyperband needs a maximum resource" in text_of(screen, "#problems")


async def test_tune_watch_sort_log_and_model_from_best(
    make_app: Any, factory: Any, base: TrainingBase, journal: Any
) -> None:
    job = start_training_job(factory, base)
    app = make_app(start_step="tune")
    app.state.training_job = job
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        await eventually(
            pilot, lambda: "xgb-train-1" in text_of(screen, "#base-note"), WAIT, what="base loaded"
        )
        screen.query_one("#strategy", Select).value = "Random"
        screen.query_one("#max-jobs", Input).value = "3"
        screen.query_one("#max-parallel", Input).value = "3"
        screen.query_one("#tuning-name", Input).value = "ui-tune"
        await pilot.pause()
        await pilot.press("ctrl+r")
        await eventually(
            pilot,
            lambda: isinstance(app.screen, ConfirmPlanScreen) and app.screen.query("#cancel"),
            WAIT,
            what="plan shown",
        )
        plan_text = app.screen.plan.render_text()
        assert "sagemaker:CreateHyperParameterTuningJob" in plan_text and "Upper bound" in plan_text
        assert "account 123456789012 in eu-north-1 (SANDBOX)" in app.screen.where
        # the undo is a remedy: on the screen it names the dashboard's key
        assert "undo: stop it from the dashboard (s)" in shown(app.screen.query_one("#plan-text"))
        await pilot.click("#apply")
        await eventually(
            pilot, lambda: screen.snapshot is not None and screen.snapshot.done, WAIT, what="tuning done"
        )
        snap = screen.snapshot
        assert snap.name == "ui-tune" and app.state.tuning_job == "ui-tune"
        table = screen.query_one("#children", DataTable)
        assert table.row_count == 3
        assert "Completed" in text_of(screen, "#dash-counters")
        assert any(e.data.get("id") == "ui-tune" for e in journal.jobs())
        # sort by objective: the best (highlighted) comes first
        await pilot.press("o")
        await pilot.pause()
        first = str(table.get_row_at(0)[0])
        assert first.startswith("★"), first
        best = snap.best_name
        assert best is not None and first.endswith(best.rsplit("-", 2)[-2] + "-" + best.rsplit("-", 1)[-1])
        # Enter opens that child's live panel (the Train step's log pane)
        table.move_cursor(row=0)
        await pilot.press("enter")
        from screens.job_panel import JobPanelScreen

        await eventually(pilot, lambda: isinstance(app.screen, JobPanelScreen), WAIT, what="child panel")
        assert app.screen.job_name == best
        await pilot.press("escape")
        await eventually(pilot, lambda: app.screen is screen, WAIT, what="back to dashboard")
        # a model from the best job, planned and confirmed
        await pilot.press("m")
        await eventually(
            pilot,
            lambda: isinstance(app.screen, ConfirmPlanScreen) and app.screen.query("#cancel"),
            WAIT,
            what="model plan",
        )
        await pilot.click("#apply")
        await eventually(pilot, lambda: app.state.model_name == "ui-tune-best", WAIT, what="model created")
        model = factory.client("sagemaker").describe_model(ModelName="ui-tune-best")
        assert best in model["PrimaryContainer"]["ModelDataUrl"]
        # A new tuning job from the dashboard: the finished one is offered as a warm start parent.
        await pilot.press("f")
        await eventually(
            pilot, lambda: "ui-tune" in screen.form.parents, WAIT, what="the finished job offered as parent"
        )
        assert screen.form.parents["ui-tune"].best_job == best


async def test_stop_tuning_job_with_confirmation(make_app: Any, factory: Any, base: TrainingBase) -> None:
    trainer.set_pace(0.3)  # children take a few seconds: there is something to stop
    sm = factory.client("sagemaker")
    sm.create_hyper_parameter_tuning_job(
        **build_request(tuning_config(base, name="to-stop", max_jobs=20, max_parallel=2))
    )
    app = make_app(start_step="tune")
    app.state.tuning_job = "to-stop"
    async with app.run_test(size=SIZE) as pilot:
        # (not wait_connected: the dashboard's poll worker runs until the job ends)
        await eventually(pilot, lambda: app.identity is not None, WAIT, what="connected")
        screen = app.screen
        await eventually(
            pilot, lambda: screen.snapshot is not None and screen.snapshot.children, WAIT, what="children"
        )
        await pilot.press("x")
        await eventually(
            pilot,
            lambda: isinstance(app.screen, ConfirmPlanScreen) and app.screen.query("#cancel"),
            WAIT,
            what="stop plan",
        )
        assert "sagemaker:StopHyperParameterTuningJob" in app.screen.plan.render_text()
        await pilot.click("#cancel")  # cancelling changes nothing
        await pilot.pause()
        assert (
            sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="to-stop")[
                "HyperParameterTuningJobStatus"
            ]
            == "InProgress"
        )
        await pilot.press("x")
        await eventually(
            pilot,
            lambda: isinstance(app.screen, ConfirmPlanScreen) and app.screen.query("#cancel"),
            WAIT,
            what="stop plan",
        )
        await pilot.click("#apply")
        trainer.set_pace(0.0)
        await eventually(
            pilot,
            lambda: screen.snapshot is not None and screen.snapshot.status == "Stopped",
            WAIT,
            what="stopped",
        )
        assert (
            sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="to-stop")[
                "HyperParameterTuningJobStatus"
            ]
            == "Stopped"
        )
        assert all(c.terminal for c in screen.snapshot.children)


def synthetic(n: int, *, now: datetime = FIXED, name: str = "big-tune", running: int = 10) -> TuningSnapshot:
    children = []
    for i in range(1, n + 1):
        created = now - timedelta(seconds=40 * (n - i) + 60)
        done = i <= n - running
        value = 0.2 + ((i * 53) % 97) / 100 if done else None
        children.append(
            ChildJob(
                name=f"{name}-{i:03d}-{(i * 2654435761) % 2**32:08x}",
                status="Completed" if done else "InProgress",
                tuned=(("eta", f"{0.1 + (i % 40) / 100:.2f}"), ("max_depth", str(i % 10))),
                objective=value,
                objective_status="Succeeded" if done else "Pending",
                created=created,
                started=created + timedelta(seconds=5),
                ended=created + timedelta(seconds=35) if done else None,
                secondary_status="" if done else "Training",
            )
        )
    scored = [c for c in children if c.objective is not None]
    best = min(scored, key=lambda c: c.objective)  # type: ignore[arg-type, return-value]
    return TuningSnapshot(
        name=name, arn=f"arn:aws:sagemaker:eu-north-1:123456789012:hyper-parameter-tuning-job/{name}",
        status="InProgress", strategy="Random", objective_metric="validation:mlogloss", objective_type="Minimize",
        counters=JobCounters(completed=len(scored), in_progress=n - len(scored)),
        objective_counters=ObjectiveCounters(succeeded=len(scored), pending=n - len(scored)),
        best_name=best.name, best_value=best.objective, children=tuple(children), max_jobs=max(n, 10),
        max_parallel=10, created=now - timedelta(seconds=40 * n + 60), ended=None, failure_reason="",
        polled_at=now, tuned_names=("eta", "max_depth"),
    )  # fmt: skip


async def test_500_children_dashboard_stays_responsive(make_app: Any) -> None:
    app = make_app(start_step="tune")
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        snap = synthetic(500)
        screen.show_snapshot(snap)
        await pilot.pause()
        table = screen.query_one("#children", DataTable)
        assert table.row_count == 500
        # presses are answered: the cursor moves row by row, sorting reorders 500 rows
        table.focus()
        await pilot.press(*["down"] * 10)
        assert table.cursor_row == 10
        await pilot.press("o")
        await pilot.pause()
        assert str(table.get_row_at(0)[0]).startswith("★")
        values = [screen.dashboard.children_by_name[str(r.key.value)].objective for r in table.ordered_rows]
        scored = [v for v in values if v is not None]
        assert scored == sorted(scored) and values[-1] is None  # no value: last
        await pilot.press("o")  # again: worst first
        await pilot.pause()
        values = [screen.dashboard.children_by_name[str(r.key.value)].objective for r in table.ordered_rows]
        scored = [v for v in values if v is not None]
        assert scored == sorted(scored, reverse=True)
        # a poll where 10 children finish touches only their cells
        later = FIXED + timedelta(seconds=30)
        finished = tuple(
            c if c.objective is not None else ChildJob(**{**c.__dict__, "status": "Completed", "objective": 0.05 + j / 100,
                                                          "objective_status": "Succeeded", "ended": later})
            for j, c in enumerate(snap.children)
        )  # fmt: skip
        from dataclasses import replace

        screen.show_snapshot(replace(snap, children=finished, polled_at=later, best_name=finished[-10].name))
        await pilot.pause()
        assert table.row_count == 500
        assert str(table.get_row_at(0)[0]).startswith("  ")  # sorted worst-first: the new best is last
        await pilot.press("end")
        await pilot.press("s")
        await pilot.pause()
        assert "Sorted by status" in text_of(screen, "#dash-note")


def test_snapshot_form(snap_compare: Any, make_app: Any, monkeypatch: Any) -> None:
    fixed_clock(monkeypatch)

    async def settle(pilot: Any) -> None:
        await wait_connected(pilot)
        await eventually(pilot, lambda: bool(text_of(pilot.app.screen, "#base-note")), WAIT, what="base")
        steady_cursors(pilot.app)  # the form opens in its first field
        await pilot.pause()

    assert snap_compare(make_app(start_step="tune"), terminal_size=SIZE, run_before=settle)


def test_snapshot_dashboard(snap_compare: Any, make_app: Any, monkeypatch: Any) -> None:
    fixed_clock(monkeypatch)

    async def show(pilot: Any) -> None:
        await wait_connected(pilot)
        pilot.app.screen.show_snapshot(synthetic(14, running=3))
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()

    assert snap_compare(make_app(start_step="tune"), terminal_size=SIZE, run_before=show)


async def test_service_refusals_end_in_clear_messages(
    make_app: Any, factory: Any, base: TrainingBase, world: Any, journal: Any
) -> None:
    """A taken name, said before anything is sent (the flow's guard, shared with `--plain` and
    `apply`); AccessDenied reading the job, doctor offered."""
    from screens.error import ErrorScreen
    from tui.app import SagewizApp

    job = start_training_job(factory, base)
    sm = factory.client("sagemaker")
    sm.create_hyper_parameter_tuning_job(
        **build_request(tuning_config(base, name="taken", max_jobs=1, max_parallel=1))
    )
    app = make_app(start_step="tune")
    app.state.training_job = job
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        await eventually(
            pilot, lambda: "xgb-train-1" in text_of(screen, "#base-note"), WAIT, what="base loaded"
        )
        screen.query_one("#tuning-name", Input).value = "taken"
        await pilot.pause()
        await pilot.press("ctrl+r")
        await eventually(pilot, lambda: isinstance(app.screen, ErrorScreen), WAIT, what="error shown")
        assert app.screen.error.kind == "conflict" and not app.screen.offer_doctor
        assert "tuning job taken exists" in app.screen.error.message
        assert app.state.tuning_job == ""
    # signed as the seeded execution role, which may not describe training jobs
    as_role = SagewizApp(world.role_target(), sandbox=True, world=world, journal=journal, start_step="tune")
    as_role.state.training_job = job
    async with as_role.run_test(size=SIZE) as pilot:
        await eventually(
            pilot, lambda: isinstance(as_role.screen, ErrorScreen), WAIT, what="access denied shown"
        )
        assert as_role.screen.error.kind == "access-denied" and as_role.screen.offer_doctor
        hints = lambda: " ".join(shown(w) for w in as_role.screen.query("#error-hint"))  # noqa: E731
        await eventually(pilot, lambda: "Open the permissions doctor (d)" in hints(), WAIT, what="doctor key")


async def test_an_image_classification_base_offers_its_own_ranges_objective_and_name(
    make_app: Any, factory: Any, base: TrainingBase, monkeypatch: Any
) -> None:
    from tests.tune.test_algorithm_ranges import IC_IMAGE, described

    fixed_clock(monkeypatch)
    request = described("image-classification")
    request.update(TrainingJobName="ic-train-1", RoleArn=base.role_arn, Tags=[])
    request["AlgorithmSpecification"]["TrainingImage"] = IC_IMAGE
    factory.client("sagemaker").create_training_job(**request)
    app = make_app(start_step="tune")
    app.state.training_job = "ic-train-1"
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        await eventually(pilot, lambda: bool(screen.query("#on-learning_rate")), WAIT, what="IC ranges")
        await pilot.pause()
        assert not screen.query("#on-eta") and not screen.query("#on-max_depth")
        assert screen.query_one("#objective", Select).value == "validation:accuracy"
        assert screen.query_one("#tuning-name", Input).value == "ic-tune-1127-093000"
        static = screen.query_one("#base-static", Input).value
        assert "num_classes=5" in static and "learning_rate" not in static and "mini_batch_size" not in static
        assert screen.query_one("#max-mini_batch_size", Input).value == "40"
        assert "mini_batch_size, learning_rate and optimizer" in text_of(screen, "#ranges-hint")
        # Unticking a range puts the job's own value back in Static; ticking takes it out again.
        await pilot.click("#on-learning_rate")
        await pilot.pause()
        assert "learning_rate=0.1" in screen.query_one("#base-static", Input).value
        await pilot.click("#on-learning_rate")
        await pilot.pause()
        assert "learning_rate" not in screen.query_one("#base-static", Input).value
        assert "Ready" in text_of(screen, "#problems"), text_of(screen, "#problems")


async def test_warm_start_offers_the_parent_with_its_best_and_the_type_that_fits(
    make_app: Any, factory: Any, base: TrainingBase
) -> None:
    from services.tuning.warm_start import IDENTICAL, TRANSFER
    from tests.tune.test_sandbox_tuning import wait_done

    job = start_training_job(factory, base)
    sm = factory.client("sagemaker")
    sm.create_hyper_parameter_tuning_job(**build_request(tuning_config(base, name="parent", max_jobs=2)))
    best = wait_done(sm, "parent")["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    app = make_app(start_step="tune")
    app.state.training_job = job
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        await eventually(
            pilot, lambda: "1 finished tuning job" in text_of(screen, "#warm-note"), WAIT, what="parents"
        )
        parent = screen.query_one("#warm-parent", Select)
        assert screen.form.parents["parent"].label() == f"parent (best validation:mlogloss = {best:.4g})"
        # The parent tuned eta and max_depth only: tune the same (AWS keeps the count of hyperparameters).
        for name in ("subsample", "colsample_bytree"):
            await pilot.click(f"#on-{name}")
        parent.value = "parent"
        await pilot.pause()
        assert screen.query_one("#warm-type", Select).value == IDENTICAL
        assert "Fits IdenticalDataAndAlgorithm: same data" in text_of(screen, "#warm-note")
        assert "Ready" in text_of(screen, "#problems"), text_of(screen, "#problems")
        # Other validation data: transfer learning fits, and Identical is refused before any call.
        validation = screen.query_one("#base-validation", Input)
        validation.value = validation.value.replace("/validation/", "/validation-2/")
        await pilot.pause()
        assert "Fits TransferLearning: the data differ from parent's (validation:" in text_of(
            screen, "#warm-note"
        )
        assert "IdenticalDataAndAlgorithm needs the parent's data" in text_of(screen, "#problems")
        await pilot.press("ctrl+r")
        await pilot.pause(0.2)
        assert app.screen is screen  # said on the form: no plan, no call
        # Another objective than the parent's: refused whatever the type.
        screen.query_one("#warm-type", Select).value = TRANSFER
        screen.query_one("#objective", Select).value = "validation:merror"
        await pilot.pause()
        assert "is not parent's (validation:mlogloss)" in text_of(screen, "#problems")
        screen.query_one("#objective", Select).value = "validation:mlogloss"
        screen.query_one("#tuning-name", Input).value = "warm-ui"
        await pilot.pause()
        assert "Ready" in text_of(screen, "#problems"), text_of(screen, "#problems")
        await pilot.press("ctrl+r")
        await eventually(
            pilot,
            lambda: isinstance(app.screen, ConfirmPlanScreen) and app.screen.query("#cancel"),
            WAIT,
            what="plan shown",
        )
        request = app.screen.plan.actions[0].request.params
        assert request["WarmStartConfig"] == {
            "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "parent"}],
            "WarmStartType": TRANSFER,
        }
        await pilot.click("#cancel")
    names = [
        s["HyperParameterTuningJobName"]
        for s in sm.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    ]
    assert names == ["parent"]


async def test_without_a_training_job_tune_says_so_and_assumes_no_algorithm(make_app: Any) -> None:
    app = make_app(start_step="tune")
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        await eventually(pilot, lambda: bool(text_of(screen, "#base-note")), WAIT, what="base")
        assert "Tuning starts from a completed training job, and none was found" in text_of(
            screen, "#base-note"
        )
        assert screen.query_one("#base-image", Input).value == ""
        assert screen.query_one("#base-static", Input).value == ""
        assert "training image: no container image" in text_of(screen, "#problems")
        assert "No training job loaded: the ranges below are those of XGBoost" in text_of(
            screen, "#ranges-hint"
        )
        assert "Warm start needs a training job first" in text_of(screen, "#warm-note")


async def test_without_a_training_job_tune_uses_the_train_steps_algorithm(make_app: Any) -> None:
    app = make_app(start_step="tune")
    app.state.extra["training"] = {
        "algorithm": "image-classification",
        "hyperparameters": {"num_classes": "5"},
    }
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot)
        screen = app.screen
        await eventually(pilot, lambda: bool(screen.query("#on-learning_rate")), WAIT, what="IC ranges")
        assert (
            "Image classification (built-in, labeled manifest), the algorithm chosen in the Train step"
            in (text_of(screen, "#base-note"))
        )
        # The fields are filled after the ranges are laid out: wait for them, do not sample them.
        await eventually(
            pilot,
            lambda: screen.query_one("#base-static", Input).value == "num_classes=5",
            WAIT,
            what="the Train step's hyperparameters as Static",
        )
        assert "image-classification" in screen.query_one("#base-image", Input).value
