"""The log pane, the job panel and the Train step with Pilot; the logs/status commands."""

from __future__ import annotations

import json

from textual.app import App, ComposeResult

from services.training import build_request
from tests.support import eventually, wait_connected
from tests.train.conftest import grant_bucket, upload_csv, wait_done, xgb_config
from tests.ui_text import shown
from tui.widgets.log_pane import LogPane


class PaneApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LogPane(max_lines=100)

    def on_mount(self) -> None:
        self.query_one(LogPane).focus()


def _lines(n: int, start: int = 0) -> list[tuple[str, str]]:
    return [(f"algo-{1 + i % 2}", f"[{i}]#011train-rmse:{i}.5") for i in range(start, start + n)]


async def test_log_pane_follow_scroll_badge_search_bounded():
    app = PaneApp()
    async with app.run_test(size=(80, 20)) as pilot:
        pane = app.query_one(LogPane)
        pane.write_lines(_lines(60))
        await pilot.pause()
        assert pane.following and pane.scroll_y == pane.max_scroll_y
        await pilot.press("up")
        await pilot.pause()
        assert not pane.following
        pane.write_lines(_lines(30, 60))
        await pilot.pause()
        assert pane.border_subtitle == "30 new lines (End to follow)"
        await pilot.press("end")
        await pilot.pause()
        assert pane.following and pane.pending == 0 and pane.border_subtitle == "following"
        pane.write_lines(_lines(200, 90))  # more than max_lines: memory stays bounded
        await pilot.pause()
        assert pane.line_count == 100 and pane.total == 290
        assert pane.search("[250]")
        await pilot.pause()
        assert not pane.following
        assert any("[250]" in t for t in pane.visible_text())
        assert "train-rmse:250.5" in pane.text_at(pane.line_count - 40)  # tabs shown as spaces
        assert not pane.search("no such text")


def test_log_pane_snapshot(snap_compare):
    async def fill(pilot):  # type: ignore[no-untyped-def]
        pane = pilot.app.query_one(LogPane)
        pane.write_lines(_lines(40))
        pane.border_title = "log"
        await pilot.pause()

    assert snap_compare(PaneApp(), terminal_size=(80, 16), run_before=fill)


async def test_job_panel_live_then_create_model(world, factory, make_app):
    from screens.job_panel import JobPanelScreen

    grant_bucket(factory, world)
    upload_csv(factory, world)
    sm = factory.client("sagemaker")
    sm.create_training_job(**build_request(xgb_config(world, name="panel-job")))
    app = make_app(start_step="connect")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await app.push_screen(JobPanelScreen("panel-job", poll_seconds=0.2))
        panel = app.screen
        await eventually(pilot, lambda: panel.snapshot is not None and panel.snapshot.terminal)
        await eventually(pilot, lambda: panel.query_one(LogPane).line_count > 8 and panel.series)
        assert panel.snapshot.status == "Completed"
        assert "validation:mlogloss" in panel.series
        timeline = str(panel.query_one("#jp-timeline").render())
        assert "Downloading" in timeline and "Completed" in timeline
        assert "estimate" in str(panel.query_one("#jp-cost").render())
        await pilot.press("m")
        await eventually(pilot, lambda: type(app.screen).__name__ == "ConfirmPlanScreen")
        app.screen.query_one("#apply").press()
        await eventually(pilot, lambda: bool(panel.model_created))
        assert sm.describe_model(ModelName="panel-job-model")["PrimaryContainer"]["ModelDataUrl"].endswith(
            "model.tar.gz"
        )
        assert app.state.model_name == "panel-job-model"


async def test_job_panel_offers_doctor_on_s3_denial(world, factory, make_app):
    from screens.job_panel import JobPanelScreen

    upload_csv(factory, world)  # the seeded role cannot read it
    sm = factory.client("sagemaker")
    sm.create_training_job(**build_request(xgb_config(world, name="denied-job")))
    wait_done(sm, "denied-job")
    app = make_app(start_step="connect")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await app.push_screen(JobPanelScreen("denied-job", poll_seconds=0.2))
        panel = app.screen
        await eventually(pilot, lambda: panel.snapshot is not None)
        failure = str(panel.query_one("#jp-failure").render())
        assert "The execution role was refused: it may not read s3://" in failure
        assert "Next: Press d to open the permissions doctor" in failure
        seen = []
        original = app.open_doctor
        app.open_doctor = lambda d: (seen.append(d), original(d))  # type: ignore[method-assign]
        await pilot.press("d")
        await pilot.pause()
        denied = seen[0]
        assert denied.bucket == world.default_bucket and denied.action == "s3:GetObject"
        assert denied.principal_arn.endswith(":assumed-role/SageMaker-tt/SageMaker")
        assert denied.job_name == "denied-job"


