"""Hyperparameter tuning jobs that really tune, in the sandbox.

moto answers CreateHyperParameterTuningJob with a job that is Completed at once, with a canned
BestTrainingJob and no children, and lacks ListTrainingJobsForHyperParameterTuningJob and
StopHyperParameterTuningJob. This extension keeps moto's record (names, ARN, duplicate check,
List/Delete) but drives it from a runner thread per tuning job:

- children are chosen by a real search strategy (`services.tuning.search`: Random, Grid, a
  local search standing in for Bayesian, Random plus rung-wise median stopping for Hyperband);
- at most MaxParallelTrainingJobs run at once, up to MaxNumberOfTrainingJobs (or the grid);
- every child is a real training run, started with the Train step's sandbox runner
  (`services.sandbox.trainer.submit_training_job`) and named like SageMaker's
  (`<tuning-job>-<NNN>-<8 hex>`), with `_tuning_objective_metric` added to its hyperparameters;
- early stopping (TrainingJobEarlyStoppingType=Auto) applies the documented median rule to the
  objective values each child writes to its CloudWatch log;
- TrainingJobStatusCounters, ObjectiveStatusCounters and BestTrainingJob are computed from the
  children's real statuses and objective values; the job ends Completed (or Stopped).

Like the XGBoost container, which evaluates `_tuning_objective_metric` besides its eval_metric,
a child whose eval_metric would not print the objective gets it appended to eval_metric.

About 600 lines and one concern: one emulated API and the runner that drives its records; the
search strategies already live in services.tuning.search and the training in the sandbox trainer.
"""

from __future__ import annotations

import base64
import contextlib
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.sandbox import jobs
from services.sandbox.extensions import add_operation, wrap_method

TICK_SECONDS = 0.2  # how often a runner looks at its children
LOG_GROUP = "/aws/sagemaker/TrainingJobs"


@dataclass
class Child:
    name: str
    arn: str
    tuned: dict[str, str]
    created: datetime
    failure: str = ""  # when submitting it failed
    early_stopped: bool = False
    final: dict[str, Any] | None = None  # summary frozen once terminal


@dataclass
class TuningRun:
    account: str
    region: str
    name: str
    arn: str
    config: dict[str, Any]
    definition: dict[str, Any]
    created: datetime
    warm_start: dict[str, Any] | None = None
    children: list[Child] = field(default_factory=list)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def objective(self) -> dict[str, str]:
        return self.config.get("HyperParameterTuningJobObjective") or {}


_runs: dict[tuple[str, str, str], TuningRun] = {}
_runs_lock = threading.Lock()


# -- moto access ----------------------------------------------------------------------------------
def _backend(account: str, region: str) -> Any:
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[account][region]


def _now() -> datetime:
    from moto.core.utils import utcnow

    return utcnow()


def _validation(message: str) -> Exception:
    from moto.sagemaker.exceptions import ValidationError

    return ValidationError(message=message)


# -- the child runner (the Train step's, or the minimal one below) ---------------------------------
def _trainer() -> Any:
    try:
        from services.sandbox import trainer
    except ImportError:
        return None
    return trainer if hasattr(trainer, "submit_training_job") else None


def submit_child(account: str, region: str, request: dict[str, Any], tuning_arn: str) -> str:
    t = _trainer()
    if t is None:
        raise RuntimeError("the sandbox training runner is not available")
    return str(t.submit_training_job(account, region, request, tuning_job_arn=tuning_arn))


def stop_child(account: str, region: str, name: str) -> None:
    t = _trainer()
    if t is None:
        return
    with contextlib.suppress(Exception):  # it finished meanwhile: nothing to stop
        t.stop_training_job(account, region, name)


def _job(account: str, region: str, name: str) -> Any:
    return _backend(account, region).training_jobs.get(name)


# -- reading a child ------------------------------------------------------------------------------
def _metric_pattern(metric: str) -> re.Pattern[str]:
    channel, _, name = metric.partition(":")
    from services.algorithms.spec import NUMBER

    return re.compile(rf".*\[[0-9]+\].*#011{re.escape(channel)}-{re.escape(name)}:{NUMBER}.*")


