"""Before a sync: the destination bucket exists, is reachable and is in the session's region."""

from __future__ import annotations

from typing import Any

from services.errors import NotFoundError, ValidationError, translate
from services.s3uri import S3Uri
from services.sync.errors import denied_error


def check_destination(factory: Any, dest: S3Uri, account: str | None = None) -> str:
    """The destination bucket must exist, be reachable and be in the session's region. Returns its region."""
    import botocore.exceptions as bx

    from services.sync.transfer_client import transfer_client

    s3 = transfer_client(factory).s3  # the client the copy will use: same endpoint, proxy and CA bundle
    kwargs: dict[str, Any] = {"Bucket": dest.bucket}
    if account:
        kwargs["ExpectedBucketOwner"] = account
    try:
        head = s3.head_bucket(**kwargs)
        region: str | None = head.get("BucketRegion") or head["ResponseMetadata"]["HTTPHeaders"].get(
            "x-amz-bucket-region"
        )
    except bx.ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        region = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")
        if status == 404:
            raise NotFoundError(
                "The destination bucket does not exist",
                f"There is no bucket named {dest.bucket}.",
                "Create it first (the Bucket step, or check the name for a typo).",
                code="NoSuchBucket",
                operation="s3:HeadBucket",
            ) from exc
        if status == 403:
            # HEAD carries no reason. A GET-type call needing the same s3:ListBucket tells more (AWS
            # then names the denying policy), and some emulators authorize HEAD differently.
            try:
                listed = s3.list_objects_v2(
                    Bucket=dest.bucket,
                    Prefix=dest.prefix,
                    MaxKeys=1,
                    **({"ExpectedBucketOwner": account} if account else {}),
                )
            except bx.ClientError as exc2:
                raise denied_error(exc2, "s3:ListBucket", dest.bucket, None, "ListObjectsV2") from exc2
            region = listed["ResponseMetadata"]["HTTPHeaders"].get("x-amz-bucket-region")
        elif status not in (301, 400) or not region:
            raise translate(exc, "s3:HeadBucket") from exc
    except Exception as exc:
        raise translate(exc, "s3:HeadBucket") from exc
    mine: str = factory.region
    if region and mine and region != mine:
        raise ValidationError(
            "destination",
            f"The bucket {dest.bucket} is in {region}, but this session is in {mine}.",
            f"Use a bucket in {mine}, or run with --region {region}. SageMaker jobs read data from their own region.",
        )
    return region or mine
