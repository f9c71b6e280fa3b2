"""The SageMaker default bucket: its expected name, the S3 naming rules, whether it exists and is
ours (the squatting guard), what it looks like, and the plan to create it correctly.

Ownership is checked the way the SageMaker SDK does it (HeadBucket with `ExpectedBucketOwner`) and
confirmed with ListBuckets, which lists only buckets the caller's account owns. The second check
matters in the sandbox: moto ignores `ExpectedBucketOwner`, so a bucket of another account answers
HeadBucket like our own there.
"""

from __future__ import annotations

import enum
import ipaddress
import re
import shlex
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from services.errors import AccessDeniedError, ConflictError, SagewizError, ValidationError, translate
from services.journal_events import ResourceCreated
from services.plan import Action, Plan, tags_list
from services.resource_kinds import ResourceKind

# -- naming ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NamingRule:
    id: str
    text: str  # the rule as S3's documentation states it


@dataclass(frozen=True)
class NamingProblem:
    rule: NamingRule
    message: str  # what is wrong with this name
    hint: str  # how to fix it


RULES: dict[str, NamingRule] = {
    r.id: r
    for r in (
        NamingRule("length", "Bucket names must be between 3 and 63 characters long."),
        NamingRule(
            "charset",
            "Bucket names can consist only of lowercase letters, numbers, periods (.) and hyphens (-).",
        ),
        NamingRule("edges", "Bucket names must begin and end with a letter or number."),
        NamingRule("adjacent-periods", "Bucket names must not contain two adjacent periods."),
        NamingRule(
            "ip-address", "Bucket names must not be formatted as an IP address (for example 192.168.5.4)."
        ),
        NamingRule("prefix-xn", "Bucket names must not start with the prefix xn--."),
        NamingRule("prefix-sthree", "Bucket names must not start with the prefix sthree-."),
        NamingRule("prefix-amzn-demo", "Bucket names must not start with the prefix amzn-s3-demo-."),
        NamingRule(
            "suffix-s3alias", "Bucket names must not end with -s3alias (reserved for access point aliases)."
        ),
        NamingRule(
            "suffix-ol-s3", "Bucket names must not end with --ol-s3 (reserved for Object Lambda aliases)."
        ),
        NamingRule(
            "suffix-mrap", "Bucket names must not end with .mrap (reserved for Multi-Region Access Points)."
        ),
        NamingRule("suffix-x-s3", "Bucket names must not end with --x-s3 (reserved for directory buckets)."),
        NamingRule("suffix-table-s3", "Bucket names must not end with --table-s3 (reserved for S3 Tables)."),
        NamingRule(
            "suffix-an",
            "Bucket names can only end with -an in your account regional namespace, which sagewiz does not use.",
        ),
    )
}

_RESERVED_PREFIXES = (
    ("xn--", "prefix-xn"),
    ("sthree-", "prefix-sthree"),
    ("amzn-s3-demo-", "prefix-amzn-demo"),
)
_RESERVED_SUFFIXES = (
    ("-s3alias", "suffix-s3alias"),
    ("--ol-s3", "suffix-ol-s3"),
    (".mrap", "suffix-mrap"),
    ("--x-s3", "suffix-x-s3"),
    ("--table-s3", "suffix-table-s3"),
    ("-an", "suffix-an"),
)


def naming_problems(name: str) -> list[NamingProblem]:
    """Every general-purpose bucket naming rule the name breaks, in the documentation's order."""
    out: list[NamingProblem] = []

    def fail(rule_id: str, message: str, hint: str) -> None:
        out.append(NamingProblem(RULES[rule_id], message, hint))

    if not 3 <= len(name) <= 63:
        fail("length", f"it is {len(name)} characters long; the limit is 3 to 63.", "Use 3 to 63 characters.")
    bad = sorted({c for c in name if not (c.islower() and c.isascii()) and not c.isdigit() and c not in ".-"})
    if bad:
        shown = " ".join(repr(c) for c in bad[:6])
        hint = "Use lowercase letters, digits, '.' and '-' only."
        # Suggest a name that passes this rule: lower case, '_' and other characters as '-'.
        suggestion = "".join(
            c if (c.isascii() and (c.islower() or c.isdigit()) or c in ".-") else "-" for c in name.lower()
        )
        if any(c.isupper() for c in bad) and "_" in bad:
            hint = f"Write it in lower case and replace '_' with '-': {suggestion}"
        elif any(c.isupper() for c in bad):
            hint = f"Write it in lower case: {suggestion}"
        elif "_" in bad:
            hint = f"Replace '_' with '-': {suggestion}"
        fail("charset", f"it contains {shown}.", hint)
    if name and not (_alnum(name[0]) and _alnum(name[-1])):
        fail(
            "edges",
            "it must start and end with a lowercase letter or a digit.",
            "Remove the leading or trailing . or -.",
        )
    if ".." in name:
        fail("adjacent-periods", "it contains '..'.", "Use a single period.")
    if _looks_like_ip(name):
        fail("ip-address", "it is formatted like an IP address.", "Add letters, e.g. a 'sagemaker-' prefix.")
    for prefix, rule_id in _RESERVED_PREFIXES:
        if name.startswith(prefix):
            fail(
                rule_id,
                f"it starts with the reserved prefix {prefix}.",
                f"Choose a name not starting with {prefix}.",
            )
    for suffix, rule_id in _RESERVED_SUFFIXES:
        if name.endswith(suffix):
            fail(
                rule_id,
                f"it ends with the reserved suffix {suffix}.",
                f"Choose a name not ending with {suffix}.",
            )
    return out


