"""SageMaker kinds: notebook instance, lifecycle config, model, and the three jobs."""

from __future__ import annotations

from typing import Any

from services.journal_events import ResourceDeleted
from services.notebook_autostop import autostop_config_name
from services.plan import Action
from services.pricing import notebook_price, notebook_storage_hourly, training_price
from services.resource_kinds import ResourceKind
from services.resources.handler import KindHandler, stop_action, with_state
from services.resources.record import Resource


def _sm(factory: Any) -> Any:
    return factory.client("sagemaker")


def _unpriced(itype: str) -> str:
    return f"no price listed for {itype}"


class NotebookHandler(KindHandler):
    kind = ResourceKind.NOTEBOOK
    stop_states = frozenset({"InService", "Pending", "Updating"})
    billed_states = frozenset({"InService", "Pending", "Updating", "Stopping"})

    def read(self, factory: Any, res: Resource) -> Resource:
        d = _sm(factory).describe_notebook_instance(NotebookInstanceName=res.id)
        return with_state(
            res,
            d.get("NotebookInstanceStatus", ""),
            d.get("NotebookInstanceArn", ""),
            id=d.get("NotebookInstanceName", res.id),
            instance_type=d.get("InstanceType", ""),
            volume_gb=int(d.get("VolumeSizeInGB") or 5),
            lifecycle_config=d.get("NotebookInstanceLifecycleConfigName", ""),
        )

    def cost(self, res: Resource, region: str) -> tuple[float | None, str]:
        if res.state in ("Stopped", "Failed"):
            # A stopped instance bills only its ML storage volume.
            return notebook_storage_hourly(res.volume_gb, region), f"storage only ({res.volume_gb} GB volume)"
        if res.state not in self.billed_states:
            return 0.0, ""
        price = notebook_price(res.instance_type, region)
        return (price.usd_per_hour, "") if price.known else (None, _unpriced(res.instance_type))

    def stop(self, res: Resource) -> Action | None:
        if res.state not in self.stop_states:
            return None
        return stop_action(
            res, "sagemaker", "stop_notebook_instance", {"NotebookInstanceName": res.id},
            f"Stop notebook instance {res.id} ({res.instance_type}, {res.hourly_label()})",
            f"start it again: sagemaker:StartNotebookInstance {res.id}",
        )  # fmt: skip

    def delete(self, factory: Any, res: Resource) -> list[Action]:
        actions = [
            Action(
                "sagemaker", "delete_notebook_instance", {"NotebookInstanceName": res.id},
                f"Delete notebook instance {res.id} (after it has stopped); its ML storage volume goes with it",
                undo="not undoable: create a new notebook from the Notebook step",
                resource=res.arn or res.id, journal=ResourceDeleted(res.type, res.id),
            )
        ]  # fmt: skip
        if res.lifecycle_config and res.lifecycle_config == autostop_config_name(res.id):
            # The idle auto-stop configuration sagewiz made for this notebook goes with it (once
            # the notebook is gone), rather than being left behind.
            lc = res.lifecycle_config
            actions.append(
                Action(
                    "sagemaker", "delete_notebook_instance_lifecycle_config",
                    {"NotebookInstanceLifecycleConfigName": lc},
                    f"Delete its lifecycle configuration {lc} (made with it; after the notebook is gone)",
                    resource=lc, journal=ResourceDeleted(ResourceKind.LIFECYCLE_CONFIG, lc),
                )
            )  # fmt: skip
        return actions


class LifecycleConfigHandler(KindHandler):
    kind = ResourceKind.LIFECYCLE_CONFIG

    def read(self, factory: Any, res: Resource) -> Resource:
        d = _sm(factory).describe_notebook_instance_lifecycle_config(
            NotebookInstanceLifecycleConfigName=res.id
        )
        return with_state(res, "exists", d.get("NotebookInstanceLifecycleConfigArn", ""))

    def delete(self, factory: Any, res: Resource) -> list[Action]:
        return [
            Action(
                "sagemaker", "delete_notebook_instance_lifecycle_config",
                {"NotebookInstanceLifecycleConfigName": res.id}, f"Delete notebook lifecycle config {res.id}",
                resource=res.arn or res.id, journal=ResourceDeleted(res.type, res.id),
            )
        ]  # fmt: skip


