"""AWS regions: the list offered in pickers and the name check."""

from __future__ import annotations

import re

# Commercial, China and GovCloud regions (as of 2026-11). A name outside this list that has
# the right shape is still accepted with a warning: AWS adds regions.
KNOWN_REGIONS: tuple[str, ...] = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    "af-south-1",
    "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2",
    "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ap-northeast-1",
    "ap-northeast-2", "ap-northeast-3",
    "ca-central-1", "ca-west-1",
    "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1",
    "eu-south-2", "eu-north-1",
    "il-central-1", "me-south-1", "me-central-1", "mx-central-1", "sa-east-1",
    "cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1",
)  # fmt: skip

_REGION_SHAPE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")


def region_problem(name: str) -> str | None:
    """None when `name` is a usable region name, otherwise why it is not."""
    if not name:
        return "no region is set; pick one (the sandbox uses eu-north-1)"
    if name != name.strip() or name.lower() != name:
        return f"'{name}' must be lower case with no spaces, like eu-north-1"
    if not _REGION_SHAPE.match(name):
        return f"'{name}' is not a region name; region names look like eu-north-1 or us-east-1"
    return None


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
