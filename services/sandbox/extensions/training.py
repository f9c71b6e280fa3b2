"""Training jobs that progress and really train (see services/sandbox/trainer.py), and StopTrainingJob."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from services.sandbox.extensions import add_operation, wrap_method


def _create_training_job(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_training_job(self: Any) -> Any:
        from moto.core.responses import ActionResult

        from services.sandbox.trainer import submit_training_job

        request = json.loads(self.body or "{}")
        arn = submit_training_job(self.current_account, self.region, request)
        return ActionResult({"TrainingJobArn": arn})

    return create_training_job


def stop_training_job(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    from services.sandbox.trainer import stop_training_job as stop

    stop(self.current_account, self.region, self._get_param("TrainingJobName"))
    return EmptyResult()


def install() -> None:
    from moto.sagemaker.responses import SageMakerResponse

    wrap_method(SageMakerResponse, "create_training_job", _create_training_job)
    add_operation(SageMakerResponse, "stop_training_job", stop_training_job)
