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

import contextlib
import io
import json
import math
import os
import re
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.sandbox import jobs

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
_TERMINAL = ("Completed", "Failed", "Stopped")

# Seconds each phase takes in the sandbox, multiplied by PACE (tests set it to 0).
PACE = float(os.environ.get("SAGEWIZ_SANDBOX_PACE", "1.0"))
_PHASES = {"starting": 1.2, "launch": 1.0, "downloading": 1.0, "image": 0.8, "uploading": 0.8}
_ROUND_SECONDS = 4.0  # a training run is spread over about this long so it can be watched


def set_pace(value: float) -> float:
    """Scale the sandbox's artificial phase durations (0: as fast as possible); returns the old value."""
    global PACE
    old, PACE = PACE, value
    return old


@dataclass
class _Run:
    account: str
    region: str
    name: str
    request: dict[str, Any]
    generation: int
    stop: threading.Event = field(default_factory=threading.Event)
    user_stop: threading.Event = field(default_factory=threading.Event)
    hosts: list[_HostLog] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # algo-1's lines, for the metric regexes
    started: float = 0.0


_runs: dict[tuple[str, str, str], _Run] = {}
_runs_lock = threading.Lock()


# -- moto access ------------------------------------------------------------------------------
def _sm_backend(account: str, region: str) -> Any:
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[account][region]


def _logs_backend(account: str, region: str) -> Any:
    from moto.logs.models import logs_backends

    return logs_backends[account][region]


def _utcnow() -> Any:
    from moto.core.utils import utcnow

    return utcnow()


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
    backend = _sm_backend(account_id, region)
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
    now = _utcnow()
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
    run = _Run(account_id, region, name, request, jobs.generation())
    with _runs_lock:
        _runs[(account_id, region, name)] = run
    run.stop = jobs.spawn(f"train-{name}", lambda stop: _execute(run, stop))
    return str(job.arn)


def stop_training_job(account_id: str, region: str, name: str) -> None:
    """StopTrainingJob: only an InProgress job can be stopped (ValidationException otherwise)."""
    backend = _sm_backend(account_id, region)
    job = backend.training_jobs.get(name)
    if job is None:
        arn = f"arn:aws:sagemaker:{region}:{account_id}:training-job/{name}"
        raise _validation(f"Requested resource not found: Could not find training job '{arn}'.")
    if job.training_job_status != "InProgress":
        raise _validation(
            f"The request was rejected because the training job is in status {job.training_job_status}."
        )
    _transition(job, "Stopping", "Stopping", "Stopping the training job")
    with _runs_lock:
        run = _runs.get((account_id, region, name))
    if run is not None:
        run.user_stop.set()
    else:  # a job from before this process (should not happen): stop it outright
        _transition(job, "Stopped", "Stopped", "Training job stopped")


# -- create-time checks -------------------------------------------------------------------------
def _check_request(account: str, region: str, req: dict[str, Any]) -> None:
    role_arn = str(req.get("RoleArn") or "")
    if not re.match(r"^arn:aws[a-z\-]*:iam::\d{12}:role/", role_arn):
        raise _validation(f"1 validation error detected: Value '{role_arn}' at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws[a-z\\-]*:iam::\\d{{12}}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$")  # fmt: skip
    if _find_role(account, role_arn) is None:
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


def _find_role(account: str, role_arn: str) -> Any:
    from moto.iam.models import iam_backends

    for key in ("aws", "global"):
        try:
            backend = iam_backends[account][key]
        except KeyError:
            continue
        try:
            return backend.get_role_by_arn(role_arn)
        except Exception:
            return None
    return None


