"""What the bucket holds, read back with real calls: tests compare it byte for byte with the files."""

from __future__ import annotations

from typing import Any


def stored(factory: Any, bucket: str, prefix: str) -> dict[str, bytes]:
    """Every object under `prefix`, key -> bytes."""
    s3 = factory.client("s3")
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"]] = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
    return out
