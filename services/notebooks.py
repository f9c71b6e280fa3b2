"""SageMaker notebook instances: list, describe, plan and create, stop, start, delete, open.

Input is checked with the API's own rules before any call (name pattern and length, the instance
types CreateNotebookInstance accepts, platform identifiers, volume size, VPC settings). Errors AWS
returns are turned into messages that say which rule failed and what to do.

At about 570 lines this is one concern on purpose: the notebook instance's own calls (list,
describe, the create plan and its checks, stop/start/delete and rolling back a failed create),
which share the spec, the status values and the journal records. What stands apart lives beside
it: `notebook_autostop` (the idle auto-stop lifecycle script, shipped as `notebook_autostop.sh`)
and `notebook_errors` (the service's errors and failure reasons, said plainly).
"""

from __future__ import annotations

import base64
import enum
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.durations import duration
from services.errors import (
    AccessDeniedError,
    ConflictError,
    NotFoundError,
    SagewizError,
    ValidationError,
    translate,
)
from services.journal_events import Change, Event, ResourceChanged, ResourceCreated, ResourceDeleted
from services.notebook_autostop import (
    autostop_config_name,
    autostop_note,
    autostop_script,
    idle_minutes_problem,
)
from services.notebook_errors import OFFERED_EVERYWHERE, notebook_error, refine
from services.plan import Action, Plan, tags_list
from services.pricing import PriceEstimate, notebook_price, notebook_storage_hourly
from services.remedy import Remedy, RemedyKind
from services.resource_kinds import ResourceKind
from services.sagemaker_model import EnumShape, NameShape, enum_values, name_rule

VOLUME_MIN_GB, VOLUME_MAX_GB = 5, 16384
DEFAULT_TYPE = OFFERED_EVERYWHERE
DEFAULT_VOLUME_GB = 5
# Describes run in parallel when listing (the list call does not return the role); 4 keeps well
# under DescribeNotebookInstance's rate limit. bench/notebook measures it.
LIST_WORKERS = 4

TRANSIENT = ("Pending", "Stopping", "Deleting", "Updating")
SETTLED = ("InService", "Stopped", "Failed")


# -- platforms -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Platform:
    id: str
    os: str
    jupyterlab: str
    end_of_life: bool
    note: str = ""

    def label(self) -> str:
        flag = "  (END OF LIFE)" if self.end_of_life else ""
        return f"{self.id}: {self.os}, JupyterLab {self.jupyterlab}{flag}"


# Identifiers accepted by CreateNotebookInstance (botocore's PlatformIdentifier pattern). Support
# status as AWS documents it; Amazon Linux 2 reached its end of life on 2026-06-30.
PLATFORMS: tuple[Platform, ...] = (
    Platform("notebook-al2023-v1", "Amazon Linux 2023", "4", False, "current, recommended"),
    Platform("notebook-al2023-v2", "Amazon Linux 2023", "4", False, "newer Amazon Linux 2023 runtime"),
    Platform(
        "notebook-al2-v3", "Amazon Linux 2", "4", True, "Amazon Linux 2 reached end of life on 2026-06-30"
    ),
    Platform("notebook-al2-v2", "Amazon Linux 2", "3", True, "deprecated: JupyterLab 3 is out of support"),
    Platform("notebook-al2-v1", "Amazon Linux 2", "1", True, "deprecated: JupyterLab 1 is out of support"),
    Platform(
        "notebook-al1-v1", "Amazon Linux (AL1)", "1", True, "deprecated: Amazon Linux 1 is out of support"
    ),
)
DEFAULT_PLATFORM = PLATFORMS[0].id
_PLATFORM_BY_ID = {p.id: p for p in PLATFORMS}


def platform_warning(platform_id: str) -> str | None:
    p = _PLATFORM_BY_ID.get(platform_id)
    if p is None or not p.end_of_life:
        return None
    return (
        f"{platform_id} is end of life ({p.note}): it gets no security updates and AWS may stop "
        f"starting it. Pick {DEFAULT_PLATFORM} unless you need this one."
    )


