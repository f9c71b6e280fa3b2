"""The Labels screens driven with Pilot against the sandbox: builder rules, create (and its failure),
the live panel, terminal labeling, import and results."""

from __future__ import annotations

import json
from typing import Any

from textual.widgets import Button, Input

from screens.labels import LabelsStep
from screens.labels_builder import LabelsBuilderScreen
from screens.labels_failed import CreateFailedScreen
from screens.labels_import import ImportManifestScreen
from screens.labels_live import LiveJobScreen
from screens.labels_results import ResultsScreen
from screens.labels_terminal import TerminalLabelScreen
from services.labeling import jobs
from services.labeling import manifest as mf
from services.sandbox.extensions import labeling as ext
from tests.support import eventually, wait_connected
from tests.ui_text import shown

from .helpers import copy_samples, fix_role

PRE = "arn:aws:lambda:eu-north-1:123456789012:function:PRE-ImageMultiClass"
ACS = "arn:aws:lambda:eu-north-1:123456789012:function:ACS-ImageMultiClass"


def text(app: Any, selector: str) -> str:
    return shown(app.screen.query_one(selector))


async def open_builder(pilot: Any) -> LabelsBuilderScreen:
    await wait_connected(pilot)
    await eventually(pilot, lambda: isinstance(pilot.app.screen, LabelsStep))
    await pilot.press("j")
    await eventually(pilot, lambda: isinstance(pilot.app.screen, LabelsBuilderScreen))
    await pilot.pause()
    return pilot.app.screen  # type: ignore[return-value]


async def fill_mturk(pilot: Any, screen: LabelsBuilderScreen, lambdas: bool = True) -> None:
    if lambdas:
        screen.query_one("#pre-arn", Input).value = PRE
        screen.query_one("#acs-arn", Input).value = ACS
    for box in ("#no-pii", "#no-adult", "#ack"):
        screen.query_one(box).value = True  # type: ignore[attr-defined]
    await pilot.pause()


async def test_builder_refuses_bad_input_then_create_fails_for_the_seeded_role(
    make_app, factory, world
) -> None:
    copy_samples(factory, world, 3)
    app = make_app(start_step="labels")
    async with app.run_test(size=(120, 60)) as pilot:
        screen = await open_builder(pilot)
        # eu-north-1 is not in the documented Lambda table: said plainly, inputs shown
        assert "lists no pre-annotation or consolidation Lambda for eu-north-1" in text(app, "#region-note")
        assert screen.query_one("#lambda-inputs").display
        await pilot.press("ctrl+s")
        assert "free of personally identifiable information" in text(app, "#form-error")
        await fill_mturk(pilot, screen, lambdas=False)
        await pilot.press("ctrl+s")
        assert "lists no pre-annotation or consolidation Lambda for eu-north-1" in text(app, "#form-error")
        await fill_mturk(pilot, screen)
        # one label only
        screen.labels = ["Car"]
        screen._render_labels()
        assert "at least two labels" in text(app, "#labels-check")
        await pilot.press("ctrl+s")
        assert "at least two labels" in text(app, "#form-error")
        # a duplicate typed in the editor is refused
        screen.query_one("#label-new", Input).value = "Car"
        await pilot.click("#label-add")
        assert "already in the list" in text(app, "#labels-check")
        screen.query_one("#label-new", Input).value = "Ferry"
        await pilot.click("#label-add")
        assert screen.labels == ["Car", "Ferry"]
        # reorder and remove
        screen.query_one("#label-list").highlighted = 1
        await pilot.click("#label-up")
        assert screen.labels == ["Ferry", "Car"]
        await pilot.click("#label-down")
        assert screen.labels == ["Car", "Ferry"]
        screen.query_one("#label-new", Input).value = "Boat"
        await pilot.click("#label-add")
        await pilot.click("#label-remove")  # the new one is highlighted
        assert screen.labels == ["Car", "Ferry"]
        # a private team is listed from the account (the sandbox has one)
        await pilot.click("#wf-private")
        await eventually(pilot, lambda: screen.query_one("#private").display and bool(screen.teams))
        await eventually(
            pilot, lambda: str(screen.query_one("#team").value).endswith("private-crowd/sandbox-labelers")
        )
        assert not screen.query_one("#mturk").display
        await pilot.click("#wf-public")
        # over-long description: counted live, refused on create
        screen.query_one("#description", Input).value = "x" * 256
        await pilot.pause()
        assert "256/255" in text(app, "#description-count")
        await pilot.press("ctrl+s")
        assert "the limit is 255" in text(app, "#form-error")
        screen.query_one("#description", Input).value = "Pick one."
        screen.query_one("#job-name", Input).value = "bad_name"
        await pilot.press("ctrl+s")
        assert "does not match the API's pattern" in text(app, "#form-error")
        screen.query_one("#job-name", Input).value = "good-name"
        await pilot.pause()
        assert screen.query_one("#attribute", Input).value == "good-name"  # follows the job name
        screen.query_one("#pre-arn", Input).value = PRE.replace("eu-north-1", "us-east-1")
        await pilot.press("ctrl+s")
        assert "us-east-1 but the job runs in eu-north-1" in text(app, "#form-error")
        # no labeling job was created by any of this
        assert jobs.list_jobs(factory) == []
        # valid now; the seeded role cannot read the bucket, so CreateLabelingJob fails like AWS
        await fill_mturk(pilot, screen)
        await pilot.press("ctrl+s")
        await eventually(pilot, lambda: type(app.screen).__name__ == "ConfirmPlanScreen")
        await pilot.click("#apply")
        await eventually(pilot, lambda: isinstance(app.screen, CreateFailedScreen))
        await pilot.pause()
        failed = app.screen
        assert "cannot read the input manifest" in text(app, "#create-failed-message")
        assert failed.denied is not None and failed.denied.action == "s3:GetObject"
        assert failed.query_one("#doctor", Button)
        await pilot.press("t")
        await eventually(pilot, lambda: isinstance(app.screen, TerminalLabelScreen))


