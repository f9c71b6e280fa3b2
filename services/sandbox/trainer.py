"""Training jobs that really run, on this machine, behind the emulated SageMaker API.

`submit_training_job` takes an exact CreateTrainingJob request, checks it the way the service
does at create time (name, duplicate, role, spot, output path), registers the job in moto's
SageMaker backend and starts a local run in a sandbox thread. The run:

- moves TrainingJobStatus / SecondaryStatus through the service's values, with a transition
  list (start, end, message) like DescribeTrainingJob's;
- reads the input channels from the emulated S3 *as the execution role*, so a role that may
  not read them fails the job with the service's "Data download failed ... AccessDenied";
- validates the hyperparameters like the algorithm container (a bad value fails the job with a
  ClientError FailureReason), then trains: real XGBoost on the CSV/libsvm channels, or a small
  softmax learner on image features for image classification;
- writes each host's log to CloudWatch Logs group /aws/sagemaker/TrainingJobs, stream
  `<job>/algo-<n>-<epoch>`, in the algorithm's own line format with the computed values;
- computes FinalMetricDataList from those lines with the algorithm's metric definitions, sets
  TrainingTimeInSeconds / BillableTimeInSeconds (wall time here), uploads model.tar.gz (as the
  role) to `<S3OutputPath>/<job>/output/model.tar.gz`;
- honours StopTrainingJob (Stopping -> Stopped).

Everything runs inside the server process; writes go to moto's backends directly (the logs a
container writes are not subject to the reader's IAM).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from services.sandbox import jobs
from services.sandbox.training.host_logs import stamp
from services.sandbox.training.image_learner import train_image_classifier
from services.sandbox.training.job_data import download_channels, role_credentials, upload_model
from services.sandbox.training.network import check_s3_route
from services.sandbox.training.run import (
    PHASES,
    Abandoned,
    JobFailure,
    MaxRuntime,
    Run,
    Stopped,
    find_role,
    live_job,
    set_pace,
    sm_backend,
    transition,
    utcnow,
)
from services.sandbox.training.xgboost_learner import train_xgboost

__all__ = ["final_metrics", "set_pace", "stop_training_job", "submit_training_job", "wait_for"]

_TERMINAL = ("Completed", "Failed", "Stopped")
_runs: dict[tuple[str, str, str], Run] = {}
_runs_lock = threading.Lock()


def _validation(message: str) -> Exception:
    from moto.sagemaker.exceptions import ValidationError

    return ValidationError(message=message)


# -- public interface -------------------------------------------------------------------------
def submit_training_job(
    account_id: str, region: str, request: dict[str, Any], *, tuning_job_arn: str | None = None
) -> str:
    """Create the training job from a CreateTrainingJob request (boto3 shape) and start its run.

    Raises moto's ValidationError / ResourceInUseException for what the service rejects at create
    time; returns the job ARN."""
    from moto.sagemaker.exceptions import ResourceInUseException

    from services.sagemaker_model import NameShape, name_rule

    name = str(request.get("TrainingJobName") or "")
    rule = name_rule(NameShape.TRAINING_JOB)
    if not rule.matches(name):
        raise _validation(
            f"1 validation error detected: Value '{name}' at 'trainingJobName' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {rule.pattern}"
        )
    backend = sm_backend(account_id, region)
    if name in backend.training_jobs:
        arn = backend.training_jobs[name].arn
        raise ResourceInUseException(message=f"Training job names must be unique within an AWS account and region, and a training job with this name already exists ({arn})")  # fmt: skip
    _check_request(account_id, region, request)
    algo = dict(request.get("AlgorithmSpecification") or {})
    metric_definitions = list(algo.get("MetricDefinitions") or [])
    job = backend.create_training_job(
        training_job_name=name,
        hyper_parameters=dict(request.get("HyperParameters") or {}),
        algorithm_specification=algo,
        role_arn=request["RoleArn"],
        input_data_config=list(request.get("InputDataConfig") or []),
        output_data_config=dict(request["OutputDataConfig"]),
        resource_config=dict(request.get("ResourceConfig") or {}),
        vpc_config=request.get("VpcConfig"),
        stopping_condition=dict(request.get("StoppingCondition") or {}),
        tags=list(request.get("Tags") or []),
        enable_network_isolation=bool(request.get("EnableNetworkIsolation", False)),
        enable_inter_container_traffic_encryption=bool(request.get("EnableInterContainerTrafficEncryption", False)),
        enable_managed_spot_training=bool(request.get("EnableManagedSpotTraining", False)),
        checkpoint_config=request.get("CheckpointConfig"),
        debug_hook_config=request.get("DebugHookConfig"),
        debug_rule_configurations=request.get("DebugRuleConfigurations"),
        tensor_board_output_config=request.get("TensorBoardOutputConfig"),
        experiment_config=request.get("ExperimentConfig"),
    )  # fmt: skip
    # moto replaces the definitions with a canned one and marks the job Completed at once;
    # put back what was sent and start where the service starts.
    if metric_definitions:
        job.algorithm_specification["MetricDefinitions"] = metric_definitions
    else:
        job.algorithm_specification.pop("MetricDefinitions", None)
    now = utcnow()
    job.training_job_status = "InProgress"
    job.secondary_status = "Starting"
    job.secondary_status_transitions = [
        {"Status": "Starting", "StartTime": now, "StatusMessage": "Starting the training job"}
    ]
    job.final_metric_data_list = None
    job.training_start_time = None
    job.training_end_time = None
    job.creation_time = job.last_modified_time = now
    if tuning_job_arn:
        job.tuning_job_arn = tuning_job_arn
    run = Run(account_id, region, name, request, jobs.generation())
    with _runs_lock:
        _runs[(account_id, region, name)] = run
    run.stop = jobs.spawn(f"train-{name}", lambda stop: _execute(run, stop))
    return str(job.arn)


def stop_training_job(account_id: str, region: str, name: str) -> None:
    """StopTrainingJob: only an InProgress job can be stopped (ValidationException otherwise)."""
    backend = sm_backend(account_id, region)
    job = backend.training_jobs.get(name)
    if job is None:
        arn = f"arn:aws:sagemaker:{region}:{account_id}:training-job/{name}"
        raise _validation(f"Requested resource not found: Could not find training job '{arn}'.")
    if job.training_job_status != "InProgress":
        raise _validation(
            f"The request was rejected because the training job is in status {job.training_job_status}."
        )
    transition(job, "Stopping", "Stopping", "Stopping the training job")
    with _runs_lock:
        run = _runs.get((account_id, region, name))
    if run is not None:
        run.user_stop.set()
    else:  # a job from before this process (should not happen): stop it outright
        transition(job, "Stopped", "Stopped", "Training job stopped")


# -- create-time checks -------------------------------------------------------------------------
def _check_request(account: str, region: str, req: dict[str, Any]) -> None:
    role_arn = str(req.get("RoleArn") or "")
    if not re.match(r"^arn:aws[a-z\-]*:iam::\d{12}:role/", role_arn):
        raise _validation(f"1 validation error detected: Value '{role_arn}' at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws[a-z\\-]*:iam::\\d{{12}}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$")  # fmt: skip
    if find_role(account, role_arn) is None:
        raise _validation(
            f"Could not assume role {role_arn}. Please ensure that the role exists and allows principal "
            "'sagemaker.amazonaws.com' to assume the role."
        )
    algo = req.get("AlgorithmSpecification") or {}
    if not algo.get("TrainingImage") and not algo.get("AlgorithmName"):
        raise _validation(
            "Either TrainingImage or AlgorithmName must be specified in AlgorithmSpecification."
        )
    if algo.get("TrainingInputMode") not in ("Pipe", "File", "FastFile"):
        raise _validation("1 validation error detected: Value at 'algorithmSpecification.trainingInputMode' failed to satisfy constraint: Member must satisfy enum value set: [Pipe, File, FastFile]")  # fmt: skip
    out = (req.get("OutputDataConfig") or {}).get("S3OutputPath", "")
    if not str(out).startswith("s3://"):
        raise _validation(f"1 validation error detected: Value '{out}' at 'outputDataConfig.s3OutputPath' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(https|s3)://([^/]+)/?(.*)$")  # fmt: skip
    rc = req.get("ResourceConfig") or {}
    itype = str(rc.get("InstanceType") or "")
    if not re.match(r"^ml\.[a-z0-9]+\.[a-z0-9]+$", itype):
        raise _validation(f"1 validation error detected: Value '{itype}' at 'resourceConfig.instanceType' failed to satisfy enum value set of ml.* instance types")  # fmt: skip
    if int(rc.get("InstanceCount") or 0) < 1:
        raise _validation("1 validation error detected: Value at 'resourceConfig.instanceCount' failed to satisfy constraint: Member must have value greater than or equal to 1")  # fmt: skip
    if int(rc.get("VolumeSizeInGB") or 0) < 1:
        raise _validation("1 validation error detected: Value at 'resourceConfig.volumeSizeInGB' failed to satisfy constraint: Member must have value greater than or equal to 1")  # fmt: skip
    sc = req.get("StoppingCondition") or {}
    max_rt = int(sc.get("MaxRuntimeInSeconds") or 0)
    if max_rt < 1:
        raise _validation("1 validation error detected: Value at 'stoppingCondition.maxRuntimeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 1")  # fmt: skip
    if req.get("EnableManagedSpotTraining"):
        wait = int(sc.get("MaxWaitTimeInSeconds") or 0)
        if wait < max_rt:
            raise _validation("Invalid MaxWaitTimeInSeconds. It must be present and be greater than or equal to MaxRuntimeInSeconds")  # fmt: skip
    names = [c.get("ChannelName") for c in req.get("InputDataConfig") or []]
    if len(names) != len(set(names)):
        raise _validation("Channel names must be unique within InputDataConfig.")


# -- the run --------------------------------------------------------------------------------------
def _execute(run: Run, stop: threading.Event) -> None:
    run.stop = stop
    try:
        _execute_inner(run)
    except Abandoned:
        return
    except Exception as exc:  # nothing may kill the server thread silently
        try:
            _fail(run, f"InternalServerError: the sandbox runner failed: {type(exc).__name__}: {exc}")
        except Abandoned:
            return


def _execute_inner(run: Run) -> None:
    req = run.request
    rc = req.get("ResourceConfig") or {}
    count = int(rc.get("InstanceCount") or 1)
    max_runtime = int((req.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds") or 86400)
    try:
        run.wait(PHASES["starting"])
        transition(live_job(run), "InProgress", "Starting", "Launching requested ML instances")
        run.wait(PHASES["launch"])
        transition(live_job(run), "InProgress", "Starting", "Preparing the instances for training")
        run.wait(PHASES["launch"] / 2)
        run.started = time.monotonic()
        live_job(run).training_start_time = utcnow()
        transition(live_job(run), "InProgress", "Downloading", "Downloading input data")
        # Hosts come up one after another; their streams appear as they start.
        run.add_host()
        run.log("sagewiz sandbox: this job runs on this machine in an emulator, not on SageMaker.")
        creds = role_credentials(run)
        algo = algorithm_for(req)
        check_s3_route(run)
        data = download_channels(run, creds, algo)
        run.wait(PHASES["downloading"])
        for _ in range(2, count + 1):
            run.log(
                "sagewiz sandbox: this job runs on this machine in an emulator, not on SageMaker.",
                [run.add_host()],
            )
        transition(live_job(run), "InProgress", "Training", "Downloading the training image")
        run.wait(PHASES["image"])
        transition(
            live_job(run),
            "InProgress",
            "Training",
            "Training image download completed. Training in progress.",
        )
        deadline = run.started + max_runtime
        if algo == "image-classification":
            model_files = train_image_classifier(run, data, deadline)
        else:
            model_files = train_xgboost(run, data, deadline)
        run.flush()
        transition(live_job(run), "InProgress", "Uploading", "Uploading generated training model")
        run.wait(PHASES["uploading"])
        upload_model(run, creds, model_files)
        _finish(run, "Completed", "Completed", "Training job completed")
    except Stopped:
        run.log(f"[{stamp()}:INFO] Received SIGTERM; stopping.")
        _finish(run, "Stopped", "Stopped", "Training job stopped")
    except MaxRuntime:
        run.log(f"[{stamp()}:INFO] Received SIGTERM: MaxRuntimeInSeconds reached.")
        _finish(
            run,
            "Stopped",
            "MaxRuntimeExceeded",
            "Training job stopped: MaxRuntimeInSeconds exceeded",
            metrics=True,
        )
    except JobFailure as f:
        _fail(run, f.reason)


def _fail(run: Run, reason: str) -> None:
    run.log(f"[{stamp()}:ERROR] {reason}")
    run.flush()
    job = live_job(run)
    job.failure_reason = reason
    _finish(run, "Failed", "Failed", "Training job failed")


def _finish(run: Run, status: str, secondary: str, message: str, metrics: bool = True) -> None:
    run.flush()
    job = live_job(run)
    now = utcnow()
    if job.training_start_time is not None:
        seconds = max(1, int(math.ceil(time.monotonic() - run.started))) if run.started else 1
        job.training_time_in_seconds = seconds
        # Billed per instance second; spot capacity here is never interrupted, so no savings shown.
        job.billable_time_in_seconds = seconds * len(run.hosts or [None])
        job.training_end_time = now
    if metrics:
        job.final_metric_data_list = final_metrics(job.algorithm_specification, run.lines, algorithm_for(run.request), now) or None  # fmt: skip
    transition(job, status, secondary, message)


def final_metrics(
    algo_spec: dict[str, Any], lines: list[str], algo_id: str, when: Any
) -> list[dict[str, Any]]:
    """Last value of each metric definition found in the log lines (what SageMaker reports)."""
    defs = algo_spec.get("MetricDefinitions") or []
    if not defs:
        from services.algorithms import get

        try:
            defs = [m.as_api() for m in get(algo_id).metrics]
        except KeyError:
            defs = []
    out = []
    for d in defs:
        rx = re.compile(d["Regex"])
        value = None
        for line in lines:
            m = rx.match(line)
            if m:
                try:
                    value = float(m.group(1))
                except (ValueError, IndexError):
                    continue
        if value is not None:
            out.append({"MetricName": d["Name"], "Value": value, "Timestamp": when})
    return out


def algorithm_for(req: dict[str, Any]) -> str:
    image = str((req.get("AlgorithmSpecification") or {}).get("TrainingImage") or "")
    repo = image.rsplit("/", 1)[-1].split(":", 1)[0]
    return "image-classification" if repo == "image-classification" else "xgboost"


def wait_for(account: str, region: str, name: str, timeout: float = 60.0,
             sleep: Callable[[float], None] = time.sleep) -> str:  # fmt: skip
    """Block until the job ends (for benches and in-process helpers); returns the status."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = sm_backend(account, region).training_jobs.get(name)
        if job is not None and job.training_job_status in _TERMINAL:
            return str(job.training_job_status)
        sleep(0.05)
    return "InProgress"