# -- validation ------------------------------------------------------------------------------------
def name_problem(name: str) -> str | None:
    """Why `name` is not a valid notebook instance name (the API's pattern and length), or None."""
    if not name:
        return "A name is required."
    rule = name_rule(NameShape.NOTEBOOK_INSTANCE)
    if len(name) > rule.max_length:
        return f"A notebook instance name is at most {rule.max_length} characters (this one has {len(name)})."
    if not rule.matches(name):
        bad = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c == "-"))})
        if bad:
            shown = " ".join(repr(c) for c in bad)
            return f"Only letters, digits and hyphens are allowed; found {shown}."
        if name.startswith("-") or name.endswith("-"):
            return "The name must start and end with a letter or digit, not a hyphen."
        return "Only letters, digits and hyphens are allowed, starting and ending with a letter or digit."
    return None


def notebook_instance_types() -> tuple[str, ...]:
    """The instance types CreateNotebookInstance accepts (from the API model botocore ships)."""
    return enum_values(EnumShape.NOTEBOOK_INSTANCE_TYPE)


def instance_type_problem(instance_type: str) -> str | None:
    if not instance_type:
        return "Pick an instance type."
    if instance_type not in notebook_instance_types():
        return f"{instance_type} is not a notebook instance type (types look like ml.t3.medium)."
    return None


@dataclass(frozen=True)
class TypeOption:
    instance_type: str
    price: PriceEstimate


def type_options(region: str) -> list[TypeOption]:
    """Notebook types, those with a listed price first (cheapest first), then the rest."""
    opts = [TypeOption(t, notebook_price(t, region)) for t in notebook_instance_types()]
    priced = sorted((o for o in opts if o.price.known), key=lambda o: o.price.usd_per_hour or 0)
    return priced + [o for o in opts if not o.price.known]


# -- data returned -------------------------------------------------------------------------------
class Billing(enum.Enum):
    """What a notebook instance bills in its state."""

    INSTANCE = "instance hours"
    VOLUME = "its storage volume only"
    NOTHING = "nothing"


@dataclass(frozen=True)
class NotebookInfo:
    name: str
    arn: str
    status: str
    instance_type: str
    created: datetime | None
    role_arn: str = ""
    url: str = ""
    platform: str = ""
    lifecycle_config: str = ""
    volume_gb: int | None = None
    subnet_id: str = ""
    direct_internet_access: str = ""
    failure_reason: str = ""
    last_modified: datetime | None = None
    price: PriceEstimate | None = None
    tags: tuple[tuple[str, str], ...] = ()

    def age(self, now: datetime) -> str:
        return duration((now - self.created).total_seconds()) if self.created else "?"

    @property
    def role_name(self) -> str:
        return self.role_arn.rsplit("/", 1)[-1] if self.role_arn else ""

    @property
    def deletable(self) -> bool:
        return self.status in ("Stopped", "Failed")

    @property
    def cost_label(self) -> str:
        """What it costs in its current state: the instance rate while it runs; its volume only
        when Stopped or Failed (storage bills until the instance is deleted); nothing once deleting."""
        billing = self.billing
        if billing is Billing.NOTHING:
            return "$0 (being deleted: nothing bills)"
        if billing is Billing.VOLUME:
            hourly = self.volume_hourly
            if hourly is None:
                return "its volume only (size unknown)"
            return f"~${hourly:.4f}/h for its {self.volume_gb} GB volume only (estimate)"
        return self.price.label() if self.price else "unknown"

    @property
    def billing(self) -> Billing:
        if self.status in ("Stopped", "Failed"):
            return Billing.VOLUME
        if self.status == "Deleting":
            return Billing.NOTHING
        return Billing.INSTANCE  # Pending, InService, Updating, Stopping: instance hours

    @property
    def volume_hourly(self) -> float | None:
        if not self.volume_gb or self.price is None:
            return None
        return notebook_storage_hourly(self.volume_gb, self.price.region)


