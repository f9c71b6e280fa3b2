"""Plan, then apply: every change to AWS is first a list of actions a person can read.

An action names the API call and its parameters, says in one line what it does, carries the
diff against the current state and says how to undo it. Front ends show the plan; `--dry-run`
prints it and stops; applying records each action in the journal.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.journal_events import Event
from services.remedy import Face, Remedy

TAG_KEY = "sagewiz:created-by"
TAG_VALUE = "sagewiz"


@dataclass(frozen=True)
class ApiRequest:
    """One AWS API request exactly as it is sent: the operation and its parameters. The plan
    shows it (as JSON) and `apply_plan` sends this very object, so what was shown is what was sent."""

    service: str  # "sagemaker"
    operation: str  # boto3 method name, "create_training_job"
    params: dict[str, Any]

    @property
    def name(self) -> str:
        """The API's own name of the operation: CreateTrainingJob."""
        return _pascal(self.operation)

    def to_json(self) -> str:
        return json.dumps(self.params, indent=2, default=str)

    def send(self, client: Any) -> Any:
        return getattr(client, self.operation)(**self.params)


@dataclass(frozen=True)
class Action:
    service: str  # "s3", "iam", "sagemaker", ...
    operation: str  # boto3 method name, e.g. "put_bucket_policy"
    params: dict[str, Any]
    description: str  # one line, for people
    diff: str = ""  # unified diff against current state, empty when nothing is replaced
    undo: str = ""  # how to undo, for people, in words that hold for every front end
    resource: str = ""  # ARN or name of what it touches
    journal: Event | None = None  # what applying it records, e.g. ResourceCreated(...)
    undo_remedy: Remedy | None = None  # how to undo, when each front end names it its own way

    def api_call(self) -> str:
        return f"{self.service}:{_pascal(self.operation)}"

    @property
    def request(self) -> ApiRequest:
        """The request this action sends (its params are this action's own dict, not a copy)."""
        return ApiRequest(self.service, self.operation, self.params)

    def undo_text(self, face: Face) -> str:
        if self.undo_remedy is None:
            return self.undo
        return " ".join(t for t in (self.undo, self.undo_remedy.render(face)) if t)


@dataclass(frozen=True)
class Plan:
    title: str
    actions: tuple[Action, ...]
    warnings: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.actions

    def render_text(self) -> str:
        """Plain text of the plan, as `--dry-run` prints it: on a command line, where no key works."""
        lines = [self.title]
        if not self.actions:
            lines.append("  nothing to do: the current state already matches")
        for n, a in enumerate(self.actions, 1):
            lines.append(f"  {n}. {a.description}")
            lines.append(f"     call: {a.api_call()}  {_short_params(a.params)}")
            if undo := a.undo_text(Face.CLI):
                lines.append(f"     undo: {undo}")
            if a.diff:
                lines.extend("     " + d for d in a.diff.splitlines())
        lines.extend(f"  warning: {w}" for w in self.warnings)
        return "\n".join(lines)


@dataclass(frozen=True)
class AppliedAction:
    action: Action
    ok: bool
    result: Any = None
    error: str | None = None


def apply_plan(
    plan: Plan,
    factory: Any,
    journal: Any,
    on_progress: Callable[[int, Action], None] | None = None,
) -> list[AppliedAction]:
    """Run each action in order; stop at the first failure. Each success is journaled at once,
    so an interrupted apply leaves the journal telling exactly what was done."""
    from services.errors import translate

    done: list[AppliedAction] = []
    for n, action in enumerate(plan.actions):
        if on_progress:
            on_progress(n, action)
        client = factory.client(action.service)
        try:
            result = action.request.send(client)
        except Exception as exc:
            err = translate(exc, action.api_call())
            done.append(AppliedAction(action, False, error=f"{err.title}: {err.message}"))
            raise err from exc
        if action.journal is not None and journal is not None:
            journal.append(action.journal)
        done.append(AppliedAction(action, True, result=_strip_meta(result)))
    return done


def unified_json_diff(old: Any, new: Any, old_name: str = "current", new_name: str = "proposed") -> str:
    a = pretty_json(old).splitlines() if old is not None else []
    b = pretty_json(new).splitlines() if new is not None else []
    return "\n".join(difflib.unified_diff(a, b, old_name, new_name, lineterm=""))


def pretty_json(doc: Any) -> str:
    if isinstance(doc, str):
        text = doc
        try:
            doc = json.loads(text)
        except ValueError:
            return text
    return json.dumps(doc, indent=2, sort_keys=False)


def tags_list(extra: dict[str, str] | None = None) -> list[dict[str, str]]:
    tags = {TAG_KEY: TAG_VALUE, **(extra or {})}
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _pascal(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_"))


def _short_params(params: dict[str, Any]) -> str:
    shown = {}
    for k, v in params.items():
        s = v if isinstance(v, (int, float, bool)) else str(v)
        if isinstance(s, str) and len(s) > 60:
            s = s[:57] + "..."
        shown[k] = s
    return json.dumps(shown, default=str)


def _strip_meta(result: Any) -> Any:
    if isinstance(result, dict):
        return {k: v for k, v in result.items() if k != "ResponseMetadata"}
    return result