def objective_history(account: str, region: str, job_name: str, metric: str) -> list[float]:
    """The objective value at each iteration, read from the child's CloudWatch log as SageMaker
    reads metrics (the metric's regex over the log lines)."""
    from moto.logs.models import logs_backends

    group = logs_backends[account][region].groups.get(LOG_GROUP)
    if group is None:
        return []
    pattern = _metric_pattern(metric)
    values: list[float] = []
    for stream_name, stream in list(group.streams.items()):
        if not stream_name.startswith(job_name + "/"):
            continue
        for event in list(stream.events):
            m = pattern.match(event.message)
            if m:
                values.append(float(m.group(1)))
    return values


def _final_objective(account: str, region: str, job: Any, metric: str) -> float | None:
    for m in getattr(job, "final_metric_data_list", None) or []:
        if m.get("MetricName") == metric:
            return float(m["Value"])
    history = objective_history(account, region, job.training_job_name, metric)
    return history[-1] if history else None


def _summary(run: TuningRun, child: Child) -> dict[str, Any]:
    """A HyperParameterTrainingJobSummary for one child, from its live training job."""
    if child.final is not None:
        return child.final
    metric = run.objective.get("MetricName", "")
    base: dict[str, Any] = {
        "TrainingJobName": child.name,
        "TrainingJobArn": child.arn,
        "TuningJobName": run.name,
        "CreationTime": child.created,
        "TunedHyperParameters": dict(child.tuned),
    }
    job = _job(run.account, run.region, child.name)
    if job is None:
        base.update(
            TrainingJobStatus="Failed", FailureReason=child.failure or "not started", ObjectiveStatus="Failed"
        )
        child.final = base
        return base
    status = getattr(job, "training_job_status", "InProgress")
    base["TrainingJobStatus"] = status
    if getattr(job, "training_start_time", None):
        base["TrainingStartTime"] = job.training_start_time
    if status in ("Completed", "Failed", "Stopped") and getattr(job, "training_end_time", None):
        base["TrainingEndTime"] = job.training_end_time
    if getattr(job, "failure_reason", None):
        base["FailureReason"] = job.failure_reason
    if status in ("Completed", "Stopped"):
        value = _final_objective(run.account, run.region, job, metric)
        if value is None:
            base["ObjectiveStatus"] = "Failed"
        else:
            base["ObjectiveStatus"] = "Succeeded"
            base["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": run.objective.get("Type", "Minimize"),
                "MetricName": metric,
                "Value": value,
            }
        child.final = base
    elif status == "Failed":
        base["ObjectiveStatus"] = "Failed"
        child.final = base
    else:
        base["ObjectiveStatus"] = "Pending"
    return base


# -- the runner -----------------------------------------------------------------------------------
def _child_name(run: TuningRun, index: int) -> str:
    return f"{run.name}-{index:03d}-{secrets.token_hex(4)}"


def _child_request(run: TuningRun, name: str, tuned: dict[str, str]) -> dict[str, Any]:
    d = run.definition
    hps = {**(d.get("StaticHyperParameters") or {}), **tuned}
    metric = run.objective.get("MetricName")
    if metric:
        hps["_tuning_objective_metric"] = metric
        _ensure_objective_evaluated(hps, metric, d)
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "HyperParameters": hps,
        "AlgorithmSpecification": dict(d.get("AlgorithmSpecification") or {}),
        "RoleArn": d.get("RoleArn", ""),
        "InputDataConfig": list(d.get("InputDataConfig") or []),
        "OutputDataConfig": dict(d.get("OutputDataConfig") or {}),
        "ResourceConfig": dict(d.get("ResourceConfig") or {}),
        "StoppingCondition": dict(d.get("StoppingCondition") or {}),
        "Tags": [{"Key": "sagewiz:tuning-job", "Value": run.name}],
    }
    if d.get("EnableManagedSpotTraining"):
        request["EnableManagedSpotTraining"] = True
    return request


