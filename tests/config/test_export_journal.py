"""`sagewiz export` from a journal written by anyone: damaged lines are reported, values `apply`
would refuse are left out (and named), and every file it writes is one `apply` accepts."""

from __future__ import annotations

import argparse
import io
import json
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.config_file import load
from services.journal import Journal
from services.journal_events import ChoiceMade
from services.resume import RESTORABLE
from tui.commands.export_apply import run_export


def export(journal: Journal, target: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_export(argparse.Namespace(file=str(target), sandbox=False), out, err, journal)
    return code, out.getvalue(), err.getvalue()


def written_journal(path: Path, values: dict[str, Any]) -> Journal:
    writer = Journal(path)
    writer.bind("123456789012", "eu-north-1", False)
    writer.append(ChoiceMade(values))
    return Journal(path)


def test_damaged_and_ill_typed_lines_are_reported_and_left_out(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = written_journal(
        path,
        {
            "bucket": 5,
            "training_job": "good-job",
            "extra": {
                "training": {"instance_count": "many", "algorithm": "xgboost"},
                "tuning": {"strategy": "Banana"},
            },
        },
    )
    with path.open("a") as fh:
        fh.write('{"kind": "choice", "data": \n')  # cut off mid-line
    code, out, err = export(journal, tmp_path / "out.toml")
    assert code == 0, err
    assert "journal line 2 is damaged and was skipped" in err
    assert "left out bucket.name" in err and "left out training.instance_count" in err
    assert "left out tuning.strategy" in err
    cfg = load(tmp_path / "out.toml")  # the file apply reads
    assert cfg.state["training_job"] == "good-job" and "bucket" not in cfg.state
    assert cfg.tables["training"] == {"algorithm": "xgboost"}
    assert "Wrote" in out


def test_an_unreadable_journal_is_said_as_such(tmp_path: Path) -> None:
    (tmp_path / "journal.jsonl").mkdir()
    from services.errors import LocalFileError

    try:
        export(Journal(tmp_path / "journal.jsonl"), tmp_path / "out.toml")
    except LocalFileError as exc:
        assert "journal cannot be read" in exc.title.lower()
    else:
        raise AssertionError("an unreadable journal must not read as an empty one")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
step_tables = st.dictionaries(
    st.sampled_from(["notebook", "bucket", "data", "labels", "training", "tuning", "label_attribute", "misc"]),
    st.dictionaries(
        st.sampled_from(["instance_type", "instance_count", "algorithm", "strategy", "max_jobs", "ranges",
                         "hyperparameters", "workforce", "source", "volume_gb", "nmae", "objective"]),
        json_values, max_size=4,
    ) | json_values,
    max_size=4,
)  # fmt: skip
choices = st.fixed_dictionaries(
    {},
    optional={
        **{k: json_values for k in sorted(RESTORABLE - {"extra"})},
        "training_job": st.sampled_from(["job-1", "bad_name", ""]) | json_values,
        "extra": step_tables,
    },
)


@settings(
    max_examples=int(os.environ.get("SAGEWIZ_EXPORT_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(values=choices)
def test_every_export_is_a_file_apply_accepts(tmp_path: Path, values: dict[str, Any]) -> None:
    path = tmp_path / "journal.jsonl"
    path.unlink(missing_ok=True)
    try:
        journal = written_journal(path, json.loads(json.dumps(values)))
    except ValueError:
        return  # the journal refuses what looks like a credential key: nothing written
    target = tmp_path / "out.toml"
    target.unlink(missing_ok=True)
    try:
        code, _, err = export(journal, target)
    except Exception as exc:  # the command line's guard would print it: it must be a person's error
        from services.errors import InternalError, SagewizError

        assert isinstance(exc, SagewizError) and not isinstance(exc, InternalError), repr(exc)
        return
    if code == 0:
        load(target)  # raises when apply would refuse the file
    else:
        assert code == 2 and "no session" in err
