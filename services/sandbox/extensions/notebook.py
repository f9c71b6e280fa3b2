"""Notebook instances that behave like SageMaker's in the sandbox.

moto puts a notebook InService the moment it is created and stops it instantly, so a status panel
would never see anything move. This extension gives moto's notebook instances real, time-based
transitions, evaluated lazily whenever the status is read (no background threads, nothing to
cancel on reset):

    create/start: Pending  --PENDING_SECONDS-->  InService   (or Failed, see below)
    stop:         Stopping --STOPPING_SECONDS--> Stopped
    delete:       Deleting --DELETING_SECONDS--> gone (RecordNotFound)

Like SageMaker it refuses start unless Stopped/Failed and stop unless InService. It records the
PlatformIdentifier moto drops, and a lifecycle configuration whose script runs `exit 1` makes the
instance fail with a FailureReason as SageMaker reports it. It adds
`create_presigned_notebook_instance_url` and `list_notebook_instance_lifecycle_configs`, which
moto lacks.

Timings: the env var SAGEWIZ_SANDBOX_NOTEBOOK_SECONDS (one number, the Pending time; the others
scale from it) or `set_timings(...)`, which tests use to make transitions take a fraction of a second.
`inject_fault(operation, code, message)` makes the next call(s) of a notebook operation fail with
that AWS error code (ResourceLimitExceeded, ThrottlingException...), so the failure paths are
exercised over the real HTTP path.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.sandbox.extensions import add_operation, wrap_method


@dataclass
class Timings:
    pending: float = 6.0
    stopping: float = 3.0
    deleting: float = 2.0


def _from_env() -> Timings:
    raw = os.environ.get("SAGEWIZ_SANDBOX_NOTEBOOK_SECONDS", "").strip()
    try:
        base = float(raw) if raw else 6.0
    except ValueError:
        base = 6.0
    return Timings(pending=base, stopping=base / 2, deleting=base / 3)


TIMINGS = _from_env()
DEFAULT_PLATFORM = "notebook-al2023-v1"
_OPS = (
    "create_notebook_instance",
    "describe_notebook_instance",
    "list_notebook_instances",
    "start_notebook_instance",
    "stop_notebook_instance",
    "delete_notebook_instance",
    "create_presigned_notebook_instance_url",
)
_faults: dict[str, list[tuple[str, str]]] = {}
_faults_lock = threading.Lock()


def set_timings(pending: float, stopping: float | None = None, deleting: float | None = None) -> None:
    """Change how long transitions take (applies to transitions started afterwards)."""
    TIMINGS.pending = pending
    TIMINGS.stopping = pending / 2 if stopping is None else stopping
    TIMINGS.deleting = pending / 3 if deleting is None else deleting


def inject_fault(operation: str, code: str, message: str, times: int = 1) -> None:
    """The next `times` calls of `operation` (boto3 name) answer with this AWS error."""
    if operation not in _OPS:
        raise ValueError(f"not a notebook operation: {operation}")
    with _faults_lock:
        _faults.setdefault(operation, []).extend([(code, message)] * times)


def clear_faults() -> None:
    with _faults_lock:
        _faults.clear()


def _take_fault(operation: str) -> tuple[str, str] | None:
    with _faults_lock:
        queue = _faults.get(operation)
        if queue:
            return queue.pop(0)
    return None


# -- status that moves with time -----------------------------------------------------------------
def _get_status(self: Any) -> str:
    nxt = self.__dict__.get("_sw_next")
    if nxt is not None and time.monotonic() >= nxt[1]:
        self.__dict__["_sw_next"] = None
        self.__dict__["_sw_status"] = nxt[0]
        from moto.core.utils import utcnow

        self.last_modified_time = utcnow()
        if nxt[0] == "Failed":
            self.__dict__["_sw_failure"] = nxt[2]
    return str(self.__dict__.get("_sw_status", "Pending"))


def _set_status(self: Any, value: str) -> None:
    self.__dict__["_sw_status"] = value
    self.__dict__["_sw_next"] = None


def _schedule(nb: Any, now_status: str, then: str, seconds: float, failure: str = "") -> None:
    nb.status = now_status
    nb.__dict__["_sw_next"] = (then, time.monotonic() + max(0.0, seconds), failure)
    if now_status == "Pending":
        nb.__dict__["_sw_failure"] = ""
    from moto.core.utils import utcnow

    nb.last_modified_time = utcnow()


def _lifecycle_failure(nb: Any, backend: Any) -> str:
    """A lifecycle script that runs `exit 1` fails the start, as a broken script does on SageMaker."""
    name = getattr(nb, "lifecycle_config_name", None)
    if not name or backend is None:
        return ""
    config = backend.notebook_instance_lifecycle_configurations.get(name)
    if config is None:
        return ""
    scripts = list(getattr(config, "on_create", None) or []) + list(getattr(config, "on_start", None) or [])
    for item in scripts:
        try:
            text = base64.b64decode(item.get("Content", "")).decode("utf-8", "replace")
        except (ValueError, AttributeError):
            continue
        if any(line.strip() == "exit 1" for line in text.splitlines()):
            return (
                f"Notebook Instance Lifecycle Config '{config.arn}' for Notebook Instance '{nb.arn}' "
                "failed. Please check your CloudWatch logs for more details if your Notebook Instance "
                "has Internet access."
            )
    return ""


def _backend_of(nb: Any) -> Any:
    from moto.sagemaker.models import sagemaker_backends

    try:
        account = nb.arn.split(":")[4]
        return sagemaker_backends[account][nb.region_name]
    except (KeyError, IndexError, AttributeError):
        return None


def _start(self: Any) -> None:
    failure = _lifecycle_failure(self, _backend_of(self))
    _schedule(self, "Pending", "Failed" if failure else "InService", TIMINGS.pending, failure)


def _stop(self: Any) -> None:
    _schedule(self, "Stopping", "Stopped", TIMINGS.stopping)


def _to_dict_wrapper(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def to_dict(self: Any) -> dict[str, Any]:
        out = original(self)
        out["NotebookInstanceStatus"] = self.status  # read through the clock
        out["PlatformIdentifier"] = self.__dict__.get("_sw_platform") or DEFAULT_PLATFORM
        if self.status == "Failed" and self.__dict__.get("_sw_failure"):
            out["FailureReason"] = self.__dict__["_sw_failure"]
        return {k: v for k, v in out.items() if v is not None}

    return to_dict


# -- backend: deleting takes time, start/stop only from the right states -------------------------
def _purge(backend: Any) -> None:
    for name, nb in list(backend.notebook_instances.items()):
        if nb.status == "Deleted":
            backend.notebook_instances.pop(name, None)


def _purging(original: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        _purge(self)
        return original(self, *args, **kwargs)

    return wrapper


def _transition_error(nb: Any, allowed: str, to: str) -> Exception:
    from moto.sagemaker.exceptions import ValidationError

    return ValidationError(
        message=f"Status ({nb.status}) not in ([{allowed}]). Unable to transition to ({to}) "
        f"for Notebook Instance ({nb.arn})"
    )


def _start_nb(original: Callable[..., Any]) -> Callable[..., Any]:
    def start_notebook_instance(self: Any, notebook_instance_name: str) -> None:
        _purge(self)
        nb = self.get_notebook_instance(notebook_instance_name)
        if nb.status not in ("Stopped", "Failed"):
            raise _transition_error(nb, "Stopped, Failed", "Pending")
        nb.start()

    return start_notebook_instance


def _stop_nb(original: Callable[..., Any]) -> Callable[..., Any]:
    def stop_notebook_instance(self: Any, notebook_instance_name: str) -> None:
        _purge(self)
        nb = self.get_notebook_instance(notebook_instance_name)
        if nb.status != "InService":
            raise _transition_error(nb, "InService", "Stopping")
        nb.stop()

    return stop_notebook_instance


def _delete_nb(original: Callable[..., Any]) -> Callable[..., Any]:
    def delete_notebook_instance(self: Any, notebook_instance_name: str) -> None:
        _purge(self)
        nb = self.get_notebook_instance(notebook_instance_name)
        if not nb.is_deletable:
            raise _transition_error(nb, "Stopped, Failed", "Deleting")
        _schedule(nb, "Deleting", "Deleted", TIMINGS.deleting)

    return delete_notebook_instance


def _get_nb(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_notebook_instance(self: Any, notebook_instance_name: str) -> Any:
        _purge(self)
        return original(self, notebook_instance_name)

    return get_notebook_instance


# -- responses: faults, the platform identifier, presigned URLs -----------------------------------
def _faulty(operation: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def factory(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            fault = _take_fault(operation)
            if fault is not None:
                from moto.sagemaker.exceptions import SagemakerClientError

                raise SagemakerClientError(fault[0], fault[1])
            result = original(self, *args, **kwargs)
            if operation == "create_notebook_instance":
                nb = self.sagemaker_backend.notebook_instances.get(self._get_param("NotebookInstanceName"))
                if nb is not None:
                    nb.__dict__["_sw_platform"] = self._get_param("PlatformIdentifier") or DEFAULT_PLATFORM
            return result

        return wrapper

    return factory


def create_presigned_notebook_instance_url(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.sagemaker.exceptions import ValidationError

    fault = _take_fault("create_presigned_notebook_instance_url")
    if fault is not None:
        from moto.sagemaker.exceptions import SagemakerClientError

        raise SagemakerClientError(fault[0], fault[1])
    name = self._get_param("NotebookInstanceName")
    nb = self.sagemaker_backend.get_notebook_instance(name)
    if nb.status != "InService":
        raise ValidationError(message=f"Notebook Instance {nb.arn} is not in InService status ({nb.status}).")
    # Deterministic per name, so tests and snapshots see a stable URL; it opens nothing.
    token = hashlib.sha256(f"sagewiz-sandbox:{nb.arn}".encode()).hexdigest()[:24]
    return ActionResult({"AuthorizedUrl": f"https://{nb.url}?authToken=sandbox-{token}"})


def list_notebook_instance_lifecycle_configs(self: Any) -> Any:
    from moto.core.responses import ActionResult

    contains = self._get_param("NameContains") or ""
    configs = [
        {
            "NotebookInstanceLifecycleConfigName": c.notebook_instance_lifecycle_config_name,
            "NotebookInstanceLifecycleConfigArn": c.arn,
            "CreationTime": c.creation_time,
            "LastModifiedTime": c.last_modified_time,
        }
        for c in self.sagemaker_backend.notebook_instance_lifecycle_configurations.values()
        if contains in c.notebook_instance_lifecycle_config_name
    ]
    configs.sort(key=lambda c: c["NotebookInstanceLifecycleConfigName"])
    return ActionResult({"NotebookInstanceLifecycleConfigs": configs})


def install() -> None:
    import warnings

    # Injected ThrottlingException has no error shape in SageMaker's model; moto warns, AWS sends it anyway.
    warnings.filterwarnings("ignore", message=r".*ThrottlingException does not match an error shape.*")
    from moto.sagemaker.models import FakeSagemakerNotebookInstance, SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    cls = FakeSagemakerNotebookInstance
    if not getattr(cls, "_sagewiz_notebook_installed", False):
        cls.status = property(_get_status, _set_status)  # type: ignore[assignment]
        cls.start = _start  # type: ignore[method-assign]
        cls.stop = _stop  # type: ignore[method-assign]
        cls._sagewiz_notebook_installed = True  # type: ignore[attr-defined]
    wrap_method(cls, "to_dict", _to_dict_wrapper)
    wrap_method(SageMakerModelBackend, "get_notebook_instance", _get_nb)
    wrap_method(SageMakerModelBackend, "list_notebook_instances", _purging)
    wrap_method(SageMakerModelBackend, "start_notebook_instance", _start_nb)
    wrap_method(SageMakerModelBackend, "stop_notebook_instance", _stop_nb)
    wrap_method(SageMakerModelBackend, "delete_notebook_instance", _delete_nb)
    for op in _OPS[:-1]:
        wrap_method(SageMakerResponse, op, _faulty(op))
    add_operation(
        SageMakerResponse, "create_presigned_notebook_instance_url", create_presigned_notebook_instance_url
    )
    add_operation(
        SageMakerResponse,
        "list_notebook_instance_lifecycle_configs",
        list_notebook_instance_lifecycle_configs,
    )
