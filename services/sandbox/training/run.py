"""One sandbox training run: its state, its pace, the job's status as the service reports it, and
the ways a run ends early (stopped, failed, out of time, or abandoned by a reset of the sandbox)."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from services.sandbox import jobs
from services.sandbox.training.host_logs import HostLog

# Seconds each phase takes in the sandbox, multiplied by PACE (tests set it to 0).
PACE = float(os.environ.get("SAGEWIZ_SANDBOX_PACE", "1.0"))
PHASES = {"starting": 1.2, "launch": 1.0, "downloading": 1.0, "image": 0.8, "uploading": 0.8}
ROUND_SECONDS = 4.0  # a training run is spread over about this long so it can be watched


def set_pace(value: float) -> float:
    """Scale the sandbox's artificial phase durations (0: as fast as possible); returns the old value."""
    global PACE
    old, PACE = PACE, value
    return old


@dataclass
class Run:
    account: str
    region: str
    name: str
    request: dict[str, Any]
    generation: int
    stop: threading.Event = field(default_factory=threading.Event)
    user_stop: threading.Event = field(default_factory=threading.Event)
    hosts: list[HostLog] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # algo-1's lines, for the metric regexes
    started: float = 0.0

    def add_host(self) -> HostLog:
        """The next host comes up: its log stream appears."""
        host = HostLog(self.account, self.region, self.name, self.generation, len(self.hosts) + 1)
        self.hosts.append(host)
        return host

    def log(self, line: str, hosts: list[HostLog] | None = None) -> None:
        """A line every host (or `hosts`) writes; algo-1's lines also feed the metric regexes."""
        for h in hosts if hosts is not None else self.hosts:
            h.write(line)
        self.lines.append(line)

    def flush(self) -> None:
        for h in self.hosts:
            h.flush()

    def wait(self, seconds: float) -> None:
        """Wait, but wake for a stop (user: raise Stopped; reset: raise Abandoned)."""
        deadline = time.monotonic() + seconds * PACE
        while True:
            if self.stop.is_set():
                raise Abandoned()
            if self.user_stop.is_set():
                raise Stopped()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.user_stop.wait(min(left, 0.1))


def sm_backend(account: str, region: str) -> Any:
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[account][region]


def utcnow() -> Any:
    from moto.core.utils import utcnow

    return utcnow()


def transition(job: Any, status: str, secondary: str, message: str) -> None:
    now = utcnow()
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


def live_job(run: Run) -> Any:
    if jobs.generation() != run.generation:
        raise Abandoned()
    job = sm_backend(run.account, run.region).training_jobs.get(run.name)
    if job is None:
        raise Abandoned()
    return job


class Abandoned(Exception):
    """The sandbox was reset under the run: stop touching state."""


class JobFailure(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Stopped(Exception):
    pass


class MaxRuntime(Exception):
    pass


def find_role(account: str, role_arn: str) -> Any:
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
