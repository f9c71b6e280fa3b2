"""What every Labels sub-screen shares: the step's frame, Escape to go back, image fetching."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.binding import Binding

from screens.base import StepScreen
from screens.confirm_plan import ConfirmPlanScreen
from screens.labels_messages import ImageFetched, LabelsFailed, ManifestSaved
from services.errors import ErrorInfo, translate


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
        """Read one image from S3; the answer arrives as ImageFetched (never raises)."""
        from services.labeling.jobs import read_bytes

        try:
            data = read_bytes(self.factory, uri)
        except Exception as exc:
            err = translate(exc, "s3:GetObject")
            self.post_message(ImageFetched(uri, None, f"{err.title}: {err.message}"))
            return
        self.post_message(ImageFetched(uri, data))

    def confirm_and_save(self, plan: Any, uri: str) -> None:
        """From a worker thread: show the plan; once confirmed, apply it (journaled) and post
        ManifestSaved(uri), or LabelsFailed("save")."""

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
            self.fail(exc, "save")
            return
        self.post_message(ManifestSaved(uri))

    def fail(self, exc: BaseException, what: str) -> None:
        """From a worker thread: hand a failure to the UI as a message."""
        self.post_message(LabelsFailed(ErrorInfo.of(translate(exc)), what))


def short_name(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def fmt_elapsed(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def plain(value: Any) -> str:
    return "" if value is None else str(value)
