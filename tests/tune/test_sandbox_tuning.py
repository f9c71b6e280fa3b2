"""Tuning jobs in the sandbox, over real boto3 calls: real children, real counters, list, stop."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import botocore.exceptions
import pytest

from services.sandbox.extensions import tuning as ext
from services.tuning.catalog import catalog_for
from services.tuning.config import TrainingBase, TuningConfig
from services.tuning.request import build_request
from tests.support import eventually_blocking

DEADLINE = 40.0


def tuning_config(base: TrainingBase, name: str = "tt", **changes: Any) -> TuningConfig:
    cat = catalog_for("xgboost", base.static_hyperparameters)
    cfg = TuningConfig(
        name=name,
        base=base,
        ranges=(cat.spec("eta").default_range(), cat.spec("max_depth").default_range().with_(min_value="1")),
        objective_metric="validation:mlogloss",
        objective_type="Minimize",
        strategy="Random",
        max_jobs=5,
        max_parallel=2,
        random_seed=11,
    )
    return cfg.with_(**changes)


def wait_done(sm: Any, name: str, watch: list[int] | None = None) -> dict[str, Any]:
    """The tuning job's description once it has ended; `watch` collects InProgress at every poll."""

    def ended() -> dict[str, Any] | None:
        d = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        if watch is not None:
            watch.append(d["TrainingJobStatusCounters"]["InProgress"])
        return d if d["HyperParameterTuningJobStatus"] in ("Completed", "Stopped", "Failed") else None

    return eventually_blocking(ended, DEADLINE, what=f"tuning job {name} to finish")


def children(sm: Any, name: str, **kw: Any) -> list[dict[str, Any]]:
    out, token = [], None
    while True:
        args = {"HyperParameterTuningJobName": name, "MaxResults": 100, **kw}
        if token:
            args["NextToken"] = token
        page = sm.list_training_jobs_for_hyper_parameter_tuning_job(**args)
        out += page["TrainingJobSummaries"]
        token = page.get("NextToken")
        if not token:
            return out


