"""A training job's state as read from DescribeTrainingJob: status, timeline, time billed, cost so far.

Everything here is a snapshot of one describe call; cost is an estimate from the dated on-demand
price table (services/pricing.py) and is always labelled so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.errors import NotFoundError, SagewizError, translate
from services.pricing import PriceEstimate, cost_for, training_price

TERMINAL = ("Completed", "Failed", "Stopped")


@dataclass(frozen=True)
class Transition:
    status: str
    start: datetime
    end: datetime | None
    message: str


@dataclass(frozen=True)
class MetricValue:
    name: str
    value: float
    timestamp: datetime | None = None


@dataclass(frozen=True)
class JobSnapshot:
    name: str
    arn: str
    status: str
    secondary: str
    region: str
    failure_reason: str = ""
    created: datetime | None = None
    started: datetime | None = None
    ended: datetime | None = None
    transitions: tuple[Transition, ...] = ()
    billable_seconds: int | None = None
    training_seconds: int | None = None
    instance_type: str = ""
    instance_count: int = 1
    spot: bool = False
    final_metrics: tuple[MetricValue, ...] = ()
    model_artifact: str = ""
    role_arn: str = ""
    image: str = ""
    hyperparameters: dict[str, str] = field(default_factory=dict)
    metric_definitions: tuple[tuple[str, str], ...] = ()
    tuning_job_arn: str = ""
    output_path: str = ""
    channels: tuple[tuple[str, str], ...] = ()  # (name, s3 uri)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def price(self) -> PriceEstimate:
        return training_price(self.instance_type, self.region)

    def running_seconds(self, now: datetime | None = None) -> int | None:
        """Seconds the instances have run so far (billable once the job has ended)."""
        if self.billable_seconds is not None and self.terminal:
            return self.billable_seconds
        if self.started is None:
            return None
        end = self.ended or now or datetime.now(UTC)
        return max(0, int((_aware(end) - _aware(self.started)).total_seconds())) * self.instance_count

    def cost_so_far(self, now: datetime | None = None) -> float | None:
        secs = self.running_seconds(now)
        if secs is None:
            return 0.0 if not self.terminal else None
        return cost_for(secs, self.price, 1)

    def cost_line(self, now: datetime | None = None) -> str:
        cost = self.cost_so_far(now)
        if cost is None or not self.price.known:
            return f"cost: unknown for {self.instance_type} (no price listed)"
        what = "billed" if self.terminal and self.billable_seconds is not None else "so far"
        return f"~${cost:.4f} {what} (estimate, on-demand prices of {self.price.date})"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "arn": self.arn,
            "status": self.status,
            "secondary_status": self.secondary,
            "failure_reason": self.failure_reason or None,
            "created": _iso(self.created),
            "started": _iso(self.started),
            "ended": _iso(self.ended),
            "instance_type": self.instance_type,
            "instance_count": self.instance_count,
            "spot": self.spot,
            "training_seconds": self.training_seconds,
            "billable_seconds": self.billable_seconds,
            "cost_estimate_usd": _round(self.cost_so_far()),
            "price_date": self.price.date,
            "final_metrics": {m.name: m.value for m in self.final_metrics},
            "model_artifact": self.model_artifact or None,
            "tuning_job_arn": self.tuning_job_arn or None,
            "timeline": [
                {"status": t.status, "start": _iso(t.start), "end": _iso(t.end), "message": t.message}
                for t in self.transitions
            ],
        }


@dataclass(frozen=True)
class JobSummary:
    name: str
    status: str
    created: datetime | None
    ended: datetime | None
    secondary: str = ""


def from_describe(resp: dict[str, Any], region: str) -> JobSnapshot:
    rc = resp.get("ResourceConfig") or {}
    algo = resp.get("AlgorithmSpecification") or {}
    status = resp.get("TrainingJobStatus", "")
    artifact = (resp.get("ModelArtifacts") or {}).get("S3ModelArtifacts", "")
    return JobSnapshot(
        name=resp.get("TrainingJobName", ""),
        arn=resp.get("TrainingJobArn", ""),
        status=status,
        secondary=resp.get("SecondaryStatus", ""),
        region=region,
        failure_reason=resp.get("FailureReason", "") or "",
        created=resp.get("CreationTime"),
        started=resp.get("TrainingStartTime"),
        ended=resp.get("TrainingEndTime"),
        transitions=tuple(
            Transition(t.get("Status", ""), t.get("StartTime"), t.get("EndTime"), t.get("StatusMessage", ""))
            for t in resp.get("SecondaryStatusTransitions") or []
        ),
        billable_seconds=resp.get("BillableTimeInSeconds"),
        training_seconds=resp.get("TrainingTimeInSeconds"),
        instance_type=rc.get("InstanceType", ""),
        instance_count=int(rc.get("InstanceCount") or 1),
        spot=bool(resp.get("EnableManagedSpotTraining")),
        final_metrics=tuple(
            MetricValue(m.get("MetricName", ""), float(m.get("Value", 0.0)), m.get("Timestamp"))
            for m in resp.get("FinalMetricDataList") or []
        ),
        # Only a completed job's artifact exists; before that the path is a promise.
        model_artifact=artifact if status == "Completed" else "",
        role_arn=resp.get("RoleArn", ""),
        image=algo.get("TrainingImage", ""),
        hyperparameters=dict(resp.get("HyperParameters") or {}),
        metric_definitions=tuple((d["Name"], d["Regex"]) for d in algo.get("MetricDefinitions") or []),
        tuning_job_arn=resp.get("TuningJobArn", "") or "",
        output_path=(resp.get("OutputDataConfig") or {}).get("S3OutputPath", ""),
        channels=tuple(
            (
                c.get("ChannelName", ""),
                ((c.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri", ""),
            )
            for c in resp.get("InputDataConfig") or []
        ),
    )


def describe(client: Any, name: str, region: str) -> JobSnapshot:
    """DescribeTrainingJob as a snapshot; a missing job is a NotFoundError."""
    try:
        resp = client.describe_training_job(TrainingJobName=name)
    except Exception as exc:
        err = translate(exc, "DescribeTrainingJob")
        if (
            "Could not find" in (err.message or "")
            or err.code == "ValidationException"
            and "not find" in err.message
        ):
            raise NotFoundError(
                f"No training job named {name}",
                f"There is no training job '{name}' in {region}.",
                "Check the name and region (sagewiz status lists recent jobs).",
                code=err.code,
                operation="DescribeTrainingJob",
            ) from exc
        raise err from exc
    return from_describe(resp, region)


def list_recent(client: Any, limit: int = 20) -> list[JobSummary]:
    try:
        resp = client.list_training_jobs(
            MaxResults=min(limit, 100), SortBy="CreationTime", SortOrder="Descending"
        )
    except Exception as exc:
        raise translate(exc, "ListTrainingJobs") from exc
    out = [
        JobSummary(
            s.get("TrainingJobName", ""),
            s.get("TrainingJobStatus", ""),
            s.get("CreationTime"),
            s.get("TrainingEndTime"),
            s.get("SecondaryStatus", ""),
        )
        for s in resp.get("TrainingJobSummaries", [])
    ]
    out.sort(key=lambda j: _aware(j.created) if j.created else datetime.min.replace(tzinfo=UTC), reverse=True)
    return out[:limit]


# -- metrics from log lines -------------------------------------------------------------------
class MetricParser:
    """Applies metric definitions (name, regex) to log lines; values in arrival order per metric."""

    def __init__(self, definitions: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> None:
        self.rules: list[tuple[str, re.Pattern[str]]] = []
        for name, rx in definitions:
            try:
                self.rules.append((name, re.compile(rx)))
            except re.error:
                continue  # a definition that does not compile reports nothing, as on SageMaker
        # Cheap pre-filter: most lines carry none of the markers the regexes need.
        self.series: dict[str, list[float]] = {}

    def feed(self, line: str) -> list[tuple[str, float]]:
        found: list[tuple[str, float]] = []
        if "#011" not in line and "accuracy" not in line and "=" not in line and ":" not in line:
            return found
        for name, rx in self.rules:
            m = rx.match(line)
            if m:
                try:
                    v = float(m.group(1))
                except (ValueError, IndexError):
                    continue
                self.series.setdefault(name, []).append(v)
                found.append((name, v))
        return found


def metric_definitions_for(snapshot: JobSnapshot) -> tuple[tuple[str, str], ...]:
    """The job's own definitions, or the built-in algorithm's (which SageMaker applies itself)."""
    if snapshot.metric_definitions:
        return snapshot.metric_definitions
    from services.algorithms import detect

    algo = detect(snapshot.image)
    return tuple((m.name, m.regex) for m in algo.metrics) if algo else ()


# -- failure analysis ---------------------------------------------------------------------------
_S3_URI = re.compile(r"s3://([a-z0-9.\-]+)/(\S*?)(?=[\s\"'),]|$)")


@dataclass(frozen=True)
class S3Denial:
    bucket: str
    key: str
    action: str  # s3:GetObject, s3:PutObject, s3:ListBucket


def s3_denial(reason: str) -> S3Denial | None:
    """If a FailureReason is an S3 AccessDenied (or a listing the role may not do), what was denied."""
    if not reason:
        return None
    text = reason
    denied = "AccessDenied" in text or "Access Denied" in text or "s3:ListBucket" in text
    if not denied:
        return None
    m = _S3_URI.search(text)
    if not m:
        return None
    bucket, key = m.group(1), m.group(2).rstrip(".")
    if "PutObject" in text or "upload" in text.lower():
        action = "s3:PutObject"
    elif "No S3 objects found" in text or "s3:ListBucket" in text:
        action = "s3:ListBucket"
    else:
        action = "s3:GetObject"
    return S3Denial(bucket, key, action)


def _aware(d: datetime) -> datetime:
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _iso(d: datetime | None) -> str | None:
    return _aware(d).isoformat() if d else None


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 6)


__all__ = [
    "JobSnapshot",
    "JobSummary",
    "MetricParser",
    "MetricValue",
    "S3Denial",
    "SagewizError",
    "Transition",
    "describe",
    "from_describe",
    "list_recent",
    "metric_definitions_for",
    "s3_denial",
]
