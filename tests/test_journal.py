"""The append-only journal: what it records, that damage never crashes it, and that journals
written before its events were typed still load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.journal import Journal
from services.journal_events import (
    Change,
    ChoiceMade,
    JobStarted,
    PolicyReplaced,
    PolicyRestored,
    ResourceChanged,
    ResourceCreated,
    ResourceDeleted,
    SessionStarted,
)
from services.resource_kinds import LEGACY_NAMES, ResourceKind
from tests.cleanup.helpers import append_legacy

BUCKET, NOTEBOOK = ResourceKind.BUCKET, ResourceKind.NOTEBOOK


def test_entries_round_trip_and_are_scoped_to_account_and_region(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    j.bind("111122223333", "eu-north-1", sandbox=True)
    j.append(ResourceCreated(BUCKET, "b1"))
    j.bind("444455556666", "us-east-1", sandbox=False)
    j.append(ResourceCreated(BUCKET, "b2", attributes={"region": "us-east-1"}))
    assert [e.event for e in j.created_resources()] == [
        ResourceCreated(BUCKET, "b2", attributes={"region": "us-east-1"})
    ]
    j.bind("111122223333", "eu-north-1", sandbox=True)
    assert [e.data["id"] for e in j.created_resources()] == ["b1"]
    assert len(j.entries(scope=False)) == 2


def test_every_event_reads_back_as_it_was_written(tmp_path: Path) -> None:
    events = [
        SessionStarted(
            caller="arn:aws:iam::1:user/a", endpoint="http://x", sandbox=True, profile="p", mode="plain"
        ),
        ChoiceMade({"bucket": "b", "labels": ["Car", "Ferry"], "extra": {"training": {"eta": "0.2"}}}),
        ResourceCreated(NOTEBOOK, "nb", attributes={"instance_type": "ml.t3.medium"}),
        JobStarted(ResourceKind.TRAINING_JOB, "job", attributes={"instance_count": 2}),
        ResourceChanged(
            ResourceKind.ROLE, "r", change=Change.POLICY_ATTACHED, attributes={"policy_arn": "arn:p"}
        ),
        ResourceDeleted(
            ResourceKind.ROLE, "r", "arn:aws:iam::1:role/r", {"trust_policy": {"Version": "2012-10-17"}}
        ),
        PolicyReplaced("t", "bucket-policy", {"kind": "bucket-policy"}, "fix", "absent", True, "{}", False),
        PolicyRestored("abc", "t", "bucket-policy", {"kind": "bucket-policy"}, "absent", "{}"),
    ]
    j = Journal(tmp_path / "j.jsonl")
    for event in events:
        j.append(event)
    result = j.read()
    assert result.warnings == ()
    assert [e.event for e in result.entries] == events


def test_deleted_resources_leave_the_inventory(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    j.append(ResourceCreated(NOTEBOOK, "nb"))
    j.append(ResourceCreated(BUCKET, "b"))
    j.append(ResourceDeleted(NOTEBOOK, "nb"))
    assert [e.data["id"] for e in j.created_resources()] == ["b"]


def _replaced(target: str, old: str) -> PolicyReplaced:
    return PolicyReplaced(target, "bucket-policy", {"bucket": "b"}, "fix", old, False, "{}", False)


def test_policy_replacements_keep_the_whole_old_document_and_undo_marks(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    old = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
        }
    )
    first = j.append(_replaced("bucket-policy:b", old))
    second = j.append(_replaced("bucket-policy:b", '{"x": 1}'))
    assert j.last_policy_change("bucket-policy:b").id == second.id
    j.append(PolicyRestored(second.id, "bucket-policy:b", "bucket-policy", {}, old, '{"x": 1}'))
    last = j.last_policy_change("bucket-policy:b")
    assert last is not None and last.id == first.id and last.data["old_document"] == old


def test_corrupt_and_half_written_lines_are_skipped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    j = Journal(path)
    j.append(JobStarted(ResourceKind.TRAINING_JOB, "job-1"))
    with path.open("ab") as f:
        f.write(b'{"kind": "job-started", "id": "x", "at": "2026-\n')  # interrupted write
        f.write(b"\xff\xfe not json\n")
        f.write(b'{"no": "kind"}\n')
        f.write(b"[1, 2]\n")  # JSON, but not an entry
    j.append(JobStarted(ResourceKind.TRAINING_JOB, "job-2"))
    result = j.read()
    assert [e.data["id"] for e in result.entries] == ["job-1", "job-2"]
    assert len(result.warnings) == 4
    assert "line 2" in result.warnings[0]


def test_ill_typed_lines_are_skipped_with_a_warning_that_says_why(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    j.bind("111122223333", "eu-north-1", sandbox=True)
    append_legacy(j, "resource-created", type="spaceship", id="x")
    append_legacy(j, "resource-created", type="bucket")  # no name
    append_legacy(j, "resource-created", type="bucket", id={"not": "a name"})
    append_legacy(j, "resource-changed", type="notebook", id="nb", change="teleported")
    append_legacy(j, "policy-replaced", target="t", target_info="not an object")
    append_legacy(j, "from-the-future", anything=1)
    append_legacy(j, "resource-created", type="bucket", id="fine")
    result = j.read()
    assert [e.data["id"] for e in result.entries] == ["fine"]
    assert len(result.warnings) == 6
    assert "spaceship" in result.warnings[0] and "line 1" in result.warnings[0]
    assert "teleported" in result.warnings[3]
    assert "from-the-future" in result.warnings[5]


def test_a_journal_written_before_the_events_were_typed_still_loads(tmp_path: Path) -> None:
    """Each spelling an earlier sagewiz wrote, exactly as its step wrote it."""
    j = Journal(tmp_path / "j.jsonl")
    j.bind("111122223333", "eu-north-1", sandbox=True)
    old_lines = [
        (
            "resource-created",
            {"type": "s3-bucket", "name": "b", "arn": "arn:aws:s3:::b", "region": "eu-north-1"},
        ),
        ("resource-created", {"type": "iam-role", "id": "r", "arn": "arn:aws:iam::1:role/service-role/r"}),
        ("resource-created", {"type": "notebook-instance", "id": "nb", "instance_type": "ml.t3.medium"}),
        ("resource-created", {"type": "notebook-lifecycle-config", "id": "lc"}),
        ("resource-created", {"type": "sagemaker-model", "name": "m", "from_job": "t"}),
        ("resource-created", {"type": "s3-object", "id": "s3://b/k", "what": "backup"}),
        ("job-started", {"type": "training", "name": "t", "algorithm": "xgboost"}),
        ("job-started", {"type": "hyper-parameter-tuning-job", "id": "h", "strategy": "Bayesian"}),
        ("job-started", {"type": "labeling-job", "id": "l", "name": "l", "label_attribute": "l"}),
        ("resource-changed", {"type": "iam-role", "id": "r", "attached": "arn:p"}),
        ("resource-changed", {"type": "iam-role", "id": "r", "inline_policy": "sagewiz-access"}),
        ("resource-changed", {"type": "s3-bucket-cors", "id": "b", "previous": None, "new": []}),
        ("resource-changed", {"type": "s3-object-ownership", "id": "b", "old": "ObjectWriter"}),
        ("resource-changed", {"type": "hyper-parameter-tuning-job", "id": "h", "change": "stop"}),
        ("resource-changed", {"type": "notebook-instance", "id": "nb", "change": "stopped"}),
        ("resource-deleted", {"type": "notebook-lifecycle-config", "id": "lc", "reason": "rollback"}),
    ]
    for kind, data in old_lines:
        append_legacy(j, kind, **data)
    result = j.read()
    assert result.warnings == ()
    got = [
        (type(e.event).__name__, getattr(e.event, "kind", None), getattr(e.event, "id", None))
        for e in result.entries
    ]
    K = ResourceKind
    assert got == [
        ("ResourceCreated", K.BUCKET, "b"),
        ("ResourceCreated", K.ROLE, "r"),
        ("ResourceCreated", K.NOTEBOOK, "nb"),
        ("ResourceCreated", K.LIFECYCLE_CONFIG, "lc"),
        ("ResourceCreated", K.MODEL, "m"),
        ("ResourceCreated", K.OBJECT, "s3://b/k"),
        ("JobStarted", K.TRAINING_JOB, "t"),
        ("JobStarted", K.TUNING_JOB, "h"),
        ("JobStarted", K.LABELING_JOB, "l"),
        *[("ResourceChanged", k, i) for k, i in [(K.ROLE, "r"), (K.ROLE, "r"), (K.BUCKET, "b"), (K.BUCKET, "b"),
                                                   (K.TUNING_JOB, "h"), (K.NOTEBOOK, "nb")]],
        ("ResourceDeleted", K.LIFECYCLE_CONFIG, "lc"),
    ]  # fmt: skip
    changes = [e.event.change for e in result.entries if isinstance(e.event, ResourceChanged)]
    assert changes == [
        Change.POLICY_ATTACHED, Change.INLINE_POLICY_PUT, Change.CORS_REPLACED, Change.OWNERSHIP_CHANGED,
        Change.STOPPED, Change.STOPPED,
    ]  # fmt: skip
    first = result.entries[0].event
    assert isinstance(first, ResourceCreated) and first.arn == "arn:aws:s3:::b"
    assert first.attributes == {"region": "eu-north-1"}
    # Every legacy spelling the map knows is one some step wrote, and is read by this test.
    spelled = {data["type"] for _kind, data in old_lines}
    assert set(LEGACY_NAMES) <= spelled


def test_a_missing_journal_reads_as_empty(tmp_path: Path) -> None:
    j = Journal(tmp_path / "none" / "j.jsonl")
    assert j.read().entries == () and j.read().warnings == ()


def test_credentials_are_never_written(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    with pytest.raises(ValueError):
        j.append(ChoiceMade({"nested": {"aws_secret_access_key": "x"}}))
    assert not (tmp_path / "j.jsonl").exists()


def test_lines_are_json_with_when_and_where(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    j.bind("123456789012", "eu-north-1", sandbox=True)
    j.append(ChoiceMade({"bucket": "b"}))
    j.append(ResourceCreated(NOTEBOOK, "nb", attributes={"role_arn": "arn:r"}))
    first, second = (json.loads(line) for line in (tmp_path / "j.jsonl").read_text().splitlines())
    assert first["kind"] == "choice" and first["account"] == "123456789012" and first["sandbox"] is True
    assert first["at"].endswith("+00:00") and first["data"] == {"bucket": "b"}
    assert second["kind"] == "resource-created"
    assert second["data"] == {"type": "notebook", "id": "nb", "role_arn": "arn:r"}


def test_last_session_is_an_earlier_run(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    earlier = Journal(path)
    earlier.append(SessionStarted(caller="arn:1"))
    now = Journal(path)
    now.append(SessionStarted(caller="arn:2"))
    last = now.last_session()
    assert last is not None and last.data["caller"] == "arn:1"


def test_listeners_hear_each_entry_after_it_is_written(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    heard: list[str] = []
    j.on_append = lambda entry: heard.append(entry.kind) or None
    j.append(JobStarted(ResourceKind.TRAINING_JOB, "job-1"))
    assert heard == ["job-started"]
    assert j.read().entries[0].data["id"] == "job-1"
