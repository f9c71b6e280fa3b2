"""When each step is done (✓), needs attention (!) or not started (○).

One function per step, from what AWS said and the step's own outcome, so a mark is a fact and not
a side effect of opening a screen. The README's step table says the same rules in words; the step
bar shows what they return.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from services.errors import is_gone
from services.state import WizardState


class Mark(enum.Enum):
    NOT_STARTED = "not started"
    ATTENTION = "needs attention"
    DONE = "done"


def connect(*, connected: bool, failed: bool) -> Mark:
    if connected:
        return Mark.DONE
    return Mark.ATTENTION if failed else Mark.NOT_STARTED


def notebook(status: str | None, *, gone: bool = False) -> Mark:
    """The chosen notebook instance: ✓ InService; ! Failed or no longer there."""
    if status is None:
        return Mark.ATTENTION if gone else Mark.NOT_STARTED
    if gone or status in ("Failed", "Deleting"):
        return Mark.ATTENTION
    return Mark.DONE if status == "InService" else Mark.NOT_STARTED


def bucket(*, usable: bool, chosen: bool, refused: bool) -> Mark:
    """✓ the chosen bucket exists and belongs to the account; ! it belongs to another or refuses us."""
    if refused:
        return Mark.ATTENTION
    return Mark.DONE if usable and chosen else Mark.NOT_STARTED


def data(*, copied_all: bool, failed: bool) -> Mark:
    """✓ every image is in the bucket; ! a copy failed or was refused."""
    if failed:
        return Mark.ATTENTION
    return Mark.DONE if copied_all else Mark.NOT_STARTED


@dataclass(frozen=True)
class ProofResult:
    """What the permissions proof did: `ran` False when it could not run at all."""

    ran: bool
    allowed: int
    total: int


def permissions(*, errors: int, proof: ProofResult | None) -> Mark:
    """✓ only when nothing is wrong with the policies AND the proof ran and every request was
    allowed; a proof that could not run proves nothing."""
    if errors:
        return Mark.ATTENTION
    if proof is None or not proof.ran or proof.total == 0:
        return Mark.ATTENTION
    return Mark.DONE if proof.allowed == proof.total else Mark.ATTENTION


def doctor(verdict: str | None) -> Mark:
    """✓ a diagnosis ran and nothing blocks the request; ! it is denied or could not be told.
    Opening the doctor is not a diagnosis."""
    if verdict is None:
        return Mark.NOT_STARTED
    return Mark.DONE if verdict == "allowed" else Mark.ATTENTION


def labels(status: str | None, *, labeled: int, total: int) -> Mark:
    """The labels Train will read: ✓ every image labeled (by a job or here); ! the job failed or
    stopped, or only part of the images are labeled."""
    if status is None:
        if total and labeled >= total:
            return Mark.DONE
        return Mark.ATTENTION if labeled else Mark.NOT_STARTED
    if status in ("Failed", "Stopped", "Stopping"):
        return Mark.ATTENTION
    if status != "Completed":
        return Mark.NOT_STARTED
    return Mark.DONE if not total or labeled >= total else Mark.ATTENTION


def train(status: str | None, *, model_artifact: str) -> Mark:
    """The latest training job: ✓ Completed with a model artifact; ! Failed, Stopped or Completed
    without one; ○ none yet or still running."""
    if status is None or status in ("InProgress", "Stopping"):
        return Mark.NOT_STARTED
    if status == "Completed" and model_artifact:
        return Mark.DONE
    return Mark.ATTENTION


def tune(status: str | None, *, best_job: str) -> Mark:
    """The latest tuning job: ✓ ended (Completed, or Stopped) with a best training job; ! Failed or
    ended with none; ○ none yet or still running."""
    if status is None or status in ("InProgress", "Stopping"):
        return Mark.NOT_STARTED
    if status in ("Completed", "Stopped") and best_job:
        return Mark.DONE
    return Mark.ATTENTION


def cleanup(*, ran: bool, failed: bool, billing_left: int) -> Mark:
    """✓ a clean-up ran and nothing sagewiz made still bills; ! it failed or something still
    bills after it. Opening the step (reading the inventory) is not a clean-up."""
    if failed:
        return Mark.ATTENTION
    if not ran:
        return Mark.NOT_STARTED
    return Mark.ATTENTION if billing_left else Mark.DONE


# -- the marks of the chosen resources, read from AWS -------------------------------------------------
def _notebook_of(factory: Any, state: WizardState) -> Mark:
    try:
        d = factory.client("sagemaker").describe_notebook_instance(NotebookInstanceName=state.notebook_name)
    except Exception as exc:
        if is_gone(exc):
            return notebook(None, gone=True)
        raise
    return notebook(str(d.get("NotebookInstanceStatus", "")))


def _bucket_of(factory: Any, state: WizardState) -> Mark:
    try:
        # ExpectedBucketOwner: a bucket of the same name in another account is not ours to use.
        factory.client("s3").head_bucket(Bucket=state.bucket, ExpectedBucketOwner=state.account)
    except Exception as exc:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        if is_gone(exc) or code in {"403", "404", "NoSuchBucket", "AccessDenied"}:
            return Mark.ATTENTION  # the chosen bucket is gone, someone else's, or refuses us
        raise
    return bucket(usable=True, chosen=True, refused=False)


def _train_of(factory: Any, state: WizardState) -> Mark:
    try:
        d = factory.client("sagemaker").describe_training_job(TrainingJobName=state.training_job)
    except Exception as exc:
        if is_gone(exc):
            return train("Failed", model_artifact="")  # the job the session chose is gone
        raise
    status = str(d.get("TrainingJobStatus", ""))
    artifact = str((d.get("ModelArtifacts") or {}).get("S3ModelArtifacts", ""))
    return train(status, model_artifact=artifact if status == "Completed" else "")


def _tune_of(factory: Any, state: WizardState) -> Mark:
    sm = factory.client("sagemaker")
    try:
        d = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=state.tuning_job)
    except Exception as exc:
        if is_gone(exc):
            return tune("Failed", best_job="")
        raise
    best = str((d.get("BestTrainingJob") or {}).get("TrainingJobName", ""))
    return tune(str(d.get("HyperParameterTuningJobStatus", "")), best_job=best)


def _labels_of(factory: Any, state: WizardState) -> Mark:
    """The job's status when one was chosen; the count from the manifest Train will read (a job's,
    an import or the terminal's) against every image under the data prefix."""
    from services.labeling.jobs import labeled_images, status_from
    from services.labeling.setup import list_images

    status: str | None = None
    labeled = total = 0
    if state.labeling_job:
        try:
            d = factory.client("sagemaker").describe_labeling_job(LabelingJobName=state.labeling_job)
        except Exception as exc:
            if is_gone(exc):
                return labels("Failed", labeled=0, total=0)
            raise
        st = status_from(d)
        status, labeled, total = st.status, st.labeled, st.total
    if state.output_manifest and state.images_prefix():
        try:
            images = len(list_images(factory, state.images_prefix()))
            labeled, total = labeled_images(factory, state.output_manifest), images
        except Exception:
            if status is None:
                raise  # nothing read: no mark
    return labels(status, labeled=labeled, total=total)