class ModelHandler(KindHandler):
    kind = ResourceKind.MODEL

    def read(self, factory: Any, res: Resource) -> Resource:
        d = _sm(factory).describe_model(ModelName=res.id)
        return with_state(res, "exists", d.get("ModelArn", ""))

    def delete(self, factory: Any, res: Resource) -> list[Action]:
        return [
            Action(
                "sagemaker", "delete_model", {"ModelName": res.id}, f"Delete model {res.id} (the artifact in S3 stays)",
                undo="create the model again from its training job", resource=res.arn or res.id,
                journal=ResourceDeleted(res.type, res.id),
            )
        ]  # fmt: skip


class JobHandler(KindHandler):
    """A job: stopped while it runs; its record stays in SageMaker for good."""

    deletable = False
    stop_states = frozenset({"InProgress"})
    operation = ""
    param = ""
    what = ""

    def stop(self, res: Resource) -> Action | None:
        if res.state not in self.stop_states:
            return None
        return stop_action(
            res, "sagemaker", self.operation, {self.param: res.id}, f"Stop {self.what} {res.id} ({res.hourly_label()})",
            "a stopped job cannot be resumed; start a new one from its step",
        )  # fmt: skip

    def cost(self, res: Resource, region: str) -> tuple[float | None, str]:
        if res.state != "InProgress":
            return 0.0, ""
        price = training_price(res.instance_type, region).usd_per_hour
        if price is None:
            return None, _unpriced(res.instance_type)
        return price * res.count * res.parallel, ""


class TrainingJobHandler(JobHandler):
    kind = ResourceKind.TRAINING_JOB
    operation, param, what = "stop_training_job", "TrainingJobName", "training job"

    def read(self, factory: Any, res: Resource) -> Resource:
        d = _sm(factory).describe_training_job(TrainingJobName=res.id)
        state = d.get("TrainingJobStatus", "")
        rc = d.get("ResourceConfig") or {}
        secondary = d.get("SecondaryStatus", "")
        return with_state(
            res, state, d.get("TrainingJobArn", ""),
            instance_type=rc.get("InstanceType", ""), count=int(rc.get("InstanceCount") or 1),
            detail=secondary if secondary and secondary != state else "",
        )  # fmt: skip


class TuningJobHandler(JobHandler):
    kind = ResourceKind.TUNING_JOB
    operation, param = "stop_hyper_parameter_tuning_job", "HyperParameterTuningJobName"
    what = "tuning job (and its running children)"

    def read(self, factory: Any, res: Resource) -> Resource:
        d = _sm(factory).describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=res.id)
        state = d.get("HyperParameterTuningJobStatus", "")
        rc = ((d.get("TrainingJobDefinition") or {}).get("ResourceConfig")) or {}
        running = int((d.get("TrainingJobStatusCounters") or {}).get("InProgress") or 0)
        return with_state(
            res, state, d.get("HyperParameterTuningJobArn", ""),
            instance_type=rc.get("InstanceType", ""), count=int(rc.get("InstanceCount") or 1), parallel=running,
            detail=f"{running} child jobs running" if state == "InProgress" else "",
        )  # fmt: skip


class LabelingJobHandler(JobHandler):
    kind = ResourceKind.LABELING_JOB
    operation, param, what = "stop_labeling_job", "LabelingJobName", "labeling job"

    def read(self, factory: Any, res: Resource) -> Resource:
        d = _sm(factory).describe_labeling_job(LabelingJobName=res.id)
        return with_state(res, d.get("LabelingJobStatus", ""), d.get("LabelingJobArn", ""))

    def cost(self, res: Resource, region: str) -> tuple[float | None, str]:
        return (None, "per labeled object") if res.state == "InProgress" else (0.0, "")