def _ensure_objective_evaluated(hps: dict[str, str], metric: str, definition: dict[str, Any]) -> None:
    image = str((definition.get("AlgorithmSpecification") or {}).get("TrainingImage") or "")
    if "xgboost" not in image.rsplit("/", 1)[-1]:
        return
    from services.algorithms.xgboost import eval_metrics

    wanted = metric.partition(":")[2]
    current = eval_metrics(hps)
    if wanted and wanted not in current:
        hps["eval_metric"] = ",".join([*current, wanted])


def _run(run: TuningRun, stop: threading.Event) -> None:
    from services.tuning.search import Trial, should_stop_median, strategy_for

    gen = jobs.generation()
    cfg = run.config
    limits = cfg.get("ResourceLimits") or {}
    parallel = max(1, int(limits.get("MaxParallelTrainingJobs", 1)))
    direction = run.objective.get("Type", "Minimize")
    metric = run.objective.get("MetricName", "")
    strategy_name = cfg.get("Strategy", "Random")
    strategy = strategy_for(strategy_name, cfg.get("ParameterRanges") or {}, cfg.get("RandomSeed"))
    max_jobs = int(limits.get("MaxNumberOfTrainingJobs") or getattr(strategy, "size", 0) or 1)
    max_runtime = limits.get("MaxRuntimeInSeconds")
    early = cfg.get("TrainingJobEarlyStoppingType") == "Auto" or strategy_name == "Hyperband"
    hb = ((cfg.get("StrategyConfig") or {}).get("HyperbandStrategyConfig")) or {}
    min_resource = int(hb.get("MinResource") or 1)
    warm = warm_trials(run)  # parents' results seed the search (they are not children here)
    started = time.monotonic()
    exhausted = False
    stopping_sent = False

    def alive() -> bool:
        return not stop.is_set() and gen == jobs.generation()

    while alive():
        summaries = [_summary(run, c) for c in run.children]
        running = [s for s in summaries if s["TrainingJobStatus"] in ("InProgress", "Stopping")]
        timed_out = max_runtime is not None and time.monotonic() - started > float(max_runtime)
        if run.stop_requested.is_set() or timed_out:
            if not stopping_sent:
                for s in running:
                    stop_child(run.account, run.region, s["TrainingJobName"])
                stopping_sent = True
            if not running:
                _finish(run, "Stopped" if run.stop_requested.is_set() else "Completed")
                return
        else:
            if early and running:
                _early_stop(run, summaries, running, metric, direction, min_resource, should_stop_median)
            while not exhausted and len(run.children) < max_jobs and len(running) < parallel:
                trials = warm + [
                    Trial(
                        dict(s["TunedHyperParameters"]),
                        (s.get("FinalHyperParameterTuningJobObjectiveMetric") or {}).get("Value"),
                    )
                    for s in summaries
                ]
                values = strategy.next_values(trials, direction)
                if values is None:
                    exhausted = True
                    break
                child = _launch(run, values)
                summaries.append(_summary(run, child))
                running.append(summaries[-1])
            if (exhausted or len(run.children) >= max_jobs) and not running:
                _publish(run)
                _finish(run, "Completed")
                return
        _publish(run)
        stop.wait(TICK_SECONDS)


def warm_trials(run: TuningRun) -> list[Any]:
    """The finished children of the warm-start parents, as trials for the search strategy."""
    from services.tuning.search import Trial

    out: list[Any] = []
    for parent in (run.warm_start or {}).get("ParentHyperParameterTuningJobs") or []:
        prun = run_of(run.account, run.region, parent.get("HyperParameterTuningJobName", ""))
        if prun is None:
            continue
        for c in list(prun.children):
            s = _summary(prun, c)
            metric = s.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
            if metric.get("MetricName") == run.objective.get("MetricName"):
                out.append(Trial(dict(s["TunedHyperParameters"]), metric.get("Value")))
    return out


def _launch(run: TuningRun, values: dict[str, str]) -> Child:
    index = len(run.children) + 1
    name = _child_name(run, index)
    arn = f"arn:aws:sagemaker:{run.region}:{run.account}:training-job/{name}"
    child = Child(name=name, arn=arn, tuned=values, created=_now())
    with run.lock:
        run.children.append(child)
    try:
        submit_child(run.account, run.region, _child_request(run, name, values), run.arn)
    except Exception as exc:  # a child that cannot start counts as failed, like SageMaker's
        child.failure = f"{type(exc).__name__}: {exc}"[:1024]
    return child


