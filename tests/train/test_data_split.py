"""Data preparation: the stratified, seeded split, the labeled manifest split in two channels, and
the sandbox training image classification on that split."""

from __future__ import annotations

import json
import random

import pytest

from services.data_split import FEW_EXAMPLES, LabeledRecord, parse_fraction, stratified_split
from services.errors import ValidationError
from services.flow import train as flow_train
from services.flow.outcome import Verdict
from services.manifest_split import split_manifest
from services.sandbox.images import CLASSES, sample_set
from tests.flow.test_steps import context, session
from tests.train.conftest import grant_bucket, wait_done

IC_IMAGE = "669576153137.dkr.ecr.eu-north-1.amazonaws.com/image-classification:1"


def records(per_class: dict[str, int]) -> list[LabeledRecord]:
    return [
        LabeledRecord(f"s3://b/{label}-{i:03d}.jpg", label, f"{label}-{i}")
        for label, n in per_class.items()
        for i in range(n)
    ]


def test_the_split_is_stratified_and_deterministic_with_a_seed() -> None:
    data = records({"Airplane": 10, "Car": 20, "Ferry": 5})
    split = stratified_split(data, 0.2, seed=7)
    val = [r.label for r in split.validation]
    assert (val.count("Airplane"), val.count("Car"), val.count("Ferry")) == (2, 4, 1)
    assert {(c.label, c.train, c.validation) for c in split.counts} == {
        ("Airplane", 8, 2), ("Car", 16, 4), ("Ferry", 4, 1),
    }  # fmt: skip
    assert not set(split.train) & set(split.validation)
    assert len(split.train) + len(split.validation) == len(data)
    # The same records in any order, the same seed: the same split.
    shuffled = list(data)
    random.Random(1).shuffle(shuffled)
    again = stratified_split(shuffled, 0.2, seed=7)
    assert (again.train, again.validation) == (split.train, split.validation)
    # Another seed picks other validation examples (same counts).
    other = stratified_split(data, 0.2, seed=8)
    assert other.validation != split.validation and other.counts == split.counts
    assert "28 training and 7 validation examples (stratified 20% validation, seed 7)" in split.summary()


def test_a_larger_share_holds_out_more_of_each_class() -> None:
    split = stratified_split(records({"A": 10, "B": 10}), 0.3, seed=0)
    assert [(c.train, c.validation) for c in split.counts] == [(7, 3), (7, 3)]


def test_classes_with_too_few_examples_are_warned_about() -> None:
    split = stratified_split(records({"Airplane": 12, "Car": 3, "Ferry": 1}), 0.2)
    warnings = split.warnings()
    assert len(warnings) == 2
    assert warnings[0].startswith(f"class Car has only 3 examples (fewer than {FEW_EXAMPLES})")
    assert warnings[1].startswith("class Ferry has 1 example(s): none is left for validation")
    car = next(c for c in split.counts if c.label == "Car")
    assert (car.train, car.validation) == (2, 1)  # a small class still keeps one of each


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2, 1.5])
def test_a_share_outside_0_and_1_is_refused(fraction: float) -> None:
    with pytest.raises(ValueError, match="above 0% and below 100%"):
        stratified_split(records({"A": 5}), fraction)


@pytest.mark.parametrize(
    ("text", "value"), [("20", 0.2), ("20%", 0.2), ("0.25", 0.25), (" 5 % ", 0.05), ("abc", None), ("", None)]
)
def test_parse_fraction(text: str, value: float | None) -> None:
    assert parse_fraction(text) == value


def upload_labeled(
    factory, world, per_class: int = 10, key: str = "gt/output.manifest", mislabel_every: int = 0
) -> str:
    """The sample images with a Ground Truth manifest; `mislabel_every` n-th image gets the next
    class's label, as workers sometimes do (so no model fits every label)."""
    s3 = factory.client("s3")
    b = world.default_bucket
    lines = []
    for n, img in enumerate(sample_set(per_class=per_class)):
        k = f"ground-truth-demo/images/{img.key}"
        s3.put_object(Bucket=b, Key=k, Body=img.data)
        index = CLASSES.index(img.label)
        if mislabel_every and n % mislabel_every == mislabel_every - 1:
            index = (index + 1) % len(CLASSES)
        lines.append(json.dumps({
            "source-ref": f"s3://{b}/{k}", "lbl": index,
            "lbl-metadata": {"class-name": CLASSES[index], "confidence": 0.95, "type": "groundtruth/image-classification",
                             "job-name": "labeling-job/lbl", "human-annotated": "yes",
                             "creation-date": "2026-01-01T00:00:00"},
        }))  # fmt: skip
    s3.put_object(Bucket=b, Key=key, Body="\n".join(lines).encode())
    return f"s3://{b}/{key}"


def test_the_labeled_manifest_is_split_into_two_manifests(world, factory, journal) -> None:
    grant_bucket(factory, world)
    manifest = upload_labeled(factory, world)
    dest = f"s3://{world.default_bucket}/sagewiz/image-classification/"
    planned = split_manifest(factory, manifest, dest, write=False)
    s3 = factory.client("s3")
    assert not planned.written
    assert "Contents" not in s3.list_objects_v2(Bucket=world.default_bucket, Prefix="sagewiz/")
    done = split_manifest(factory, manifest, dest, journal=journal)
    assert done.split == planned.split and done.num_training_samples == 40
    assert (done.train_uri, done.validation_uri) == (f"{dest}train.manifest", f"{dest}validation.manifest")
    bodies = {}
    for name in ("train", "validation"):
        obj = s3.get_object(Bucket=world.default_bucket, Key=f"sagewiz/image-classification/{name}.manifest")
        bodies[name] = [json.loads(line) for line in obj["Body"].read().decode().splitlines()]
    assert (len(bodies["train"]), len(bodies["validation"])) == (40, 10)
    train_refs = {r["source-ref"] for r in bodies["train"]}
    assert not train_refs & {r["source-ref"] for r in bodies["validation"]}
    assert sorted(r["lbl-metadata"]["class-name"] for r in bodies["validation"]) == sorted(CLASSES * 2)