async def test_create_watch_and_browse_results(make_app, factory, world, journal) -> None:
    copy_samples(factory, world, 10)
    fix_role(factory, world)
    app = make_app(start_step="labels")
    async with app.run_test(size=(120, 60)) as pilot:
        screen = await open_builder(pilot)
        await fill_mturk(pilot, screen)
        await eventually(pilot, lambda: "10 images" in text(app, "#images-note"))
        assert "10 images x 1 workers x $0.012 = $0.12" in text(app, "#cost")
        await pilot.press("ctrl+s")
        await eventually(pilot, lambda: type(app.screen).__name__ == "ConfirmPlanScreen")
        plan_text = text(app, "#plan-text")
        assert "CreateLabelingJob" in plan_text and "PutBucketCors" in plan_text and "+" in plan_text
        # Slow enough to see the counters rise even on a loaded machine (the panel polls every 0.5 s).
        ext.configure(seconds_per_object=0.6)
        await pilot.click("#apply")
        await eventually(pilot, lambda: isinstance(app.screen, LiveJobScreen))
        seen: set[str] = set()

        def finished() -> bool:
            seen.add(text(app, "#live-counters").split("   ")[0])
            return "Completed" in text(app, "#live-status")

        await eventually(pilot, finished)
        assert "Labeled 10" in text(app, "#live-counters")
        rising = sorted(int(s.split()[-1]) for s in seen if s.startswith("Labeled"))
        assert len(rising) >= 2 and rising[0] < 10 and rising[-1] == 10, rising
        assert app.state.labeling_job == "vehicle-labels"
        assert app.state.output_manifest.endswith("/vehicle-labels/manifests/output/output.manifest")
        assert [e.data["id"] for e in journal.entries("job-started")] == ["vehicle-labels"]
        await pilot.press("r")
        await eventually(
            pilot, lambda: isinstance(app.screen, ResultsScreen) and app.screen.parsed is not None
        )
        results = app.screen
        assert "10 labeled objects" in text(app, "#results-summary")
        await eventually(pilot, lambda: len(results.cache) == 8)
        assert len(results.query(".thumb")) == 8
        await pilot.press("right_square_bracket")  # the second page holds the last 2 of 10
        await eventually(pilot, lambda: len(results.query(".thumb")) == 2)
        assert "Thumbnails 9-10 of 10" in text(app, "#results-page")
        await pilot.press("left_square_bracket")
        await eventually(pilot, lambda: len(results.query(".thumb")) == 8)
        first = results.parsed.objects[0].label
        results.query_one("#results-filter").value = first
        await pilot.pause()
        assert all(t.border_title == first for t in results.query(".thumb"))


