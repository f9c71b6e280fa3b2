"""What every Labels sub-screen shares: the step's frame, Escape to go back, image fetching."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.binding import Binding

from screens.base import StepScreen
from screens.confirm_plan import ConfirmPlanScreen
from screens.labels_work import IMAGE, SAVE, FetchedImage
from services.errors import ErrorInfo, translate
from tui.messages import Work


class LabelsSubScreen(StepScreen):
    """Pushed over the Labels step; Escape returns to it."""

    STEP_ID = "labels"
    CSS_PATH = "labels.tcss"
    BINDINGS: ClassVar = [Binding("escape", "back", "Back to Labels")]

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    @work(thread=True, group="labels-images", exit_on_error=False)
    def fetch_image(self, uri: str) -> None:
        """Read one image from S3; the answer arrives as IMAGE's FetchedImage (never raises)."""
        from services.labeling.jobs import read_bytes

        try:
            data = read_bytes(self.factory, uri)
        except Exception as exc:
            err = translate(exc, "s3:GetObject")
            self.post_message(IMAGE.done(FetchedImage(uri, None, f"{err.title}: {err.message}")))
            return
        self.post_message(IMAGE.done(FetchedImage(uri, data)))

    def confirm_and_save(self, plan: Any, uri: str) -> None:
        """From a worker thread: show the plan; once confirmed, apply it (journaled) and post
        SAVE's result (the URI) or SAVE's failure."""

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._apply_save(plan, uri)

        self.app.call_from_thread(self.app.push_screen, ConfirmPlanScreen(plan), confirmed)

    @work(thread=True, exclusive=True, group="labels-save", exit_on_error=False)
    def _apply_save(self, plan: Any, uri: str) -> None:
        from services.plan import apply_plan

        try:
            apply_plan(plan, self.factory, self.journal)
        except Exception as exc:
            self.fail(exc, SAVE)
            return
        self.post_message(SAVE.done(uri))

    def fail(self, exc: BaseException, work: Work[Any]) -> None:
        """From a worker thread: hand a failure of `work` to the UI as a message."""
        self.post_message(work.failed(ErrorInfo.of(translate(exc))))


def short_name(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def plain(value: Any) -> str:
    return "" if value is None else str(value)
