"""Waiting in tests: the one way to wait for something that happens in the background.

Tests never sleep a fixed time: they poll a condition, bounded by a timeout, and a timeout is
always a failure that says what was awaited. `eventually` lets a Textual app run between checks
(Pilot); `eventually_blocking` polls the emulator or a process from plain code.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# What a timeout message names: a text, or a function called only at the timeout, so the
# message can carry what was seen while waiting.
What = str | Callable[[], str]


def _describe(condition: Callable[[], Any], what: What) -> str:
    if callable(what):
        return what()
    if what:
        return what
    try:
        # The source line of a lambda says more than "<lambda>".
        return inspect.getsource(condition).strip()
    except (OSError, TypeError):
        return repr(condition)


def _timed_out(condition: Callable[[], Any], timeout: float, what: What) -> AssertionError:
    return AssertionError(f"timed out after {timeout:g}s waiting for: {_describe(condition, what)}")


async def eventually(pilot: Any, condition: Callable[[], T], timeout: float = 30.0, what: What = "") -> T:
    """Let the app run until `condition()` is truthy and return that value; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise _timed_out(condition, timeout, what)
        await pilot.pause(0.05)


def eventually_blocking(
    condition: Callable[[], T], timeout: float = 30.0, what: What = "", every: float = 0.05
) -> T:
    """Poll `condition()` every `every` s until it is truthy and return that value; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise _timed_out(condition, timeout, what)
        threading.Event().wait(every)


async def wait_connected(pilot: Any, timeout: float = 20.0) -> None:
    """Wait until the App's connect attempt has ended (connected or failed) and the screen settled."""
    app = pilot.app
    await eventually(
        pilot,
        lambda: (app.identity is not None or app.connect_problem is not None) and not app.connecting,
        timeout,
        what="the connect attempt to end",
    )
    await pilot.pause()


def steady_cursors(app: Any) -> None:
    """Text fields' cursors drawn without blinking: a snapshot taken mid-blink would differ from the
    next run's."""
    for field in app.screen.query("Input, TextArea"):
        field.cursor_blink = False  # type: ignore[attr-defined]


async def settled(pilot: Any) -> None:
    """Wait until a screen has settled for a picture: its one-off reads done (pollers and the
    running-cost worker run on) and focus no longer moving (a read's message may move it)."""
    app = pilot.app
    await eventually(
        pilot,
        lambda: not [w for w in app.workers if w.is_running and "poll" not in w.group and w.group != "cost"],
        what="the screen's reads to finish",
    )
    last, same = app.focused, 0
    for _ in range(50):
        await pilot.pause()
        same = same + 1 if app.focused is last else 0
        last = app.focused
        if same >= 3:
            break