def _info(d: dict[str, Any], region: str) -> NotebookInfo:
    itype = d.get("InstanceType", "")
    return NotebookInfo(
        name=d["NotebookInstanceName"],
        arn=d.get("NotebookInstanceArn", ""),
        status=d.get("NotebookInstanceStatus", ""),
        instance_type=itype,
        created=d.get("CreationTime"),
        role_arn=d.get("RoleArn", ""),
        url=d.get("Url", ""),
        platform=d.get("PlatformIdentifier", ""),
        lifecycle_config=d.get("NotebookInstanceLifecycleConfigName", ""),
        volume_gb=d.get("VolumeSizeInGB"),
        subnet_id=d.get("SubnetId", ""),
        direct_internet_access=d.get("DirectInternetAccess", ""),
        failure_reason=d.get("FailureReason", ""),
        last_modified=d.get("LastModifiedTime"),
        price=notebook_price(itype, region) if itype else None,
    )


def list_notebooks(factory: Any) -> list[NotebookInfo]:
    """Every notebook instance in the region, newest first, with its role (one describe each,
    since the list call does not return the role)."""
    sm = factory.client("sagemaker")
    names: list[str] = []
    try:
        for page in sm.get_paginator("list_notebook_instances").paginate(
            SortBy="CreationTime", SortOrder="Descending"
        ):
            names += [n["NotebookInstanceName"] for n in page.get("NotebookInstances", [])]
    except Exception as exc:
        raise notebook_error(exc, "sagemaker:ListNotebookInstances") from exc

    def one(name: str) -> NotebookInfo | None:
        try:
            return describe_notebook(factory, name)
        except NotFoundError:
            return None  # deleted between the list and the describe

    with ThreadPoolExecutor(max_workers=LIST_WORKERS) as pool:
        found = [i for i in pool.map(one, names) if i is not None]
    return found


def describe_notebook(factory: Any, name: str) -> NotebookInfo:
    try:
        d = factory.client("sagemaker").describe_notebook_instance(NotebookInstanceName=name)
    except Exception as exc:
        raise notebook_error(exc, "sagemaker:DescribeNotebookInstance", name=name) from exc
    return _info(d, factory.region)


def notebook_exists(factory: Any, name: str) -> bool:
    try:
        describe_notebook(factory, name)
    except NotFoundError:
        return False
    return True


# -- the create spec, validation and the plan -------------------------------------------------------
@dataclass(frozen=True)
class NotebookSpec:
    name: str
    role_arn: str
    instance_type: str = DEFAULT_TYPE
    volume_gb: int = DEFAULT_VOLUME_GB
    platform: str = DEFAULT_PLATFORM
    lifecycle_config: str | None = None  # an existing configuration's name
    idle_minutes: int | None = None  # create the idle auto-stop configuration
    subnet_id: str | None = None
    security_group_ids: tuple[str, ...] = ()
    direct_internet_access: bool = True
    extra_tags: dict[str, str] = field(default_factory=dict)


def validate_spec(spec: NotebookSpec) -> list[ValidationError]:
    """Every rule the request breaks, each naming its field; empty when the spec is fine."""
    from services.roles.listing import role_arn_problem

    out: list[ValidationError] = []

    def bad(fld: str, msg: str | None, hint: str = "") -> None:
        if msg:
            out.append(ValidationError(fld, msg, hint))

    bad("name", name_problem(spec.name), "Example: my-notebook-1 (letters, digits, hyphens; up to 63).")
    bad("instance type", instance_type_problem(spec.instance_type), f"The usual choice is {DEFAULT_TYPE}.")
    if not VOLUME_MIN_GB <= spec.volume_gb <= VOLUME_MAX_GB:
        bad(
            "volume size", f"The volume must be {VOLUME_MIN_GB} to {VOLUME_MAX_GB} GB (got {spec.volume_gb})."
        )
    if spec.platform not in _PLATFORM_BY_ID:
        bad("platform", f"{spec.platform!r} is not a platform identifier.", f"Use {DEFAULT_PLATFORM}.")
    bad(
        "execution role",
        role_arn_problem(spec.role_arn) if spec.role_arn else "Pick or create an execution role.",
    )
    if spec.lifecycle_config and spec.idle_minutes is not None:
        bad(
            "lifecycle configuration",
            "Choose either an existing configuration or the idle auto-stop one, not both.",
        )
    if spec.lifecycle_config:
        lc = name_problem(spec.lifecycle_config)
        bad("lifecycle configuration", lc and lc.replace("notebook instance name", "configuration name"))
    bad("idle minutes", idle_minutes_problem(spec.idle_minutes))
    if spec.subnet_id is not None and spec.subnet_id != "":
        if not re.fullmatch(r"subnet-[0-9a-f]{8,17}", spec.subnet_id):
            bad("subnet", f"{spec.subnet_id!r} is not a subnet ID (subnet- followed by 8 or 17 hex digits).")
        if not spec.security_group_ids:
            bad("security groups", "A notebook in a VPC subnet needs at least one security group ID.")
        for sg in spec.security_group_ids:
            if not re.fullmatch(r"sg-[0-9a-f]{8,17}", sg):
                bad("security groups", f"{sg!r} is not a security group ID (sg- followed by hex digits).")
        if len(spec.security_group_ids) > 5:
            bad("security groups", "At most 5 security groups.")
    elif not spec.direct_internet_access:
        bad(
            "internet access",
            "Without direct internet access the notebook needs a VPC subnet to reach anything.",
            "Give a subnet (with a NAT gateway or VPC endpoints), or allow direct internet access.",
        )
    elif spec.security_group_ids:
        bad("security groups", "Security groups apply only with a VPC subnet.")
    return out


