"""`sagewiz status` and `sagewiz logs` given a labeling job's name: status shows its progress,
logs says it is a labeling job (which has no training log) instead of "no training job"."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.labeling.setup import build_setup_plan
from services.plan import apply_plan
from tui.cli import main

from .helpers import copy_samples, fix_role, wait_job_done
from .test_sandbox_jobs import make_spec


def test_status_and_logs_know_a_labeling_job(
    world: Any,
    factory: Any,
    journal: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prefix = copy_samples(factory, world, 5)
    fix_role(factory, world)
    setup = build_setup_plan(factory, make_spec(world), prefix)
    apply_plan(setup.plan, factory, journal)
    wait_job_done(factory, "vehicle-labels")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
    common = ["--endpoint-url", world.endpoint, "--region", world.region]

    assert main(["status", "vehicle-labels", *common]) == 0
    out = capsys.readouterr().out
    assert out.startswith("labeling job: vehicle-labels") and "labeled:   5, failed 0, unlabeled 0" in out

    assert main(["status", "vehicle-labels", "--json", *common]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "labeling"

    assert main(["logs", "vehicle-labels", *common]) == 2
    err = capsys.readouterr().err
    assert "'vehicle-labels' is a labeling job" in err and "sagewiz status vehicle-labels" in err

    assert main(["status", *common]) == 0
    listing = capsys.readouterr().out
    assert "Labeling jobs in eu-north-1:\n  vehicle-labels" in listing
