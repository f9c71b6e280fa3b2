"""What is running now and what it costs: notebooks InService, training jobs InProgress (tuning
children are training jobs, so they are counted there), priced from the dated table in
services.pricing. Always an estimate, always with the price date.

Everything running in the account and region is counted, not only what sagewiz created: the bill
does not care who started it.
"""

from __future__ import annotations

import shlex
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.errors import translate
from services.pricing import PRICE_DATE, PriceEstimate, cost_for, notebook_price, training_price

# A notebook instance is billed instance hours from Pending (starting) through Updating.
NOTEBOOK_BILLED = frozenset({"InService", "Pending", "Updating"})

# Describing every running training job costs one call each; a real account with hundreds of
# running jobs is priced on the first ones and says so.
MAX_DESCRIBED = 50


@dataclass(frozen=True)
class RunningItem:
    type: str  # "notebook" | "training-job"
    id: str
    instance_type: str
    count: int
    hourly: float | None  # USD/h; None when the type has no listed price
    accrued: float | None  # USD since it started; None when unknown
    since: datetime | None
    tuning_job: str = ""  # the parent tuning job of a tuning child
    spot: bool = False


@dataclass(frozen=True)
class CommandContext:
    """Where printed commands must point: this session's profile, region and endpoint. A command
    without them would act on the default profile's region, where the job is not (or another is)."""

    region: str
    profile: str | None = None
    endpoint_url: str | None = None
    sandbox: bool = False

    def sagewiz(self, *args: str) -> str:
        argv = ["sagewiz"]
        if self.sandbox:
            argv.append("--sandbox")
        else:
            argv += ["--profile", self.profile] if self.profile else []
            argv += ["--region", self.region] if self.region else []
            argv += ["--endpoint-url", self.endpoint_url] if self.endpoint_url else []
        return shlex.join([*argv, *args])

    def stop(self, operation: str, *args: str, step: str) -> str:
        """The AWS CLI command that stops it; in the sandbox (whose keys the AWS CLI does not
        have) the sagewiz step that stops it."""
        if self.sandbox:
            return self.sagewiz("--step", step)
        argv = ["aws", "sagemaker", operation, *args]
        argv += ["--region", self.region] if self.region else []
        argv += ["--profile", self.profile] if self.profile else []
        argv += ["--endpoint-url", self.endpoint_url] if self.endpoint_url else []
        return shlex.join(argv)


@dataclass(frozen=True)
class CostSnapshot:
    items: tuple[RunningItem, ...]
    at: datetime
    price_date: str = PRICE_DATE
    warnings: tuple[str, ...] = ()
    truncated: bool = False

    @property
    def hourly(self) -> float:
        return sum(i.hourly or 0.0 for i in self.items)

    @property
    def accrued(self) -> float:
        return sum(i.accrued or 0.0 for i in self.items)

    @property
    def unpriced(self) -> int:
        return sum(1 for i in self.items if i.hourly is None)

    def line(self) -> str:
        """One line for the header: 'running ~$0.05/h · $0.12 so far (estimate)'."""
        if self.warnings and not self.items:
            return "running cost unknown (could not read)"
        if not self.items:
            return "nothing running"
        text = f"running ~${self.hourly:.2f}/h · ${self.accrued:.2f} so far (estimate)"
        if self.unpriced:
            text += f" + {self.unpriced} unpriced"
        return text

    def still_billing(self, where: CommandContext) -> list[str]:
        """What keeps running (and billing) after sagewiz exits, one line each: what it is, its
        hourly estimate, how to re-attach and how to stop it, with commands pointed at this
        session's profile, region and endpoint. A tuning job's children are one line."""
        lines: list[str] = []
        tuning: dict[str, list[RunningItem]] = {}
        for item in self.items:
            if item.tuning_job:
                tuning.setdefault(item.tuning_job, []).append(item)
                continue
            rate = _rate(item.hourly)
            if item.type == "notebook":
                lines.append(
                    f"notebook instance {item.id} ({item.instance_type}, {rate}): re-attach with "
                    f"{where.sagewiz('--step', 'notebook')}; stop with "
                    + where.stop(
                        "stop-notebook-instance", "--notebook-instance-name", item.id, step="notebook"
                    )
                )
            else:
                lines.append(
                    f"training job {item.id} ({item.count} x {item.instance_type}, {rate}): re-attach with "
                    f"{where.sagewiz('status', item.id)}; stop with "
                    + where.stop("stop-training-job", "--training-job-name", item.id, step="cleanup")
                )
        for name, children in tuning.items():
            known = [c.hourly for c in children if c.hourly is not None]
            rate = _rate(sum(known) if len(known) == len(children) else None)
            lines.append(
                f"tuning job {name} ({len(children)} child job(s) running, {rate}): re-attach with "
                f"{where.sagewiz('--step', 'tune')}; stop with "
                + where.stop(
                    "stop-hyper-parameter-tuning-job",
                    "--hyper-parameter-tuning-job-name",
                    name,
                    step="cleanup",
                )
            )
        return lines

    def detail(self) -> str:
        parts = [f"{len(self.items)} running, prices of {self.price_date}"]
        if self.truncated:
            parts.append(f"only the first {MAX_DESCRIBED} training jobs were priced")
        parts.extend(self.warnings)
        return "; ".join(parts)


