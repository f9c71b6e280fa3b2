"""The terminal labeling session: pick, skip, back, undo; the output it writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.errors import ValidationError
from services.labeling import manifest as mf
from services.labeling.terminal import TerminalLabeling, write_plan

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
