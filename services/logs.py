"""Reading a training job's CloudWatch log: every host's stream, interleaved by time, no gaps, no repeats.

SageMaker writes one stream per host, `<job>/algo-<n>-<epoch>`, in group /aws/sagemaker/TrainingJobs.
The follower:

- finds streams with DescribeLogStreams (prefix `<job>/`), again each round while fewer than the
  expected hosts are seen, then now and then (hosts that start late appear mid-job);
- reads each stream with GetLogEvents from the head, following `nextForwardToken`; the end of a
  stream (for now) is a page whose token equals the one sent, as the API documents;
- keeps per stream the token plus (last timestamp, events seen at it). If a token is refused or
  lost, it resumes with startTime = last timestamp and skips the events already seen at that
  timestamp, so a resume neither repeats nor drops a line (events at equal timestamps are told
  apart by their order in the stream, which is how GetLogEvents returns them);
- merges the new lines of all streams by timestamp;
- stays inside the quotas with a token bucket per API (GetLogEvents 10/s, DescribeLogStreams 5/s,
  the lowest documented values) and an adaptive interval (fast while lines flow, slower when quiet,
  never polling so often that the streams alone would take more than half the GetLogEvents quota);
- on throttling or a network drop, backs off and retries the same request (resuming from where it
  was); only a one-shot read gives up, after a few tries, with a clear error.

Sleep and clock are injected so tests run without waiting.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from services.errors import NetworkError, SagewizError, ThrottledError, translate

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
TERMINAL = ("Completed", "Failed", "Stopped")
GET_EVENTS_TPS = 10.0
DESCRIBE_STREAMS_TPS = 5.0
PAGE_LIMIT = 10_000

_THROTTLE = {
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "RateExceeded",
    "TooManyRequestsException",
}
_NETWORK_TYPES = (
    "EndpointConnectionError", "ConnectionClosedError", "ReadTimeoutError", "ConnectTimeoutError",
    "ConnectionError", "ProxyConnectionError", "HTTPClientError",
)  # fmt: skip


@dataclass(frozen=True)
class LogLine:
    timestamp: int  # epoch milliseconds, as CloudWatch stores it
    host: str  # "algo-1" (or "<child job>/algo-1" when following several jobs)
    message: str
    stream: str = ""


@dataclass
class StreamCursor:
    """Where reading of one stream stands; enough to resume without gaps or repeats."""

    name: str
    host: str
    token: str | None = None
    last_ts: int = 0
    seen_at_last: int = 0  # events at last_ts already returned
    anchor: int | None = None  # startTime the current token chain began with (sent with each token)

    def advance(self, ts: int) -> None:
        if ts > self.last_ts:
            self.last_ts, self.seen_at_last = ts, 1
        else:
            self.seen_at_last += 1


class RateLimiter:
    """A token bucket: at most `rate` calls a second, bursts up to `burst`."""

    def __init__(self, rate: float, burst: float | None = None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:  # fmt: skip
        self.rate = rate
        self.burst = burst if burst is not None else rate
        self.tokens = self.burst
        self.clock, self.sleep = clock, sleep
        self.stamp = clock()
        self.waited = 0.0

    def acquire(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            wait = (1 - self.tokens) / self.rate
            self.waited += wait
            self.sleep(wait)
            self.stamp = self.clock()
            self.tokens = 1.0
        self.tokens -= 1


@dataclass
class FollowStats:
    calls: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    resumes: int = 0
    lines: int = 0
    last_problem: str = ""


def host_of(stream: str, prefix: str) -> str:
    """`job/algo-2-1767225600` -> `algo-2`; with a shared prefix (a tuning job's children) the
    child job's name stays in front: `tune-001-abc/algo-1`."""
    job, _, rest = stream.partition("/")
    host = rest.rsplit("-", 1)[0] if rest.rsplit("-", 1)[-1].isdigit() else rest
    return host if prefix.endswith("/") else f"{job}/{host}"


class LogFollower:
    """Reads (and follows) the log streams whose names start with `prefix` (default `<job>/`)."""

    def __init__(
        self,
        client: Any,
        job_name: str,
        *,
        group: str = LOG_GROUP,
        prefix: str | None = None,
        since_ms: int | None = None,
        expected_streams: int | None = None,
        min_interval: float = 0.5,
        max_interval: float = 1.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 5,
        get_tps: float = GET_EVENTS_TPS,
        describe_tps: float = DESCRIBE_STREAMS_TPS,
    ) -> None:
        self.client = client
        self.job_name = job_name
        self.group = group
        self.prefix = prefix if prefix is not None else f"{job_name}/"
        self.since_ms = since_ms or 0
        self.expected_streams = expected_streams
        self.min_interval, self.max_interval = min_interval, max_interval
        self.interval = min_interval
        self.clock, self.sleep = clock, sleep
        self.max_attempts = max_attempts
        self.cursors: dict[str, StreamCursor] = {}
        self.stats = FollowStats()
        self._get_limit = RateLimiter(get_tps, clock=clock, sleep=sleep)
        self._describe_limit = RateLimiter(describe_tps, clock=clock, sleep=sleep)
        self._last_discovery = -1e18
        self.rediscover_every = 10.0
        self.persistent = False  # set by follow(): never give up on throttling / network
        self._stop: threading.Event | None = None  # follow()'s stop: also ends back-off waits

    # -- one round ------------------------------------------------------------------------------
    def poll(self) -> list[LogLine]:
        """New lines of every stream since the last call, merged by time."""
        self._discover()
        batches: list[list[tuple[int, int, LogLine]]] = []
        for order, cur in enumerate(sorted(self.cursors.values(), key=lambda c: c.name)):
            lines = self._read_stream(cur)
            if lines:
                batches.append([(ln.timestamp, order, ln) for ln in lines])
        if not batches:
            return []
        merged = (
            [item[2] for item in heapq.merge(*batches)] if len(batches) > 1 else [x[2] for x in batches[0]]
        )
        self.stats.lines += len(merged)
        return merged

    def read_all(self) -> Iterator[list[LogLine]]:
        """Everything written so far (pages as they come, each page merged by time)."""
        lines = self.poll()
        if lines:
            yield lines

    # -- following --------------------------------------------------------------------------------
    def follow(
        self,
        job_status: Callable[[], str],
        stop: threading.Event | None = None,
        *,
        status_every: float = 5.0,
    ) -> Iterator[list[LogLine]]:
        """Yield new lines as they are written until the job ends (plus a last read after that,
        for lines that reach CloudWatch after the status changed) or `stop` is set."""
        self.persistent = True
        self._stop = stop
        status_at = -1e18
        ended = False
        while True:
            if stop is not None and stop.is_set():
                return
            try:
                lines = self.poll()
            except _Cancelled:
                return
            if lines:
                yield lines
            if ended:
                return
            now = self.clock()
            if now - status_at >= status_every:
                status_at = now
                try:
                    if job_status() in TERMINAL:
                        ended = True  # one more pause and read, like the SDK's JOB_COMPLETE state
                except SagewizError as err:
                    self.stats.last_problem = err.title
            self._adapt(bool(lines))
            if stop is not None:
                if stop.wait(self.interval):
                    return
            else:
                self.sleep(self.interval)

    def _adapt(self, had_lines: bool) -> None:
        # Each round costs one GetLogEvents per stream; keep that under half the quota.
        floor = len(self.cursors) / (GET_EVENTS_TPS * 0.5)
        if had_lines:
            self.interval = max(self.min_interval, floor)
        else:
            self.interval = max(floor, min(self.max_interval, self.interval * 1.5))

    # -- streams ---------------------------------------------------------------------------------
    def _discover(self) -> None:
        now = self.clock()
        need = self.expected_streams is None or len(self.cursors) < self.expected_streams
        if not need and now - self._last_discovery < self.rediscover_every:
            return
        if self.cursors and self.expected_streams is None and now - self._last_discovery < 2.0:
            return
        self._last_discovery = now
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"logGroupName": self.group, "logStreamNamePrefix": self.prefix}
            if token:
                kwargs["nextToken"] = token
            try:
                resp = self._call("describe_log_streams", self._describe_limit, **kwargs)
            except _NotFound:
                return  # no group yet: nothing has been logged in this account/region
            for s in resp.get("logStreams", []):
                name = s["logStreamName"]
                if name not in self.cursors:
                    self.cursors[name] = StreamCursor(
                        name, host_of(name, self.prefix), last_ts=self.since_ms, seen_at_last=0
                    )
            token = resp.get("nextToken")
            if not token:
                return

    def _read_stream(self, cur: StreamCursor) -> list[LogLine]:
        out: list[LogLine] = []
        while True:
            kwargs: dict[str, Any] = {
                "logGroupName": self.group,
                "logStreamName": cur.name,
                "startFromHead": True,
                "limit": PAGE_LIMIT,
            }
            resuming = cur.token is None
            if resuming:
                cur.anchor = cur.last_ts or None
            if cur.token is not None:
                kwargs["nextToken"] = cur.token
            if cur.anchor:
                # Sent with every page of the chain: a token is a position within this query.
                kwargs["startTime"] = cur.anchor
            try:
                resp = self._call("get_log_events", self._get_limit, **kwargs)
            except _BadToken:
                self.stats.resumes += 1
                cur.token = None  # resume from the timestamp bookkeeping
                continue
            except _NotFound:
                return out  # the stream went away (deleted); keep what we have
            events = resp.get("events", [])
            if resuming and cur.last_ts:
                # Skip what was already returned at the resume timestamp (and anything older).
                skip = cur.seen_at_last
                fresh = []
                for e in events:
                    ts = int(e["timestamp"])
                    if ts < cur.last_ts:
                        continue
                    if ts == cur.last_ts and skip > 0:
                        skip -= 1
                        continue
                    fresh.append(e)
                events = fresh
            for e in events:
                ts = int(e["timestamp"])
                cur.advance(ts)
                out.append(LogLine(ts, cur.host, e.get("message", ""), cur.name))
            token = resp.get("nextForwardToken")
            same = token == cur.token
            cur.token = token
            if same or token is None or not resp.get("events"):
                return out

    # -- calls with throttling / network resilience ---------------------------------------------
    def _call(self, op: str, limiter: RateLimiter, **kwargs: Any) -> Any:
        attempt = 0
        delay = 0.2
        while True:
            limiter.acquire()
            self.stats.calls[op] = self.stats.calls.get(op, 0) + 1
            try:
                return getattr(self.client, op)(**kwargs)
            except Exception as exc:  # classified below; anything unknown is re-raised translated
                kind = _classify(exc)
                if kind == "not-found":
                    raise _NotFound() from exc
                if kind == "bad-token" and "nextToken" in kwargs:
                    raise _BadToken() from exc
                if kind not in ("throttled", "network"):
                    raise translate(exc, _pascal(op)) from exc
                attempt += 1
                self.stats.retries += 1
                self.stats.last_problem = (
                    "CloudWatch Logs is throttling; slowing down"
                    if kind == "throttled"
                    else "network drop; retrying"
                )
                if not self.persistent and attempt >= self.max_attempts:
                    err = translate(exc, _pascal(op))
                    if kind == "network" and not isinstance(err, NetworkError):
                        err = NetworkError("Cannot reach CloudWatch Logs", str(exc), "Check the network.")
                    if kind == "throttled" and not isinstance(err, ThrottledError):
                        err = ThrottledError(
                            "CloudWatch Logs is throttling", str(exc), "Try again in a minute."
                        )
                    raise err from exc
                if self._stop is not None:
                    if self._stop.wait(delay):
                        raise _Cancelled() from exc
                else:
                    self.sleep(delay)
                delay = min(delay * 2, 10.0)


