"""The rules for each step's mark, as the README's step table states them."""

from __future__ import annotations

from services.flow import marks
from services.flow.marks import Mark, ProofResult


def test_train_done_only_with_a_completed_job_and_its_model() -> None:
    assert marks.train(None, model_artifact="") is Mark.NOT_STARTED
    assert marks.train("InProgress", model_artifact="") is Mark.NOT_STARTED
    assert marks.train("Completed", model_artifact="s3://b/m/model.tar.gz") is Mark.DONE
    assert marks.train("Completed", model_artifact="") is Mark.ATTENTION
    assert marks.train("Failed", model_artifact="") is Mark.ATTENTION
    assert marks.train("Stopped", model_artifact="") is Mark.ATTENTION


def test_permissions_done_only_when_the_proof_ran_and_allowed_everything() -> None:
    every = ProofResult(ran=True, allowed=3, total=3)
    assert marks.permissions(errors=0, proof=every) is Mark.DONE
    assert marks.permissions(errors=1, proof=every) is Mark.ATTENTION
    assert marks.permissions(errors=0, proof=ProofResult(ran=True, allowed=2, total=3)) is Mark.ATTENTION
    assert marks.permissions(errors=0, proof=ProofResult(ran=False, allowed=0, total=0)) is Mark.ATTENTION
    assert marks.permissions(errors=0, proof=None) is Mark.ATTENTION


def test_doctor_and_cleanup_are_not_done_by_being_opened() -> None:
    assert marks.doctor(None) is Mark.NOT_STARTED
    assert marks.doctor("denied") is Mark.ATTENTION
    assert marks.doctor("unknown") is Mark.ATTENTION
    assert marks.doctor("allowed") is Mark.DONE
    assert marks.cleanup(ran=False, failed=False, billing_left=0) is Mark.NOT_STARTED
    assert marks.cleanup(ran=True, failed=False, billing_left=0) is Mark.DONE
    assert marks.cleanup(ran=True, failed=False, billing_left=1) is Mark.ATTENTION
    assert marks.cleanup(ran=True, failed=True, billing_left=0) is Mark.ATTENTION


def test_labels_tune_notebook() -> None:
    assert marks.labels("Completed", labeled=50, total=50) is Mark.DONE
    assert marks.labels("Failed", labeled=10, total=50) is Mark.ATTENTION
    assert marks.labels(None, labeled=3, total=50) is Mark.ATTENTION  # part of the images
    assert marks.labels(None, labeled=50, total=50) is Mark.DONE
    assert marks.labels("InProgress", labeled=0, total=50) is Mark.NOT_STARTED
    assert marks.tune("Completed", best_job="t-001") is Mark.DONE
    assert marks.tune("Failed", best_job="") is Mark.ATTENTION
    assert marks.tune("Completed", best_job="") is Mark.ATTENTION
    assert marks.tune("InProgress", best_job="t-001") is Mark.NOT_STARTED
    assert marks.notebook("InService") is Mark.DONE
    assert marks.notebook("Pending") is Mark.NOT_STARTED
    assert marks.notebook("Failed") is Mark.ATTENTION
    assert marks.notebook("InService", gone=True) is Mark.ATTENTION
