"""Each host's CloudWatch log stream, written as SageMaker's containers write theirs: group
/aws/sagemaker/TrainingJobs, stream `<job>/algo-<n>-<epoch>`. Writes go to moto's backend
directly (the logs a container writes are not subject to the reader's IAM)."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from services.sandbox import jobs

LOG_GROUP = "/aws/sagemaker/TrainingJobs"


def logs_backend(account: str, region: str) -> Any:
    from moto.logs.models import logs_backends

    return logs_backends[account][region]


class HostLog:
    """One host's log stream; lines are buffered and put in order with non-decreasing timestamps."""

    def __init__(self, account: str, region: str, job: str, generation: int, host: int) -> None:
        self.account, self.region, self.generation = account, region, generation
        self.stream = f"{job}/algo-{host}-{int(time.time())}"
        self._buf: list[dict[str, Any]] = []
        self._last = 0
        backend = logs_backend(account, region)
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
        if not self._buf or jobs.generation() != self.generation:
            self._buf.clear()
            return
        batch, self._buf = self._buf, []
        logs_backend(self.account, self.region).put_log_events(LOG_GROUP, self.stream, batch)


def stamp() -> str:
    return time.strftime("%Y-%m-%d:%H:%M:%S", time.gmtime())
