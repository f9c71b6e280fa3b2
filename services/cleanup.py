"""Clean up: everything sagewiz created, with its state and hourly cost, and plans to stop or
delete some or all of it.

What counts as "created by sagewiz" is the union of two sources: the journal's resource-created and
job-started entries (this machine's memory) and the `sagewiz:created-by` tag (AWS's memory, which
also covers other machines). Nothing else is ever touched unless the person names it explicitly
(`lookup`), and a plan refuses an unowned resource that was not selected that way.

Deleting a bucket empties it first (every object version and delete marker) and needs a second
confirmation naming the bucket: `apply_cleanup` refuses a bucket that was not confirmed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from services.errors import NotFoundError, SagewizError, ValidationError, translate
from services.plan import TAG_KEY, Action, AppliedAction, Plan, pretty_json
from services.pricing import notebook_price, training_price

# Types in the order a clean-up must treat them: jobs stop before the notebook and role they use
# go away; buckets go last so nothing still writes into them.
TYPES: tuple[str, ...] = (
    "tuning-job",
    "training-job",
    "labeling-job",
    "notebook",
    "model",
    "lifecycle-config",
    "role",
    "policy",
    "bucket",
)
SHORT_TITLES = {
    "tuning-job": "tuning job",
    "training-job": "training job",
    "labeling-job": "labeling job",
    "notebook": "notebook",
    "model": "model",
    "lifecycle-config": "lifecycle cfg",
    "role": "IAM role",
    "policy": "IAM policy",
    "bucket": "S3 bucket",
}
TYPE_TITLES = {
    "tuning-job": "tuning job",
    "training-job": "training job",
    "labeling-job": "labeling job",
    "notebook": "notebook instance",
    "model": "model",
    "lifecycle-config": "notebook lifecycle config",
    "role": "IAM role",
    "policy": "IAM policy",
    "bucket": "S3 bucket",
}
# How other steps may spell a type in the journal.
_ALIASES = {
    "notebook-instance": "notebook",
    "notebook_instance": "notebook",
    "notebookinstance": "notebook",
    "s3-bucket": "bucket",
    "s3_bucket": "bucket",
    "iam-role": "role",
    "execution-role": "role",
    "iam-policy": "policy",
    "managed-policy": "policy",
    "training": "training-job",
    "training_job": "training-job",
    "tuning": "tuning-job",
    "tuning_job": "tuning-job",
    "hyper-parameter-tuning-job": "tuning-job",
    "hpo": "tuning-job",
    "labeling": "labeling-job",
    "labeling_job": "labeling-job",
    "notebook-lifecycle-config": "lifecycle-config",
    "sagemaker-model": "model",
    "notebook-instance-lifecycle-config": "lifecycle-config",
    "lifecycle_config": "lifecycle-config",
}
# ARN resource prefixes (after the service) -> our type.
_ARN_TYPES = {
    "notebook-instance": "notebook",
    "training-job": "training-job",
    "hyper-parameter-tuning-job": "tuning-job",
    "labeling-job": "labeling-job",
    "model": "model",
    "notebook-instance-lifecycle-config": "lifecycle-config",
}
_CASE_INSENSITIVE = {"notebook", "training-job", "tuning-job", "labeling-job", "model", "lifecycle-config"}
MAX_IAM_SCANNED = 500  # roles/policies whose tags are read; a bigger account is scanned partly and says so
EMPTY_MARK = "AllVersions"  # the parameter that marks the "empty this bucket" action
MAX_DESCRIBED = 300  # resources whose state one inventory reads
WORKERS = 8  # concurrent reads (describe, tag lookups); bench/cleanup compares with 1


def canonical_type(name: str) -> str | None:
    n = (name or "").strip().lower()
    n = _ALIASES.get(n, n)
    return n if n in TYPES else None


@dataclass(frozen=True)
class Resource:
    type: str
    id: str  # name (bucket, notebook, job, role name) or ARN (policy)
    arn: str = ""
    state: str = ""  # as read from AWS: InService, InProgress, Stopped, exists, gone, unknown
    instance_type: str = ""
    count: int = 1
    hourly: float | None = 0.0  # USD/h now; None = not estimated (per-task, storage, unpriced)
    cost_note: str = ""  # why there is no hourly figure, or what it covers
    ours: bool = True
    source: str = ""  # "journal", "tag", "journal+tag", "selected"
    selected_explicitly: bool = False
    detail: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.id.lower() if self.type in _CASE_INSENSITIVE else self.id)

    @property
    def title(self) -> str:
        return f"{TYPE_TITLES.get(self.type, self.type)} {self.id}"

    @property
    def gone(self) -> bool:
        return self.state == "gone"

    @property
    def running(self) -> bool:
        return self.state in {"InService", "Pending", "Updating", "InProgress", "Stopping"}

    @property
    def stoppable(self) -> bool:
        if self.type == "notebook":
            return self.state in {"InService", "Pending", "Updating"}
        return self.type in {"training-job", "tuning-job", "labeling-job"} and self.state == "InProgress"

    def hourly_label(self) -> str:
        if self.hourly is None:
            return self.cost_note or "not estimated"
        if self.type in {"role", "policy", "model", "lifecycle-config"}:
            return "no charge"
        return f"${self.hourly:.3f}/h"


@dataclass(frozen=True)
class Inventory:
    resources: tuple[Resource, ...]
    warnings: tuple[str, ...]
    at: datetime

    @property
    def hourly(self) -> float:
        return sum(r.hourly or 0.0 for r in self.resources)

    @property
    def running(self) -> tuple[Resource, ...]:
        return tuple(r for r in self.resources if r.running)

    def find(self, type_: str, id_: str) -> Resource | None:
        want = Resource(type_, id_).key
        return next((r for r in self.resources if r.key == want), None)


@dataclass(frozen=True)
class CleanupPlan:
    plan: Plan
    buckets: tuple[str, ...] = ()  # each needs its own second confirmation before apply
    skipped: tuple[str, ...] = ()  # "training job x: completed jobs cannot be deleted; it costs nothing"

    @property
    def empty(self) -> bool:
        return self.plan.empty

    def render_text(self) -> str:
        text = self.plan.render_text()
        if self.skipped:
            text += "\n" + "\n".join(f"  skipped: {s}" for s in self.skipped)
        if self.buckets:
            text += "\n" + "\n".join(
                f"  bucket {b} will be emptied (every object version) and deleted: this needs a second "
                "confirmation"
                for b in self.buckets
            )
        return text


# -- inventory ---------------------------------------------------------------------------------
def inventory(factory: Any, journal: Any, region: str | None = None) -> Inventory:
    """Everything sagewiz created here (journal + tag), each with its state read from AWS."""
    region = region or factory.region
    warnings: list[str] = []
    found: dict[tuple[str, str], Resource] = {}

    for res in _from_journal(journal, _account_of(journal)):
        found.setdefault(res.key, res)
    for res in _from_tags(factory, warnings):
        if res.key in found:
            old = found[res.key]
            found[res.key] = replace(old, source="journal+tag", arn=old.arn or res.arn)
        else:
            found[res.key] = res

    # A tag search can still list something just deleted; only the journal's memory of a vanished
    # resource is worth showing (so it can be forgotten).
    items = list(found.values())
    if len(items) > MAX_DESCRIBED:
        # Jobs only known from the tag (old, finished ones, usually) are read last.
        items.sort(key=lambda r: r.type.endswith("-job") and r.source == "tag")
        warnings.append(
            f"{len(items)} resources were found; the state of the first {MAX_DESCRIBED} was read "
            "(notebooks, buckets, roles and this machine's jobs first)"
        )
        items = items[:MAX_DESCRIBED]
    described = [r for r in _describe_all(factory, items, region) if not (r.gone and r.source == "tag")]
    order = {t: n for n, t in enumerate(TYPES)}
    described.sort(key=lambda r: (order.get(r.type, 99), r.id.lower()))
    return Inventory(tuple(described), tuple(warnings), datetime.now(UTC))


def lookup(factory: Any, type_: str, id_: str, region: str | None = None, account: str = "") -> Resource:
    """A resource the person names explicitly (maybe not created by sagewiz), with its state.
    Raises ValidationError for an unknown type or empty name, NotFoundError when it does not exist."""
    kind = canonical_type(type_)
    if kind is None:
        raise ValidationError(
            "resource type", f"'{type_}' is not a type clean-up knows", f"Use one of: {', '.join(TYPES)}."
        )
    if not id_.strip():
        raise ValidationError(
            "resource name", "the name is empty", "Give the resource's name (or ARN for a policy)."
        )
    res = Resource(
        kind,
        _normalise_id(kind, id_.strip(), account),
        ours=False,
        source="selected",
        selected_explicitly=True,
    )
    out = _describe(factory, res, region or factory.region)
    if out.gone:
        raise NotFoundError(
            f"No {TYPE_TITLES[kind]} named {id_}", "AWS does not know it in this account and region."
        )
    tags = _tags_of(factory, out)
    if tags.get(TAG_KEY):
        out = replace(out, ours=True, source="tag")
    return out


def _account_of(journal: Any) -> str:
    return str(getattr(journal, "account", "") or "")


def _normalise_id(kind: str, value: str, account: str) -> str:
    if kind == "role":
        return value.rsplit("/", 1)[-1]  # an ARN or a path/name -> the role name
    if kind == "policy" and not value.startswith("arn:") and account:
        return f"arn:aws:iam::{account}:policy/{value}"
    if kind == "bucket":
        return value.removeprefix("s3://").split("/", 1)[0].removeprefix("arn:aws:s3:::")
    if value.startswith("arn:") and kind != "policy":
        return value.rsplit("/", 1)[-1]
    return value


def _from_journal(journal: Any, account: str) -> list[Resource]:
    """Created or started and not deleted since, replayed in order (a name can be reused)."""
    if journal is None:
        return []
    live: dict[tuple[str, str], Resource] = {}
    for e in journal.entries():
        if e.kind not in {"resource-created", "resource-deleted", "job-started"}:
            continue
        kind = canonical_type(str(e.data.get("type") or e.data.get("kind") or ""))
        ident = _entry_id(e.data) or str(e.data.get("job") or "")
        if not kind or not ident:
            continue
        res = Resource(
            kind, _normalise_id(kind, ident, account), arn=str(e.data.get("arn") or ""), source="journal"
        )
        if e.kind == "resource-deleted":
            live.pop(res.key, None)
        else:
            live[res.key] = res
    return list(live.values())


def _entry_id(data: dict[str, Any]) -> str:
    for k in ("id", "name", "job_name", "arn"):
        v = data.get(k)
        if v:
            return str(v)
    return ""


def _from_tags(factory: Any, warnings: list[str]) -> list[Resource]:
    out: list[Resource] = []
    try:
        rgta = factory.client("resourcegroupstaggingapi")
        pages = rgta.get_paginator("get_resources").paginate(
            TagFilters=[{"Key": TAG_KEY}], ResourceTypeFilters=["s3", "sagemaker"]
        )
        for page in pages:
            for m in page.get("ResourceTagMappingList", []):
                res = _from_arn(m.get("ResourceARN", ""))
                if res is not None:
                    out.append(res)
    except Exception as exc:
        err = translate(exc, "tag:GetResources")
        warnings.append(
            f"tagged buckets and SageMaker resources could not be searched ({err.title}); the journal is used"
        )
    try:
        out.extend(_tagged_iam(factory, warnings))
    except Exception as exc:
        err = translate(exc, "iam:ListRoles")
        warnings.append(
            f"tagged IAM roles and policies could not be searched ({err.title}); the journal is used"
        )
    return out


def _from_arn(arn: str) -> Resource | None:
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    service, rest = parts[2], parts[5]
    if service == "s3":
        return Resource("bucket", rest.split("/", 1)[0], arn=arn, source="tag") if "/" not in rest else None
    if service == "sagemaker" and "/" in rest:
        prefix, name = rest.split("/", 1)
        kind = _ARN_TYPES.get(prefix)
        if kind:
            return Resource(kind, name, arn=arn, source="tag")
    return None


def _tagged_iam(factory: Any, warnings: list[str]) -> list[Resource]:
    iam = factory.client("iam")
    roles = [r for p in iam.get_paginator("list_roles").paginate() for r in p.get("Roles", [])]
    policies = [
        p
        for page in iam.get_paginator("list_policies").paginate(Scope="Local")
        for p in page.get("Policies", [])
    ]
    if len(roles) + len(policies) > MAX_IAM_SCANNED:
        warnings.append(
            f"only the first {MAX_IAM_SCANNED} IAM roles and policies were checked for the sagewiz tag"
        )
        roles = roles[:MAX_IAM_SCANNED]
        policies = policies[: max(0, MAX_IAM_SCANNED - len(roles))]

    def role_tagged(role: dict[str, Any]) -> Resource | None:
        tags = role.get("Tags")
        if tags is None:
            try:
                tags = iam.list_role_tags(RoleName=role["RoleName"]).get("Tags", [])
            except Exception:
                return None
        if any(t.get("Key") == TAG_KEY for t in tags):
            return Resource("role", role["RoleName"], arn=role.get("Arn", ""), source="tag")
        return None

    def policy_tagged(pol: dict[str, Any]) -> Resource | None:
        try:
            tags = iam.list_policy_tags(PolicyArn=pol["Arn"]).get("Tags", [])
        except Exception:
            return None
        if any(t.get("Key") == TAG_KEY for t in tags):
            return Resource("policy", pol["Arn"], arn=pol["Arn"], source="tag")
        return None

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        found = list(pool.map(role_tagged, roles)) + list(pool.map(policy_tagged, policies))
    return [r for r in found if r is not None]


def _tags_of(factory: Any, res: Resource) -> dict[str, str]:
    try:
        if res.type == "bucket":
            tags = factory.client("s3").get_bucket_tagging(Bucket=res.id).get("TagSet", [])
        elif res.type == "role":
            tags = factory.client("iam").list_role_tags(RoleName=res.id).get("Tags", [])
        elif res.type == "policy":
            tags = factory.client("iam").list_policy_tags(PolicyArn=res.id).get("Tags", [])
        elif res.arn:
            tags = factory.client("sagemaker").list_tags(ResourceArn=res.arn).get("Tags", [])
        else:
            return {}
    except Exception:
        return {}
    return {t["Key"]: t.get("Value", "") for t in tags}


def _describe_all(factory: Any, resources: list[Resource], region: str) -> list[Resource]:
    if not resources:
        return []
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(resources))) as pool:
        return list(pool.map(lambda r: _describe(factory, r, region), resources))


def _is_gone(exc: BaseException) -> bool:
    err = translate(exc)
    if isinstance(err, NotFoundError):
        return True
    text = f"{err.code} {err.message}".lower()
    return any(
        s in text for s in ("recordnotfound", "could not find", "does not exist", "not found", "nosuch")
    )


def _describe(factory: Any, res: Resource, region: str) -> Resource:
    """Read the state (and the hourly cost in that state) of one resource."""
    try:
        return _read_state(factory, res, region)
    except Exception as exc:
        if _is_gone(exc):
            return replace(res, state="gone", hourly=0.0, detail="no longer exists in AWS")
        err = translate(exc)
        return replace(
            res,
            state="unknown",
            hourly=None,
            cost_note="state not readable",
            detail=f"{err.title}: {err.message}",
        )


def _read_state(factory: Any, res: Resource, region: str) -> Resource:
    sm = factory.client("sagemaker")
    if res.type == "notebook":
        d = sm.describe_notebook_instance(NotebookInstanceName=res.id)
        state = d.get("NotebookInstanceStatus", "")
        itype = d.get("InstanceType", "")
        price = notebook_price(itype, region)
        billed = state in {"InService", "Pending", "Updating", "Stopping"}
        hourly = (price.usd_per_hour if price.known else None) if billed else 0.0
        return replace(
            res,
            id=d.get("NotebookInstanceName", res.id),
            arn=d.get("NotebookInstanceArn", res.arn),
            state=state,
            instance_type=itype,
            hourly=hourly,
            cost_note="" if hourly is not None else f"no price listed for {itype}",
        )
    if res.type == "training-job":
        d = sm.describe_training_job(TrainingJobName=res.id)
        state = d.get("TrainingJobStatus", "")
        rc = d.get("ResourceConfig") or {}
        itype, count = rc.get("InstanceType", ""), int(rc.get("InstanceCount") or 1)
        price = training_price(itype, region)
        hourly = 0.0
        if state == "InProgress":
            hourly = price.usd_per_hour * count if price.usd_per_hour is not None else None
        secondary = d.get("SecondaryStatus", "")
        return replace(
            res,
            arn=d.get("TrainingJobArn", res.arn),
            state=state,
            instance_type=itype,
            count=count,
            hourly=hourly,
            cost_note="" if hourly is not None else f"no price listed for {itype}",
            detail=secondary if secondary and secondary != state else "",
        )
    if res.type == "tuning-job":
        d = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=res.id)
        state = d.get("HyperParameterTuningJobStatus", "")
        rc = ((d.get("TrainingJobDefinition") or {}).get("ResourceConfig")) or {}
        itype, count = rc.get("InstanceType", ""), int(rc.get("InstanceCount") or 1)
        running = int((d.get("TrainingJobStatusCounters") or {}).get("InProgress") or 0)
        price = training_price(itype, region)
        hourly = 0.0
        if state == "InProgress":
            hourly = price.usd_per_hour * count * running if price.usd_per_hour is not None else None
        return replace(
            res,
            arn=d.get("HyperParameterTuningJobArn", res.arn),
            state=state,
            instance_type=itype,
            count=count,
            hourly=hourly,
            cost_note="" if hourly is not None else f"no price listed for {itype}",
            detail=f"{running} child jobs running" if state == "InProgress" else "",
        )
    if res.type == "labeling-job":
        d = sm.describe_labeling_job(LabelingJobName=res.id)
        state = d.get("LabelingJobStatus", "")
        return replace(
            res,
            arn=d.get("LabelingJobArn", res.arn),
            state=state,
            hourly=None if state == "InProgress" else 0.0,
            cost_note="per labeled object" if state == "InProgress" else "",
        )
    if res.type == "model":
        d = sm.describe_model(ModelName=res.id)
        return replace(res, arn=d.get("ModelArn", res.arn), state="exists", hourly=0.0)
    if res.type == "lifecycle-config":
        d = sm.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=res.id)
        return replace(
            res, arn=d.get("NotebookInstanceLifecycleConfigArn", res.arn), state="exists", hourly=0.0
        )
    if res.type == "role":
        d = factory.client("iam").get_role(RoleName=res.id)["Role"]
        return replace(res, arn=d.get("Arn", res.arn), state="exists", hourly=0.0)
    if res.type == "policy":
        d = factory.client("iam").get_policy(PolicyArn=res.id)["Policy"]
        return replace(
            res,
            arn=d.get("Arn", res.arn),
            state="exists",
            hourly=0.0,
            detail=f"attached {d.get('AttachmentCount', 0)}x",
        )
    if res.type == "bucket":
        factory.client("s3").head_bucket(Bucket=res.id)
        return replace(
            res, arn=f"arn:aws:s3:::{res.id}", state="exists", hourly=None, cost_note="storage (GB-month)"
        )
    return replace(res, state="unknown", hourly=None)


# -- plans -------------------------------------------------------------------------------------
def _guard(resources: Iterable[Resource]) -> list[Resource]:
    out = list(resources)
    for r in out:
        if not r.ours and not r.selected_explicitly:
            raise ValidationError(
                "selection",
                f"{r.title} was not created by sagewiz",
                "Clean-up only touches what sagewiz created; name it explicitly to include it.",
            )
    order = {t: n for n, t in enumerate(TYPES)}
    return sorted(out, key=lambda r: order.get(r.type, 99))


def plan_stop(resources: Iterable[Resource]) -> CleanupPlan:
    """Stop what runs (notebooks, training, tuning, labeling jobs); nothing is deleted."""
    actions: list[Action] = []
    skipped: list[str] = []
    chosen = _guard(resources)
    for r in chosen:
        action = _stop_action(r)
        if action is None:
            skipped.append(f"{r.title}: nothing to stop ({r.state or 'state unknown'})")
        else:
            actions.append(action)
    title = "Stop what sagewiz started" if all(r.ours for r in chosen) else "Stop the selected resources"
    return CleanupPlan(Plan(title, tuple(actions), tuple(_unowned_warnings(chosen))), (), tuple(skipped))


def _stop_action(r: Resource) -> Action | None:
    if not r.stoppable:
        return None
    data = {"type": r.type, "id": r.id, "change": "stopped", "was": r.state}
    if r.type == "notebook":
        return Action(
            "sagemaker", "stop_notebook_instance", {"NotebookInstanceName": r.id},
            f"Stop notebook instance {r.id} ({r.instance_type}, {r.hourly_label()})",
            undo=f"start it again: sagemaker:StartNotebookInstance {r.id}",
            resource=r.arn or r.id, journal_kind="resource-changed", journal_data=data,
        )  # fmt: skip
    op, param, title = {
        "training-job": ("stop_training_job", "TrainingJobName", "training job"),
        "tuning-job": ("stop_hyper_parameter_tuning_job", "HyperParameterTuningJobName", "tuning job (and its running children)"),
        "labeling-job": ("stop_labeling_job", "LabelingJobName", "labeling job"),
    }[r.type]  # fmt: skip
    return Action(
        "sagemaker", op, {param: r.id}, f"Stop {title} {r.id} ({r.hourly_label()})",
        undo="a stopped job cannot be resumed; start a new one from its step",
        resource=r.arn or r.id, journal_kind="resource-changed", journal_data=data,
    )  # fmt: skip


def plan_delete(factory: Any, resources: Iterable[Resource], journal_only_gone: bool = True) -> CleanupPlan:
    """Stop, then delete. Reads what each deletion must undo first (role attachments, policy
    versions, bucket versions) so the plan shows every call it will make."""
    actions: list[Action] = []
    skipped: list[str] = []
    buckets: list[str] = []
    chosen = _guard(resources)
    for r in chosen:
        if r.gone:
            if journal_only_gone:
                actions.append(_forget_action(r))
            continue
        stop = _stop_action(r)
        if r.type in {"training-job", "tuning-job", "labeling-job"}:
            if stop is not None:
                actions.append(stop)
            skipped.append(
                f"{r.title}: SageMaker keeps job records (they cannot be deleted); "
                + ("it will be stopped" if stop else "it costs nothing now")
            )
            continue
        if stop is not None:
            actions.append(stop)
        try:
            actions.extend(_delete_actions(factory, r))
        except SagewizError:
            raise
        except Exception as exc:
            raise translate(exc, f"plan deletion of {r.title}") from exc
        if r.type == "bucket":
            buckets.append(r.id)
    warnings = _unowned_warnings(chosen)
    if buckets:
        warnings.append("Deleting a bucket deletes every object and version in it; this cannot be undone.")
    title = "Delete what sagewiz created" if all(r.ours for r in chosen) else "Delete the selected resources"
    return CleanupPlan(Plan(title, tuple(actions), tuple(warnings)), tuple(buckets), tuple(skipped))


def _unowned_warnings(chosen: list[Resource]) -> list[str]:
    return [
        f"{r.title} was not created by sagewiz; it is included only because you selected it by name."
        for r in chosen
        if not r.ours
    ]


def _forget_action(r: Resource) -> Action:
    return Action(
        "journal", "forget", {"type": r.type, "id": r.id},
        f"Forget {r.title}: it no longer exists in AWS (journal only)",
        resource=r.id, journal_kind="resource-deleted",
        journal_data={"type": r.type, "id": r.id, "note": "already gone when cleaned up"},
    )  # fmt: skip


def _delete_actions(factory: Any, r: Resource) -> list[Action]:
    deleted = {"type": r.type, "id": r.id}
    if r.type == "notebook":
        return [
            Action(
                "sagemaker", "delete_notebook_instance", {"NotebookInstanceName": r.id},
                f"Delete notebook instance {r.id} (after it has stopped); its ML storage volume goes with it",
                undo="not undoable: create a new notebook from the Notebook step",
                resource=r.arn or r.id, journal_kind="resource-deleted", journal_data=deleted,
            )
        ]  # fmt: skip
    if r.type == "model":
        return [
            Action(
                "sagemaker", "delete_model", {"ModelName": r.id}, f"Delete model {r.id} (the artifact in S3 stays)",
                undo="create the model again from its training job", resource=r.arn or r.id,
                journal_kind="resource-deleted", journal_data=deleted,
            )
        ]  # fmt: skip
    if r.type == "lifecycle-config":
        return [
            Action(
                "sagemaker", "delete_notebook_instance_lifecycle_config",
                {"NotebookInstanceLifecycleConfigName": r.id}, f"Delete notebook lifecycle config {r.id}",
                resource=r.arn or r.id, journal_kind="resource-deleted", journal_data=deleted,
            )
        ]  # fmt: skip
    if r.type == "role":
        return _role_actions(factory.client("iam"), r)
    if r.type == "policy":
        return _policy_actions(factory.client("iam"), r)
    if r.type == "bucket":
        return _bucket_actions(factory.client("s3"), r)
    return []


def _role_actions(iam: Any, r: Resource) -> list[Action]:
    name = r.id
    role = iam.get_role(RoleName=name)["Role"]
    trust = role.get("AssumeRolePolicyDocument")
    actions: list[Action] = []
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        for p in page.get("AttachedPolicies", []):
            actions.append(
                Action(
                    "iam", "detach_role_policy", {"RoleName": name, "PolicyArn": p["PolicyArn"]},
                    f"Detach {p['PolicyName']} from role {name}",
                    undo=f"iam:AttachRolePolicy {p['PolicyArn']}", resource=r.arn,
                    journal_kind="resource-changed",
                    journal_data={"type": "role", "id": name, "change": "policy-detached", "policy_arn": p["PolicyArn"]},
                )
            )  # fmt: skip
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        for pname in page.get("PolicyNames", []):
            doc = iam.get_role_policy(RoleName=name, PolicyName=pname).get("PolicyDocument")
            actions.append(
                Action(
                    "iam", "delete_role_policy", {"RoleName": name, "PolicyName": pname},
                    f"Delete inline policy {pname} of role {name} (its document is kept in the journal)",
                    diff=_removed_diff(doc, f"{name}/{pname}"),
                    undo=f"iam:PutRolePolicy {pname} with the document in the journal", resource=r.arn,
                    journal_kind="resource-changed",
                    journal_data={"type": "role", "id": name, "change": "inline-policy-deleted",
                                  "policy_name": pname, "document": _as_doc(doc)},
                )
            )  # fmt: skip
    for page in iam.get_paginator("list_instance_profiles_for_role").paginate(RoleName=name):
        for ip in page.get("InstanceProfiles", []):
            actions.append(
                Action(
                    "iam", "remove_role_from_instance_profile",
                    {"InstanceProfileName": ip["InstanceProfileName"], "RoleName": name},
                    f"Remove role {name} from instance profile {ip['InstanceProfileName']}", resource=r.arn,
                    journal_kind="resource-changed",
                    journal_data={"type": "role", "id": name, "change": "removed-from-instance-profile",
                                  "instance_profile": ip["InstanceProfileName"]},
                )
            )  # fmt: skip
    actions.append(
        Action(
            "iam", "delete_role", {"RoleName": name}, f"Delete IAM role {name}",
            diff=_removed_diff(trust, f"{name} trust policy"),
            undo="create the role again with the trust policy kept in the journal", resource=r.arn,
            journal_kind="resource-deleted",
            journal_data={"type": "role", "id": name, "arn": r.arn, "trust_policy": _as_doc(trust)},
        )
    )  # fmt: skip
    return actions


def _policy_actions(iam: Any, r: Resource) -> list[Action]:
    arn = r.id
    pol = iam.get_policy(PolicyArn=arn)["Policy"]
    default = pol.get("DefaultVersionId")
    doc = (
        iam.get_policy_version(PolicyArn=arn, VersionId=default)["PolicyVersion"].get("Document")
        if default
        else None
    )
    actions: list[Action] = []
    ents = iam.list_entities_for_policy(PolicyArn=arn)
    for kind, key, op, param in (
        ("PolicyRoles", "RoleName", "detach_role_policy", "RoleName"),
        ("PolicyUsers", "UserName", "detach_user_policy", "UserName"),
        ("PolicyGroups", "GroupName", "detach_group_policy", "GroupName"),
    ):
        for ent in ents.get(kind, []):
            actions.append(
                Action(
                    "iam", op, {param: ent[key], "PolicyArn": arn}, f"Detach policy {pol['PolicyName']} from {ent[key]}",
                    undo=f"attach {arn} to {ent[key]} again", resource=arn, journal_kind="resource-changed",
                    journal_data={"type": "policy", "id": arn, "change": "detached", "from": ent[key]},
                )
            )  # fmt: skip
    for v in iam.list_policy_versions(PolicyArn=arn).get("Versions", []):
        if not v.get("IsDefaultVersion"):
            actions.append(
                Action("iam", "delete_policy_version", {"PolicyArn": arn, "VersionId": v["VersionId"]},
                       f"Delete old version {v['VersionId']} of policy {pol['PolicyName']}", resource=arn)
            )  # fmt: skip
    actions.append(
        Action(
            "iam", "delete_policy", {"PolicyArn": arn}, f"Delete IAM policy {pol['PolicyName']}",
            diff=_removed_diff(doc, pol["PolicyName"]), undo="create it again from the document kept in the journal",
            resource=arn, journal_kind="resource-deleted",
            journal_data={"type": "policy", "id": arn, "document": _as_doc(doc)},
        )
    )  # fmt: skip
    return actions


def _bucket_actions(s3: Any, r: Resource) -> list[Action]:
    versions = markers = 0
    size = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=r.id):
        versions += len(page.get("Versions", []))
        size += sum(int(v.get("Size") or 0) for v in page.get("Versions", []))
        markers += len(page.get("DeleteMarkers", []))
    actions = []
    if versions or markers:
        actions.append(
            Action(
                "s3", "delete_objects", {"Bucket": r.id, EMPTY_MARK: f"{versions} versions, {markers} delete markers"},
                f"Empty bucket {r.id}: delete {versions} object versions ({_size(size)}) and {markers} delete markers",
                undo="not undoable: the objects are gone", resource=f"arn:aws:s3:::{r.id}",
                journal_kind="resource-changed",
                journal_data={"type": "bucket", "id": r.id, "change": "emptied", "versions": versions, "markers": markers},
            )
        )  # fmt: skip
    actions.append(
        Action(
            "s3", "delete_bucket", {"Bucket": r.id}, f"Delete bucket {r.id}",
            undo="not undoable; the name may be taken by someone else afterwards",
            resource=f"arn:aws:s3:::{r.id}", journal_kind="resource-deleted", journal_data={"type": "bucket", "id": r.id},
        )
    )  # fmt: skip
    return actions


def _as_doc(doc: Any) -> Any:
    if isinstance(doc, str):
        try:
            from urllib.parse import unquote

            return json.loads(unquote(doc))
        except ValueError:
            return doc
    return doc


def _removed_diff(doc: Any, name: str) -> str:
    if doc is None:
        return ""
    lines = pretty_json(_as_doc(doc)).splitlines()
    return "\n".join([f"--- {name}", "+++ (deleted)", *("-" + ln for ln in lines)])


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n:.1f} TB"


# -- apply -------------------------------------------------------------------------------------
def apply_cleanup(
    cplan: CleanupPlan,
    factory: Any,
    journal: Any,
    *,
    confirmed_buckets: Iterable[str] = (),
    on_progress: Callable[[int, Action], None] | None = None,
    cancel: threading.Event | None = None,
    wait_timeout: float = 900.0,
    poll: float = 5.0,
) -> list[AppliedAction]:
    """Run the plan in order, journaling each step as it succeeds; stop at the first failure.

    A notebook is deleted only once it has stopped (waits up to `wait_timeout`, checking `cancel`).
    Something already gone counts as done. Buckets not in `confirmed_buckets` are refused before any call."""
    confirmed = set(confirmed_buckets)
    missing = [b for b in cplan.buckets if b not in confirmed]
    if missing:
        raise ValidationError(
            "confirmation",
            f"bucket {missing[0]} was not confirmed a second time",
            "Deleting a bucket needs its own confirmation: type the bucket name.",
        )
    cancel = cancel or threading.Event()
    done: list[AppliedAction] = []
    for n, action in enumerate(cplan.plan.actions):
        if cancel.is_set():
            break
        if on_progress:
            on_progress(n, action)
        try:
            result = _run_action(action, factory, cancel, wait_timeout, poll)
        except Exception as exc:
            if _is_gone(exc) and action.journal_kind == "resource-deleted":
                result = "already gone"
            else:
                err = translate(exc, action.api_call())
                done.append(AppliedAction(action, False, error=f"{err.title}: {err.message}"))
                raise err from exc
        if action.journal_kind and journal is not None:
            journal.append(action.journal_kind, **action.journal_data)
        done.append(AppliedAction(action, True, result=result))
    return done


def _run_action(
    action: Action, factory: Any, cancel: threading.Event, wait_timeout: float, poll: float
) -> Any:
    if action.service == "journal":
        return "forgotten"
    client = factory.client(action.service)
    if action.operation == "delete_objects" and EMPTY_MARK in action.params:
        return _empty_bucket(client, action.params["Bucket"])
    if action.operation == "delete_notebook_instance":
        _wait_notebook_stopped(client, action.params["NotebookInstanceName"], cancel, wait_timeout, poll)
    if action.operation == "stop_notebook_instance":
        status = _wait_notebook_settled(
            client, action.params["NotebookInstanceName"], cancel, wait_timeout, poll
        )
        if status != "InService":
            return {"already": status}  # stopping, stopped or failed: nothing to stop
    result = getattr(client, action.operation)(**action.params)
    if isinstance(result, dict):
        result = {k: v for k, v in result.items() if k != "ResponseMetadata"}
    return result


def _wait_notebook_settled(sm: Any, name: str, cancel: threading.Event, timeout: float, poll: float) -> str:
    """SageMaker refuses to stop a notebook that is still Pending or Updating: wait until it is not."""
    deadline = time.monotonic() + timeout
    tries = 0
    while True:
        status: str = sm.describe_notebook_instance(NotebookInstanceName=name).get(
            "NotebookInstanceStatus", ""
        )
        if status not in {"Pending", "Updating"}:
            return status
        if time.monotonic() > deadline:
            raise SagewizError(
                f"Notebook {name} is still {status}",
                f"It cannot be stopped before it is InService; waited {int(timeout)} s.",
                "Run clean-up again in a few minutes; the journal says what is done.",
            )
        step = min(poll, 0.2 * 2 ** min(tries, 8))  # quick first looks, then every `poll` seconds
        tries += 1
        if cancel.wait(step):
            raise SagewizError("Clean-up cancelled", f"Notebook {name} was left {status}.")


def _wait_notebook_stopped(sm: Any, name: str, cancel: threading.Event, timeout: float, poll: float) -> None:
    deadline = time.monotonic() + timeout
    tries = 0
    while True:
        status = sm.describe_notebook_instance(NotebookInstanceName=name).get("NotebookInstanceStatus")
        if status in {"Stopped", "Failed"}:
            return
        if status in {"InService"}:  # a stop that never happened (e.g. not in the plan): ask for it
            sm.stop_notebook_instance(NotebookInstanceName=name)
        if time.monotonic() > deadline:
            raise SagewizError(
                f"Notebook {name} did not stop in time",
                f"It is still {status} after {int(timeout)} s.",
                "Run clean-up again in a few minutes; the journal says what is done.",
            )
        step = min(poll, 0.2 * 2 ** min(tries, 8))  # quick first looks, then every `poll` seconds
        tries += 1
        if cancel.wait(step):
            raise SagewizError("Clean-up cancelled", f"Notebook {name} was left {status}.")


def _empty_bucket(s3: Any, bucket: str) -> dict[str, int]:
    """Delete every object version and delete marker, 1000 a call (the DeleteObjects limit)."""
    deleted = 0
    errors: list[str] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        keys = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for i in range(0, len(keys), 1000):
            out = s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[i : i + 1000], "Quiet": True})
            errors.extend(f"{e.get('Key')}: {e.get('Code')}" for e in out.get("Errors", []))
            deleted += len(keys[i : i + 1000]) - len(out.get("Errors", []))
    if errors:
        raise SagewizError(
            f"Bucket {bucket} could not be emptied",
            f"{len(errors)} objects were refused, first: {errors[0]}",
            "Check the bucket policy and object lock settings, then run clean-up again.",
        )
    return {"deleted": deleted}