def test_tuning_jobs_run_real_children_list_and_count(factory: Any, world: Any, base: TrainingBase) -> None:
    """Three tuning jobs at once: random (4 children, 2 at a time), grid (every combination) and
    one with 250 injected finished children for paging, sorting and filtering."""
    sm = factory.client("sagemaker")
    cat = catalog_for("xgboost", base.static_hyperparameters)
    grid = tuning_config(base, name="grid", strategy="Grid", max_jobs=None, max_parallel=2,
                         ranges=(cat.spec("booster").default_range().with_(values=("gbtree", "dart")),
                                 cat.spec("tree_method").default_range().with_(values=("exact", "hist"))))  # fmt: skip
    sm.create_hyper_parameter_tuning_job(**build_request(tuning_config(base, max_jobs=4)))
    sm.create_hyper_parameter_tuning_job(**build_request(grid))
    sm.create_hyper_parameter_tuning_job(
        **build_request(tuning_config(base, name="big", max_jobs=1, max_parallel=1))
    )
    first = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tt")
    assert first["HyperParameterTuningJobStatus"] == "InProgress"  # not moto's instant Completed
    assert "BestTrainingJob" not in first
    wait_first_child(sm, "big")
    inject_250(world)
    running: list[int] = []
    done = wait_done(sm, "tt", running)
    assert max(running) <= 2
    assert done["HyperParameterTuningJobStatus"] == "Completed"
    kids = children(sm, "tt")
    assert len(kids) == 4
    counters = done["TrainingJobStatusCounters"]
    assert counters["Completed"] + counters["Stopped"] + counters["NonRetryableError"] == 4
    assert counters["InProgress"] == 0
    assert done["ObjectiveStatusCounters"]["Pending"] == 0
    for k in kids:
        assert k["TrainingJobName"].startswith("tt-") and k["TuningJobName"] == "tt"
        assert set(k["TunedHyperParameters"]) == {"eta", "max_depth"}
        assert 0.1 <= float(k["TunedHyperParameters"]["eta"]) <= 0.5
        child = sm.describe_training_job(TrainingJobName=k["TrainingJobName"])
        assert child["HyperParameters"]["_tuning_objective_metric"] == "validation:mlogloss"
        assert child["HyperParameters"]["eta"] == k["TunedHyperParameters"]["eta"]
        assert child["TuningJobArn"] == done["HyperParameterTuningJobArn"]
    # the best job is the real minimum of the children's objective values
    scored = [k for k in kids if k.get("ObjectiveStatus") == "Succeeded"]
    assert scored, [k.get("FailureReason") for k in kids]
    best = min(scored, key=lambda k: k["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])
    assert done["BestTrainingJob"]["TrainingJobName"] == best["TrainingJobName"]
    assert (
        done["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["MetricName"]
        == "validation:mlogloss"
    )
    # the objective is what the child computed and reported
    metrics = sm.describe_training_job(TrainingJobName=best["TrainingJobName"])["FinalMetricDataList"]
    reported = {m["MetricName"]: m["Value"] for m in metrics}
    assert reported["validation:mlogloss"] == pytest.approx(
        best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    )
    # grid: every combination exactly once
    wait_done(sm, "grid")
    combos = [tuple(sorted(k["TunedHyperParameters"].items())) for k in children(sm, "grid")]
    assert len(combos) == len(set(combos)) == 4
    check_listing(sm)
    # warm start: the parent's finished children seed the new job's search
    warm = tuning_config(
        base, name="warm", max_jobs=1, max_parallel=1, strategy="Bayesian", warm_start_parents=("tt",)
    )
    sm.create_hyper_parameter_tuning_job(**build_request(warm))
    run = ext.run_of(world.account, world.region, "warm")
    assert run is not None
    seeded = ext.warm_trials(run)
    assert len(seeded) == len(scored) and {t.objective for t in seeded} == {
        k["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for k in scored
    }
    wait_done(sm, "warm")


def wait_first_child(sm: Any, name: str) -> None:
    """The runner launches its own child first; injected ones come after it."""
    eventually_blocking(lambda: children(sm, name), DEADLINE, what=f"a first child of {name}")


def inject_250(world: Any) -> None:
    t0 = datetime(2026, 1, 1)  # moto keeps naive UTC times
    ext.inject_children(world.account, world.region, "big", [
        {"TrainingJobName": f"big-{i:03d}-0000abcd", "TrainingJobArn": f"arn:aws:sagemaker:{world.region}:{world.account}:training-job/big-{i:03d}-0000abcd",
         "TuningJobName": "big", "CreationTime": t0 + timedelta(seconds=i), "TrainingJobStatus": "Completed" if i % 7 else "Failed",
         "TunedHyperParameters": {"eta": str(i / 1000)}, "ObjectiveStatus": "Succeeded" if i % 7 else "Failed",
         **({"FinalHyperParameterTuningJobObjectiveMetric": {"Type": "Minimize", "MetricName": "validation:mlogloss", "Value": (i * 37 % 101) / 100}} if i % 7 else {})}
        for i in range(1, 251)
    ])  # fmt: skip


def check_listing(sm: Any) -> None:
    wait_done(sm, "big")
    every = children(sm, "big")
    assert len(every) == 251
    page = sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName="big")
    assert len(page["TrainingJobSummaries"]) == 10 and page["NextToken"]  # default page size
    failed = children(sm, "big", StatusEquals="Failed")
    assert {k["TrainingJobStatus"] for k in failed} == {"Failed"} and len(failed) in (35, 36)
    by_value = children(sm, "big", SortBy="FinalObjectiveMetricValue", SortOrder="Descending")
    values = [k["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for k in by_value]
    assert values == sorted(values, reverse=True)
    assert all(k.get("ObjectiveStatus") == "Succeeded" for k in by_value)  # no value: not listed
    newest = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="big", SortBy="CreationTime", SortOrder="Descending", MaxResults=3
    )["TrainingJobSummaries"]
    assert newest[0]["CreationTime"] >= newest[1]["CreationTime"] >= newest[2]["CreationTime"]
    d = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="big")
    assert d["TrainingJobStatusCounters"]["NonRetryableError"] >= 35
    assert sum(d["TrainingJobStatusCounters"].values()) == 251
    with pytest.raises(botocore.exceptions.ClientError) as err:
        sm.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName="big", NextToken="garbage"
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_stop_stops_children_and_ends_stopped(factory: Any, base: TrainingBase) -> None:
    from services.sandbox import trainer

    trainer.set_pace(0.5)  # slow enough to stop mid-run
    sm = factory.client("sagemaker")
    sm.create_hyper_parameter_tuning_job(
        **build_request(tuning_config(base, name="stopme", max_jobs=6, max_parallel=2))
    )
    wait_first_child(sm, "stopme")
    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="stopme")
    assert sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="stopme")[
        "HyperParameterTuningJobStatus"
    ] in ("Stopping", "Stopped")
    trainer.set_pace(0.0)
    done = wait_done(sm, "stopme")
    assert done["HyperParameterTuningJobStatus"] == "Stopped"
    kids = children(sm, "stopme")
    assert len(kids) < 6
    assert all(k["TrainingJobStatus"] in ("Stopped", "Completed", "Failed") for k in kids)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="stopme")
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_service_rules_and_missing_job(factory: Any, base: TrainingBase) -> None:
    sm = factory.client("sagemaker")
    bad_grid = build_request(tuning_config(base, name="badgrid", strategy="Grid"))
    with pytest.raises(botocore.exceptions.ClientError) as err:
        sm.create_hyper_parameter_tuning_job(**bad_grid)
    assert "only categorical" in err.value.response["Error"]["Message"]
    bad_hb = build_request(
        tuning_config(base, name="badhb", strategy="Hyperband", early_stopping=True, hyperband_max_resource=5)
    )
    with pytest.raises(botocore.exceptions.ClientError) as err:
        sm.create_hyper_parameter_tuning_job(**bad_hb)
    assert "Hyperband" in err.value.response["Error"]["Message"]
    for call in (sm.list_training_jobs_for_hyper_parameter_tuning_job, sm.stop_hyper_parameter_tuning_job):
        with pytest.raises(botocore.exceptions.ClientError) as err:
            call(HyperParameterTuningJobName="nope")
        assert err.value.response["Error"]["Code"] in ("ResourceNotFound", "ValidationException")