def test_bad_manifests_are_refused_before_any_job(world, factory) -> None:
    grant_bucket(factory, world)
    b = world.default_bucket
    dest = f"s3://{b}/sagewiz/image-classification/"
    s3 = factory.client("s3")
    s3.put_object(Bucket=b, Key="bad/output.manifest", Body=b'{"source-ref": "s3://b/x.jpg"}\n')
    with pytest.raises(ValidationError, match="line 1: has no <label>-metadata key"):
        split_manifest(factory, f"s3://{b}/bad/output.manifest", dest)
    one = upload_labeled(factory, world, per_class=1, key="one/output.manifest")
    first = s3.get_object(Bucket=b, Key="one/output.manifest")["Body"].read().splitlines()[0]
    s3.put_object(Bucket=b, Key="one/output.manifest", Body=first)
    with pytest.raises(ValidationError, match="has 1 labeled image"):
        split_manifest(factory, one, dest)
    with pytest.raises(Exception, match="(?i)not found|no such|does not exist"):
        split_manifest(factory, f"s3://{b}/missing/output.manifest", dest)


def test_the_sandbox_trains_image_classification_on_the_split(world, factory, journal) -> None:
    grant_bucket(factory, world)
    manifest = upload_labeled(factory, world, mislabel_every=4)
    ctx = context(world, journal)
    state = session(world, bucket=world.default_bucket, output_manifest=manifest, role_arn=world.role_arn)
    state.extra["label_attribute"] = "lbl"
    choices = flow_train.TrainChoices(
        algorithm=flow_train.IMAGE_CLASSIFICATION, job_name="ic-split", validation_fraction=0.3, split_seed=3,
        hyperparameters={"epochs": "6", "mini_batch_size": "7"},
    )  # fmt: skip
    assert flow_train.needs_derived_dataset(choices)
    said: list[str] = []
    prepared = flow_train.derive_dataset(ctx, state, choices, said.append)
    assert prepared.channels["train"] != prepared.channels["validation"]
    split = prepared.data_split
    assert split is not None and (split.fraction, split.seed) == (0.3, 3)
    n_train, n_val = len(split.train), len(split.validation)
    assert n_train + n_val == 50 and n_val == sum(round(c.total * 0.3) for c in split.counts)
    assert prepared.hyperparameters["num_training_samples"] == str(n_train)
    assert (
        f"{n_train} training and {n_val} validation examples (stratified 30% validation, seed 3)" in said[0]
    )
    planned = flow_train.plan(ctx, state, prepared, image=IC_IMAGE)
    assert planned.verdict is Verdict.SEND and planned.requests is not None, planned.message
    action = planned.requests.actions[0]
    assert planned.notes[0].startswith(f"data: {n_train} training and {n_val} validation examples")
    request = action.params
    assert request["TrainingJobName"] == "ic-split"
    uris = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in request["InputDataConfig"]}
    assert uris == {"train": prepared.channels["train"], "validation": prepared.channels["validation"]}
    flow_train.apply(ctx, state, planned)
    assert state.extra["training"]["validation_fraction"] == 0.3
    d = wait_done(factory.client("sagemaker"), "ic-split")
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    final = {m["MetricName"]: m["Value"] for m in d["FinalMetricDataList"]}
    assert {"train:accuracy", "validation:accuracy"} <= set(final)
    # The job's log, as SageMaker writes it: 35 images trained on, 15 others measured.
    events = factory.client("logs").filter_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix="ic-split/"
    )["events"]
    lines = [e["message"] for e in events]
    assert any(f"{n_train} training and {n_val} validation images" in line for line in lines), lines
    train_acc = [line.rsplit("=", 1)[1] for line in lines if "Train-accuracy=" in line]
    val_acc = [line.rsplit("=", 1)[1] for line in lines if "Validation-accuracy=" in line]
    assert len(train_acc) == len(val_acc) == 6
    # Held-out images: validation accuracy is measured apart, so its curve is not the training one.
    assert train_acc != val_acc


def test_a_dry_run_of_image_classification_shows_the_split_and_writes_nothing(
    world, factory, journal
) -> None:
    grant_bucket(factory, world)
    manifest = upload_labeled(factory, world)
    ctx = context(world, journal)
    state = session(world, bucket=world.default_bucket, output_manifest=manifest, role_arn=world.role_arn)
    choices = flow_train.TrainChoices(algorithm=flow_train.IMAGE_CLASSIFICATION, job_name="ic-dry")
    said: list[str] = []
    pending = flow_train.pending_channels(choices, state, ctx, said.append)
    assert pending.channels_pending and pending.hyperparameters["num_training_samples"] == "40"
    assert said[0].startswith(f"would split {manifest}: 40 training and 10 validation examples")
    planned = flow_train.plan(ctx, state, pending, image=IC_IMAGE)
    assert planned.verdict is Verdict.SEND, planned.message
    assert "Contents" not in factory.client("s3").list_objects_v2(
        Bucket=world.default_bucket, Prefix="sagewiz/"
    )
    bad = flow_train.TrainChoices(algorithm=flow_train.IMAGE_CLASSIFICATION, validation_fraction=1.0)
    with pytest.raises(ValidationError, match="validation share must be above 0%"):
        flow_train.pending_channels(bad, state, ctx, said.append)