def _early_stop(
    run: TuningRun,
    summaries: list[dict[str, Any]],
    running: list[dict[str, Any]],
    metric: str,
    direction: str,
    min_resource: int,
    rule: Callable[..., bool],
) -> None:
    finished = [
        objective_history(run.account, run.region, s["TrainingJobName"], metric)
        for s in summaries
        if s["TrainingJobStatus"] in ("Completed", "Stopped")
    ]
    for s in running:
        if s["TrainingJobStatus"] != "InProgress":
            continue
        current = objective_history(run.account, run.region, s["TrainingJobName"], metric)
        if len(current) < max(2, min_resource):
            continue
        if rule(current, finished, direction):
            child = next(c for c in run.children if c.name == s["TrainingJobName"])
            child.early_stopped = True
            stop_child(run.account, run.region, child.name)


def _publish(run: TuningRun) -> None:
    """Write counters and the best job onto moto's record, which DescribeHyperParameterTuningJob reads."""
    record = _backend(run.account, run.region).hyper_parameter_tuning_jobs.get(run.name)
    if record is None:
        return
    summaries = [_summary(run, c) for c in run.children]
    counters = {"Completed": 0, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0}
    objectives = {"Succeeded": 0, "Pending": 0, "Failed": 0}
    for s in summaries:
        st = s["TrainingJobStatus"]
        key = {"Completed": "Completed", "Stopped": "Stopped", "Failed": "NonRetryableError"}.get(
            st, "InProgress"
        )
        counters[key] += 1
        objectives[s.get("ObjectiveStatus", "Pending")] += 1
    direction = run.objective.get("Type", "Minimize")
    best = None
    for s in summaries:
        m = s.get("FinalHyperParameterTuningJobObjectiveMetric")
        if not m:
            continue
        bv = best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] if best else None
        if bv is None or (m["Value"] > bv if direction == "Maximize" else m["Value"] < bv):
            best = s
    record.training_job_status_counters = counters
    record.objective_status_counters = objectives
    record.best_training_job = dict(best) if best else None
    record.OverallBestTrainingJob = None
    record.last_modified_time = _now()
    runtime = (_now() - run.created).total_seconds()
    record.consumed_resources = {"RuntimeInSeconds": int(runtime)}


def _finish(run: TuningRun, status: str) -> None:
    _publish(run)
    record = _backend(run.account, run.region).hyper_parameter_tuning_jobs.get(run.name)
    if record is None:
        return
    summaries = [_summary(run, c) for c in run.children]
    if status == "Completed" and summaries and all(s["TrainingJobStatus"] == "Failed" for s in summaries):
        # Nothing trained: the tuning job fails, with the first child's reason (what SageMaker shows).
        status = "Failed"
        first = next((s.get("FailureReason") for s in summaries if s.get("FailureReason")), "")
        record.failure_reason = f"All {len(summaries)} training jobs failed. First failure: {first}"[:1024]
    record.hyper_parameter_tuning_job_status = status
    record.hyper_parameter_tuning_end_time = _now()
    record.tuning_job_completion_details = None