def create_params(spec: NotebookSpec) -> dict[str, Any]:
    params: dict[str, Any] = {
        "NotebookInstanceName": spec.name,
        "InstanceType": spec.instance_type,
        "RoleArn": spec.role_arn,
        "VolumeSizeInGB": spec.volume_gb,
        "PlatformIdentifier": spec.platform,
        "DirectInternetAccess": "Enabled" if spec.direct_internet_access else "Disabled",
        "Tags": tags_list(spec.extra_tags),
    }
    lc = autostop_config_name(spec.name) if spec.idle_minutes is not None else spec.lifecycle_config
    if lc:
        params["LifecycleConfigName"] = lc
    if spec.subnet_id:
        params["SubnetId"] = spec.subnet_id
        params["SecurityGroupIds"] = list(spec.security_group_ids)
    return params


def plan_create_notebook(spec: NotebookSpec, region: str, role_plan: Plan | None = None) -> Plan:
    """The calls that create the notebook (after the role's, when a role is being created too)."""
    problems = validate_spec(spec)
    if problems:
        raise problems[0]
    actions: list[Action] = list(role_plan.actions) if role_plan else []
    warnings: list[str] = list(role_plan.warnings) if role_plan else []
    if spec.idle_minutes is not None:
        lc_name = autostop_config_name(spec.name)
        script = autostop_script(spec.idle_minutes)
        actions.append(
            Action(
                service="sagemaker",
                operation="create_notebook_instance_lifecycle_config",
                params={
                    "NotebookInstanceLifecycleConfigName": lc_name,
                    "OnStart": [{"Content": base64.b64encode(script.encode()).decode()}],
                    "Tags": tags_list(spec.extra_tags),
                },
                description=f"Create lifecycle configuration {lc_name}: stop the notebook after "
                f"{spec.idle_minutes} idle minutes",
                diff="\n".join(
                    ["--- (no script)", "+++ on-start script"] + ["+" + s for s in script.splitlines()]
                ),
                undo=f"delete lifecycle configuration {lc_name}",
                resource=lc_name,
                journal=ResourceCreated(ResourceKind.LIFECYCLE_CONFIG, lc_name),
            )
        )
        warnings.append(
            "Idle auto-stop runs as the execution role: it needs sagemaker:StopNotebookInstance on this "
            "notebook (a role sagewiz creates for it gets that permission)."
        )
    params = create_params(spec)
    price = notebook_price(spec.instance_type, region)
    actions.append(
        Action(
            service="sagemaker",
            operation="create_notebook_instance",
            params=params,
            description=f"Create notebook instance {spec.name} ({spec.instance_type}, {spec.volume_gb} GB, "
            f"{spec.platform}); cost {price.label()}",
            undo=f"stop, then delete notebook instance {spec.name}",
            resource=spec.name,
            journal=ResourceCreated(
                ResourceKind.NOTEBOOK,
                spec.name,
                attributes={"instance_type": spec.instance_type, "role_arn": spec.role_arn},
            ),
        )
    )
    pw = platform_warning(spec.platform)
    if pw:
        warnings.append(pw)
    return Plan(f"Create the notebook instance {spec.name} in {region}", tuple(actions), tuple(warnings))


