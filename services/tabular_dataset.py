"""A tabular data set derived from the sample images, for XGBoost: colour-layout features per image,
labels from the Labels step's output manifest (or, without one, from the image itself), and the seed
notebook's hyperparameters for it. Data preparation for a training job, not the job itself."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from services.data_split import (
    DEFAULT_SEED,
    DEFAULT_VALIDATION_FRACTION,
    LabeledRecord,
    Split,
    stratified_split,
)
from services.errors import SagewizError, ValidationError, translate


@dataclass(frozen=True)
class TabularDataset:
    train_uri: str
    validation_uri: str
    rows: int
    features: int
    classes: tuple[str, ...]
    label_source: str  # what the labels came from, said to the user
    images: int = 0  # images found under the prefix; more than `rows` when only part is labeled
    split: Split | None = None  # how the rows were split into train and validation

    @property
    def partial_warning(self) -> str:
        """Said before training on part of the images (a labeling done only in part)."""
        return partial_labels_warning(self.rows, self.images)


def partial_labels_warning(labeled: int, images: int) -> str:
    """The warning before training on `labeled` of `images` images; "" when all are labeled."""
    if images <= labeled:
        return ""
    return (
        f"Labels for {labeled} of {images} images: the job trains on part of the data "
        f"({images - labeled} unlabeled). Label the rest in the Labels step for a better model."
    )


def tabular_from_images(
    factory: Any,
    images_prefix: str,
    dest_prefix: str,
    manifest_uri: str = "",
    classes: tuple[str, ...] = (),
    journal: Any = None,
    fraction: float = DEFAULT_VALIDATION_FRACTION,
    seed: int = DEFAULT_SEED,
) -> TabularDataset:
    """Turn labeled images into XGBoost CSVs (label first, no header): 27 colour-layout features per
    image (services.sandbox.images.features), labels from the Labels step's output.manifest when
    there is one, else from each image's pixels (true_class). The rows are split stratified and
    seeded (services.data_split), the validation share `fraction`."""
    from services.s3uri import parse_s3_uri
    from services.sandbox.images import CLASSES, features, true_class

    s3 = factory.client("s3")
    src = parse_s3_uri(images_prefix)
    labels: dict[str, str] = {}
    source = "the image scenes (true_class: no labeling job output was found)"
    class_names = tuple(classes) or CLASSES
    if manifest_uri:
        m = parse_s3_uri(manifest_uri)
        try:
            body = s3.get_object(Bucket=m.bucket, Key=m.key)["Body"].read().decode()
        except Exception as exc:
            raise translate(exc, "GetObject") from exc
        for raw in body.splitlines():
            if not raw.strip():
                continue
            rec = json.loads(raw)
            meta_key = next((k for k in rec if k.endswith("-metadata")), None)
            if not meta_key:
                continue
            name = rec[meta_key].get("class-name")
            if name:
                labels[str(rec.get("source-ref", ""))] = name
        source = f"the labeling job's output manifest {manifest_uri}"
    rows: list[LabeledRecord] = []
    images = 0
    try:
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=src.bucket, Prefix=src.key):
            keys += [
                o["Key"]
                for o in page.get("Contents", [])
                if o["Key"].lower().endswith((".jpg", ".jpeg", ".png"))
            ]
        images = len(keys)
        for key in sorted(keys):
            uri = f"s3://{src.bucket}/{key}"
            data = s3.get_object(Bucket=src.bucket, Key=key)["Body"].read()
            name = labels.get(uri) if labels else true_class(data)
            if name is None or name not in class_names:
                continue
            feats = features(data)
            # The built-in XGBoost reads CSV with the label first and no header row.
            row = ",".join([str(class_names.index(name))] + [f"{v:.5f}" for v in feats])
            rows.append(LabeledRecord(uri, name, row))
    except SagewizError:
        raise
    except Exception as exc:
        raise translate(exc, "GetObject") from exc
    if len(rows) < 5:
        raise ValidationError(
            "images", f"Only {len(rows)} labeled image(s) found under {images_prefix}; need at least 5."
        )
    split = stratified_split(rows, fraction, seed)
    train = [r.payload for r in split.train]
    val = [r.payload for r in split.validation]
    dest = parse_s3_uri(dest_prefix)
    base = dest.key if dest.key.endswith("/") or not dest.key else dest.key + "/"
    from services.journal_events import ResourceCreated
    from services.resource_kinds import ResourceKind

    for key, lines in ((f"{base}train/train.csv", train), (f"{base}validation/validation.csv", val)):
        try:
            s3.put_object(Bucket=dest.bucket, Key=key, Body=("\n".join(lines) + "\n").encode())
        except Exception as exc:
            raise translate(exc, "PutObject") from exc
        if journal is not None:  # a derived file is sagewiz's: Clean up lists it
            uri = f"s3://{dest.bucket}/{key}"
            journal.append(
                ResourceCreated(ResourceKind.OBJECT, uri, attributes={"what": "derived training data"})
            )
    return TabularDataset(
        f"s3://{dest.bucket}/{base}train/",
        f"s3://{dest.bucket}/{base}validation/",
        len(rows),
        27,
        class_names,
        source,
        images,
        split,
    )


def seed_hyperparameters(num_class: int = 5) -> dict[str, str]:
    """The hyperparameters of the seed notebook (multi-class XGBoost on the image features)."""
    return {
        "max_depth": "5", "eta": "0.2", "gamma": "4", "min_child_weight": "6", "subsample": "0.8",
        "objective": "multi:softmax", "num_class": str(num_class), "num_round": "100",
    }  # fmt: skip
