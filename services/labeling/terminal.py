"""Labeling in the terminal: the person is the workforce.

The session keeps answers, skips and an undo history; the result is an output.manifest in Ground
Truth's exact format at the layout a job would use (<output>/<job>/manifests/output/output.manifest),
so the Train step cannot tell it from a job's output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from services.errors import ValidationError
from services.journal_events import ResourceCreated
from services.labeling import manifest as mf
from services.labeling.rules import split_s3
from services.plan import Action, Plan
from services.resource_kinds import ResourceKind


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Progress:
    position: int  # 0-based index shown
    total: int
    labeled: int
    skipped: int

    @property
    def remaining(self) -> int:
        return self.total - self.labeled - self.skipped


class TerminalLabeling:
    """Answers by object index. pick/undo/skip/back, as keys in the screen."""

    def __init__(self, sources: list[str], labels: list[str] | tuple[str, ...], multi: bool = False,
                 clock: Callable[[], datetime] = _now, already: frozenset[str] = frozenset()) -> None:  # fmt: skip
        if not sources:
            raise ValidationError("images", "There are no images to label.", "Run the Data step first.")
        self.sources = list(sources)
        self.labels = tuple(labels)
        self.multi = multi
        self.clock = clock
        # images the merged manifest in S3 already labels (a job, or an earlier session): counted
        # as labeled and passed over, so a new session resumes at the first image without a label
        self.already = frozenset(i for i, src in enumerate(self.sources) if src in already)
        self.position = next((i for i in range(len(self.sources)) if i not in self.already), 0)
        self.answers: dict[int, tuple[int, ...]] = {}
        self.dates: dict[int, str] = {}
        self.skipped: set[int] = set()
        self.pending: set[int] = set()  # multi-label choices not yet confirmed
        self._history: list[
            tuple[int, tuple[int, ...] | None, bool]
        ] = []  # (index, previous answer, was skipped)

    # -- moves -----------------------------------------------------------------------------
    @property
    def current(self) -> str:
        return self.sources[self.position]

    @property
    def done(self) -> bool:
        return all(self._has_label(i) or i in self.skipped for i in range(len(self.sources)))

    def _has_label(self, i: int) -> bool:
        return i in self.answers or i in self.already

    @property
    def labeled(self) -> int:
        """Images with a label once saved: answered here or already in the merged manifest."""
        return len(set(self.answers) | self.already)

    def progress(self) -> Progress:
        skipped = self.skipped - set(self.answers) - self.already
        return Progress(self.position, len(self.sources), self.labeled, len(skipped))

    def pick(self, label_index: int) -> bool:
        """Single label: answer and move on. Multi-label: toggle (confirm with `confirm`). True if valid."""
        if not 0 <= label_index < len(self.labels):
            return False
        if self.multi:
            self.pending ^= {label_index}
            return True
        self._answer((label_index,))
        return True

    def confirm(self) -> bool:
        if not self.multi or not self.pending:
            return False
        self._answer(tuple(sorted(self.pending)))
        return True

    def _answer(self, indices: tuple[int, ...]) -> None:
        i = self.position
        self._history.append((i, self.answers.get(i), i in self.skipped))
        self.answers[i] = indices
        self.dates[i] = self.clock().replace(tzinfo=None).isoformat(timespec="microseconds")
        self.skipped.discard(i)
        self.pending = set()
        self._advance()

    def skip(self) -> None:
        i = self.position
        self._history.append((i, self.answers.get(i), i in self.skipped))
        self.answers.pop(i, None)
        self.skipped.add(i)
        self.pending = set()
        self._advance()

    def back(self) -> None:
        if self.position > 0:
            self.position -= 1
            self.pending = set(self.answers.get(self.position, ())) if self.multi else set()

    def forward(self) -> None:
        if self.position < len(self.sources) - 1:
            self.position += 1
            self.pending = set()

    def undo(self) -> bool:
        """Take back the last answer or skip and show that image again."""
        if not self._history:
            return False
        i, previous, was_skipped = self._history.pop()
        if previous is None:
            self.answers.pop(i, None)
        else:
            self.answers[i] = previous
        if was_skipped:
            self.skipped.add(i)
        else:
            self.skipped.discard(i)
        self.position = i
        self.pending = set()
        return True

    def _advance(self) -> None:
        """To the next open image after this one, wrapping round; stay put when all are done."""
        n = len(self.sources)
        for j in [*range(self.position + 1, n), *range(0, self.position)]:
            if not self._has_label(j) and j not in self.skipped:
                self.position = j
                return
        # only skipped ones are left: offer them again (another skip moves on to the next)
        for j in [*range(self.position + 1, n), *range(0, self.position)]:
            if not self._has_label(j):
                self.position = j
                return

    # -- result ----------------------------------------------------------------------------
    def objects(self, job_name: str) -> list[mf.LabeledObject]:
        """Answered objects in manifest order. One annotator: confidence 0.00, as Ground Truth writes."""
        out = []
        for i, src in enumerate(self.sources):
            if i not in self.answers:
                continue
            idx = self.answers[i]
            out.append(mf.LabeledObject(src, idx, tuple(self.labels[k] for k in idx), tuple(0.0 for _ in idx),
                                        True, job_name, self.dates[i], self.multi))  # fmt: skip
        return out


def exists(factory: object, uri: str) -> bool:
    import botocore.exceptions as bx

    from services.errors import translate

    bucket, key = split_s3(uri)
    try:
        factory.client("s3").head_object(Bucket=bucket, Key=key)  # type: ignore[attr-defined]
    except bx.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise translate(exc, "s3:HeadObject") from exc
    return True


def write_plan(objects: list[mf.LabeledObject], output_path: str, job_name: str, attribute: str,
               source: str = "labeled in the terminal", replaces: bool = False,
               stamp: str = "") -> tuple[Plan, str]:  # fmt: skip
    """The one action that writes output.manifest where a job with this name would."""
    if not objects:
        raise ValidationError(
            "labels", "No image has a label yet.", "Label at least one image (number keys)."
        )
    uri = mf.output_manifest_uri(output_path, job_name)
    bucket, key = split_s3(uri)
    body = mf.write_output_manifest(objects, attribute)
    action = Action(
        service="s3",
        operation="put_object",
        params={
            "Bucket": bucket,
            "Key": key,
            "Body": body.encode("utf-8"),
            "ContentType": "application/x-ndjson",
        },
        description=f"Write output.manifest ({len(objects)} objects {source}) to {uri}",
        undo=f"delete {uri}",
        resource=uri,
        journal=ResourceCreated(ResourceKind.OBJECT, uri, attributes={"what": "output.manifest"}),
    )
    actions = [action]
    if replaces:
        # never overwrite without a copy: the previous manifest stays beside it
        backup_key = f"{key}.bak-{stamp or _now().strftime('%Y%m%dT%H%M%S')}"
        actions.insert(0, Action(
            service="s3", operation="copy_object",
            params={"Bucket": bucket, "Key": backup_key, "CopySource": {"Bucket": bucket, "Key": key}},
            description=f"Back up the existing output.manifest to s3://{bucket}/{backup_key}",
            undo=f"delete s3://{bucket}/{backup_key}", resource=f"s3://{bucket}/{backup_key}",
            journal=ResourceCreated(ResourceKind.OBJECT, f"s3://{bucket}/{backup_key}", attributes={"what": "backup"})))  # fmt: skip
    return Plan("Save the labels", tuple(actions)), uri