# -- checks before the call --------------------------------------------------------------------------
@dataclass(frozen=True)
class Preflight:
    pass_role: Any  # services.roles.PassRoleCheck
    notes: tuple[str, ...] = ()


def preflight(factory: Any, caller_arn: str, spec: NotebookSpec, role_is_new: bool = False) -> Preflight:
    """What AWS would refuse, found before any change: name taken, a role SageMaker cannot assume,
    no iam:PassRole for the caller, a subnet that does not exist. Raises the first blocking problem."""
    from services.roles.listing import check_role_assumable
    from services.roles.pass_role import check_pass_role

    problems = validate_spec(spec)
    if problems:
        raise problems[0]
    if notebook_exists(factory, spec.name):
        raise ValidationError(
            "name",
            f"A notebook instance named {spec.name} already exists in {factory.region}.",
            "Names are unique per account and region: choose another name, or select the existing one.",
        )
    notes: list[str] = []
    if not role_is_new:
        try:
            check_role_assumable(factory, spec.role_arn)
        except AccessDeniedError:
            notes.append(
                "Could not read the role to check that SageMaker can assume it (no iam:GetRole); "
                "SageMaker will refuse the request if it cannot."
            )
    passing = check_pass_role(factory, caller_arn, spec.role_arn)
    if passing.allowed is False:
        raise AccessDeniedError(
            "You may not pass this role to SageMaker",
            passing.explanation,
            "Without iam:PassRole, CreateNotebookInstance fails. Ask an administrator, or",
            code="AccessDenied",
            operation="iam:PassRole",
            details={"action": "iam:PassRole", "resource": spec.role_arn, "evidence": list(passing.evidence)},
            remedy=Remedy(RemedyKind.OPEN_DOCTOR),
        )
    if passing.allowed is None:
        notes.append(passing.explanation)
    if spec.idle_minutes is not None and not role_is_new:
        notes.extend(autostop_note(factory, spec.role_arn, spec.name))
    if spec.subnet_id:
        try:
            factory.client("ec2").describe_subnets(SubnetIds=[spec.subnet_id])
        except Exception as exc:
            err = translate(exc, "ec2:DescribeSubnets")
            if err.kind == "access-denied":
                notes.append("Could not check the subnet (no ec2:DescribeSubnets permission).")
            else:
                raise ValidationError(
                    "subnet",
                    f"Subnet {spec.subnet_id} was not found in {factory.region}.",
                    "Check the subnet ID.",
                ) from exc
    return Preflight(passing, tuple(notes))


# -- changes ----------------------------------------------------------------------------------------------
def _lifecycle_plan(kind: str, name: str, info: NotebookInfo | None) -> Plan:
    what = {"stop": "Stop", "start": "Start", "delete": "Delete"}[kind]
    op = f"{kind}_notebook_instance"
    if kind == "delete":
        desc = f"Delete notebook instance {name} and its ML storage volume (files under /home/ec2-user/SageMaker are lost)"
        undo = "none: create a new notebook instance"
        event: Event = ResourceDeleted(ResourceKind.NOTEBOOK, name)
    elif kind == "stop":
        desc = f"Stop notebook instance {name} (billing for the instance stops; the volume is kept)"
        undo = f"start {name} again"
        event = ResourceChanged(ResourceKind.NOTEBOOK, name, change=Change.STOPPED)
    else:
        cost = info.price.label() if info and info.price else "see the price table"
        desc = f"Start notebook instance {name} (billing resumes: {cost})"
        undo = f"stop {name}"
        event = ResourceChanged(ResourceKind.NOTEBOOK, name, change=Change.STARTED)
    action = Action("sagemaker", op, {"NotebookInstanceName": name}, desc, undo=undo, resource=name,
                    journal=event)  # fmt: skip
    return Plan(f"{what} the notebook instance {name}", (action,))


