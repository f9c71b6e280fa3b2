"""Messages that carry results from workers to the App and screens.

A worker's result reaches the UI thread as one of two generic messages: `WorkDone[T]` (a result,
or one step of progress, of type T) or `WorkFailed` (an error a person can read). Which work it was
is said by a `Work[T]` key, declared once beside the screen that starts the work; the key's type
parameter ties what the worker posts to what the handler receives, so both are type-checked:

    LISTED: Work[list[Bucket]] = Work("list buckets")

    # in the worker (a thread)
    self.post_message(LISTED.done(buckets))
    self.post_message(LISTED.failed(ErrorInfo.of(err), subject=bucket_name))

    # on the screen (the UI thread)
    def on_work_done(self, message: WorkDone[Any]) -> None:
        message.route(LISTED.to(self._show_buckets))      # _show_buckets(buckets: list[Bucket])

    def on_work_failed(self, message: WorkFailed) -> None:
        if not message.route(LISTED.on_failure(self._list_failed)):   # _list_failed(failed: WorkFailed)
            self.wizard.show_error(message.error)

A routed message is stopped; one no route matches bubbles on (to the App, which ignores it), so a
screen, and a widget inside it, can each route their own keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from textual.message import Message

from services.errors import ErrorInfo

if TYPE_CHECKING:
    from services.denied import DeniedCall
    from services.flow.marks import Mark
    from services.sandbox.world import SandboxWorld
    from services.session import Identity, SessionFactory

T = TypeVar("T")
P = TypeVar("P")


@dataclass(frozen=True, eq=False)
class Work(Generic[T]):
    """One kind of work a worker does for the UI, yielding a T. Keys compare by identity."""

    name: str

    def done(self, result: T) -> WorkDone[T]:
        return WorkDone(self, result)

    def failed(self, error: ErrorInfo, subject: str = "", denied: DeniedCall | None = None) -> WorkFailed:
        return WorkFailed(self, error, subject, denied)

    def result_of(self, message: WorkDone[Any]) -> T:
        """The result `message` carries, typed; for a handler that must await its work (route cannot)."""
        if message.work is not self:
            raise ValueError(f"{message!r} is not a result of {self.name!r}")
        result: T = message.result
        return result

    def to(self, handler: Callable[[T], object]) -> Route[T]:
        """Route this work's results to `handler`."""
        return Route(self, handler, failure=False)

    def on_failure(self, handler: Callable[[WorkFailed], object]) -> Route[WorkFailed]:
        """Route this work's failures to `handler`."""
        return Route(self, handler, failure=True)


@dataclass(frozen=True)
class Route(Generic[P]):
    """A work key and the handler for its payload P; built only by `Work.to` / `Work.on_failure`."""

    work: Work[Any]
    handler: Callable[[P], object]
    failure: bool


class WorkDone(Message, Generic[T]):
    """A worker produced `result` for `work` (a final result, or one step of progress)."""

    def __init__(self, work: Work[T], result: T) -> None:
        super().__init__()
        self.work = work
        self.result = result

    def route(self, *routes: Route[Any]) -> bool:
        """Hand the result to the route for this work; True (and stopped) if one matched."""
        for r in routes:
            if r.work is self.work and not r.failure:
                self.stop()
                r.handler(self.result)
                return True
        return False

    def __repr__(self) -> str:
        return f"WorkDone({self.work.name!r})"


class WorkFailed(Message):
    """A worker could not do `work`; `error` says why in a person's words, `subject` what it was
    working on when that is not plain from the work (the bucket, the image), `denied` the refused
    call when AWS said AccessDenied and the doctor can be handed it."""

    def __init__(
        self, work: Work[Any], error: ErrorInfo, subject: str = "", denied: DeniedCall | None = None
    ) -> None:
        super().__init__()
        self.work = work
        self.error = error
        self.subject = subject
        self.denied = denied

    def route(self, *routes: Route[WorkFailed]) -> bool:
        """Hand this failure to the route for its work; True (and stopped) if one matched."""
        for r in routes:
            if r.work is self.work and r.failure:
                self.stop()
                r.handler(self)
                return True
        return False

    def __repr__(self) -> str:
        return f"WorkFailed({self.work.name!r}, {self.error.kind!r})"


# -- the App's connection: read by screens long after it arrived, so kept as its own messages ----------
@dataclass
class Connected(Message):
    identity: Identity
    factory: SessionFactory
    world: SandboxWorld | None = None  # the embedded AWS, in the sandbox


@dataclass
class ConnectFailed(Message):
    reason: str  # one of the ConnectProblem values in services.session
    error: ErrorInfo


class StatusSeen(Message):
    """A panel saw a job or instance change status: the App reads the running cost again at once
    (the header follows within a poll, not a minute)."""


@dataclass
class StepMarked(Message):
    """A step's mark changed (from the flow's rules in services.flow.marks). Posted to the App by
    whichever screen or panel saw the state change, so the step bar follows from anywhere."""

    step: str
    mark: Mark
