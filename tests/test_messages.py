"""The two generic worker messages: a result reaches the handler of its own key, typed, and only it."""

from __future__ import annotations

import pytest

from services.errors import ErrorInfo
from tui.messages import Work, WorkDone, WorkFailed

LISTED: Work[list[str]] = Work("list")
COUNTED: Work[int] = Work("count")
ERROR = ErrorInfo("Access denied", "no", "ask", "access-denied")


def test_a_result_goes_to_its_own_key_and_stops_there() -> None:
    seen: list[object] = []
    message = LISTED.done(["a", "b"])
    routed = message.route(COUNTED.to(lambda n: seen.append(("count", n))), LISTED.to(seen.append))
    assert routed and seen == [["a", "b"]]
    assert message._stop_propagation  # handled: it does not bubble on to the App


def test_a_result_no_route_matches_bubbles_on() -> None:
    message = COUNTED.done(3)
    assert not message.route(LISTED.to(lambda _names: pytest.fail("wrong key")))
    assert not message._stop_propagation


def test_keys_with_the_same_name_are_different_work() -> None:
    # Keys compare by identity: two screens naming their work alike never catch each other's results.
    other: Work[int] = Work("count")
    assert not COUNTED.done(1).route(other.to(lambda _n: pytest.fail("another screen's key")))


def test_failures_and_results_have_separate_routes() -> None:
    failed = LISTED.failed(ERROR, subject="bucket-1")
    assert isinstance(failed, WorkFailed)
    assert not failed.route()  # nothing routed: the screen's fallback decides
    got: list[WorkFailed] = []
    assert failed.route(LISTED.on_failure(got.append))
    assert got == [failed] and got[0].error is ERROR and got[0].subject == "bucket-1"
    # a result route never receives a failure, nor a failure route a result
    assert not LISTED.failed(ERROR).route(COUNTED.on_failure(lambda _f: pytest.fail("wrong key")))
    done: WorkDone[list[str]] = LISTED.done([])
    assert not done.route(LISTED.on_failure(lambda _f: pytest.fail("a result is not a failure")))


def test_result_of_refuses_another_keys_message() -> None:
    assert COUNTED.result_of(COUNTED.done(7)) == 7
    with pytest.raises(ValueError):
        LISTED.result_of(COUNTED.done(7))
