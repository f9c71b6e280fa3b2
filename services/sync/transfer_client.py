"""The botocore S3 client a transfer uses, sized for its parallel requests."""

from __future__ import annotations

from typing import Any

from services.errors import translate

DEFAULT_WORKERS = 10


def transfer_client(factory: Any, workers: int) -> Any:
    """An S3 client sized for `workers` parallel requests, from the factory's session and config.
    Checksums are only sent when S3 requires them: the MD5 we compute is checked against the ETag."""
    key = ("sync-s3", workers)
    cache = factory.__dict__.setdefault("_sync_clients", {})
    if key in cache:
        return cache[key]
    cfg = factory.config(
        max_pool_connections=workers + 4,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        tcp_keepalive=True,
    )
    kwargs: dict[str, Any] = {"region_name": factory.region, "config": cfg}
    if factory.target.endpoint_url:
        kwargs["endpoint_url"] = factory.target.endpoint_url
    try:
        client = factory.session.client("s3", **kwargs)
    except Exception as exc:
        raise translate(exc, "create s3 client") from exc
    cache[key] = client
    return client
