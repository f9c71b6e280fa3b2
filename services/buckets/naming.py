"""S3 bucket names: the general-purpose naming rules (each problem with its rule), the name SageMaker
expects for its default bucket, and the warning for a name SageMaker's own policies do not cover."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from services.errors import ValidationError


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
