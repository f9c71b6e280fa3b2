"""Labeling jobs once created: status and counters, stop, work teams, reading the output."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.errors import SagewizError, translate
from services.labeling import manifest as mf
from services.labeling.rules import amount_to_mills, split_s3

TERMINAL_STATUSES = {"Completed", "Failed", "Stopped"}

# Ground Truth is closed to new customers (every GT doc page says so since 2025).
CLOSED_NOTICE = (
    "Amazon SageMaker Ground Truth is no longer open to new customers; existing customers can keep "
    "using it. If this account cannot create labeling jobs, label the images here in the terminal: "
    "the result is the same output.manifest."
)


@dataclass(frozen=True)
class JobStatus:
    name: str
    status: str
    labeled: int
    human: int
    machine: int
    failed: int
    unlabeled: int
    created: datetime | None
    modified: datetime | None
    failure_reason: str
    output_manifest: str  # from LabelingJobOutput, or where it will be
    label_attribute: str
    workers_per_object: int
    price_mills: int  # 0 for private teams
    categories_uri: str

    @property
    def total(self) -> int:
        return self.labeled + self.failed + self.unlabeled

    @property
    def fraction(self) -> float:
        return (self.labeled + self.failed) / self.total if self.total else 0.0

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def elapsed_seconds(self, now: datetime | None = None) -> float:
        if self.created is None:
            return 0.0
        end = self.modified if self.finished and self.modified else (now or datetime.now(self.created.tzinfo))
        return max(0.0, (end - self.created).total_seconds())

    @property
    def cost_so_far(self) -> float:
        """What workers were paid so far (Mechanical Turk price x workers x labeled objects)."""
        return self.human * self.workers_per_object * self.price_mills / 1000


def status_from(desc: dict[str, Any]) -> JobStatus:
    c = desc.get("LabelCounters", {})
    hc = desc.get("HumanTaskConfig", {})
    price = hc.get("PublicWorkforceTaskPrice", {}).get("AmountInUsd")
    out = (desc.get("LabelingJobOutput") or {}).get("OutputDatasetS3Uri") or mf.output_manifest_uri(
        desc.get("OutputConfig", {}).get("S3OutputPath", ""), desc.get("LabelingJobName", "")
    )
    return JobStatus(
        name=desc.get("LabelingJobName", ""),
        status=desc.get("LabelingJobStatus", "Unknown"),
        labeled=int(c.get("TotalLabeled", 0)),
        human=int(c.get("HumanLabeled", 0)),
        machine=int(c.get("MachineLabeled", 0)),
        failed=int(c.get("FailedNonRetryableError", 0)),
        unlabeled=int(c.get("Unlabeled", 0)),
        created=desc.get("CreationTime"),
        modified=desc.get("LastModifiedTime"),
        failure_reason=desc.get("FailureReason", ""),
        output_manifest=out,
        label_attribute=desc.get("LabelAttributeName", ""),
        workers_per_object=int(hc.get("NumberOfHumanWorkersPerDataObject", 1)),
        price_mills=amount_to_mills(price) if price else 0,
        categories_uri=desc.get("LabelCategoryConfigS3Uri", ""),
    )


def describe_job(factory: Any, name: str) -> JobStatus:
    try:
        return status_from(factory.client("sagemaker").describe_labeling_job(LabelingJobName=name))
    except Exception as exc:
        raise translate(exc, "sagemaker:DescribeLabelingJob") from exc


def stop_job(factory: Any, name: str) -> None:
    try:
        factory.client("sagemaker").stop_labeling_job(LabelingJobName=name)
    except Exception as exc:
        raise translate(exc, "sagemaker:StopLabelingJob") from exc


@dataclass(frozen=True)
class JobSummary:
    name: str
    status: str
    labeled: int
    total: int
    created: datetime | None


def list_jobs(factory: Any, limit: int = 20) -> list[JobSummary]:
    try:
        resp = factory.client("sagemaker").list_labeling_jobs(
            MaxResults=limit, SortBy="CreationTime", SortOrder="Descending"
        )
    except Exception as exc:
        raise translate(exc, "sagemaker:ListLabelingJobs") from exc
    out = []
    for s in resp.get("LabelingJobSummaryList", []):
        c = s.get("LabelCounters", {})
        total = (
            int(c.get("TotalLabeled", 0))
            + int(c.get("FailedNonRetryableError", 0))
            + int(c.get("Unlabeled", 0))
        )
        out.append(
            JobSummary(
                s["LabelingJobName"],
                s["LabelingJobStatus"],
                int(c.get("TotalLabeled", 0)),
                total,
                s.get("CreationTime"),
            )
        )
    return out


@dataclass(frozen=True)
class Workteam:
    name: str
    arn: str
    description: str


def list_private_teams(factory: Any) -> list[Workteam]:
    """The account's work teams (private and vendor) in this region."""
    try:
        resp = factory.client("sagemaker").list_workteams(MaxResults=100)
    except Exception as exc:
        raise translate(exc, "sagemaker:ListWorkteams") from exc
    return [
        Workteam(t["WorkteamName"], t["WorkteamArn"], t.get("Description", ""))
        for t in resp.get("Workteams", [])
    ]


def read_text(factory: Any, uri: str) -> str:
    bucket, key = split_s3(uri)
    try:
        body: bytes = factory.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        raise translate(exc, "s3:GetObject") from exc
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SagewizError(
            "Not a text file", f"{uri} is not UTF-8 text.", "A manifest is UTF-8 JSON lines."
        ) from exc


def read_bytes(factory: Any, uri: str) -> bytes:
    bucket, key = split_s3(uri)
    try:
        body: bytes = factory.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        raise translate(exc, "s3:GetObject") from exc
    return body


def read_output(
    factory: Any, uri: str, categories_uri: str = "", attribute: str | None = None
) -> mf.ParsedManifest:
    """Read and parse an output manifest (with the job's label list when known)."""
    categories = None
    if categories_uri:
        try:
            categories = mf.parse_label_categories(read_text(factory, categories_uri))
        except (SagewizError, ValueError, KeyError):
            categories = None  # the manifest's own class names still tell the labels
    return mf.parse_output_manifest(read_text(factory, uri), attribute, categories)


def labeled_images(factory: Any, manifest_uri: str) -> int:
    """How many images the output manifest labels (distinct `source-ref`s), as Results counts them."""
    return len({o.source_ref for o in read_output(factory, manifest_uri).objects})