def test_early_stopping_reads_logged_objectives_and_stops_the_laggard(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner's early-stopping pass: objective values come from the children's CloudWatch
    log lines (as SageMaker reads metrics); a child worse than the median is stopped."""
    from moto.logs.models import logs_backends

    logs = logs_backends[world.account][world.region]
    logs.create_log_group(ext.LOG_GROUP, {})
    now = int(time.time() * 1000)
    series = {"j-001": [0.5, 0.4, 0.3], "j-002": [0.6, 0.5, 0.4], "j-003": [0.4, 0.3, 0.2],
              "j-004": [0.9, 0.8, 0.7], "j-005": [0.3, 0.2, 0.1]}  # fmt: skip
    for job, values in series.items():
        logs.create_log_stream(ext.LOG_GROUP, f"{job}/algo-1-1")
        logs.put_log_events(ext.LOG_GROUP, f"{job}/algo-1-1", [
            {"timestamp": now + i, "message": f"[{i}]#011train-mlogloss:0.1#011validation-mlogloss:{v}"}
            for i, v in enumerate(values)
        ])  # fmt: skip
    assert ext.objective_history(world.account, world.region, "j-004", "validation:mlogloss") == [
        0.9,
        0.8,
        0.7,
    ]
    stopped: list[str] = []
    monkeypatch.setattr(ext, "stop_child", lambda a, r, name: stopped.append(name))
    run = ext.TuningRun(world.account, world.region, "j", "arn", {}, {}, datetime(2026, 1, 1),
                        children=[ext.Child(n, "", {}, datetime(2026, 1, 1)) for n in series])  # fmt: skip
    summaries = [
        {"TrainingJobName": n, "TrainingJobStatus": "Completed"} for n in ("j-001", "j-002", "j-003")
    ]
    running = [{"TrainingJobName": n, "TrainingJobStatus": "InProgress"} for n in ("j-004", "j-005")]
    from services.tuning.search import should_stop_median

    ext._early_stop(
        run, summaries + running, running, "validation:mlogloss", "Minimize", 1, should_stop_median
    )
    assert stopped == ["j-004"]
    assert [c.name for c in run.children if c.early_stopped] == ["j-004"]


def test_children_the_role_cannot_feed_fail_the_tuning_job_with_the_reason(
    factory: Any, world: Any, fast_trainer: None
) -> None:
    """The seeded role may not read the bucket: every child fails with the service's
    AccessDenied text, and the tuning job fails naming it."""
    from services.tuning.dashboard import TuningPoller
    from tests.tune.data import IMAGE, channel

    base = TrainingBase(
        image=IMAGE,
        role_arn=world.role_arn,
        input_channels=(channel(world.default_bucket, "train"), channel(world.default_bucket, "validation")),
        output_path=f"s3://{world.default_bucket}/out/",
        static_hyperparameters={"objective": "multi:softmax", "num_class": "5", "num_round": "3"},
    )
    factory.client("s3").put_object(Bucket=world.default_bucket, Key="tune-data/train/t.csv", Body=b"0,1\n")
    sm = factory.client("sagemaker")
    sm.create_hyper_parameter_tuning_job(**build_request(tuning_config(base, name="denied", max_jobs=2)))
    done = wait_done(sm, "denied")
    assert done["HyperParameterTuningJobStatus"] == "Failed"
    assert "All 2 training jobs failed" in done["FailureReason"] and "AccessDenied" in done["FailureReason"]
    assert done["TrainingJobStatusCounters"]["NonRetryableError"] == 2
    snap = TuningPoller(factory, "denied").poll()
    assert snap.failure_reason == done["FailureReason"]
    assert all(c.status == "Failed" and "Data download failed" in c.failure_reason for c in snap.children)


def test_the_tune_mark_is_read_from_the_chosen_tuning_job(
    factory: Any, world: Any, base: TrainingBase
) -> None:
    """What the step bar shows for a resumed session's tuning job: ✓ ended with a best job."""
    from services.flow.marks import Mark, marks_for
    from services.state import WizardState

    sm = factory.client("sagemaker")
    sm.create_hyper_parameter_tuning_job(**build_request(tuning_config(base, name="marked", max_jobs=2)))
    done = wait_done(sm, "marked")
    assert done["HyperParameterTuningJobStatus"] == "Completed" and done["BestTrainingJob"]
    state = WizardState(account=world.account, region=world.region, tuning_job="marked")
    assert marks_for(factory, state) == {"tune": Mark.DONE}
    state.update(tuning_job="never-made")
    assert marks_for(factory, state) == {"tune": Mark.ATTENTION}  # the chosen job is gone
