"""`vpc-no-s3-route`: a job or notebook in a VPC whose subnets reach S3 by no route.

In a VPC, a training job's containers (and a notebook without direct internet access) reach S3
only through the subnet's route table: an S3 gateway endpoint attached to it, or a 0.0.0.0/0
route to a NAT gateway. With neither, the download times out ("Data download failed") instead of
being refused, so no policy explains it. Three read-only EC2 calls: the subnets (for their VPC),
the VPC's route tables (a subnet without its own association uses the main one), and the S3
gateway endpoints of the VPC.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from services.doctor.model import Finding, Fix
from services.errors import translate


@dataclass(frozen=True)
class SubnetRoute:
    subnet: str
    vpc: str
    route_table: str | None  # None: the VPC has no route table that covers the subnet
    endpoint: str | None  # the S3 gateway endpoint attached to that route table
    nat: str | None  # the NAT gateway of its 0.0.0.0/0 route
    vpc_endpoints: tuple[str, ...] = ()  # the VPC's S3 gateway endpoints (attached elsewhere, if here)

    @property
    def reaches_s3(self) -> bool:
        return bool(self.endpoint or self.nat)


def s3_gateway_service(region: str) -> str:
    return f"com.amazonaws.{region}.s3"


def subnet_routes(factory: Any, subnets: tuple[str, ...], region: str) -> tuple[list[SubnetRoute], int]:
    """How each subnet reaches S3, and the number of AWS calls made."""
    ec2 = factory.client("ec2")
    try:
        found = ec2.describe_subnets(SubnetIds=list(subnets))["Subnets"]
        vpcs = sorted({s["VpcId"] for s in found})
        tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": vpcs}])["RouteTables"]
        endpoints = ec2.describe_vpc_endpoints(
            Filters=[
                {"Name": "vpc-id", "Values": vpcs},
                {"Name": "service-name", "Values": [s3_gateway_service(region)]},
                {"Name": "vpc-endpoint-type", "Values": ["Gateway"]},
            ]
        )["VpcEndpoints"]
    except Exception as exc:
        raise translate(exc, "read the VPC's route tables") from exc
    by_subnet: dict[str, dict[str, Any]] = {}
    main: dict[str, dict[str, Any]] = {}
    for t in tables:
        for a in t.get("Associations", []):
            if a.get("SubnetId"):
                by_subnet[a["SubnetId"]] = t
            if a.get("Main"):
                main[t["VpcId"]] = t
    out = []
    for s in found:
        table = by_subnet.get(s["SubnetId"]) or main.get(s["VpcId"])
        rtb = table["RouteTableId"] if table else None
        endpoint = next(
            (e["VpcEndpointId"] for e in endpoints
             if rtb in (e.get("RouteTableIds") or []) and e.get("State", "available") == "available"),
            None,
        )  # fmt: skip
        nat = next(
            (r["NatGatewayId"] for r in (table or {}).get("Routes", [])
             if r.get("DestinationCidrBlock") == "0.0.0.0/0" and r.get("NatGatewayId")
             and r.get("State", "active") == "active"),
            None,
        )  # fmt: skip
        mine = tuple(e["VpcEndpointId"] for e in endpoints if e.get("VpcId") == s["VpcId"])
        out.append(SubnetRoute(s["SubnetId"], s["VpcId"], rtb, endpoint, nat, mine))
    return out, 3


def create_endpoint_command(vpc: str, route_tables: list[str], region: str) -> str:
    return shlex.join(
        ["aws", "ec2", "create-vpc-endpoint", "--region", region, "--vpc-id", vpc,
         "--vpc-endpoint-type", "Gateway", "--service-name", s3_gateway_service(region),
         "--route-table-ids", *route_tables]
    )  # fmt: skip


def attach_endpoint_command(endpoint: str, route_tables: list[str], region: str) -> str:
    return shlex.join(
        ["aws", "ec2", "modify-vpc-endpoint", "--region", region, "--vpc-endpoint-id", endpoint,
         "--add-route-table-ids", *route_tables]
    )  # fmt: skip


def s3_route_finding(
    factory: Any, subnets: tuple[str, ...], what: str, region: str
) -> tuple[Finding | None, int]:
    """The `vpc-no-s3-route` finding when some subnet of `what` (e.g. "the training job x")
    reaches S3 by no route, else None; and the number of AWS calls made."""
    routes, calls = subnet_routes(factory, subnets, region)
    cut = [r for r in routes if not r.reaches_s3]
    if not cut:
        return None, calls
    vpc = cut[0].vpc
    tables = sorted({r.route_table for r in cut if r.route_table and r.vpc == vpc})
    named = ", ".join(r.subnet for r in cut)
    summary = (
        f"{what} runs in VPC {vpc}, and its subnet{'s' if len(cut) > 1 else ''} {named} "
        "reach S3 by no route (no S3 gateway endpoint, no NAT gateway): downloads and uploads time out"
    )
    evidence = tuple(
        f"subnet {r.subnet}: route table {r.route_table or '(none)'}"
        + (
            ""
            if r.route_table is None
            else ", no S3 gateway endpoint attached, no 0.0.0.0/0 route to a NAT gateway"
        )
        for r in cut
    ) + (f"ec2:DescribeVpcEndpoints: no {s3_gateway_service(region)} gateway endpoint on those route tables",)
    existing = cut[0].vpc_endpoints
    plural = "s" if len(tables) > 1 else ""
    if tables and existing:
        # The VPC already has an S3 gateway endpoint: attaching it is the smaller change.
        command = attach_endpoint_command(existing[0], tables, region)
        description = f"Attach the VPC's S3 gateway endpoint {existing[0]} to route table{plural} {', '.join(tables)}: {command}"
        change = {"target": existing[0], "call": "ec2:ModifyVpcEndpoint", "command": command,
                  "document": {"VpcEndpointId": existing[0], "AddRouteTableIds": tables}}  # fmt: skip
        fix = Fix(description=description, changes=(change,))
    elif tables:
        command = create_endpoint_command(vpc, tables, region)
        description = (
            f"Add an S3 gateway endpoint to route table{plural} {', '.join(tables)} "
            f"(free of charge; traffic to S3 then stays in the VPC): {command}"
        )
        change = {"target": vpc, "call": "ec2:CreateVpcEndpoint", "command": command,
                  "document": {"VpcId": vpc, "VpcEndpointType": "Gateway",
                               "ServiceName": s3_gateway_service(region), "RouteTableIds": tables}}  # fmt: skip
        fix = Fix(description=description, changes=(change,))
    else:
        fix = Fix(
            description=f"Give the subnets of VPC {vpc} a route table, then add an S3 gateway endpoint to it."
        )
    return Finding("vpc-no-s3-route", True, summary, evidence, fix), calls