# -- status bookkeeping -------------------------------------------------------------------------
def _transition(job: Any, status: str, secondary: str, message: str) -> None:
    now = _utcnow()
    transitions = list(job.secondary_status_transitions or [])
    if transitions and transitions[-1]["Status"] == secondary:
        transitions[-1] = {**transitions[-1], "StatusMessage": message}
    else:
        if transitions and "EndTime" not in transitions[-1]:
            transitions[-1] = {**transitions[-1], "EndTime": now}
        entry = {"Status": secondary, "StartTime": now, "StatusMessage": message}
        if secondary in ("Completed", "Failed", "Stopped", "MaxRuntimeExceeded", "MaxWaitTimeExceeded"):
            entry["EndTime"] = now
        transitions.append(entry)
    job.secondary_status_transitions = transitions
    job.training_job_status = status
    job.secondary_status = secondary
    job.last_modified_time = now


def _job(run: _Run) -> Any:
    if jobs.generation() != run.generation:
        raise _Abandoned()
    job = _sm_backend(run.account, run.region).training_jobs.get(run.name)
    if job is None:
        raise _Abandoned()
    return job


class _Abandoned(Exception):
    """The sandbox was reset under the run: stop touching state."""


class _JobFailure(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Stopped(Exception):
    pass


# -- logs ---------------------------------------------------------------------------------------
class _HostLog:
    """One host's log stream; lines are buffered and put in order with non-decreasing timestamps."""

    def __init__(self, run: _Run, host: int) -> None:
        self.run = run
        self.stream = f"{run.name}/algo-{host}-{int(time.time())}"
        self._buf: list[dict[str, Any]] = []
        self._last = 0
        backend = _logs_backend(run.account, run.region)
        if LOG_GROUP not in backend.groups:
            with contextlib.suppress(Exception):  # created by a parallel run
                backend.create_log_group(LOG_GROUP, {})
        backend.create_log_stream(LOG_GROUP, self.stream)

    def write(self, line: str) -> None:
        ts = max(int(time.time() * 1000), self._last)
        self._last = ts
        self._buf.append({"timestamp": ts, "message": line})
        if len(self._buf) >= 200:
            self.flush()

    def flush(self) -> None:
        if not self._buf or jobs.generation() != self.run.generation:
            self._buf.clear()
            return
        batch, self._buf = self._buf, []
        _logs_backend(self.run.account, self.run.region).put_log_events(LOG_GROUP, self.stream, batch)


def _log_all(run: _Run, line: str, hosts: list[_HostLog] | None = None) -> None:
    for h in hosts if hosts is not None else run.hosts:
        h.write(line)
    run.lines.append(line)


def _flush(run: _Run) -> None:
    for h in run.hosts:
        h.flush()


def _stamp() -> str:
    return time.strftime("%Y-%m-%d:%H:%M:%S", time.gmtime())


# -- the run --------------------------------------------------------------------------------------
def _wait(run: _Run, seconds: float) -> None:
    """Wait, but wake for a stop (user: raise _Stopped; reset: raise _Abandoned)."""
    deadline = time.monotonic() + seconds * PACE
    while True:
        if run.stop.is_set():
            raise _Abandoned()
        if run.user_stop.is_set():
            raise _Stopped()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        run.user_stop.wait(min(left, 0.1))


def _execute(run: _Run, stop: threading.Event) -> None:
    run.stop = stop
    try:
        _execute_inner(run)
    except _Abandoned:
        return
    except Exception as exc:  # nothing may kill the server thread silently
        try:
            _fail(run, f"InternalServerError: the sandbox runner failed: {type(exc).__name__}: {exc}")
        except _Abandoned:
            return


def _execute_inner(run: _Run) -> None:
    req = run.request
    rc = req.get("ResourceConfig") or {}
    count = int(rc.get("InstanceCount") or 1)
    max_runtime = int((req.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds") or 86400)
    try:
        _wait(run, _PHASES["starting"])
        _transition(_job(run), "InProgress", "Starting", "Launching requested ML instances")
        _wait(run, _PHASES["launch"])
        _transition(_job(run), "InProgress", "Starting", "Preparing the instances for training")
        _wait(run, _PHASES["launch"] / 2)
        run.started = time.monotonic()
        _job(run).training_start_time = _utcnow()
        _transition(_job(run), "InProgress", "Downloading", "Downloading input data")
        # Hosts come up one after another; their streams appear as they start.
        run.hosts.append(_HostLog(run, 1))
        _log_all(run, "sagewiz sandbox: this job runs on this machine in an emulator, not on SageMaker.")
        creds = _role_credentials(run)
        algo = _algorithm_for(req)
        data = _download_channels(run, creds, algo)
        _wait(run, _PHASES["downloading"])
        for host in range(2, count + 1):
            run.hosts.append(_HostLog(run, host))
            _log_all(run, "sagewiz sandbox: this job runs on this machine in an emulator, not on SageMaker.",
                     [run.hosts[-1]])  # fmt: skip
        _transition(_job(run), "InProgress", "Training", "Downloading the training image")
        _wait(run, _PHASES["image"])
        _transition(
            _job(run), "InProgress", "Training", "Training image download completed. Training in progress."
        )
        deadline = run.started + max_runtime
        if algo == "image-classification":
            model_files = _train_image_classifier(run, data, deadline)
        else:
            model_files = _train_xgboost(run, data, deadline)
        _flush(run)
        _transition(_job(run), "InProgress", "Uploading", "Uploading generated training model")
        _wait(run, _PHASES["uploading"])
        _upload_model(run, creds, model_files)
        _finish(run, "Completed", "Completed", "Training job completed")
    except _Stopped:
        _log_all(run, f"[{_stamp()}:INFO] Received SIGTERM; stopping.")
        _finish(run, "Stopped", "Stopped", "Training job stopped")
    except _MaxRuntime:
        _log_all(run, f"[{_stamp()}:INFO] Received SIGTERM: MaxRuntimeInSeconds reached.")
        _finish(
            run,
            "Stopped",
            "MaxRuntimeExceeded",
            "Training job stopped: MaxRuntimeInSeconds exceeded",
            metrics=True,
        )
    except _JobFailure as f:
        _fail(run, f.reason)


class _MaxRuntime(Exception):
    pass


def _fail(run: _Run, reason: str) -> None:
    _log_all(run, f"[{_stamp()}:ERROR] {reason}")
    _flush(run)
    job = _job(run)
    job.failure_reason = reason
    _finish(run, "Failed", "Failed", "Training job failed")


def _finish(run: _Run, status: str, secondary: str, message: str, metrics: bool = True) -> None:
    _flush(run)
    job = _job(run)
    now = _utcnow()
    if job.training_start_time is not None:
        seconds = max(1, int(math.ceil(time.monotonic() - run.started))) if run.started else 1
        job.training_time_in_seconds = seconds
        # Billed per instance second; spot capacity here is never interrupted, so no savings shown.
        job.billable_time_in_seconds = seconds * len(run.hosts or [None])
        job.training_end_time = now
    if metrics:
        job.final_metric_data_list = final_metrics(job.algorithm_specification, run.lines, _algorithm_for(run.request), now) or None  # fmt: skip
    _transition(job, status, secondary, message)


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


# -- inputs -----------------------------------------------------------------------------------------
def _algorithm_for(req: dict[str, Any]) -> str:
    image = str((req.get("AlgorithmSpecification") or {}).get("TrainingImage") or "")
    repo = image.rsplit("/", 1)[-1].split(":", 1)[0]
    return "image-classification" if repo == "image-classification" else "xgboost"


_cred_cache: dict[tuple[int, str, str], Any] = {}


def _role_credentials(run: _Run) -> Any:
    """Credentials of the execution role, minted the way SageMaker assumes it."""
    from services.session import StaticCredentials

    role_arn = run.request["RoleArn"]
    key = (run.generation, run.account, role_arn)
    cached = _cred_cache.get(key)
    if cached is not None:
        return cached
    if _find_role(run.account, role_arn) is None:
        raise _JobFailure(f"ClientError: SageMaker was unable to assume the role {role_arn}. The role may have been deleted.")  # fmt: skip
    from moto.sts.models import sts_backends

    backend = None
    for part in ("aws", "global"):
        try:
            backend = sts_backends[run.account][part]
            break
        except KeyError:
            continue
    if backend is None:
        raise _JobFailure("InternalServerError: the sandbox could not assume the execution role.")
    # moto annotates policy and external_id as str, yet its own STS handler passes None for absent ones.
    assumed = backend.assume_role(
        region_name=run.region, role_session_name="SageMaker", role_arn=role_arn, duration=43200,
        policy=None, external_id=None,  # type: ignore[arg-type]
    )  # fmt: skip
    creds = StaticCredentials(assumed.access_key_id, assumed.secret_access_key, assumed.session_token)
    _cred_cache[key] = creds
    return creds


def _role_s3(run: _Run, creds: Any) -> Any:
    from services.sandbox.world import serving_endpoint
    from services.session import AwsTarget, SessionFactory

    target = AwsTarget(region=run.region, endpoint_url=serving_endpoint(), credentials=creds, sandbox=True)
    return SessionFactory(target).client("s3")


def _split(uri: str) -> tuple[str, str]:
    rest = uri[len("s3://") :] if uri.startswith("s3://") else uri
    bucket, _, key = rest.partition("/")
    return bucket, key


def _code(exc: Exception) -> str:
    resp = getattr(exc, "response", None) or {}
    code = str((resp.get("Error") or {}).get("Code") or type(exc).__name__)
    msg = str((resp.get("Error") or {}).get("Message") or "")
    if "<Code>" in msg:  # moto's XML body inside a JSON error
        m = re.search(r"<Code>([^<]+)</Code>", msg)
        code = m.group(1) if m else code
    if code in ("403", "Forbidden"):
        code = "AccessDenied"
    return code


def _download_channels(run: _Run, creds: Any, algo: str) -> dict[str, list[tuple[str, bytes]]]:
    """{channel: [(s3 uri, bytes)]} read as the role; failures are worded like the service's."""
    s3 = _role_s3(run, creds)
    out: dict[str, list[tuple[str, bytes]]] = {}
    for ch in run.request.get("InputDataConfig") or []:
        name = ch.get("ChannelName", "")
        src = (ch.get("DataSource") or {}).get("S3DataSource") or {}
        uri, kind = str(src.get("S3Uri") or ""), src.get("S3DataType", "S3Prefix")
        bucket, prefix = _split(uri)
        objects: list[tuple[str, bytes]] = []
        if kind == "S3Prefix":
            keys: list[str] = []
            try:
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                    keys.extend(o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/"))
            except Exception as exc:
                code = _code(exc)
                if code not in ("AccessDenied", "NoSuchBucket"):
                    raise _JobFailure(f"ClientError: Data download failed:Unable to list s3://{bucket}/{prefix} ({code})") from exc  # fmt: skip
            if not keys:
                raise _JobFailure(
                    f'ClientError: No S3 objects found under S3 URL "{uri}" given in input data source. Please '
                    f"ensure that the bucket exists in the selected region ({run.region}), that objects exist "
                    f'under that S3 prefix, and that the role "{run.request["RoleArn"]}" has "s3:ListBucket" '
                    f'permissions on bucket "{bucket}".'
                )
        else:  # ManifestFile / AugmentedManifestFile: the manifest itself is the input
            keys = [prefix]
        for key in keys:
            objects.append((f"s3://{bucket}/{key}", _get(s3, bucket, key)))
        if kind == "AugmentedManifestFile":
            objects = _resolve_manifest(s3, objects[0][1], src.get("AttributeNames") or [])
        out[name] = objects
        _log_all(run, f"[{_stamp()}:INFO] Channel {name}: {len(objects)} object(s) from {uri}")
    if "train" not in out:
        raise _JobFailure("ClientError: Unable to find a 'train' channel. Please provide a train channel.")
    return out


def _get(s3: Any, bucket: str, key: str) -> bytes:
    try:
        body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        raise _JobFailure(
            f"ClientError: Data download failed:Unable to download object s3://{bucket}/{key} "
            f"({_code(exc)}: {'Access Denied' if _code(exc) == 'AccessDenied' else 'Not Found'})"
        ) from exc
    return body


def _resolve_manifest(s3: Any, manifest: bytes, attributes: list[str]) -> list[tuple[str, bytes]]:
    """Augmented manifest lines -> [(label json, image bytes)]: the record the algorithm reads."""
    if len(attributes) < 2:
        raise _JobFailure(
            "ClientError: AttributeNames must name the image (source-ref) and the label attribute."
        )
    src_attr, label_attr = attributes[0], attributes[1]
    out = []
    for n, raw in enumerate(manifest.decode("utf-8", "replace").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except ValueError as exc:
            raise _JobFailure(
                f"ClientError: Unable to parse line {n} of the augmented manifest as JSON."
            ) from exc
        if src_attr not in rec or label_attr not in rec:
            missing = src_attr if src_attr not in rec else label_attr
            raise _JobFailure(
                f"ClientError: Attribute '{missing}' not found in line {n} of the augmented manifest."
            )
        bucket, key = _split(str(rec[src_attr]))
        out.append((json.dumps(rec[label_attr]), _get(s3, bucket, key)))
    return out


# -- training: XGBoost --------------------------------------------------------------------------------
_XGB_ONLY_SERVICE = {
    "num_round", "early_stopping_rounds", "csv_weights", "save_model_on_termination", "_tuning_objective_metric",
    "eval_metric", "_kfold", "_num_cv_round", "deterministic_histogram", "single_precision_histogram",
    "lambda_bias", "predictor", "updater", "use_dask_gpu_training", "prob_buffer_row", "verbosity",
}  # fmt: skip


def _matrix(run: _Run, objects: list[tuple[str, bytes]], content_type: str, weights: bool) -> Any:
    import numpy as np
    import xgboost as xgb

    if "libsvm" in content_type:
        import tempfile

        with tempfile.NamedTemporaryFile("wb", suffix=".libsvm", delete=False) as fh:
            for _, body in objects:
                fh.write(body if body.endswith(b"\n") else body + b"\n")
            path = fh.name
        try:
            return xgb.DMatrix(f"{path}?format=libsvm")
        finally:
            os.unlink(path)
    rows = []
    for uri, body in objects:
        try:
            arr = np.loadtxt(io.BytesIO(body), delimiter=",", ndmin=2, dtype=np.float64)
        except ValueError as exc:
            raise _JobFailure(f"ClientError: Unable to read data channel {uri} as CSV (label first, no header): {exc}") from exc  # fmt: skip
        if arr.size:
            rows.append(arr)
    if not rows:
        raise _JobFailure("ClientError: The data channel holds no rows.")
    data = np.vstack(rows)
    if weights:
        return xgb.DMatrix(data[:, 2:], label=data[:, 0], weight=data[:, 1])
    return xgb.DMatrix(data[:, 1:], label=data[:, 0])


def _train_xgboost(run: _Run, data: dict[str, list[tuple[str, bytes]]], deadline: float) -> dict[str, bytes]:
    import xgboost as xgb

    from services.algorithms import xgboost as spec

    hp = {k: str(v) for k, v in (run.request.get("HyperParameters") or {}).items()}
    errors = spec.validate(hp, channels=list(data))
    if errors:
        field_name, message = next(iter(errors.items()))
        raise _JobFailure(f"ClientError: Hyperparameter validation failed for '{field_name}': {message}")
    ct = {c["ChannelName"]: str(c.get("ContentType") or "text/libsvm") for c in run.request.get("InputDataConfig") or []}  # fmt: skip
    weights = hp.get("csv_weights") == "1"
    _log_all(run, f"[{_stamp()}:INFO] Imported framework sagemaker_xgboost_container.training")
    _log_all(run, f"[{_stamp()}:INFO] Running XGBoost Sagemaker in algorithm mode (sandbox: xgboost {xgb.__version__} on CPU)")  # fmt: skip
    dtrain = _matrix(run, data["train"], ct.get("train", ""), weights)
    _log_all(
        run, f"[{_stamp()}:INFO] Train matrix has {dtrain.num_row()} rows and {dtrain.num_col()} columns"
    )
    evals = [(dtrain, "train")]
    if "validation" in data:
        dval = _matrix(run, data["validation"], ct.get("validation", ""), weights)
        _log_all(run, f"[{_stamp()}:INFO] Validation matrix has {dval.num_row()} rows")
        evals.append((dval, "validation"))
    hosts = len(run.hosts)
    _log_all(run, f"[{_stamp()}:INFO] {'Distributed node training with ' + str(hosts) + ' hosts' if hosts > 1 else 'Single node training.'}")  # fmt: skip
    params: dict[str, Any] = {}
    for k, v in hp.items():
        hpspec = next((h for h in spec.HYPERPARAMETERS if h.name == k or k in h.aliases), None)
        if k in _XGB_ONLY_SERVICE or k.startswith("_") or hpspec is None:
            continue
        params[hpspec.name] = v
    if params.get("objective") == "reg:linear":
        params["objective"] = "reg:squarederror"
    if params.get("tree_method") == "gpu_hist":
        params["tree_method"] = "hist"
        _log_all(run, f"[{_stamp()}:WARNING] sandbox: no GPU here; tree_method gpu_hist runs as hist.")
    params["eval_metric"] = spec.eval_metrics(hp)
    params.setdefault("verbosity", "0")
    # One thread: OpenMP workers spin after each round and would starve the emulator and the UI
    # sharing this machine (observed: 30x slower rounds with nthread=2 beside a running TUI).
    params["nthread"] = "1"
    num_round = int(hp.get("num_round", "1"))
    per_round = _ROUND_SECONDS / max(num_round, 1)

    class Monitor(xgb.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            parts = [f"[{epoch}]"]
            for data_name, metrics in evals_log.items():
                for metric, values in metrics.items():
                    parts.append(f"{data_name}-{metric}:{values[-1]:.5f}")
            _log_all(run, "#011".join(parts))
            if (epoch + 1) % 10 == 0:
                _flush(run)
            if time.monotonic() > deadline:
                raise _MaxRuntime()
            _wait(run, per_round)
            return False

    kwargs: dict[str, Any] = {}
    if hp.get("early_stopping_rounds"):
        kwargs["early_stopping_rounds"] = int(hp["early_stopping_rounds"])
    try:
        booster = xgb.train(params, dtrain, num_boost_round=num_round, evals=evals, callbacks=[Monitor()],
                            verbose_eval=False, **kwargs)  # fmt: skip
    except (_Stopped, _MaxRuntime, _Abandoned, _JobFailure):
        raise
    except xgb.core.XGBoostError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "XGBoost error"
        raise _JobFailure(f"AlgorithmError: framework error: {first}") from exc
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "xgboost-model.ubj")
        booster.save_model(path)
        with open(path, "rb") as fh:
            return {"xgboost-model": fh.read()}


# -- training: image classification ----------------------------------------------------------------
def _train_image_classifier(
    run: _Run, data: dict[str, list[tuple[str, bytes]]], deadline: float
) -> dict[str, bytes]:
    import numpy as np

    from services.algorithms import image_classification as spec
    from services.sandbox.images import features

    hp = {k: str(v) for k, v in (run.request.get("HyperParameters") or {}).items()}
    errors = spec.validate(hp, channels=list(data))
    if errors:
        field_name, message = next(iter(errors.items()))
        raise _JobFailure(f"ClientError: Hyperparameter validation failed for '{field_name}': {message}")
    n_classes = int(hp["num_classes"])

    def load(records: list[tuple[str, bytes]]) -> tuple[Any, Any]:
        xs, ys = [], []
        for label_json, img in records:
            label = json.loads(label_json)
            if isinstance(label, list):
                label = label[0] if label else 0
            y = int(label)
            if not 0 <= y < n_classes:
                raise _JobFailure(f"ClientError: Label {y} is out of range for num_classes {n_classes}.")
            xs.append(features(img))
            ys.append(y)
        return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.int64)

    xtr, ytr = load(data["train"])
    xva, yva = load(data["validation"]) if "validation" in data else (xtr, ytr)
    mean, std = xtr.mean(axis=0), xtr.std(axis=0) + 1e-6
    xtr, xva = (xtr - mean) / std, (xva - mean) / std
    _log_all(run, f"[{_stamp()}:INFO] sandbox learner: softmax regression on 27 colour-layout features "
                  f"(stands in for the ResNet); {len(ytr)} training and {len(yva)} validation images")  # fmt: skip
    epochs = int(hp.get("epochs", "30"))
    lr = float(hp.get("learning_rate", "0.1"))
    batch = max(1, min(int(hp.get("mini_batch_size", "32")), len(ytr)))
    momentum = float(hp.get("momentum", "0.9")) if hp.get("optimizer", "sgd") in ("sgd", "nag") else 0.0
    wd = float(hp.get("weight_decay", "0.0001"))
    rng = np.random.default_rng(0)
    w = np.zeros((xtr.shape[1], n_classes))
    b = np.zeros(n_classes)
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    per_epoch = _ROUND_SECONDS / max(epochs, 1)

    def acc(x: Any, y: Any) -> float:
        return float(np.mean(np.argmax(x @ w + b, axis=1) == y)) if len(y) else 0.0

    for epoch in range(epochs):
        t0 = time.monotonic()
        order = rng.permutation(len(ytr))
        for start in range(0, len(ytr), batch):
            idx = order[start : start + batch]
            logits = xtr[idx] @ w + b
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(idx)), ytr[idx]] -= 1
            gw = xtr[idx].T @ p / len(idx) + wd * w
            gb = p.mean(axis=0)
            vw = momentum * vw - lr * gw
            vb = momentum * vb - lr * gb
            w, b = w + vw, b + vb
        _log_all(run, f"Epoch[{epoch}] Train-accuracy={acc(xtr, ytr):.6f}")
        _log_all(run, f"Epoch[{epoch}] Time cost={time.monotonic() - t0:.3f}")
        _log_all(run, f"Epoch[{epoch}] Validation-accuracy={acc(xva, yva):.6f}")
        _flush(run)
        if time.monotonic() > deadline:
            raise _MaxRuntime()
        _wait(run, per_epoch)
    buf = io.BytesIO()
    np.savez(buf, weights=w, bias=b, mean=mean, std=std)
    return {"sandbox-softmax-params.npz": buf.getvalue()}


# -- output ---------------------------------------------------------------------------------------------
def _upload_model(run: _Run, creds: Any, files: dict[str, bytes]) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(body))
    out = str((run.request.get("OutputDataConfig") or {}).get("S3OutputPath") or "").rstrip("/")
    uri = f"{out}/{run.name}/output/model.tar.gz"
    bucket, key = _split(uri)
    try:
        _role_s3(run, creds).put_object(Bucket=bucket, Key=key, Body=buf.getvalue())
    except Exception as exc:
        code = _code(exc)
        if code == "AccessDenied":
            raise _JobFailure(
                f"ClientError: Failed to upload model artifact to {uri}: An error occurred (AccessDenied) when "
                "calling the PutObject operation: Access Denied. Please make sure the execution role has "
                "s3:PutObject permission on the output path."
            ) from exc
        raise _JobFailure(f"ClientError: Failed to upload model artifact to {uri} ({code}).") from exc
    _job(run).model_artifacts = {"S3ModelArtifacts": uri}


def wait_for(account: str, region: str, name: str, timeout: float = 60.0,
             sleep: Callable[[float], None] = time.sleep) -> str:  # fmt: skip
    """Block until the job ends (for benches and in-process helpers); returns the status."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = _sm_backend(account, region).training_jobs.get(name)
        if job is not None and job.training_job_status in _TERMINAL:
            return str(job.training_job_status)
        sleep(0.05)
    return "InProgress"