# -- the operations ---------------------------------------------------------------------------------
def _check_request(config: dict[str, Any], definition: dict[str, Any] | None) -> None:
    """What SageMaker refuses and moto lets through."""
    strategy = config.get("Strategy")
    ranges = config.get("ParameterRanges") or {}
    if definition is None:
        raise _validation(
            "TrainingJobDefinition is required (multi-definition tuning is not in the sandbox)."
        )
    if strategy == "Grid" and (
        ranges.get("IntegerParameterRanges") or ranges.get("ContinuousParameterRanges")
    ):
        raise _validation("Grid search strategy supports only categorical parameter ranges.")
    if strategy == "Hyperband" and config.get("TrainingJobEarlyStoppingType") == "Auto":
        raise _validation("TrainingJobEarlyStoppingType must be Off when the Hyperband strategy is used.")
    limits = config.get("ResourceLimits") or {}
    if strategy != "Grid" and not limits.get("MaxNumberOfTrainingJobs"):
        raise _validation("MaxNumberOfTrainingJobs is required for this strategy.")
    for key in ("IntegerParameterRanges", "ContinuousParameterRanges"):
        for r in ranges.get(key) or []:
            try:
                lo, hi = float(r["MinValue"]), float(r["MaxValue"])
            except (KeyError, ValueError):
                raise _validation(f"Range {r.get('Name')}: MinValue and MaxValue must be numbers.") from None
            if lo > hi:
                raise _validation(f"Range {r.get('Name')}: MinValue must not exceed MaxValue.")
            if r.get("ScalingType") == "Logarithmic" and lo <= 0:
                raise _validation(f"Range {r.get('Name')}: Logarithmic scaling needs values greater than 0.")
            if r.get("ScalingType") == "ReverseLogarithmic" and not (lo >= 0 and hi < 1):
                raise _validation(f"Range {r.get('Name')}: ReverseLogarithmic scaling needs 0 <= x < 1.")


def _check_warm_start(backend: Any, warm: dict[str, Any] | None, config: dict[str, Any]) -> None:
    """The parents must exist, have finished, and share the objective, as SageMaker requires
    (https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning-warm-start.html)."""
    if not warm:
        return
    parents = warm.get("ParentHyperParameterTuningJobs") or []
    if not 1 <= len(parents) <= 5:
        raise _validation("WarmStartConfig takes 1 to 5 parent tuning jobs.")
    metric = (config.get("HyperParameterTuningJobObjective") or {}).get("MetricName")
    for parent in parents:
        name = parent.get("HyperParameterTuningJobName", "")
        record = backend.hyper_parameter_tuning_jobs.get(name)
        if record is None:
            raise _validation(f"Parent tuning job {name} does not exist.")
        status = record.hyper_parameter_tuning_job_status
        if status not in ("Completed", "Stopped", "Failed"):
            raise _validation(f"Parent tuning job {name} is {status}; parents must have finished.")
        parent_config = record.hyper_parameter_tuning_job_config or {}
        theirs = (parent_config.get("HyperParameterTuningJobObjective") or {}).get("MetricName")
        if theirs != metric:
            raise _validation(
                f"The objective metric {metric} differs from parent {name}'s objective metric {theirs}."
            )


def _wrap_create(original: Callable[..., str]) -> Callable[..., str]:
    def create_hyper_parameter_tuning_job(self: Any, **kwargs: Any) -> str:
        config = kwargs.get("hyper_parameter_tuning_job_config") or {}
        definition = kwargs.get("training_job_definition")
        _check_request(config, definition)
        _check_warm_start(self, kwargs.get("warm_start_config"), config)
        arn = original(self, **kwargs)
        name = kwargs["hyper_parameter_tuning_job_name"]
        record = self.hyper_parameter_tuning_jobs[name]
        # Replace moto's canned, already-finished answer with the real starting state.
        record.hyper_parameter_tuning_job_status = "InProgress"
        record.hyper_parameter_tuning_end_time = None
        record.best_training_job = None
        record.OverallBestTrainingJob = None
        record.tuning_job_completion_details = None
        record.consumed_resources = {"RuntimeInSeconds": 0}
        record.training_job_status_counters = {
            "Completed": 0, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0,
        }  # fmt: skip
        record.objective_status_counters = {"Succeeded": 0, "Pending": 0, "Failed": 0}
        run = TuningRun(
            account=self.account_id,
            region=self.region_name,
            name=name,
            arn=arn,
            config=config,
            definition=definition or {},
            created=record.creation_time,
            warm_start=kwargs.get("warm_start_config"),
        )
        with _runs_lock:
            _runs[(run.account, run.region, name)] = run
        jobs.spawn(f"tuning-{name}", lambda stop: _run(run, stop))
        return arn

    return create_hyper_parameter_tuning_job


def _run_for(account: str, region: str, name: str) -> TuningRun:
    with _runs_lock:
        run = _runs.get((account, region, name))
    record = _backend(account, region).hyper_parameter_tuning_jobs.get(name)
    if run is None or record is None:
        from moto.sagemaker.exceptions import ResourceNotFound

        raise ResourceNotFound(message=f"Amazon SageMaker can't find a tuning job with name {name}")
    return run


_SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "Name": lambda s: s["TrainingJobName"],
    "CreationTime": lambda s: _naive(s["CreationTime"]),
    "Status": lambda s: s["TrainingJobStatus"],
    "FinalObjectiveMetricValue": lambda s: s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
}


def _naive(t: datetime) -> datetime:
    """moto keeps naive UTC times; compare everything that way."""
    return t.replace(tzinfo=None) - (t.utcoffset() or timedelta(0)) if t.tzinfo else t


def _list_children(self: Any) -> Any:
    from moto.core.responses import ActionResult

    name = self._get_param("HyperParameterTuningJobName")
    run = _run_for(self.current_account, self.region, name)
    status = self._get_param("StatusEquals")
    sort_by = self._get_param("SortBy") or "Name"
    descending = (self._get_param("SortOrder") or "Ascending") == "Descending"
    max_results = int(self._get_param("MaxResults") or 10)
    if not 1 <= max_results <= 100:
        raise _validation("MaxResults must be between 1 and 100.")
    if sort_by not in _SORT_KEYS:
        raise _validation(f"SortBy must be one of {', '.join(_SORT_KEYS)}.")
    with run.lock:
        children = list(run.children)
    summaries = [_summary(run, c) for c in children]
    if status:
        summaries = [s for s in summaries if s["TrainingJobStatus"] == status]
    if sort_by == "FinalObjectiveMetricValue":
        # As documented: jobs without an objective value are not listed for this sort.
        summaries = [s for s in summaries if s.get("FinalHyperParameterTuningJobObjectiveMetric")]
    summaries.sort(key=lambda s: (_SORT_KEYS[sort_by](s), s["TrainingJobName"]), reverse=descending)
    start = _decode_token(self._get_param("NextToken"))
    page = summaries[start : start + max_results]
    result: dict[str, Any] = {"TrainingJobSummaries": page}
    if start + max_results < len(summaries):
        result["NextToken"] = _encode_token(start + max_results)
    return ActionResult(result)


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"sagewiz-children:{offset}".encode()).decode()


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        prefix, _, n = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if prefix != "sagewiz-children":
            raise ValueError(token)
        return int(n)
    except (ValueError, UnicodeDecodeError):
        raise _validation("The NextToken is not valid.") from None


def _stop(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    name = self._get_param("HyperParameterTuningJobName")
    run = _run_for(self.current_account, self.region, name)
    record = _backend(run.account, run.region).hyper_parameter_tuning_jobs[name]
    if record.hyper_parameter_tuning_job_status != "InProgress":
        raise _validation(
            f"The hyperparameter tuning job {name} is {record.hyper_parameter_tuning_job_status} and cannot be stopped."
        )
    record.hyper_parameter_tuning_job_status = "Stopping"
    run.stop_requested.set()
    return EmptyResult()


# -- test and bench support -------------------------------------------------------------------------
def run_of(account: str, region: str, name: str) -> TuningRun | None:
    with _runs_lock:
        return _runs.get((account, region, name))


def inject_children(account: str, region: str, name: str, summaries: list[dict[str, Any]]) -> None:
    """Tests and benches only: add finished children with these HyperParameterTrainingJobSummary
    dicts (no training run), e.g. 500 of them to exercise paging and the dashboard."""
    run = run_of(account, region, name)
    if run is None:
        raise KeyError(name)
    with run.lock:
        for s in summaries:
            run.children.append(
                Child(
                    name=s["TrainingJobName"],
                    arn=s.get("TrainingJobArn", ""),
                    tuned=dict(s.get("TunedHyperParameters") or {}),
                    created=s["CreationTime"],
                    final=dict(s),
                )  # fmt: skip
            )
    _publish(run)


def install() -> None:
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    wrap_method(SageMakerModelBackend, "create_hyper_parameter_tuning_job", _wrap_create)
    add_operation(SageMakerResponse, "list_training_jobs_for_hyper_parameter_tuning_job", _list_children)
    add_operation(SageMakerResponse, "stop_hyper_parameter_tuning_job", _stop)
