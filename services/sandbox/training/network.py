"""A training job in a VPC reaches S3 only through its subnets' route tables, as on SageMaker.

The emulated EC2 (moto's backend, in this process) is read the way the service's network would
route: the subnet's own route table, else its VPC's main one; S3 is reachable through an S3
gateway endpoint attached to that table or a 0.0.0.0/0 route to a NAT gateway. Without either, a
real job's download hangs until it times out; here the job fails at once with that outcome's wording.
"""

from __future__ import annotations

from typing import Any

from services.sandbox.training.run import JobFailure, Run


def _ec2(account: str, region: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account][region]


def _table_for(ec2: Any, subnet: Any) -> Any:
    main = None
    for table in ec2.route_tables.values():
        if table.vpc_id != subnet.vpc_id:
            continue
        if subnet.id in table._associations.values():
            return table
        if table.main_association_id is not None:
            main = table
    return main


def _reaches_s3(ec2: Any, table: Any, region: str) -> bool:
    if table is None:
        return False
    service = f"com.amazonaws.{region}.s3"
    for ep in ec2.vpc_end_points.values():
        if (
            ep.service_name == service
            and ep.vpc_endpoint_type == "Gateway"
            and table.id in (ep.route_table_ids or [])
        ):
            return True
    return any(r.destination_cidr_block == "0.0.0.0/0" and r.nat_gateway is not None for r in table.routes)


def check_s3_route(run: Run) -> None:
    """JobFailure when a subnet of the job's VpcConfig has no route to S3."""
    subnets = ((run.request.get("VpcConfig") or {}).get("Subnets")) or []
    if not subnets:
        return
    ec2 = _ec2(run.account, run.region)
    for subnet_id in subnets:
        subnet = ec2.get_subnet(subnet_id)
        if not _reaches_s3(ec2, _table_for(ec2, subnet), run.region):
            channels = run.request.get("InputDataConfig") or []
            uri = (
                ((channels[0].get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri", "")
                if channels
                else ""
            )
            raise JobFailure(
                f"ClientError: Data download failed:Could not download {uri}: connection to S3 timed out. Please "
                "ensure that the subnet's route table has a route to an S3 VPC endpoint or a NAT device, and both "
                "the security groups and the subnet's network ACL allow outbound traffic to S3."
            )
