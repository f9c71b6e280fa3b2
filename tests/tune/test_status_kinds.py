"""`sagewiz status` and `sagewiz logs` know a tuning job by its name, and plain `status` lists
every kind of job under its header."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.tuning.config import TrainingBase
from services.tuning.request import build_request
from tests.tune.test_sandbox_tuning import tuning_config, wait_done
from tui.cli import main


def test_status_and_logs_understand_a_tuning_job(
    world: Any,
    factory: Any,
    base: TrainingBase,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sm = factory.client("sagemaker")
    sm.create_hyper_parameter_tuning_job(**build_request(tuning_config(base, name="kinds-tune", max_jobs=2)))
    wait_done(sm, "kinds-tune")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
    common = ["--endpoint-url", world.endpoint, "--region", world.region]

    assert main(["status", "kinds-tune", *common]) == 0
    out = capsys.readouterr().out
    assert out.startswith("tuning job: kinds-tune") and "strategy:  Random" in out and "best:" in out

    assert main(["status", "kinds-tune", "--json", *common]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "tuning" and data["training_jobs"]["Completed"] == 2

    assert main(["logs", "kinds-tune", *common]) == 0
    captured = capsys.readouterr()
    assert "is a tuning job: printing every training job's log" in captured.err
    assert "kinds-tune-" in captured.out or "algo-1" in captured.out

    assert main(["status", *common]) == 0
    listing = capsys.readouterr().out
    assert "Training jobs in eu-north-1:" in listing
    assert "Tuning jobs in eu-north-1:" in listing and "kinds-tune" in listing
    assert "Labeling jobs in eu-north-1:" in listing

    assert main(["status", "no-such-job-anywhere", *common]) == 2
    assert "no training, tuning or labeling job" in capsys.readouterr().err