async def test_terminal_labeling_with_keys(make_app, factory, world, journal) -> None:
    copy_samples(factory, world, 4)
    app = make_app(start_step="labels")
    async with app.run_test(size=(120, 50)) as pilot:
        await wait_connected(pilot)
        await pilot.press("t")
        await eventually(
            pilot, lambda: isinstance(app.screen, TerminalLabelScreen) and app.screen.session is not None
        )
        screen = app.screen
        await eventually(pilot, lambda: screen.session.current in screen.cache)
        await pilot.press("2")  # image 1: Car
        # leaving and coming back keeps the work
        await pilot.press("escape")
        await eventually(pilot, lambda: isinstance(app.screen, LabelsStep))
        await pilot.press("t")
        await eventually(
            pilot, lambda: isinstance(app.screen, TerminalLabelScreen) and app.screen.session is not None
        )
        assert app.screen.session is screen.session and screen.session.position == 1
        screen = app.screen
        await pilot.press("s")  # image 2: skipped
        await pilot.press("5")  # image 3: Motorbike
        await pilot.press("u")  # undo: back on image 3
        assert screen.session.position == 2 and 2 not in screen.session.answers
        await pilot.press("3")  # image 3: Ferry
        await pilot.press("1")  # image 4: Airplane -> back to the skipped one
        assert screen.session.position == 1
        assert "3 of 4 images labeled" in text(app, "#term-counts")
        await pilot.press("left")
        assert screen.session.position == 0
        await pilot.press("right", "4")  # image 2: Helicopter
        assert screen.session.done
        await pilot.press("ctrl+s")
        await eventually(pilot, lambda: type(app.screen).__name__ == "ConfirmPlanScreen")
        await pilot.click("#apply")
        await eventually(pilot, lambda: isinstance(app.screen, ResultsScreen))
        uri = app.state.output_manifest
        assert uri.endswith(
            "/ground-truth-demo/output/vehicle-labels-terminal/manifests/output/output.manifest"
        )
        parsed = jobs.read_output(factory, uri)
        assert parsed.problems == ()
        assert [o.label for o in parsed.objects] == ["Car", "Helicopter", "Ferry", "Airplane"]
        meta = json.loads(jobs.read_text(factory, uri).splitlines()[0])["vehicle-labels-terminal-metadata"]
        assert meta["type"] == "groundtruth/image-classification" and meta["human-annotated"] == "yes"
        assert meta["job-name"] == "labeling-job/vehicle-labels-terminal"
        assert journal.entries("choice")[-1].data["source"] == "terminal"


async def test_import_reports_bad_lines_and_uses_a_good_manifest(make_app, factory, world, tmp_path) -> None:
    s3 = factory.client("s3")
    good = mf.write_output_manifest([
        mf.LabeledObject(f"s3://{world.sample_bucket}/{world.sample_prefix}image_000{i}.jpg", (i % 2,),
                         (("Airplane", "Car")[i % 2],), (0.0,), True, "old-job", "2026-01-01T00:00:00")
        for i in range(1, 5)], "vehicle")  # fmt: skip
    bad = good.splitlines()
    bad[1] = "{broken"
    bad[2] = bad[2].replace('"vehicle":1', '"vehicle":"one"')
    s3.put_object(Bucket=world.default_bucket, Key="imports/bad.manifest", Body="\n".join(bad).encode())
    s3.put_object(Bucket=world.default_bucket, Key="imports/good.manifest", Body=good.encode())
    app = make_app(start_step="labels")
    async with app.run_test(size=(120, 50)) as pilot:
        await wait_connected(pilot)
        # results of a manifest that is not there say so
        await app.push_screen(ResultsScreen(f"s3://{world.default_bucket}/nothing/output.manifest"))
        await eventually(pilot, lambda: "Not found" in text(app, "#results-summary"))
        await pilot.press("escape")
        await pilot.press("i")
        await eventually(pilot, lambda: isinstance(app.screen, ImportManifestScreen))
        box = app.screen.query_one("#import-source", Input)
        box.value = f"s3://{world.default_bucket}/imports/bad.manifest"
        await pilot.click("#import-check")
        await eventually(pilot, lambda: "line 2:" in text(app, "#import-problems"))
        problems = text(app, "#import-problems")
        assert "line 2: not valid JSON" in problems and "line 3: label 'one'" in problems
        assert app.screen.query_one("#import-use", Button).disabled
        local = tmp_path / "good.manifest"
        local.write_text(good)
        box.value = str(local)
        await pilot.click("#import-check")
        await eventually(pilot, lambda: "every line is valid" in text(app, "#import-summary"))
        await pilot.click("#import-use")
        await eventually(pilot, lambda: type(app.screen).__name__ == "ConfirmPlanScreen")
        await pilot.click("#apply")
        await eventually(pilot, lambda: isinstance(app.screen, ResultsScreen))
        assert app.state.output_manifest.endswith("/imported-labels/manifests/output/output.manifest")
        assert app.state.extra["label_attribute"] == "vehicle"