async def test_train_step_shows_messages_beside_fields(make_app, monkeypatch):
    from screens.train import TrainStep

    monkeypatch.setattr(TrainStep, "WARM_IMAGE", False)  # the SDK import is tested on its own
    app = make_app(start_step="train")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        step = app.screen
        await eventually(pilot, lambda: step.query_one("#in-job_name").value != "")
        assert step.errors == {}
        step.query_one("#xgboost-hp-eta").value = "2"
        step.query_one("#xgboost-hp-num_class").value = ""
        step.query_one("#in-job_name").value = "bad_name"
        await pilot.pause()
        assert "[0, 1]" in str(step.query_one("#xgboost-msg-eta").render())
        assert "required with objective" in str(step.query_one("#xgboost-msg-num_class").render())
        assert "letters, digits and hyphens" in str(step.query_one("#msg-job_name").render())
        step.action_create()  # refused before any AWS call
        await pilot.pause()
        assert "Fix 3 problem(s)" in str(step.query_one("#tr-result").render())


def test_status_and_logs_commands(world, factory, monkeypatch, capsys):
    from tui.cli import main

    grant_bucket(factory, world)
    upload_csv(factory, world)
    sm = factory.client("sagemaker")
    sm.create_training_job(**build_request(xgb_config(world, name="cli-job")))
    wait_done(sm, "cli-job")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
    common = ["--endpoint-url", world.endpoint, "--region", world.region]
    assert main(["status", "cli-job", "--json", *common]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (
        data["status"] == "Completed"
        and data["billable_seconds"] >= 1
        and "validation:mlogloss" in data["final_metrics"]
    )
    assert main(["logs", "cli-job", "--follow", *common]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split(" ", 2)[1] == "algo-1" and any("#011validation-mlogloss:" in ln for ln in out)
    assert main(["status", "no-such-job", *common]) == 2
    assert main(["logs", "cli-job", "--since", "ten", *common]) == 2


async def test_stop_from_the_panel_after_confirmation(world, factory, make_app):
    from screens.job_panel import JobPanelScreen
    from services.sandbox import trainer

    trainer.set_pace(1.0)
    grant_bucket(factory, world)
    upload_csv(factory, world)
    sm = factory.client("sagemaker")
    sm.create_training_job(**build_request(xgb_config(world, name="stop-me")))
    app = make_app(start_step="connect")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await app.push_screen(JobPanelScreen("stop-me", poll_seconds=0.2))
        panel = app.screen
        await eventually(pilot, lambda: panel.snapshot is not None)
        await pilot.press("s")
        await eventually(pilot, lambda: type(app.screen).__name__ == "ConfirmPlanScreen")
        app.screen.query_one("#apply").press()
        await eventually(pilot, lambda: panel.snapshot.status == "Stopped")
        assert panel.snapshot.secondary == "Stopped"
        timeline = str(panel.query_one("#jp-timeline").render())
        assert "Stopping" in timeline and "Stopped" in timeline


async def test_train_step_end_to_end(world, factory, make_app):
    """The issue's 'done when': seed hyperparameters, derived data, plan, confirm, live panel, model."""
    grant_bucket(factory, world)
    app = make_app(start_step="train")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        step = app.screen
        await eventually(pilot, lambda: step.query_one("#in-job_name").value != "")
        assert (
            step.hyperparameters()["num_round"] == "100"
            and step.hyperparameters()["objective"] == "multi:softmax"
        )
        step._set("job_name", "e2e-job")
        await pilot.click("#tr-derive")
        await eventually(pilot, lambda: "rows" in str(step.query_one("#tr-data-note").render()))
        await pilot.press("f5")
        await eventually(pilot, lambda: type(app.screen).__name__ == "ConfirmPlanScreen", 60)
        # The exact request, folded to one line; opened, it is the JSON that will be sent.
        from screens.confirm_plan import RequestView

        view = await eventually(pilot, lambda: app.screen.query(RequestView).first(), 10)
        assert view.collapsed and "sagemaker:CreateTrainingJob request (JSON)" in view.title
        await pilot.click("RequestView CollapsibleTitle")
        await eventually(pilot, lambda: not view.collapsed)
        shown_json = shown(view.query_one(".plan-request-json"))
        sent = json.loads(view.request.to_json())
        assert sent["TrainingJobName"] == "e2e-job" and sent["HyperParameters"]["num_round"] == "100"
        assert '"TrainingJobName": "e2e-job"' in shown_json and '"InputDataConfig"' in shown_json
        assert view.request.params is app.screen.plan.actions[0].params  # the object apply sends
        app.screen.query_one("#apply").press()
        await eventually(pilot, lambda: type(app.screen).__name__ == "JobPanelScreen", 60)
        panel = app.screen
        await eventually(pilot, lambda: panel.snapshot is not None and panel.snapshot.terminal, 60)
        assert panel.snapshot.status == "Completed", panel.snapshot.failure_reason
        assert app.state.training_job == "e2e-job"
        assert app.journal.jobs()[-1].data["id"] == "e2e-job"


def test_train_step_snapshot(make_app, snap_compare, monkeypatch):
    from screens.train import TrainStep

    monkeypatch.setattr(TrainStep, "WARM_IMAGE", False)

    async def ready(pilot):  # type: ignore[no-untyped-def]
        await wait_connected(pilot)
        step = pilot.app.screen
        await eventually(pilot, lambda: step.query_one("#in-job_name").value != "")
        step._set("job_name", "sagewiz-xgboost-demo")
        step.query_one("#xgboost-hp-eta").value = "1.5"
        await pilot.pause()

    assert snap_compare(make_app(start_step="train"), terminal_size=(120, 40), run_before=ready)


def test_job_panel_snapshot(snap_compare, world, journal, monkeypatch):
    """The panel's look, fed a fixed job description and log (no workers: not connected)."""
    from datetime import UTC, datetime

    from screens.job_panel import LOG, STATUS, JobPanelScreen, LogBatch
    from services.job_status import from_describe
    from tui.app import SagewizApp

    t = lambda s: datetime(2026, 11, 27, 12, 0, s, tzinfo=UTC)  # noqa: E731
    resp = {
        "TrainingJobName": "demo-job", "TrainingJobArn": "arn:aws:sagemaker:eu-north-1:123456789012:training-job/demo-job",
        "TrainingJobStatus": "InProgress", "SecondaryStatus": "Training", "CreationTime": t(0), "TrainingStartTime": t(4),
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 10},
        "AlgorithmSpecification": {"TrainingImage": "662702820516.dkr.ecr.eu-north-1.amazonaws.com/sagemaker-xgboost:1.7-1"},
        "SecondaryStatusTransitions": [
            {"Status": "Starting", "StartTime": t(0), "EndTime": t(4), "StatusMessage": "Preparing the instances for training"},
            {"Status": "Downloading", "StartTime": t(4), "EndTime": t(6), "StatusMessage": "Downloading input data"},
            {"Status": "Training", "StartTime": t(6), "StatusMessage": "Training image download completed. Training in progress."},
        ],
    }  # fmt: skip
    lines = [(f"algo-{1 + i % 2}", f"[{i // 2}]#011train-mlogloss:{1.5 - i * 0.05:.5f}#011validation-mlogloss:{1.6 - i * 0.04:.5f}")
             for i in range(16)]  # fmt: skip

    async def feed(pilot):  # type: ignore[no-untyped-def]
        app = pilot.app
        panel = JobPanelScreen("demo-job", now=lambda: t(40))
        await app.push_screen(panel)
        await pilot.pause()
        panel.post_message(STATUS.done(from_describe(resp, "eu-north-1")))
        panel.post_message(
            LOG.done(LogBatch(lines, [("validation:mlogloss", 1.6 - i * 0.04) for i in range(0, 16, 2)]))
        )
        await pilot.pause()

    # Not connected, and no log worker: the panel shows exactly what it is fed.
    monkeypatch.setattr(JobPanelScreen, "_follow_logs", lambda self, snap: None)
    app = SagewizApp(world.target(), sandbox=True, world=world, journal=journal, auto_connect=False)
    assert snap_compare(app, terminal_size=(120, 40), run_before=feed)


async def test_train_mark_follows_the_latest_job(world, factory, make_app):
    """✓ only for a job that completed with a model; a failed latest job is `!`, seen from any screen."""
    from screens.job_panel import JobPanelScreen
    from tui.steps import StepState

    grant_bucket(factory, world)
    upload_csv(factory, world)
    sm = factory.client("sagemaker")
    bad = build_request(xgb_config(world, name="bad-eta"))
    bad["HyperParameters"]["eta"] = "2"
    sm.create_training_job(**bad)
    wait_done(sm, "bad-eta")
    app = make_app(start_step="connect")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        app.state.update(training_job="bad-eta")
        assert app.step_states["train"] is StepState.NOT_STARTED
        await pilot.press("8")
        await eventually(pilot, lambda: app.step_states["train"] is StepState.ATTENTION)
        # A completed job watched from the Connect step's stack (not the Train screen) makes it ✓.
        sm.create_training_job(**build_request(xgb_config(world, name="good-job")))
        await pilot.press("1")
        app.state.update(training_job="good-job")
        await app.push_screen(JobPanelScreen("good-job", poll_seconds=0.2))
        panel = app.screen
        await eventually(pilot, lambda: panel.snapshot is not None and panel.snapshot.terminal, 60)
        assert panel.snapshot.status == "Completed" and panel.snapshot.model_artifact
        await eventually(pilot, lambda: app.step_states["train"] is StepState.DONE)
        # A child of some tuning job watched in the panel is not the Train step's job: no change.
        sm.create_training_job(**bad | {"TrainingJobName": "other-bad"})
        wait_done(sm, "other-bad")
        await app.push_screen(JobPanelScreen("other-bad", poll_seconds=0.2))
        other = app.screen
        await eventually(pilot, lambda: other.snapshot is not None)
        await pilot.pause()
        assert app.step_states["train"] is StepState.DONE


async def test_header_cost_follows_a_status_change_and_q_says_what_keeps_running(world, factory, make_app):
    """The header's running cost is read again as soon as a panel sees a job change (not a minute
    later); `q` while a job bills asks first, listing it, its hourly cost and how to stop it."""
    from screens.job_panel import JobPanelScreen
    from screens.quit_confirm import QuitConfirmScreen
    from services.sandbox import trainer

    trainer.set_pace(1.0)  # slow enough to be seen running
    grant_bucket(factory, world)
    upload_csv(factory, world)
    sm = factory.client("sagemaker")
    sm.create_training_job(**build_request(xgb_config(world, name="still-running")))
    app = make_app(start_step="connect", background_work=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await eventually(pilot, lambda: app.last_costs is not None and app.last_costs.items, 20)
        assert app.cost_line.startswith("running ~$")
        await pilot.press("q")
        await eventually(pilot, lambda: isinstance(app.screen, QuitConfirmScreen))
        text = shown(app.screen.query_one("#quit-lines"))
        assert "training job still-running (1 x ml.m5.xlarge, ~$" in text and "/h (estimate)" in text
        # The sandbox's keys are not the AWS CLI's: the commands are sagewiz's, in the sandbox.
        assert "re-attach with sagewiz --sandbox status still-running" in text
        assert "stop with sagewiz --sandbox --step cleanup" in text
        await pilot.press("escape")  # stay
        await pilot.pause()
        assert not isinstance(app.screen, QuitConfirmScreen) and app.is_running
        sm.stop_training_job(TrainingJobName="still-running")
        wait_done(sm, "still-running", timeout=20)
        assert app.COST_POLL_SECONDS >= 60  # the regular poll is far off: only the panel's news counts
        await app.push_screen(JobPanelScreen("still-running", poll_seconds=0.2))
        await eventually(pilot, lambda: app.cost_line == "nothing running", 2.5, what="the header within 2 s")
        await pilot.press("escape")
        await pilot.press("q")  # nothing bills now: quits at once
        await pilot.pause()
    assert app.exit_summary == []


async def test_quitting_while_a_job_bills_prints_what_keeps_running(world, factory, make_app):
    from screens.quit_confirm import QuitConfirmScreen
    from services.sandbox import trainer

    trainer.set_pace(1.0)
    grant_bucket(factory, world)
    upload_csv(factory, world)
    sm = factory.client("sagemaker")
    sm.create_training_job(**build_request(xgb_config(world, name="left-running")))
    app = make_app(start_step="connect", background_work=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await eventually(pilot, lambda: app.last_costs is not None and app.last_costs.items, 20)
        await pilot.press("q")
        await eventually(pilot, lambda: isinstance(app.screen, QuitConfirmScreen))
        await pilot.press("q")  # quit anyway
        await pilot.pause()
    assert app.exit_summary[0].startswith("Still running in AWS after sagewiz exits (~$")
    assert "training job left-running" in app.exit_summary[1]
    assert "sagewiz --sandbox status left-running" in app.exit_summary[1]
    sm.stop_training_job(TrainingJobName="left-running")


async def test_image_classification_splits_the_labeled_manifest(world, factory, make_app):
    """Switching to image classification renames the proposed job; F4 splits the labeled manifest
    with the share typed, fills both channels and num_training_samples, and shows each class."""
    from textual.widgets import Select

    from tests.train.test_data_split import upload_labeled

    grant_bucket(factory, world)
    manifest = upload_labeled(factory, world)
    app = make_app(start_step="train")
    app.state.output_manifest = manifest
    app.state.extra["label_attribute"] = "lbl"
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        step = app.screen
        await eventually(pilot, lambda: step.query_one("#in-job_name").value != "")
        assert step._get("job_name").startswith("sagewiz-xgboost-")
        step.query_one("#tr-algo", Select).value = "image-classification"
        await pilot.pause()
        assert step._get("job_name").startswith("sagewiz-image-classification-")
        # a share that cannot split: said beside the field, and nothing is written
        step._set("validation_share", "100")
        await pilot.pause()
        assert "above 0% and below 100%" in str(step.query_one("#msg-validation_share").render())
        await pilot.press("f4")
        await pilot.pause()
        s3 = factory.client("s3")
        assert "Contents" not in s3.list_objects_v2(Bucket=world.default_bucket, Prefix="sagewiz/")
        step._set("validation_share", "30")
        await pilot.press("f4")
        note = step.query_one("#tr-data-note")
        await eventually(pilot, lambda: "validation examples" in str(note.render()), 30)
        assert "35 training and 15 validation examples (stratified 30% validation, seed 0)" in str(
            note.render()
        )
        assert "Airplane 7/3" in str(note.render())
        assert step._get("channel_train").endswith("/sagewiz/image-classification/train.manifest")
        assert step._get("channel_validation").endswith("/sagewiz/image-classification/validation.manifest")
        assert step.hyperparameters()["num_training_samples"] == "35"
        assert step.choices().data_split is not None and step.choices().validation_fraction == 0.3


async def test_image_classification_warns_when_the_labels_cover_part_of_the_images(world, factory, make_app):
    """Two images under the data prefix have no label: F4's note and the plan say the job trains
    on 50 of 52 images."""
    from textual.widgets import Select

    from tests.train.test_data_split import upload_labeled

    grant_bucket(factory, world)
    manifest = upload_labeled(factory, world)
    s3 = factory.client("s3")
    b = world.default_bucket
    first = s3.list_objects_v2(Bucket=b, Prefix="ground-truth-demo/images/")["Contents"][0]["Key"]
    body = s3.get_object(Bucket=b, Key=first)["Body"].read()
    for n in range(2):
        s3.put_object(Bucket=b, Key=f"ground-truth-demo/images/unlabeled-{n}.jpg", Body=body)
    app = make_app(start_step="train")
    app.state.output_manifest = manifest
    app.state.extra["label_attribute"] = "lbl"
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        step = app.screen
        await eventually(pilot, lambda: step.query_one("#in-job_name").value != "")
        step.query_one("#tr-algo", Select).value = "image-classification"
        await pilot.pause()
        await pilot.press("f4")
        note = step.query_one("#tr-data-note")
        await eventually(pilot, lambda: "validation examples" in str(note.render()), 30)
        assert "Warning: Labels for 50 of 52 images: the job trains on part of the data (2 unlabeled)" in str(
            note.render()
        )
        assert step.choices().partial_labels.startswith("Labels for 50 of 52 images")
