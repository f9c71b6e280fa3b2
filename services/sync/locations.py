"""Where a sync reads from and writes to, validated before any AWS call."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from services.errors import ValidationError
from services.s3uri import S3Uri, is_s3_uri, parse_s3_uri


@dataclass(frozen=True)
class Location:
    """A sync source: a local folder or an S3 prefix."""

    kind: str  # "local" | "s3"
    text: str
    path: Path | None = None
    s3: S3Uri | None = None

    @property
    def is_local(self) -> bool:
        return self.kind == "local"


def parse_source(text: str) -> Location:
    """Validate the source without any AWS call."""
    raw = text.strip()
    if not raw:
        raise ValidationError("source", "It is empty.", "Give a folder or an s3:// prefix.")
    if is_s3_uri(raw) or raw.lower().startswith(("s3:", "http://", "https://", "arn:")):
        return Location("s3", raw, s3=parse_s3_uri(raw, "source").as_prefix())
    path = Path(raw).expanduser()
    if not path.exists():
        raise ValidationError(
            "source",
            f"The folder {raw} does not exist.",
            "Check the path (relative paths start from the current folder).",
        )
    if not path.is_dir():
        raise ValidationError(
            "source", f"{raw} is a file, not a folder.", "Give the folder that holds the files."
        )
    if not os.access(path, os.R_OK | os.X_OK):
        raise ValidationError(
            "source",
            f"The folder {raw} is not readable by you.",
            "Fix its permissions (chmod u+rx) or run as its owner.",
        )
    return Location("local", raw, path=path.resolve())


def parse_destination(text: str) -> S3Uri:
    raw = text.strip()
    if raw and not is_s3_uri(raw) and not raw.lower().startswith(("http://", "https://", "arn:")):
        raise ValidationError(
            "destination",
            f"'{raw}' is not an s3:// prefix.",
            "The destination must be S3, e.g. s3://my-sagemaker-bucket/data/",
        )
    return parse_s3_uri(raw, "destination").as_prefix()


def check_overlap(source: Location, dest: S3Uri) -> None:
    src = source.s3
    if (
        src is not None
        and src.bucket == dest.bucket
        and (dest.prefix.startswith(src.prefix) or src.prefix.startswith(dest.prefix))
    ):
        raise ValidationError(
            "destination",
            "The source and destination prefixes overlap.",
            "Copy into a prefix that is not inside the source (and vice versa).",
        )
