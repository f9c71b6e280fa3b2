"""Messages the Labels screens' workers post back to the UI thread."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from services.errors import ErrorInfo


@dataclass
class LabelsFailed(Message):
    error: ErrorInfo
    what: str  # which step of the work failed: "images", "plan", "create", "poll", ...


@dataclass
class ImagesListed(Message):
    prefix: str
    images: list[str]


@dataclass
class TeamsListed(Message):
    teams: list[Any]  # services.labeling.jobs.Workteam


@dataclass
class JobsListed(Message):
    jobs: list[Any]  # services.labeling.jobs.JobSummary


@dataclass
class ImageFetched(Message):
    uri: str
    data: bytes | None
    error: str = ""


@dataclass
class SetupPlanned(Message):
    setup: Any  # services.labeling.setup.SetupPlan


@dataclass
class JobCreated(Message):
    spec: Any  # services.labeling.request.JobSpec
    output_manifest: str


@dataclass
class JobPolled(Message):
    status: Any  # services.labeling.jobs.JobStatus


@dataclass
class ManifestLoaded(Message):
    source: str
    parsed: Any  # services.labeling.manifest.ParsedManifest


@dataclass
class ManifestSaved(Message):
    uri: str