def plan_stop(name: str, info: NotebookInfo | None = None) -> Plan:
    if info is not None and info.status != "InService":
        raise ConflictError(
            "Cannot stop now",
            f"{name} is {info.status}; only an InService instance can be stopped.",
            "Wait until it is InService." if info.status == "Pending" else "",
        )
    return _lifecycle_plan("stop", name, info)


def plan_start(name: str, info: NotebookInfo | None = None) -> Plan:
    if info is not None and info.status not in ("Stopped", "Failed"):
        raise ConflictError(
            "Cannot start now", f"{name} is {info.status}; only a Stopped or Failed instance can be started."
        )
    return _lifecycle_plan("start", name, info)


def plan_delete(name: str, info: NotebookInfo | None = None) -> Plan:
    if info is not None and not info.deletable:
        raise ConflictError(
            "Stop it first",
            f"{name} is {info.status}. Only a stopped (or failed) notebook instance can be deleted.",
            remedy=Remedy(RemedyKind.STOP_NOTEBOOK_FIRST, name),
        )
    return _lifecycle_plan("delete", name, info)


def apply(plan: Plan, factory: Any, journal: Any, name: str = "") -> None:
    """Apply a notebook plan; every failure comes back as a clear SagewizError."""
    from services.plan import apply_plan

    try:
        apply_plan(plan, factory, journal)
    except SagewizError as err:
        raise refine(err, name=name) from err


def apply_create(plan: Plan, factory: Any, journal: Any, name: str = "", instance_type: str = "") -> None:
    """Apply a create plan; when a later action fails, undo what the earlier ones made (role,
    lifecycle configuration) so nothing is left half-done, journaling each undo."""
    from services.plan import apply_plan

    done: list[Action] = []

    def progress(n: int, action: Action) -> None:
        done[:] = list(plan.actions[:n])

    try:
        apply_plan(plan, factory, journal, on_progress=progress)
    except SagewizError as err:
        undone = _roll_back(done, factory, journal)
        refined = refine(err, name=name, instance_type=instance_type)
        if undone:
            refined.details["rolled_back"] = undone
            refined.message = f"{refined.message}\nNothing was left behind: {'; '.join(undone)}."
        raise refined from err


def _roll_back(done: list[Action], factory: Any, journal: Any) -> list[str]:
    undone: list[str] = []
    for action in reversed(done):
        p = action.params
        try:
            if action.operation == "create_notebook_instance_lifecycle_config":
                name = p["NotebookInstanceLifecycleConfigName"]
                factory.client("sagemaker").delete_notebook_instance_lifecycle_config(
                    NotebookInstanceLifecycleConfigName=name
                )
                journal.append(
                    ResourceDeleted(ResourceKind.LIFECYCLE_CONFIG, name, attributes={"reason": "rollback"})
                )
                undone.append(f"lifecycle configuration {name} deleted")
            elif action.operation == "put_role_policy":
                factory.client("iam").delete_role_policy(RoleName=p["RoleName"], PolicyName=p["PolicyName"])
            elif action.operation == "attach_role_policy":
                factory.client("iam").detach_role_policy(RoleName=p["RoleName"], PolicyArn=p["PolicyArn"])
            elif action.operation == "create_role":
                factory.client("iam").delete_role(RoleName=p["RoleName"])
                journal.append(
                    ResourceDeleted(ResourceKind.ROLE, p["RoleName"], attributes={"reason": "rollback"})
                )
                undone.append(f"role {p['RoleName']} deleted")
        except Exception as exc:  # report, never hide: the journal still lists what exists
            err = translate(exc, action.api_call())
            undone.append(f"could not undo {action.api_call()} ({err.title}); see the journal")
    return undone


def presigned_url(factory: Any, name: str, session_seconds: int = 1800) -> str:
    try:
        out = factory.client("sagemaker").create_presigned_notebook_instance_url(
            NotebookInstanceName=name, SessionExpirationDurationInSeconds=session_seconds
        )
    except Exception as exc:
        raise notebook_error(exc, "sagemaker:CreatePresignedNotebookInstanceUrl", name=name) from exc
    return str(out["AuthorizedUrl"])


def now_utc() -> datetime:
    return datetime.now(UTC)


Clock = Callable[[], datetime]
