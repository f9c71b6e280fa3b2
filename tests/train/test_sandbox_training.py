"""Training jobs in the sandbox: they really run, move through statuses, log, and fail like the service."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from services.job_status import describe, s3_denial
from services.training import build_request
from tests.train.conftest import grant_bucket, upload_csv, wait_done, xgb_config


def test_xgboost_job_runs_and_reports(world, factory):
    grant_bucket(factory, world)
    upload_csv(factory, world)
    sm = factory.client("sagemaker")
    cfg = xgb_config(world).with_(instance_count=2)
    sm.create_training_job(**build_request(cfg))
    first = sm.describe_training_job(TrainingJobName="job-a")
    assert first["TrainingJobStatus"] == "InProgress"
    d = wait_done(sm, "job-a")
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    seq = [t["Status"] for t in d["SecondaryStatusTransitions"]]
    assert seq == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert all(t.get("EndTime") for t in d["SecondaryStatusTransitions"])
    names = {m["MetricName"] for m in d["FinalMetricDataList"]}
    assert {"train:mlogloss", "validation:mlogloss"} <= names
    assert d["BillableTimeInSeconds"] >= 2  # two hosts, at least a second each
    assert "MetricDefinitions" not in d["AlgorithmSpecification"] or d["AlgorithmSpecification"][
        "MetricDefinitions"
    ] != [{"Name": "test:dcg", "Regex": "#quality_metric: host=\\S+, test dcg <score>=(\\S+)"}]
    art = d["ModelArtifacts"]["S3ModelArtifacts"]
    assert art.endswith("/job-a/output/model.tar.gz")
    bucket, key = art[5:].split("/", 1)
    body = factory.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    from services.training import model_tar_members

    assert model_tar_members(body) == ["xgboost-model"]
    logs = factory.client("logs")
    streams = logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix="job-a/"
    )
    hosts = sorted(s["logStreamName"].split("/")[1].rsplit("-", 1)[0] for s in streams["logStreams"])
    assert hosts == ["algo-1", "algo-2"]
    # The last logged round's validation value is what FinalMetricDataList reports.
    events = logs.get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=streams["logStreams"][0]["logStreamName"],
        startFromHead=True,
    )["events"]  # fmt: skip
    rounds = [e["message"] for e in events if e["message"].startswith("[") and "#011" in e["message"]]
    assert rounds[0].startswith("[0]#011train-mlogloss:")
    last = float(rounds[-1].rsplit("validation-mlogloss:", 1)[1])
    final = {m["MetricName"]: m["Value"] for m in d["FinalMetricDataList"]}
    assert final["validation:mlogloss"] == pytest.approx(last)


def test_duplicate_name_bad_hyperparameter_and_missing_data(world, factory):
    grant_bucket(factory, world)
    upload_csv(factory, world)
    sm = factory.client("sagemaker")
    req = build_request(xgb_config(world, name="dup"))
    sm.create_training_job(**req)
    with pytest.raises(ClientError) as exc:
        sm.create_training_job(**req)
    assert exc.value.response["Error"]["Code"] == "ResourceInUse"
    bad = build_request(xgb_config(world, name="bad-hp"))
    bad["HyperParameters"]["eta"] = "2"
    sm.create_training_job(**bad)
    sm.create_training_job(**build_request(xgb_config(world, name="empty", prefix="nothing-here")))
    d = wait_done(sm, "bad-hp")
    assert d["TrainingJobStatus"] == "Failed"
    assert d["FailureReason"].startswith("ClientError: Hyperparameter validation failed for 'eta'")
    assert d["SecondaryStatusTransitions"][-1]["Status"] == "Failed"
    d = wait_done(sm, "empty")
    assert d["TrainingJobStatus"] == "Failed"
    assert d["FailureReason"].startswith('ClientError: No S3 objects found under S3 URL "s3://')
    norole = build_request(xgb_config(world, name="no-role"))
    norole["RoleArn"] = f"arn:aws:iam::{world.account}:role/DoesNotExist"
    with pytest.raises(ClientError) as exc:
        sm.create_training_job(**norole)
    assert "Could not assume role" in exc.value.response["Error"]["Message"]


def test_role_without_bucket_access_fails_on_download(world, factory):
    # The seeded role's object actions name the bucket ARN, not bucket/*: the download is denied.
    upload_csv(factory, world)
    sm = factory.client("sagemaker")
    sm.create_training_job(**build_request(xgb_config(world, name="denied")))
    d = wait_done(sm, "denied")
    assert d["TrainingJobStatus"] == "Failed"
    assert "Data download failed" in d["FailureReason"] and "AccessDenied" in d["FailureReason"]
    denial = s3_denial(d["FailureReason"])
    assert denial is not None and denial.bucket == world.default_bucket and denial.action == "s3:GetObject"


def test_stop_training_job(world, factory):
    from services.sandbox import trainer

    trainer.set_pace(1.0)  # slow enough to stop it mid-run
    grant_bucket(factory, world)
    upload_csv(factory, world)
    sm = factory.client("sagemaker")
    sm.create_training_job(**build_request(xgb_config(world, name="to-stop")))
    sm.stop_training_job(TrainingJobName="to-stop")
    assert sm.describe_training_job(TrainingJobName="to-stop")["TrainingJobStatus"] in ("Stopping", "Stopped")
    d = wait_done(sm, "to-stop", timeout=10)
    assert (d["TrainingJobStatus"], d["SecondaryStatus"]) == ("Stopped", "Stopped")
    with pytest.raises(ClientError) as exc:
        sm.stop_training_job(TrainingJobName="to-stop")
    assert exc.value.response["Error"]["Code"] == "ValidationException"


def test_submit_training_job_for_tuning_children(world, factory):
    from services.sandbox.trainer import submit_training_job

    grant_bucket(factory, world)
    upload_csv(factory, world)
    tuning_arn = f"arn:aws:sagemaker:{world.region}:{world.account}:hyper-parameter-tuning-job/tune-1"
    arn = submit_training_job(world.account, world.region, build_request(xgb_config(world, name="tune-1-001-abc")),
                              tuning_job_arn=tuning_arn)  # fmt: skip
    assert arn.endswith("training-job/tune-1-001-abc")
    sm = factory.client("sagemaker")
    d = wait_done(sm, "tune-1-001-abc")
    assert d["TuningJobArn"] == tuning_arn and d["TrainingJobStatus"] == "Completed"
    snap = describe(sm, "tune-1-001-abc", world.region)
    assert snap.final_metrics and snap.billable_seconds


def test_tuning_children_logs_read_together(world, factory):
    """`sagewiz logs --tuning` reads every child's streams by the tuning job's name prefix."""
    from services.logs import LogFollower
    from services.sandbox.trainer import submit_training_job

    grant_bucket(factory, world)
    upload_csv(factory, world)
    arn = f"arn:aws:sagemaker:{world.region}:{world.account}:hyper-parameter-tuning-job/tn"
    for child in ("tn-001-aaa", "tn-002-bbb"):
        submit_training_job(
            world.account, world.region, build_request(xgb_config(world, name=child)), tuning_job_arn=arn
        )
    sm = factory.client("sagemaker")
    for child in ("tn-001-aaa", "tn-002-bbb"):
        assert wait_done(sm, child)["TrainingJobStatus"] == "Completed"
    lines = [
        ln for batch in LogFollower(factory.client("logs"), "tn", prefix="tn-").read_all() for ln in batch
    ]
    hosts = {ln.host for ln in lines}
    assert hosts == {"tn-001-aaa/algo-1", "tn-002-bbb/algo-1"}
    assert [ln.timestamp for ln in lines] == sorted(ln.timestamp for ln in lines)
