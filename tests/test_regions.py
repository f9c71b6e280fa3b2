"""Partitions and regions come from botocore's data, and every ARN sagewiz builds is in the region's partition."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from botocore.regions import EndpointResolver

from services import regions
from services.labeling.rules import documented_lambdas, public_workteam_arn
from services.policy.arns import session_arn
from services.roles.creation import RoleSpec, plan_create_role
from services.roles.documents import (
    autostop_statement,
    least_privilege_policy,
    sagemaker_role_problem,
    trust_policy,
)
from services.session import _botocore_session

ROOT = Path(__file__).resolve().parents[1]

# (region, partition): one of each partition sagewiz offers, plus ones only a pattern places.
CASES = [
    ("eu-north-1", "aws"),
    ("us-east-1", "aws"),
    ("cn-north-1", "aws-cn"),
    ("cn-northwest-1", "aws-cn"),
    ("us-gov-west-1", "aws-us-gov"),
    ("us-gov-east-1", "aws-us-gov"),
    ("us-iso-east-1", "aws-iso"),
    ("eusc-de-east-1", "aws-eusc"),
    ("eu-central-9", "aws"),  # not yet listed: placed by the pattern, as botocore does
]


@pytest.mark.parametrize(("region", "partition"), CASES)
def test_partition_is_botocores(region: str, partition: str) -> None:
    assert regions.partition_of(region) == partition
    # botocore's own resolver, fed the same data through the shared loader, agrees.
    resolver = EndpointResolver(_botocore_session().get_component("data_loader").load_data("endpoints"))
    assert resolver.get_partition_for_region(region) == partition


def test_regions_offered_are_botocores_commercial_china_and_govcloud_regions() -> None:
    offered = regions.known_regions()
    assert {"eu-north-1", "us-east-1", "cn-north-1", "us-gov-west-1"} <= set(offered)
    assert not [r for r in offered if r.endswith("-global") or regions.region_problem(r)]
    assert {regions.partition_of(r) for r in offered} == {"aws", "aws-cn", "aws-us-gov"}


@pytest.mark.parametrize(
    ("region", "prefix"),
    [("eu-north-1", "arn:aws:"), ("cn-north-1", "arn:aws-cn:"), ("us-gov-west-1", "arn:aws-us-gov:")],
)
def test_every_arn_built_for_a_region_is_in_its_partition(region: str, prefix: str) -> None:
    account = "123456789012"
    policy = least_privilege_policy(account, region, "bkt", "data/")
    resources = [r for st in policy["Statement"] for r in _list(st["Resource"]) if r != "*"]
    assert resources and all(r.startswith(prefix) for r in resources), resources
    assert autostop_statement(account, region, "NB")["Resource"] == (
        f"{prefix}sagemaker:{region}:{account}:notebook-instance/nb"
    )
    spec = RoleSpec("r", account, region, "bkt", full_access=True)
    assert spec.arn == f"{prefix}iam::{account}:role/service-role/r"
    attach = plan_create_role(spec).actions[1].params["PolicyArn"]
    assert attach == f"{prefix}iam::aws:policy/AmazonSageMakerFullAccess"
    assert public_workteam_arn(region).startswith(f"{prefix}sagemaker:{region}:")
    assert session_arn(spec.arn, "SageMaker") == f"{prefix}sts::{account}:assumed-role/r/SageMaker"
    assert (
        regions.arn("logs", region, account, "log-group:x") == f"{prefix}logs:{region}:{account}:log-group:x"
    )


@pytest.mark.parametrize("region", ["eu-north-1", "cn-north-1", "us-gov-west-1"])
def test_the_sagemaker_service_principal_is_the_same_in_every_partition(region: str) -> None:
    # IAM's service principal is not the endpoint's DNS suffix (amazonaws.com.cn in China).
    assert regions.service_principal("sagemaker") == "sagemaker.amazonaws.com"
    trust = trust_policy("123456789012")
    assert trust["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert sagemaker_role_problem(trust) is None
    assert regions.partition_of(region) in regions.partition_ids()


def test_documented_lambdas_are_in_the_commercial_partition() -> None:
    lambdas = documented_lambdas("us-east-1")
    assert lambdas is not None and lambdas.pre.startswith("arn:aws:lambda:us-east-1:")


def test_the_partition_is_decided_in_one_place() -> None:
    # Partition names written by hand into ARNs next to a region is what disagreed before.
    hand_made = re.compile(r"f\"arn:aws:(sagemaker|logs|lambda):\{")
    sources = [p for d in ("services", "screens", "tui") for p in (ROOT / d).rglob("*.py")]
    found = [
        str(p.relative_to(ROOT))
        for p in sources
        if "sandbox" not in p.parts and hand_made.search(p.read_text())
    ]
    assert found == []


def _list(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
