"""Whether a bucket exists and is ours (the squatting guard).

Ownership is checked the way the SageMaker SDK does it (HeadBucket with `ExpectedBucketOwner`) and
confirmed with ListBuckets, which lists only buckets the caller's account owns. The second check
matters in the sandbox: moto ignores `ExpectedBucketOwner`, so a bucket of another account answers
HeadBucket like our own there.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from services.buckets.naming import validate_bucket_name
from services.errors import translate


class BucketStatus(enum.Enum):
    MISSING = "missing"  # nobody owns this name (HeadBucket 404)
    OWNED = "owned"  # exists and belongs to the caller's account
    OTHER_ACCOUNT = "other-account"  # exists, another account owns it: never use it
    FORBIDDEN = "forbidden"  # exists, but we may not look at it; owner unknown


@dataclass(frozen=True)
class BucketCheck:
    name: str
    status: BucketStatus
    region: str | None  # where the bucket lives, when S3 said
    ownership_evidence: str  # how ownership was established, for people
    problem: str = ""  # what it means when it is not usable

    @property
    def usable(self) -> bool:
        return self.status is BucketStatus.OWNED


def check_bucket(factory: Any, name: str, account: str) -> BucketCheck:
    """Exists? Ours? Never treats a bucket of another account as usable."""
    import botocore.exceptions as bx

    validate_bucket_name(name)
    s3 = factory.client("s3")
    try:
        head = s3.head_bucket(Bucket=name, ExpectedBucketOwner=account)
    except bx.ClientError as exc:
        status = _status_of(exc)
        if status == 404:
            return BucketCheck(name, BucketStatus.MISSING, None, "HeadBucket answered 404 Not Found")
        if status in (301, 400):
            region = _region_header(exc.response)
            return _owned_after_head(s3, name, account, region)
        if status == 403:
            return _after_forbidden(s3, name, account)
        raise translate(exc, "s3:HeadBucket") from exc
    except Exception as exc:
        raise translate(exc, "s3:HeadBucket") from exc
    return _owned_after_head(s3, name, account, _region_header(head))


def _owned_after_head(s3: Any, name: str, account: str, region: str | None) -> BucketCheck:
    listed = _listed_by_account(s3, name)
    if listed is False:
        return BucketCheck(
            name,
            BucketStatus.OTHER_ACCOUNT,
            region,
            "HeadBucket found it, but ListBuckets of your account does not list it",
            _squatted_text(name, account),
        )
    evidence = f"HeadBucket with ExpectedBucketOwner={account} succeeded"
    if listed is True:
        evidence += " and ListBuckets of your account lists it"
    else:
        evidence += " (ListBuckets was not allowed, so only that check ran)"
    return BucketCheck(name, BucketStatus.OWNED, region, evidence)


def _after_forbidden(s3: Any, name: str, account: str) -> BucketCheck:
    import botocore.exceptions as bx

    listed = _listed_by_account(s3, name)
    if listed is True:
        return BucketCheck(
            name,
            BucketStatus.FORBIDDEN,
            None,
            "ListBuckets lists it as yours, but HeadBucket was refused (403)",
            "The bucket is yours but your caller may not read it (s3:ListBucket is denied). "
            "Open the doctor to see which policy denies it.",
        )
    try:
        s3.head_bucket(Bucket=name)
    except bx.ClientError:
        owner_known = False
    else:
        owner_known = True
    if owner_known or listed is False:
        return BucketCheck(
            name,
            BucketStatus.OTHER_ACCOUNT,
            None,
            f"HeadBucket with ExpectedBucketOwner={account} was refused (403)"
            + (" while a plain HeadBucket succeeds" if owner_known else " and ListBuckets does not list it"),
            _squatted_text(name, account),
        )
    return BucketCheck(
        name,
        BucketStatus.FORBIDDEN,
        None,
        "HeadBucket was refused (403) and ListBuckets could not be read",
        "The bucket exists, but either another account owns it or your caller may not read it. "
        "sagewiz will not use it until that is clear.",
    )


def _squatted_text(name: str, account: str) -> str:
    return (
        f"A bucket named {name} exists but is owned by another AWS account, not {account}. "
        "Bucket names are global, so anyone can create the name SageMaker expects for you "
        "(bucket squatting). Writing your data there would hand it to that account: sagewiz will not "
        "use it. Pick another name (one containing 'sagemaker')."
    )


def _listed_by_account(s3: Any, name: str) -> bool | None:
    """True/False when ListBuckets answered, None when it may not be called."""
    import botocore.exceptions as bx

    try:
        paginator = s3.get_paginator("list_buckets")
        for page in paginator.paginate(Prefix=name):
            if any(b.get("Name") == name for b in page.get("Buckets", [])):
                return True
    except bx.ClientError as exc:
        if _status_of(exc) == 403:
            return None
        raise translate(exc, "s3:ListBuckets") from exc
    return False


def _status_of(exc: Any) -> int:
    meta = exc.response.get("ResponseMetadata", {})
    status = meta.get("HTTPStatusCode")
    if status:
        return int(status)
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return int(code) if code.isdigit() else 0


def _region_header(resp: dict[str, Any]) -> str | None:
    if resp.get("BucketRegion"):
        return str(resp["BucketRegion"])
    headers = resp.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    region: str | None = headers.get("x-amz-bucket-region")
    return region