def running_costs(factory: Any, region: str | None = None, now: datetime | None = None) -> CostSnapshot:
    """Read what runs now and price it. A part that cannot be read becomes a warning, not a failure,
    so the header keeps showing what could be read."""
    region = region or factory.region
    now = now or datetime.now(UTC)
    sm = factory.client("sagemaker")
    items: list[RunningItem] = []
    warnings: list[str] = []
    try:
        items.extend(_notebooks(sm, region, now))
    except Exception as exc:
        err = translate(exc, "sagemaker:ListNotebookInstances")
        warnings.append(f"notebooks not read: {err.title}")
    truncated = False
    try:
        jobs, truncated = _training(sm, region, now)
        items.extend(jobs)
    except Exception as exc:
        err = translate(exc, "sagemaker:ListTrainingJobs")
        warnings.append(f"training jobs not read: {err.title}")
    return CostSnapshot(tuple(items), now, warnings=tuple(warnings), truncated=truncated)


def _notebooks(sm: Any, region: str, now: datetime) -> list[RunningItem]:
    out = []
    for page in sm.get_paginator("list_notebook_instances").paginate():
        for nb in page.get("NotebookInstances", []):
            if nb.get("NotebookInstanceStatus") not in NOTEBOOK_BILLED:
                continue  # Stopped bills only its volume, Failed and Deleting nothing
            itype = nb.get("InstanceType", "")
            # The last modification of a running notebook is when it was (re)started.
            since = _aware(nb.get("LastModifiedTime") or nb.get("CreationTime"))
            out.append(
                _item(
                    "notebook",
                    nb["NotebookInstanceName"],
                    itype,
                    1,
                    since,
                    now,
                    notebook_price(itype, region),
                )
            )
    return out


def _training(sm: Any, region: str, now: datetime) -> tuple[list[RunningItem], bool]:
    names: list[str] = []
    for page in sm.get_paginator("list_training_jobs").paginate(StatusEquals="InProgress"):
        for job in page.get("TrainingJobSummaries", []):
            if job.get("TrainingJobStatus") == "InProgress":
                names.append(job["TrainingJobName"])
    truncated = len(names) > MAX_DESCRIBED
    names = names[:MAX_DESCRIBED]

    def describe(name: str) -> RunningItem | None:
        try:
            d = sm.describe_training_job(TrainingJobName=name)
        except Exception:
            return None  # finished and gone between list and describe
        if d.get("TrainingJobStatus") != "InProgress":
            return None
        rc = d.get("ResourceConfig") or {}
        itype = rc.get("InstanceType", "")
        count = int(rc.get("InstanceCount") or 1)
        since = _aware(d.get("TrainingStartTime") or d.get("CreationTime"))
        parent = (d.get("TuningJobArn") or "").rsplit("/", 1)[-1]
        return _item(
            "training-job",
            name,
            itype,
            count,
            since,
            now,
            training_price(itype, region),
            tuning_job=parent,
            spot=bool(d.get("EnableManagedSpotTraining")),
        )

    if not names:
        return [], False
    with ThreadPoolExecutor(max_workers=min(8, len(names))) as pool:
        found = [i for i in pool.map(describe, names) if i is not None]
    return found, truncated


def _item(
    kind: str,
    name: str,
    itype: str,
    count: int,
    since: datetime | None,
    now: datetime,
    price: PriceEstimate,
    **kw: Any,
) -> RunningItem:
    hourly = price.usd_per_hour * count if price.usd_per_hour is not None else None
    accrued = None
    if since is not None and price.known:
        accrued = cost_for(max(0.0, (now - since).total_seconds()), price, count)
    return RunningItem(kind, name, itype, count, hourly, accrued, since, **kw)


def _rate(hourly: float | None) -> str:
    return f"~${hourly:.3f}/h (estimate)" if hourly is not None else "no price listed"


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
