"""The labeled manifest split for image classification: train.manifest and validation.manifest
written beside each other (two different channels; the validation images are never trained on),
with num_training_samples taken from the training side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.data_split import (
    DEFAULT_SEED,
    DEFAULT_VALIDATION_FRACTION,
    LabeledRecord,
    Split,
    stratified_split,
)
from services.errors import ValidationError, translate


@dataclass(frozen=True)
class ManifestSplit:
    train_uri: str
    validation_uri: str
    label_attribute: str
    split: Split
    written: bool  # False: planned only (a dry run reads the manifest and writes nothing)

    @property
    def num_training_samples(self) -> int:
        return len(self.split.train)


def split_destination(dest_prefix: str) -> tuple[str, str]:
    base = dest_prefix if dest_prefix.endswith("/") else dest_prefix + "/"
    return f"{base}train.manifest", f"{base}validation.manifest"


def split_manifest(
    factory: Any,
    manifest_uri: str,
    dest_prefix: str,
    label_attribute: str = "",
    fraction: float = DEFAULT_VALIDATION_FRACTION,
    seed: int = DEFAULT_SEED,
    journal: Any = None,
    write: bool = True,
) -> ManifestSplit:
    """Read the Labels step's output manifest, split it (stratified, seeded) and write the two
    manifests under `dest_prefix` (only when `write`)."""
    from services.labeling.manifest import output_line, parse_output_manifest
    from services.s3uri import parse_s3_uri

    s3 = factory.client("s3")
    src = parse_s3_uri(manifest_uri)
    try:
        text = s3.get_object(Bucket=src.bucket, Key=src.key)["Body"].read().decode("utf-8", "replace")
    except Exception as exc:
        raise translate(exc, "s3:GetObject") from exc
    parsed = parse_output_manifest(text, label_attribute or None)
    if parsed.problems:
        first = parsed.problems[0]
        raise ValidationError(
            "manifest", f"{manifest_uri} {first}", "Fix or re-import the labeled manifest in the Labels step."
        )
    if any(o.multi for o in parsed.objects):
        raise ValidationError(
            "manifest", "the manifest is multi-label; the split is for single-label classification"
        )
    attr = parsed.label_attribute
    records = [LabeledRecord(o.source_ref, o.label, output_line(o, attr)) for o in parsed.objects]
    if len(records) < 2:
        raise ValidationError(
            "manifest", f"{manifest_uri} has {len(records)} labeled image(s); a split needs at least 2"
        )
    split = stratified_split(records, fraction, seed)
    train_uri, validation_uri = split_destination(dest_prefix)
    if write:
        from services.journal_events import ResourceCreated
        from services.resource_kinds import ResourceKind

        for uri, part in ((train_uri, split.train), (validation_uri, split.validation)):
            dest = parse_s3_uri(uri)
            body = "".join(r.payload + "\n" for r in part).encode()
            try:
                s3.put_object(Bucket=dest.bucket, Key=dest.key, Body=body)
            except Exception as exc:
                raise translate(exc, "s3:PutObject") from exc
            if journal is not None:  # a derived file is sagewiz's: Clean up lists it
                journal.append(
                    ResourceCreated(ResourceKind.OBJECT, uri, attributes={"what": "derived training data"})
                )
    return ManifestSplit(train_uri, validation_uri, attr, split, write)
