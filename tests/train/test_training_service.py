"""services.training against the sandbox: input checks, the preflight with the policy evaluator,
a taken job name, the image-classification run on an augmented manifest, and the derived dataset."""

from __future__ import annotations

import json

import pytest

from services.errors import ConflictError
from services.journal import Journal
from services.tabular_dataset import tabular_from_images
from services.training import (
    ChannelInput,
    TrainingConfig,
    check_inputs,
    create,
    plan_training,
    preflight,
)
from tests.train.conftest import grant_bucket, upload_csv, wait_done, xgb_config


def test_inputs_preflight_and_taken_name(world, factory, tmp_path):
    upload_csv(factory, world)
    cfg = xgb_config(world, name="pf-job")
    missing = cfg.with_(channels=(ChannelInput("train", f"s3://{world.default_bucket}/no/such/prefix/"),))
    checks = {c.field: c for c in check_inputs(factory, missing)}
    assert not checks["channel:train"].ok and "No objects under" in checks["channel:train"].message
    assert checks["output_path"].ok
    # The seeded role: object actions on the bucket ARN, so reads and the model upload are denied.
    found = preflight(factory, cfg)
    by_action = {f.action: f for f in found}
    assert by_action["s3:GetObject"].allowed is False and by_action["s3:PutObject"].allowed is False
    assert by_action["s3:ListBucket"].allowed is True
    grant_bucket(factory, world)
    assert all(f.allowed for f in preflight(factory, cfg))
    journal = Journal(tmp_path / "j.jsonl")
    plan = plan_training(cfg, world.region)
    arn = create(factory, journal, plan)
    assert arn.endswith("training-job/pf-job")
    assert journal.jobs()[-1].data["id"] == "pf-job"
    with pytest.raises(ConflictError):
        create(factory, journal, plan)


def test_image_classification_on_an_augmented_manifest(world, factory):
    from services.sandbox.images import CLASSES, sample_set

    grant_bucket(factory, world)
    s3 = factory.client("s3")
    b = world.default_bucket
    lines = []
    for img in sample_set(per_class=4):
        key = f"ic/images/{img.key}"
        s3.put_object(Bucket=b, Key=key, Body=img.data)
        lines.append(json.dumps({"source-ref": f"s3://{b}/{key}", "my-labels": CLASSES.index(img.label),
                                 "my-labels-metadata": {"class-name": img.label}}))  # fmt: skip
    s3.put_object(Bucket=b, Key="ic/output.manifest", Body="\n".join(lines).encode())
    manifest = f"s3://{b}/ic/output.manifest"

    def ch(name: str) -> ChannelInput:
        return ChannelInput(name, manifest, "application/x-recordio", "AugmentedManifestFile",
                            ("source-ref", "my-labels"), "Pipe", "RecordIO")  # fmt: skip

    cfg = TrainingConfig(
        job_name="ic-job", algorithm_id="image-classification", role_arn=world.role_arn,
        channels=(ch("train"), ch("validation")),
        hyperparameters={"num_classes": "5", "num_training_samples": "20", "epochs": "15", "mini_batch_size": "4",
                         "learning_rate": "0.1"},
        output_path=f"s3://{b}/ic/output", instance_type="ml.p3.2xlarge", input_mode="Pipe",
        image_uri="669576153137.dkr.ecr.eu-north-1.amazonaws.com/image-classification:1",
    )  # fmt: skip
    from services.training import build_request, validate_config

    assert validate_config(cfg) == {}
    assert "GPU" in validate_config(cfg.with_(instance_type="ml.m5.xlarge"))["instance_type"]
    sm = factory.client("sagemaker")
    sm.create_training_job(**build_request(cfg))
    d = wait_done(sm, "ic-job")
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    final = {m["MetricName"]: m["Value"] for m in d["FinalMetricDataList"]}
    assert final["validation:accuracy"] >= 0.6  # the classes differ visibly; the learner finds it


def test_tabular_dataset_from_the_sample_images(world, factory):
    grant_bucket(factory, world)
    ds = tabular_from_images(
        factory,
        f"s3://{world.sample_bucket}/{world.sample_prefix}",
        f"s3://{world.default_bucket}/sagewiz/xgboost/",
    )
    assert ds.rows == 50 and ds.features == 27 and "true_class" in ds.label_source
    body = factory.client("s3").get_object(Bucket=world.default_bucket, Key="sagewiz/xgboost/train/train.csv")
    first = body["Body"].read().decode().splitlines()[0].split(",")
    assert len(first) == 28 and first[0] in {"0", "1", "2", "3", "4"}


def test_derived_files_are_journaled_so_clean_up_lists_them(world, factory, journal):
    from services import cleanup

    journal.bind(world.account, world.region, True)
    grant_bucket(factory, world)
    tabular_from_images(
        factory,
        f"s3://{world.sample_bucket}/{world.sample_prefix}",
        f"s3://{world.default_bucket}/sagewiz/xgboost/",
        journal=journal,
    )
    inv = cleanup.inventory(factory, journal)
    b = world.default_bucket
    for key in ("sagewiz/xgboost/train/train.csv", "sagewiz/xgboost/validation/validation.csv"):
        obj = inv.find("s3-object", f"s3://{b}/{key}")
        assert obj is not None and obj.state == "exists" and obj.detail  # its size


def test_training_on_part_of_the_images_is_said(world, factory):
    """3 images labeled in the terminal must not silently become the whole training set."""
    import json as _json

    from tests.labels.helpers import copy_samples

    grant_bucket(factory, world)
    prefix = copy_samples(factory, world)
    s3 = factory.client("s3")
    keys = sorted(
        o["Key"]
        for o in s3.list_objects_v2(Bucket=world.default_bucket, Prefix="ground-truth-demo/images/")[
            "Contents"
        ]
    )
    lines = [
        _json.dumps({"source-ref": f"s3://{world.default_bucket}/{k}", "lbl": 0,
                     "lbl-metadata": {"class-name": "Airplane", "confidence": 0.9, "type": "groundtruth/image-classification",
                                      "job-name": "labeling-job/lbl", "human-annotated": "yes", "creation-date": "2026-01-01T00:00:00"}})
        for k in keys[:6]
    ]  # fmt: skip
    s3.put_object(Bucket=world.default_bucket, Key="part/output.manifest", Body="\n".join(lines).encode())
    ds = tabular_from_images(
        factory,
        prefix,
        f"s3://{world.default_bucket}/sagewiz/xgboost/",
        f"s3://{world.default_bucket}/part/output.manifest",
    )
    assert (ds.rows, ds.images) == (6, len(keys)) and len(keys) == 50
    assert ds.partial_warning.startswith(
        "Labels for 6 of 50 images: the job trains on part of the data (44 unlabeled)"
    )
    whole = tabular_from_images(factory, prefix, f"s3://{world.default_bucket}/sagewiz/xgboost/")
    assert whole.partial_warning == ""