def naming_problem(name: str) -> NamingProblem | None:
    """The first rule the name breaks, or None when it is a valid general-purpose bucket name."""
    problems = naming_problems(name)
    return problems[0] if problems else None


def validate_bucket_name(name: str) -> str:
    """Return the name, or raise ValidationError naming the rule that fails."""
    problem = naming_problem(name)
    if problem:
        raise ValidationError(
            "bucket name", f"'{name}': {problem.message} Rule: {problem.rule.text}", problem.hint
        )
    return name


def _alnum(c: str) -> bool:
    return c.isascii() and (c.islower() or c.isdigit())


def _looks_like_ip(name: str) -> bool:
    if not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        return False
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return bool(re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", name))
    return True


def expected_bucket_name(region: str, account: str) -> str:
    """The SageMaker SDK's default bucket: `sagemaker-{region}-{account}`."""
    return f"sagemaker-{region}-{account}"


def alternative_names(region: str, account: str) -> list[str]:
    """Names to offer when the default is taken by another account (all contain 'sagemaker')."""
    base = expected_bucket_name(region, account)
    return [f"{base}-data", f"{base}-1", f"sagemaker-data-{account}-{region}"]


SAGEMAKER_WARNING = (
    "The name does not contain 'sagemaker'. AWS's managed policy AmazonSageMakerFullAccess only "
    "allows object actions (GetObject, PutObject, DeleteObject) on buckets whose names contain "
    "'sagemaker' (or 'SageMaker', 'Sagemaker'), so a notebook or job role that relies on it will get "
    "AccessDenied here unless you grant the bucket explicitly (the Permissions step can)."
)


def sagemaker_warning(name: str) -> str | None:
    if any(part in name for part in ("sagemaker", "SageMaker", "Sagemaker")):
        return None
    return SAGEMAKER_WARNING


# -- existence and ownership ---------------------------------------------------------------------


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


# -- facts ----------------------------------------------------------------------------------------


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


# -- creation -------------------------------------------------------------------------------------


def create_plan(name: str, region: str, account: str) -> Plan:
    """CreateBucket done right for the region, with AWS's safe defaults stated explicitly, tagged."""
    validate_bucket_name(name)
    params: dict[str, Any] = {"Bucket": name, "ObjectOwnership": "BucketOwnerEnforced"}
    if region != "us-east-1":
        # us-east-1 is the default and rejects an explicit LocationConstraint.
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    arn = f"arn:aws:s3:::{name}"
    actions = [
        Action(
            "s3",
            "create_bucket",
            params,
            f"Create bucket {name} in {region} (Object Ownership: bucket owner enforced, ACLs off)",
            undo=f"delete the bucket once empty (Clean up step, or: {shlex.join(['aws', 's3', 'rb', f's3://{name}'])})",
            resource=arn,
            journal=ResourceCreated(
                ResourceKind.BUCKET, name, arn, attributes={"region": region, "account": account}
            ),
        ),
        Action(
            "s3",
            "put_public_access_block",
            {
                "Bucket": name,
                "ExpectedBucketOwner": account,
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            },
            "Keep Block Public Access on for it (AWS's default for new buckets, stated explicitly)",
            resource=arn,
        ),
        Action(
            "s3",
            "put_bucket_tagging",
            {"Bucket": name, "ExpectedBucketOwner": account, "Tagging": {"TagSet": tags_list()}},
            "Tag it sagewiz:created-by=sagewiz, so Clean up can find it",
            resource=arn,
        ),
    ]
    warnings = []
    warning = sagemaker_warning(name)
    if warning:
        warnings.append(warning)
    return Plan(f"Create the S3 bucket {name}", tuple(actions), tuple(warnings))


def create_bucket(factory: Any, plan: Plan, journal: Any) -> None:
    """Apply a create_plan; say plainly when the name is taken."""
    from services.plan import apply_plan

    try:
        apply_plan(plan, factory, journal)
    except ConflictError as err:
        name = plan.actions[0].params["Bucket"]
        if err.code == "BucketAlreadyOwnedByYou":
            return
        raise ConflictError(
            "That bucket name is taken",
            f"Another AWS account already owns a bucket named {name}. Bucket names are global.",
            "Pick another name (keep 'sagemaker' in it).",
            code=err.code,
            operation="s3:CreateBucket",
        ) from err
    except SagewizError as err:
        if err.code in ("IllegalLocationConstraintException", "InvalidLocationConstraint"):
            raise SagewizError(
                "The bucket's region does not match",
                err.message,
                "Create it from a session in the bucket's region (sagewiz sets LocationConstraint for you).",
                code=err.code,
                operation="s3:CreateBucket",
            ) from err
        raise
