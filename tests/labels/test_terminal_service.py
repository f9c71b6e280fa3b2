"""The terminal labeling session: pick, skip, back, undo; the output it writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.errors import SagewizError, ValidationError
from services.labeling import manifest as mf
from services.labeling.terminal import TerminalLabeling, write_plan
from services.labeling.terminal_merge import NONE, first_unlabeled, merge, read_existing

SRC = [f"s3://b/images/{i}.jpg" for i in range(4)]
LABELS = ("Airplane", "Car", "Ferry")


def clock() -> datetime:
    return datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=UTC)


def test_pick_skip_back_undo() -> None:
    s = TerminalLabeling(SRC, LABELS, clock=clock)
    assert s.pick(1) and s.position == 1
    assert not s.pick(7)  # no such label: nothing happens
    s.skip()
    assert s.position == 2 and s.progress().skipped == 1
    s.pick(2)
    assert s.position == 3
    s.back()
    assert s.position == 2
    s.pick(0)  # relabel image 2
    assert s.answers[2] == (0,)
    assert s.undo() and s.answers[2] == (2,) and s.position == 2
    assert s.undo() and 2 not in s.answers
    s.pick(2)
    s.pick(1)
    # everything after is done: back to the skipped one
    assert s.position == 1
    s.pick(0)
    assert s.done and s.progress().labeled == 4
    objs = s.objects("vehicle-labels")
    assert [o.class_names[0] for o in objs] == ["Car", "Airplane", "Ferry", "Car"]
    assert objs[0].creation_date == "2026-11-27T10:00:00.123456"
    assert all(o.confidence == 0.0 and o.human_annotated for o in objs)


def test_multi_label_toggles_and_confirms() -> None:
    s = TerminalLabeling(SRC[:2], LABELS, multi=True, clock=clock)
    s.pick(0)
    s.pick(2)
    s.pick(0)
    s.pick(1)
    assert s.confirm() and s.answers[0] == (1, 2)
    assert not s.confirm()  # nothing chosen for the next one
    obj = s.objects("j")[0]
    assert obj.multi and obj.class_names == ("Car", "Ferry")


def test_write_plan_targets_the_job_layout() -> None:
    s = TerminalLabeling(SRC, LABELS, clock=clock)
    s.pick(0)
    plan, uri = write_plan(
        s.objects("vehicle-labels"), "s3://b/gt/output", "vehicle-labels", "vehicle-labels"
    )
    assert uri == "s3://b/gt/output/vehicle-labels/manifests/output/output.manifest"
    body = plan.actions[0].params["Body"].decode()
    parsed = mf.parse_output_manifest(body)
    assert parsed.problems == () and parsed.objects[0].label == "Airplane"
    with pytest.raises(ValidationError):
        write_plan([], "s3://b/gt/output", "j", "j")
    with pytest.raises(ValidationError):
        TerminalLabeling([], LABELS)


def test_an_existing_manifest_is_backed_up_before_it_is_replaced() -> None:
    s = TerminalLabeling(SRC, LABELS, clock=clock)
    s.pick(1)
    plan, uri = write_plan(s.objects("j"), "s3://b/out", "j", "j", replaces=True, stamp="20261127T100000")
    copy, put = plan.actions
    assert copy.operation == "copy_object" and put.operation == "put_object"
    assert copy.params["Key"] == "out/j/manifests/output/output.manifest.bak-20261127T100000"
    assert copy.params["CopySource"] == {"Bucket": "b", "Key": "out/j/manifests/output/output.manifest"}


def test_a_new_session_passes_over_images_the_manifest_already_labels() -> None:
    s = TerminalLabeling(SRC, LABELS, clock=clock, already=frozenset({SRC[0], SRC[2], "s3://b/other.jpg"}))
    assert s.position == 1 and s.progress().labeled == 2 and s.progress().remaining == 2
    s.pick(1)
    assert s.position == 3  # image 2 is labeled already
    s.skip()
    assert s.position == 3 and s.progress().skipped == 1  # only the skipped one is left
    s.pick(0)
    assert s.done and s.labeled == 4 and len(s.answers) == 2
    everything = TerminalLabeling(SRC[:1], LABELS, already=frozenset(SRC[:1]))
    assert everything.position == 0 and everything.done


def test_terminal_labels_merge_with_the_job_s_and_keep_its_confidences() -> None:
    job = [
        mf.LabeledObject(
            SRC[0], (0,), ("Car",), (0.91,), False, "vehicle-labels", "2026-11-27T09:00:00", False
        ),
        mf.LabeledObject(
            SRC[1], (2,), ("Ferry",), (0.64,), False, "vehicle-labels", "2026-11-27T09:00:00", False
        ),
    ]
    s = TerminalLabeling(SRC, LABELS, clock=clock, already=frozenset(o.source_ref for o in job))
    assert s.position == 2  # the first image without a label
    s.pick(2)  # image 2: Ferry
    s.back()
    s.back()
    s.pick(0)  # image 1 relabeled by the person: Airplane, replacing the job's Ferry
    merged = merge(tuple(job), s.objects("t"), LABELS)
    assert [o.source_ref for o in merged] == [SRC[0], SRC[1], SRC[2]]
    assert [o.label for o in merged] == ["Car", "Airplane", "Ferry"]
    # the job's object keeps its confidence and annotator; its index follows the terminal's list
    assert merged[0].confidence == 0.91 and not merged[0].human_annotated and merged[0].label_indices == (1,)
    assert merged[1].human_annotated and merged[1].job_name == "t"
    body = mf.write_output_manifest(merged, "t")
    parsed = mf.parse_output_manifest(body)
    assert parsed.problems == () and parsed.categories == LABELS
    assert [round(o.confidence, 2) for o in parsed.objects] == [0.91, 0.0, 0.0]
    assert first_unlabeled(SRC, frozenset(o.source_ref for o in merged)) == 3
    assert first_unlabeled(SRC, frozenset(SRC)) == 0


def test_existing_labels_are_read_from_the_first_manifest_that_exists(factory, world) -> None:
    s3 = factory.client("s3")
    bucket = world.default_bucket
    missing = f"s3://{bucket}/nothing/output.manifest"
    assert read_existing(factory, [missing, ""]) == NONE
    good = mf.LabeledObject(
        f"s3://{bucket}/i/0.jpg", (1,), ("Car",), (0.77,), False, "job", "2026-11-27T09:00:00"
    )
    s3.put_object(
        Bucket=bucket, Key="m/output.manifest", Body=mf.write_output_manifest([good], "job").encode()
    )
    found = read_existing(factory, [missing, f"s3://{bucket}/m/output.manifest"])
    assert found.uri == f"s3://{bucket}/m/output.manifest" and found.labeled_refs == {good.source_ref}
    assert found.objects[0].confidence == 0.77
    s3.put_object(Bucket=bucket, Key="bad/output.manifest", Body=b"not json\n{}\n")
    with pytest.raises(SagewizError) as err:
        read_existing(factory, [f"s3://{bucket}/bad/output.manifest"])
    assert "no readable labeled object (2 bad lines)" in err.value.message
