"""The append-only journal: what it records, and that damage never crashes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.journal import Journal


def test_entries_round_trip_and_are_scoped_to_account_and_region(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    j.bind("111122223333", "eu-north-1", sandbox=True)
    j.append("resource-created", type="bucket", id="b1")
    j.bind("444455556666", "us-east-1", sandbox=False)
    j.append("resource-created", type="bucket", id="b2")
    assert [e.data["id"] for e in j.created_resources()] == ["b2"]
    j.bind("111122223333", "eu-north-1", sandbox=True)
    assert [e.data["id"] for e in j.created_resources()] == ["b1"]
    assert len(j.entries(scope=False)) == 2


def test_deleted_resources_leave_the_inventory(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    j.append("resource-created", type="notebook", id="nb")
    j.append("resource-created", type="bucket", id="b")
    j.append("resource-deleted", type="notebook", id="nb")
    assert [e.data["id"] for e in j.created_resources()] == ["b"]


def test_policy_replacements_keep_the_whole_old_document_and_undo_marks(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    old = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    first = j.append("policy-replaced", target="bucket-policy:b", old=old)
    second = j.append("policy-replaced", target="bucket-policy:b", old={"x": 1})
    assert j.last_policy_change("bucket-policy:b").id == second.id
    j.append("policy-restored", undoes=second.id)
    last = j.last_policy_change("bucket-policy:b")
    assert last is not None and last.id == first.id and last.data["old"] == old


def test_corrupt_and_half_written_lines_are_skipped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    j = Journal(path)
    j.append("job-started", name="job-1")
    with path.open("ab") as f:
        f.write(b'{"kind": "job-started", "id": "x", "at": "2026-\n')  # interrupted write
        f.write(b"\xff\xfe not json\n")
        f.write(b'{"no": "kind"}\n')
    j.append("job-started", name="job-2")
    result = j.read()
    assert [e.data["name"] for e in result.entries] == ["job-1", "job-2"]
    assert len(result.warnings) == 3
    assert "line 2" in result.warnings[0]


def test_a_missing_journal_reads_as_empty(tmp_path: Path) -> None:
    j = Journal(tmp_path / "none" / "j.jsonl")
    assert j.read().entries == () and j.read().warnings == ()


def test_credentials_are_never_written(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    with pytest.raises(ValueError):
        j.append("session", nested={"aws_secret_access_key": "x"})
    assert not (tmp_path / "j.jsonl").exists()


def test_lines_are_json_with_when_and_where(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    j.bind("123456789012", "eu-north-1", sandbox=True)
    j.append("choice", bucket="b")
    obj = json.loads((tmp_path / "j.jsonl").read_text().splitlines()[0])
    assert obj["kind"] == "choice" and obj["account"] == "123456789012" and obj["sandbox"] is True
    assert obj["at"].endswith("+00:00")


def test_last_session_is_an_earlier_run(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    earlier = Journal(path)
    earlier.append("session", caller="arn:1")
    now = Journal(path)
    now.append("session", caller="arn:2")
    last = now.last_session()
    assert last is not None and last.data["caller"] == "arn:1"


def test_unknown_entry_kinds_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Journal(tmp_path / "j.jsonl").append("whatever")


def test_listeners_hear_each_entry_after_it_is_written(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    heard: list[str] = []
    j.on_append = lambda entry: heard.append(entry.kind) or None
    j.append("job-started", name="job-1")
    assert heard == ["job-started"]
    assert j.read().entries[0].data["name"] == "job-1"
