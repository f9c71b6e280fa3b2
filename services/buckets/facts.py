"""What an existing bucket looks like (region, encryption, versioning, public access, ...), each fact
read on its own so one refused call leaves the others readable."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from services.errors import AccessDeniedError, SagewizError, translate


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    source: str  # "read": S3 returned it; "default": not configured, AWS's default applies; "unreadable"
    note: str = ""


@dataclass(frozen=True)
class BucketFacts:
    name: str
    region: Fact
    encryption: Fact
    object_ownership: Fact
    versioning: Fact
    block_public_access: Fact
    tags: dict[str, str] = field(default_factory=dict)

    def all(self) -> tuple[Fact, ...]:
        return (
            self.region,
            self.encryption,
            self.object_ownership,
            self.versioning,
            self.block_public_access,
        )

    @property
    def created_by_sagewiz(self) -> bool:
        from services.plan import TAG_KEY

        return TAG_KEY in self.tags


_DEFAULT_NOTE = "not configured on the bucket, so AWS's default applies{sandbox}"


def read_facts(factory: Any, name: str, account: str) -> BucketFacts:
    """Region, default encryption, Object Ownership, versioning and Block Public Access (read-only).
    A setting S3 reports as not configured is shown as the AWS default, and says so."""
    s3 = factory.client("s3")
    sandbox = bool(getattr(factory.target, "sandbox", False))
    owner = {"Bucket": name, "ExpectedBucketOwner": account}
    calls = {
        "location": lambda: s3.get_bucket_location(**owner),
        "encryption": lambda: s3.get_bucket_encryption(**owner),
        "ownership": lambda: s3.get_bucket_ownership_controls(**owner),
        "versioning": lambda: s3.get_bucket_versioning(**owner),
        "bpa": lambda: s3.get_public_access_block(**owner),
        "tags": lambda: s3.get_bucket_tagging(**owner),
    }
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = {k: pool.submit(_outcome, fn) for k, fn in calls.items()}
        out = {k: f.result() for k, f in futures.items()}
    sandbox_note = " (the emulator does not report AWS's defaults)" if sandbox else ""
    default_note = _DEFAULT_NOTE.format(sandbox=sandbox_note)

    res, err = out["location"]
    if err:
        region = _unreadable("Region", err)
    else:
        loc = res.get("LocationConstraint") or "us-east-1"
        region = Fact("Region", {"EU": "eu-west-1"}.get(loc, loc), "read")

    res, err = out["encryption"]
    if err and err.code == "ServerSideEncryptionConfigurationNotFoundError":
        encryption = Fact("Default encryption", "SSE-S3 (AES256)", "default", default_note)
    elif err:
        encryption = _unreadable("Default encryption", err)
    else:
        rules = res.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        by_default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
        algo = by_default.get("SSEAlgorithm", "")
        if algo == "AES256":
            value = "SSE-S3 (AES256)"
        elif algo.startswith("aws:kms"):
            key = by_default.get("KMSMasterKeyID") or "the AWS managed key aws/s3"
            value = f"SSE-KMS ({key})" if algo == "aws:kms" else f"{algo} ({key})"
            if rules[0].get("BucketKeyEnabled"):
                value += ", S3 Bucket Key on"
        else:
            value = algo or "none reported"
        encryption = Fact("Default encryption", value, "read")

    res, err = out["ownership"]
    if err and err.code == "OwnershipControlsNotFoundError":
        ownership = Fact("Object Ownership", "BucketOwnerEnforced (ACLs disabled)", "default", default_note)
    elif err:
        ownership = _unreadable("Object Ownership", err)
    else:
        rules = res.get("OwnershipControls", {}).get("Rules", [])
        value = rules[0].get("ObjectOwnership", "?") if rules else "?"
        if value == "BucketOwnerEnforced":
            value += " (ACLs disabled)"
        ownership = Fact("Object Ownership", value, "read")

    res, err = out["versioning"]
    if err:
        versioning = _unreadable("Versioning", err)
    else:
        status = res.get("Status")
        versioning = Fact("Versioning", status or "Disabled (never enabled)", "read")
        if res.get("MFADelete") == "Enabled":
            versioning = Fact("Versioning", f"{status}, MFA delete on", "read")

    res, err = out["bpa"]
    if err and err.code == "NoSuchPublicAccessBlockConfiguration":
        bpa = Fact(
            "Block Public Access",
            "not set on the bucket",
            "read",
            "the account-level setting still applies; the Permissions step shows both",
        )
    elif err:
        bpa = _unreadable("Block Public Access", err)
    else:
        cfg = res.get("PublicAccessBlockConfiguration", {})
        keys = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        on = [k for k in keys if cfg.get(k)]
        if len(on) == 4:
            value = "all four settings on"
        elif not on:
            value = "all four settings off"
        else:
            value = "on: " + ", ".join(on) + "; off: " + ", ".join(k for k in keys if k not in on)
        bpa = Fact("Block Public Access", value, "read")

    res, err = out["tags"]
    tags = {t["Key"]: t["Value"] for t in res.get("TagSet", [])} if not err and res else {}
    return BucketFacts(name, region, encryption, ownership, versioning, bpa, tags)


def _outcome(fn: Any) -> tuple[Any, SagewizError | None]:
    import botocore.exceptions as bx

    try:
        return fn(), None
    except bx.ClientError as exc:
        err = translate(exc)
        err.code = str(exc.response.get("Error", {}).get("Code") or err.code or "")
        return None, err
    except Exception as exc:
        return None, translate(exc)


def _unreadable(label: str, err: SagewizError) -> Fact:
    why = "access denied" if isinstance(err, AccessDeniedError) else (err.code or err.title)
    return Fact(label, "could not be read", "unreadable", f"{why}: {err.message}".strip())
