"""The work the Labels screens hand to workers, and what each piece of work yields.

Shared by the hub and its sub-screens (several list images, fetch an image or save a manifest),
so the keys live here once; each screen routes the keys it starts (see tui/messages.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.messages import Work

if TYPE_CHECKING:
    from services.labeling.jobs import JobStatus, JobSummary, Workteam
    from services.labeling.manifest import ParsedManifest
    from services.labeling.request import JobSpec
    from services.labeling.setup import SetupPlan


@dataclass(frozen=True)
class ImageList:
    prefix: str
    images: list[str]
    labeled: int | None = None  # images the output manifest labels; None when not read


@dataclass(frozen=True)
class FetchedImage:
    """An image read from S3, or why it could not be (a thumbnail failing is not an error dialog)."""

    uri: str
    data: bytes | None
    error: str = ""


@dataclass(frozen=True)
class CreatedJob:
    spec: JobSpec
    output_manifest: str


@dataclass(frozen=True)
class LoadedManifest:
    source: str
    parsed: ParsedManifest


IMAGES: Work[ImageList] = Work("labels: list the images")
TEAMS: Work[list[Workteam]] = Work("labels: list private work teams")
JOBS: Work[list[JobSummary]] = Work("labels: list labeling jobs")
IMAGE: Work[FetchedImage] = Work("labels: fetch an image")
SETUP: Work[SetupPlan] = Work("labels: plan the job's setup")
CREATE: Work[CreatedJob] = Work("labels: create the labeling job")
POLL: Work[JobStatus] = Work("labels: poll the labeling job")
STOP: Work[None] = Work("labels: stop the labeling job")
MANIFEST: Work[LoadedManifest] = Work("labels: load a manifest")
SAVE: Work[str] = Work("labels: save the manifest")  # its s3:// URI
