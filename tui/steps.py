"""The steps of the flow, in order, and how to find each one's screen.

A step's screen lives in `screens/<module>.py` as `<Class>` (tests/shell/test_app.py checks that
every step's does).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.screen import Screen


from services.flow.marks import Mark as StepState  # the rules for each mark live with the flow

__all__ = ["STEPS", "STEP_IDS", "StepInfo", "StepState", "load_screen_class", "neighbour", "step"]


@dataclass(frozen=True)
class StepInfo:
    id: str
    title: str
    module: str
    cls: str
    summary: str


STEPS: tuple[StepInfo, ...] = (
    StepInfo("connect", "Connect", "connect", "ConnectStep",
             "Profile, region and credentials; shows the account, caller and endpoint."),
    StepInfo("notebook", "Notebook", "notebook", "NotebookStep",
             "Create or pick a notebook instance and its execution role; watch it reach InService."),
    StepInfo("bucket", "Bucket", "bucket", "BucketStep",
             "The default bucket sagemaker-<region>-<account>: exists, owned by you, created correctly."),
    StepInfo("data", "Data", "data", "DataStep",
             "Copy the sample images (or your folder) into the bucket, fast and resumable."),
    StepInfo("permissions", "Permissions", "permissions", "PermissionsStep",
             "Block Public Access, bucket policy and role policy: checked, explained, fixed with diffs and undo."),
    StepInfo("doctor", "Doctor", "doctor", "DoctorStep",
             "Paste an AccessDenied error and learn exactly which policy denies it and the smallest fix."),
    StepInfo("labels", "Labels", "labels", "LabelsStep",
             "Ground Truth labeling job, or label the images right here in the terminal."),
    StepInfo("train", "Train", "train", "TrainStep",
             "Built-in XGBoost or image classification; live status, metrics and logs."),
    StepInfo("tune", "Tune", "tune", "TuneStep",
             "Hyperparameter tuning with a live dashboard and every child job's log."),
    StepInfo("cleanup", "Clean up", "cleanup", "CleanupStep",
             "Everything sagewiz created, with its running cost; stop or delete it."),
)  # fmt: skip

STEP_IDS = tuple(s.id for s in STEPS)


def step(step_id: str) -> StepInfo:
    for s in STEPS:
        if s.id == step_id:
            return s
    raise KeyError(step_id)


def neighbour(step_id: str, delta: int) -> StepInfo | None:
    i = STEP_IDS.index(step_id) + delta
    return STEPS[i] if 0 <= i < len(STEPS) else None


def load_screen_class(info: StepInfo) -> type[Screen[Any]]:
    """The step's screen class, imported on first use (a screen's module is loaded only when the
    step is opened, which keeps the first screen fast)."""
    module = importlib.import_module(f"screens.{info.module}")
    cls: type[Screen[Any]] = getattr(module, info.cls)
    return cls