class _NotFound(Exception):
    pass


class _Cancelled(Exception):
    """follow() was stopped while backing off."""


class _BadToken(Exception):
    pass


def _classify(exc: BaseException) -> str:
    name = type(exc).__name__
    if name in _NETWORK_TYPES or isinstance(exc, (ConnectionError, TimeoutError)):
        return "network"
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        code = str((resp.get("Error") or {}).get("Code") or "")
        status = (resp.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        if code in _THROTTLE or status == 429:
            return "throttled"
        if code == "ResourceNotFoundException":
            return "not-found"
        if (
            code == "InvalidParameterException"
            and "token" in str((resp.get("Error") or {}).get("Message", "")).lower()
        ):
            return "bad-token"
        if status is not None and int(status) >= 500:
            return "network"
    return "other"


def _pascal(op: str) -> str:
    return "".join(p.capitalize() for p in op.split("_"))


# CloudWatch keeps logs for at most 10 years; a longer --since is a typo, and a far larger one
# would overflow the request's startTime.
MAX_DURATION_SECONDS = 3653 * 86400


def parse_duration(text: str) -> float:
    """'90s', '10m', '2h', '1d', '1h30m' -> seconds; raises ValueError with the rule."""
    import re

    from services.terminal_text import echo

    s = text.strip().lower()
    parts = re.findall(r"(\d{1,12}(?:\.\d{1,6})?)([smhdw])", s) if len(s) <= 40 else []
    if not s or not parts or "".join(n + u for n, u in parts) != s:
        raise ValueError(
            f"{echo(text)} is not a duration; use a number and a unit s, m, h, d or w, e.g. 10m, 2h, 1d"
        )
    mult = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    seconds = sum(float(n) * mult[u] for n, u in parts)
    if seconds > MAX_DURATION_SECONDS:
        raise ValueError(f"{echo(text)} is more than 10 years; CloudWatch keeps logs for at most 10 years")
    return seconds


def format_line(line: LogLine) -> str:
    """`2026-01-01T00:00:00.000Z algo-1 message`: one line, pipe friendly."""
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(line.timestamp / 1000))
    return f"{ts}.{line.timestamp % 1000:03d}Z {line.host} {line.message}"