_READERS: dict[str, tuple[str, Callable[[Any, WizardState], Mark]]] = {
    "notebook": ("notebook_name", _notebook_of),
    "bucket": ("bucket", _bucket_of),
    "labels": ("labeling_job", _labels_of),
    "train": ("training_job", _train_of),
    "tune": ("tuning_job", _tune_of),
}


def marks_for(factory: Any, state: WizardState, *, gone: Iterable[str] = ()) -> dict[str, Mark]:
    """Each step's mark for what `state` has chosen (notebook, bucket, labeling, training and tuning
    job), read from AWS in parallel. `gone`: steps whose earlier choice AWS no longer has (resume
    found it so and did not restore it): ! unless something chosen now reads otherwise. A step with
    nothing chosen, or whose read failed for another reason than "gone" (no permission, network),
    is left out: an unread mark is not a fact."""
    out = {step: Mark.ATTENTION for step in gone}
    wanted = [
        (step, read)
        for step, (attr, read) in _READERS.items()
        if getattr(state, attr) or (step == "labels" and state.output_manifest)
    ]
    if not wanted:
        return out

    def one(item: tuple[str, Callable[[Any, WizardState], Mark]]) -> tuple[str, Mark | None]:
        step, read = item
        try:
            return step, read(factory, state)
        except Exception:
            return step, None

    with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
        read = list(pool.map(one, wanted))
    out.update({step: mark for step, mark in read if mark is not None})
    return out