async def test_terminal_labels_merge_with_a_job_s_manifest_and_resume_across_sessions(
    make_app, factory, world, journal
) -> None:
    prefix = copy_samples(factory, world, 4)
    from services.labeling.setup import list_images

    images = list_images(factory, prefix)
    job_uri = f"s3://{world.default_bucket}/gt/output/vehicle-labels/manifests/output/output.manifest"
    by_job = [
        mf.LabeledObject(images[0], (1,), ("Car",), (0.88,), False, "vehicle-labels", "2026-11-27T09:00:00"),
        mf.LabeledObject(
            images[2], (2,), ("Ferry",), (0.71,), False, "vehicle-labels", "2026-11-27T09:00:00"
        ),
    ]
    factory.client("s3").put_object(Bucket=world.default_bucket, Key=job_uri.split("/", 3)[3],
                                    Body=mf.write_output_manifest(by_job, "vehicle-labels").encode())  # fmt: skip
    app = make_app(start_step="labels")
    app.state.output_manifest = job_uri
    async with app.run_test(size=(120, 50)) as pilot:
        await wait_connected(pilot)
        await pilot.press("t")
        await eventually(
            pilot, lambda: isinstance(app.screen, TerminalLabelScreen) and app.screen.session is not None
        )
        screen = app.screen
        assert screen.session.position == 1  # image 1 has the job's label
        assert "2 of 4 images labeled" in text(app, "#term-counts")
        await pilot.press("1")  # image 2: Airplane; image 3 is the job's, so image 4 is next
        assert screen.session.position == 3
        await pilot.press("ctrl+s")
        await eventually(pilot, lambda: type(app.screen).__name__ == "ConfirmPlanScreen")
        # one object written (3 labels): the job's own manifest is read, not replaced
        put = app.screen.plan.actions[-1]
        assert (
            put.operation == "put_object"
            and f"1 labeled in the terminal, 2 kept from {job_uri}" in put.description
        )
        await pilot.click("#apply")
        await eventually(pilot, lambda: isinstance(app.screen, ResultsScreen))
        uri = app.state.output_manifest
        assert uri != job_uri and uri.endswith("/vehicle-labels-terminal/manifests/output/output.manifest")
        parsed = jobs.read_output(factory, uri)
        assert [(o.source_ref, o.label) for o in parsed.objects] == [
            (images[0], "Car"), (images[2], "Ferry"), (images[1], "Airplane")
        ]  # fmt: skip
        # the job's confidences as it wrote them; one annotator in the terminal writes 0.00
        assert [round(o.confidence, 2) for o in parsed.objects] == [0.88, 0.71, 0.0]
        assert journal.entries("choice")[-1].data["labeled"] == 3
        assert len(jobs.read_output(factory, job_uri).objects) == 2  # the job's file is untouched
        results = app.screen
        await eventually(pilot, lambda: results.parsed is not None)
        assert "3 of 4 images labeled" in text(app, "#results-summary")

    # another run of sagewiz: the merged manifest in S3 says where to resume
    again = make_app(start_step="labels")
    again.state.output_manifest = uri
    async with again.run_test(size=(120, 50)) as pilot:
        await wait_connected(pilot)
        await pilot.press("t")
        await eventually(
            pilot, lambda: isinstance(again.screen, TerminalLabelScreen) and again.screen.session is not None
        )
        assert again.screen.session.position == 3 and not again.screen.session.answers
        assert "3 of 4 images labeled" in text(again, "#term-counts")


