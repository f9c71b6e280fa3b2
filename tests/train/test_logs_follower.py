"""LogFollower against the emulated CloudWatch Logs: paging, streams appearing mid-job, equal
timestamps, throttling and network drops (injected by wrapping the real client), resume."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from services.logs import LOG_GROUP, LogFollower, format_line, parse_duration

NOW = int(time.time() * 1000) - 60_000


def _put(logs: Any, stream: str, msgs: list[tuple[int, str]]) -> None:
    logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream,
                        logEvents=[{"timestamp": ts, "message": m} for ts, m in msgs])  # fmt: skip


@pytest.fixture
def logs(empty_world):
    from services.session import SessionFactory

    c = SessionFactory(empty_world.target()).client("logs")
    c.create_log_group(logGroupName=LOG_GROUP)
    return c


class Flaky:
    """The real client, with throttling / network failures injected on chosen calls."""

    def __init__(self, client: Any, fail: dict[int, str]) -> None:
        self.client, self.fail, self.n = client, fail, 0

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.client, name)

        def call(**kw: Any) -> Any:
            self.n += 1
            kind = self.fail.get(self.n)
            if kind == "throttle":
                raise ClientError(
                    {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, name
                )
            if kind == "network":
                raise EndpointConnectionError(endpoint_url="http://127.0.0.1")
            if kind == "badtoken" and "nextToken" in kw:
                raise ClientError({"Error": {"Code": "InvalidParameterException",
                                             "Message": "The specified nextToken is invalid."}}, name)  # fmt: skip
            return real(**kw)

        return call


def no_sleep(_: float) -> None:
    pass


def test_pages_streams_and_interleaving(logs):
    base = NOW
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName="j/algo-1-1")
    _put(logs, "j/algo-1-1", [(base + i, f"a{i}") for i in range(25)])
    f = LogFollower(logs, "j", sleep=no_sleep)
    import services.logs as mod

    old = mod.PAGE_LIMIT
    mod.PAGE_LIMIT = 10  # force several pages
    try:
        first = f.poll()
        assert [ln.message for ln in first] == [f"a{i}" for i in range(25)]
        assert f.stats.calls["get_log_events"] >= 3
        # A second host starts mid-job; its stream is found and merged by time.
        logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName="j/algo-2-1")
        _put(logs, "j/algo-2-1", [(base + 30, "b0"), (base + 32, "b1")])
        _put(logs, "j/algo-1-1", [(base + 31, "a25")])
        f._last_discovery = -1e18
        nxt = f.poll()
        assert [(ln.host, ln.message) for ln in nxt] == [
            ("algo-2", "b0"),
            ("algo-1", "a25"),
            ("algo-2", "b1"),
        ]
        assert f.poll() == []  # nothing new: no repeats
    finally:
        mod.PAGE_LIMIT = old


def test_equal_timestamps_resume_without_repeats(logs):
    base = NOW
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName="k/algo-1-1")
    _put(logs, "k/algo-1-1", [(base, "x1"), (base, "x2")])
    flaky = Flaky(logs, {})
    f = LogFollower(flaky, "k", sleep=no_sleep)
    assert [ln.message for ln in f.poll()] == ["x1", "x2"]
    _put(logs, "k/algo-1-1", [(base, "x3"), (base + 1, "x4")])
    # The token is refused: the follower resumes from (timestamp, events seen at it).
    flaky.fail = {flaky.n + 1: "badtoken"}
    got = [ln.message for ln in f.poll()]
    assert got == ["x3", "x4"]
    assert f.stats.resumes == 1


def test_throttling_and_network_drops_are_survived(logs):
    base = NOW
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName="t/algo-1-1")
    _put(logs, "t/algo-1-1", [(base + i, f"m{i}") for i in range(5)])
    slept: list[float] = []
    flaky = Flaky(logs, {1: "throttle", 2: "network", 4: "throttle"})
    f = LogFollower(flaky, "t", sleep=slept.append)
    lines = f.poll()
    assert [ln.message for ln in lines] == [f"m{i}" for i in range(5)]
    assert f.stats.retries == 3 and slept  # backed off, then resumed where it was


def test_one_shot_read_gives_up_with_a_clear_error(logs):
    from services.errors import NetworkError

    flaky = Flaky(logs, {n: "network" for n in range(1, 50)})
    f = LogFollower(flaky, "nothing", sleep=no_sleep, max_attempts=3)
    with pytest.raises(NetworkError):
        f.poll()


def test_follow_stops_after_the_job_ends(logs):
    base = NOW
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName="f/algo-1-1")
    _put(logs, "f/algo-1-1", [(base, "one")])
    statuses = iter(["InProgress", "Completed"])
    clock = [0.0]
    wrote = []

    def sleep(s: float) -> None:
        clock[0] += s
        if clock[0] > 0.4 and not wrote:  # a late line reaches CloudWatch after the status changed
            _put(logs, "f/algo-1-1", [(base + 1, "late")])
            wrote.append(1)

    f = LogFollower(logs, "f", sleep=sleep, clock=lambda: clock[0])
    got = [
        ln.message
        for batch in f.follow(lambda: next(statuses, "Completed"), status_every=0.0)
        for ln in batch
    ]
    assert got[0] == "one" and "late" in got and len(got) == len(set(got))


def test_group_missing_means_no_streams_yet(empty_world):
    from services.session import SessionFactory

    f = LogFollower(SessionFactory(empty_world.target()).client("logs"), "none", sleep=no_sleep)
    assert f.poll() == []


def test_parse_duration_and_format():
    assert parse_duration("10m") == 600 and parse_duration("1h30m") == 5400
    with pytest.raises(ValueError):
        parse_duration("ten minutes")
    from services.logs import LogLine

    assert format_line(LogLine(1_800_000_000_123, "algo-1", "hi")) == "2027-01-15T08:00:00.123Z algo-1 hi"


def test_host_labels_for_one_job_and_for_tuning_children():
    from services.logs import host_of

    assert host_of("job/algo-2-1767225600", "job/") == "algo-2"
    assert host_of("tune-001-abc/algo-1-1767225600", "tune-") == "tune-001-abc/algo-1"


def test_adaptive_interval_and_quota_floor():
    f = LogFollower(object(), "j", min_interval=0.5, max_interval=1.5, sleep=no_sleep)
    f._adapt(False)
    f._adapt(False)
    f._adapt(False)
    assert f.interval == 1.5  # quiet: backs off to the ceiling
    f._adapt(True)
    assert f.interval == 0.5  # lines flowing: fast again
    from services.logs import StreamCursor

    f.cursors = {f"j/algo-{n}-1": StreamCursor(f"j/algo-{n}-1", f"algo-{n}") for n in range(20)}
    f._adapt(True)
    assert f.interval == 4.0  # 20 streams: one GetLogEvents each per round stays under half of 10/s


def test_rate_limiter_waits_instead_of_exceeding_the_quota():
    from services.logs import RateLimiter

    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    lim = RateLimiter(10.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(30):
        lim.acquire()
    assert now[0] == pytest.approx(2.0, abs=0.01)  # 10 at once, then 10 a second
