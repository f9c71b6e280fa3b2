"""AWS regions and partitions, from botocore's own data: the regions offered in pickers, the name
check, which partition a region is in, and the ARNs and service principals built for it.

The data is botocore's `partitions.json` (the file its loader and endpoint resolver read), so a
region AWS adds arrives with botocore, and every ARN sagewiz builds agrees on the partition. It is
read as a file rather than through `botocore.loaders`, whose import (about 0.3 s) would delay the
first screen, which lists the regions.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources

# The partitions sagewiz offers regions of: commercial, China and GovCloud (the others are
# air-gapped or sovereign clouds whose endpoints a person sets up explicitly).
OFFERED_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
DEFAULT_PARTITION = "aws"  # botocore's answer too, for a region no partition claims


@dataclass(frozen=True)
class Partition:
    id: str  # aws, aws-cn, aws-us-gov, ...
    dns_suffix: str  # amazonaws.com, amazonaws.com.cn, ...
    region_regex: str
    regions: tuple[str, ...]

    def holds(self, region: str) -> bool:
        return region in self.regions or re.match(self.region_regex, region) is not None


@functools.cache
def partitions() -> tuple[Partition, ...]:
    """Every partition botocore knows, in its order."""
    data = json.loads((resources.files("botocore") / "data" / "partitions.json").read_text("utf-8"))
    return tuple(
        Partition(
            p["id"],
            p["outputs"]["dnsSuffix"],
            p["regionRegex"],
            tuple(r for r in p["regions"] if not r.endswith("-global")),
        )
        for p in data["partitions"]
    )


def partition_ids() -> tuple[str, ...]:
    return tuple(p.id for p in partitions())


def partition_of(region: str) -> str:
    """The partition a region is in: a region botocore lists by name first, then its pattern, as
    botocore's endpoint resolver decides."""
    listed = next((p for p in partitions() if region in p.regions), None)
    matched = listed or next((p for p in partitions() if p.holds(region)), None)
    return matched.id if matched else DEFAULT_PARTITION


@functools.cache
def known_regions() -> tuple[str, ...]:
    """The regions offered in pickers: the commercial, China and GovCloud ones botocore lists."""
    return tuple(r for p in partitions() if p.id in OFFERED_PARTITIONS for r in p.regions)


def arn(service: str, region: str, account: str, resource: str) -> str:
    """A regional ARN, in the partition of `region` (e.g. arn:aws-cn:sagemaker:cn-north-1:...)."""
    return f"arn:{partition_of(region)}:{service}:{region}:{account}:{resource}"


def global_arn(service: str, region: str, account: str, resource: str) -> str:
    """An ARN with no region field (IAM, STS, S3), in the partition of `region`; S3 names no
    account either, so pass "" for it."""
    return f"arn:{partition_of(region)}:{service}::{account}:{resource}"


def service_principal(service: str) -> str:
    """The principal a service acts as in trust policies and `iam:PassedToService`. For the
    services sagewiz names (SageMaker) it is `<service>.amazonaws.com` in aws, aws-cn and
    aws-us-gov alike: the principal is not the endpoint's DNS suffix (amazonaws.com.cn)."""
    return f"{service}.amazonaws.com"


_REGION_SHAPE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")


def region_problem(name: str) -> str | None:
    from services.terminal_text import echo

    """None when `name` is a usable region name, otherwise why it is not."""
    if not name:
        return "no region is set; pick one (the sandbox uses eu-north-1)"
    if name != name.strip() or name.lower() != name:
        return f"{echo(name)} must be lower case with no spaces, like eu-north-1"
    if not _REGION_SHAPE.match(name):
        return f"{echo(name)} is not a region name; region names look like eu-north-1 or us-east-1"
    return None