async def test_the_step_says_how_many_images_the_manifest_labels_and_marks_it(
    make_app, factory, world
) -> None:
    """The Labels step counts the manifest Train will read against every image under the prefix:
    2 of 4 is `!`; after labeling the rest here, back on the step it reads 4 of 4 and `✓`."""
    from services.flow.marks import Mark, marks_for

    prefix = copy_samples(factory, world, 4)
    from services.labeling.setup import list_images

    images = list_images(factory, prefix)
    uri = f"s3://{world.default_bucket}/gt/output/part/manifests/output/output.manifest"
    part = [
        mf.LabeledObject(images[n], (1,), ("Car",), (0.9,), False, "part", "2026-11-27T09:00:00")
        for n in (0, 1)
    ]
    factory.client("s3").put_object(Bucket=world.default_bucket, Key=uri.split("/", 3)[3],
                                    Body=mf.write_output_manifest(part, "part").encode())  # fmt: skip
    app = make_app(start_step="labels")
    app.state.output_manifest = uri
    async with app.run_test(size=(120, 50)) as pilot:
        await wait_connected(pilot)
        await eventually(pilot, lambda: "2 of 4 images labeled" in text(app, "#labels-summary"))
        await eventually(pilot, lambda: app.step_states["labels"] is Mark.ATTENTION)
        # the same count read for a resumed session
        assert marks_for(factory, app.state) == {"labels": Mark.ATTENTION}
        await pilot.press("t")
        await eventually(
            pilot, lambda: isinstance(app.screen, TerminalLabelScreen) and app.screen.session is not None
        )
        await pilot.press("1")
        await pilot.press("2")
        await pilot.press("ctrl+s")
        await eventually(pilot, lambda: type(app.screen).__name__ == "ConfirmPlanScreen")
        await pilot.click("#apply")
        await eventually(pilot, lambda: isinstance(app.screen, ResultsScreen))
        await pilot.press("escape")
        await eventually(pilot, lambda: isinstance(app.screen, LabelsStep))
        await eventually(pilot, lambda: "4 of 4 images labeled" in text(app, "#labels-summary"))
        assert app.step_states["labels"] is Mark.DONE
        assert marks_for(factory, app.state) == {"labels": Mark.DONE}


async def test_results_show_each_label_s_confidence_as_the_job_wrote_it(make_app, factory, world) -> None:
    """A multi-label object shows every label's confidence, not only its lowest."""
    from textual.widgets import DataTable

    prefix = copy_samples(factory, world, 2)
    from services.labeling.setup import list_images

    images = list_images(factory, prefix)
    uri = f"s3://{world.default_bucket}/gt/output/tags/manifests/output/output.manifest"
    objs = [
        mf.LabeledObject(images[0], (0, 2), ("Airplane", "Ferry"), (0.93, 0.71), False, "tags", "2026-01-01T00:00:00", True),
        mf.LabeledObject(images[1], (1,), ("Car",), (0.88,), False, "tags", "2026-01-01T00:00:00", True),
    ]  # fmt: skip
    factory.client("s3").put_object(Bucket=world.default_bucket, Key=uri.split("/", 3)[3],
                                    Body=mf.write_output_manifest(objs, "tags").encode())  # fmt: skip
    app = make_app(start_step="labels")
    app.state.output_manifest = uri
    async with app.run_test(size=(120, 50)) as pilot:
        await wait_connected(pilot)
        await pilot.press("r")
        await eventually(
            pilot, lambda: isinstance(app.screen, ResultsScreen) and app.screen.parsed is not None
        )
        table = app.screen.query_one("#results-table", DataTable)
        await eventually(pilot, lambda: table.row_count == 2)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(2)]
        assert rows[0][2:4] == ["Airplane, Ferry", "0.93, 0.71"]
        assert rows[1][2:4] == ["Car", "0.88"]
