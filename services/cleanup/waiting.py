"""Waiting for a notebook instance to settle before clean-up acts on it: SageMaker refuses to stop
one that is Pending or Updating, and to delete one that has not stopped."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from services.errors import SagewizError


def settled(status: str) -> bool:
    return status not in {"Pending", "Updating"}


def stopped(status: str) -> bool:
    return status in {"Stopped", "Failed"}


def wait_notebook(
    sm: Any,
    name: str,
    done: Callable[[str], bool],
    what: str,
    cancel: threading.Event,
    timeout: float,
    poll: float,
    *,
    stop_if_running: bool = False,
) -> str:
    """Poll until `done(status)` and return the status; `what` says what was awaited, for people. With `stop_if_running`, an
    InService notebook is asked to stop (a stop that never happened, e.g. not in the plan).
    Raises SagewizError on timeout or when `cancel` is set."""
    deadline = time.monotonic() + timeout
    tries = 0
    while True:
        status = str(
            sm.describe_notebook_instance(NotebookInstanceName=name).get("NotebookInstanceStatus", "")
        )
        if done(status):
            return status
        if stop_if_running and status == "InService":
            sm.stop_notebook_instance(NotebookInstanceName=name)
        if time.monotonic() > deadline:
            raise SagewizError(
                f"Notebook {name} is still {status}",
                f"Waited {int(timeout)} s for it to be {what}.",
                "Run clean-up again in a few minutes; the journal says what is done.",
            )
        step = min(poll, 0.2 * 2 ** min(tries, 8))  # quick first looks, then every `poll` seconds
        tries += 1
        if cancel.wait(step):
            raise SagewizError("Clean-up cancelled", f"Notebook {name} was left {status}.")


def wait_gone(sm: Any, name: str, cancel: threading.Event, timeout: float, poll: float) -> None:
    """Wait until the notebook instance `name` no longer exists (returns at once if it never did)."""
    from services.errors import is_gone

    deadline = time.monotonic() + timeout
    tries = 0
    while True:
        try:
            status = sm.describe_notebook_instance(NotebookInstanceName=name).get(
                "NotebookInstanceStatus", ""
            )
        except Exception as exc:
            if is_gone(exc):
                return
            raise
        if time.monotonic() > deadline:
            raise SagewizError(
                f"Notebook {name} is still {status}",
                f"Waited {int(timeout)} s for it to be deleted before deleting its lifecycle configuration.",
                "Run clean-up again in a few minutes; the journal says what is done.",
            )
        step = min(poll, 0.2 * 2 ** min(tries, 8))
        tries += 1
        if cancel.wait(step):
            raise SagewizError("Clean-up cancelled", f"Notebook {name} was left {status}.")
