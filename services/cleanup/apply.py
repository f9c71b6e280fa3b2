"""Running a clean-up plan: in order, each step journaled as it succeeds, the first failure stops it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from services.cleanup.plans import CleanupPlan
from services.cleanup.waiting import settled, stopped, wait_gone, wait_notebook
from services.errors import ValidationError, is_gone, translate
from services.journal import Journal
from services.journal_events import ResourceDeleted
from services.plan import Action, AppliedAction
from services.resources.s3 import EMPTY_MARK, PREFIX_MARK, empty_bucket, empty_prefix


def apply_cleanup(
    cplan: CleanupPlan,
    factory: Any,
    journal: Journal | None,
    *,
    confirmed_buckets: Iterable[str] = (),
    on_progress: Callable[[int, Action], None] | None = None,
    cancel: threading.Event | None = None,
    wait_timeout: float = 900.0,
    poll: float = 5.0,
) -> list[AppliedAction]:
    """Run the plan in order, journaling each step as it succeeds; stop at the first failure.

    A notebook is deleted only once it has stopped (waits up to `wait_timeout`, checking `cancel`).
    Something already gone counts as done. Buckets not in `confirmed_buckets` are refused before any call."""
    confirmed = set(confirmed_buckets)
    missing = [b for b in cplan.buckets if b not in confirmed]
    if missing:
        raise ValidationError(
            "confirmation",
            f"bucket {missing[0]} was not confirmed a second time",
            "Deleting a bucket needs its own confirmation: type the bucket name.",
        )
    cancel = cancel or threading.Event()
    done: list[AppliedAction] = []
    for n, action in enumerate(cplan.plan.actions):
        if cancel.is_set():
            break
        if on_progress:
            on_progress(n, action)
        try:
            result = _run(action, factory, cancel, wait_timeout, poll)
        except Exception as exc:
            if is_gone(exc) and isinstance(action.journal, ResourceDeleted):
                result = "already gone"
            else:
                err = translate(exc, action.api_call())
                done.append(AppliedAction(action, False, error=f"{err.title}: {err.message}"))
                raise err from exc
        if action.journal is not None and journal is not None:
            journal.append(action.journal)
        done.append(AppliedAction(action, True, result=result))
    return done


def _run(action: Action, factory: Any, cancel: threading.Event, wait_timeout: float, poll: float) -> Any:
    if action.service == "journal":
        return "forgotten"
    client = factory.client(action.service)
    if action.operation == "delete_objects" and EMPTY_MARK in action.params:
        return empty_bucket(client, action.params["Bucket"])
    if action.operation == "delete_objects" and PREFIX_MARK in action.params:
        return empty_prefix(client, action.params["Bucket"], action.params[PREFIX_MARK])
    if action.operation == "delete_notebook_instance":
        name = action.params["NotebookInstanceName"]
        wait_notebook(client, name, stopped, "Stopped", cancel, wait_timeout, poll, stop_if_running=True)
    if action.operation == "stop_notebook_instance":
        name = action.params["NotebookInstanceName"]
        status = wait_notebook(
            client, name, settled, "InService, so it can be stopped", cancel, wait_timeout, poll
        )
        if status != "InService":
            return {"already": status}  # stopping, stopped or failed: nothing to stop
    if action.operation == "delete_notebook_instance_lifecycle_config":
        # A configuration still attached to a notebook being deleted waits for it to be gone.
        lc = action.params["NotebookInstanceLifecycleConfigName"]
        notebook = lc.removesuffix("-autostop")
        if notebook != lc:
            wait_gone(client, notebook, cancel, wait_timeout, poll)
    result = action.request.send(client)
    if isinstance(result, dict):
        result = {k: v for k, v in result.items() if k != "ResponseMetadata"}
    return result
