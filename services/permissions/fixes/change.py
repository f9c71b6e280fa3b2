"""A fix as plain data: a `PolicyChange` (what, where, old text, new text, why, diff) and the
document texts it reads and renders."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from services.errors import ValidationError
from services.plan import unified_json_diff

BUCKET_POLICY = "bucket-policy"
ROLE_INLINE_POLICY = "role-inline-policy"
PUBLIC_ACCESS_BLOCK = "public-access-block"


@dataclass(frozen=True)
class PolicyTarget:
    """Where a document lives. `key` is what the journal records as the change's target."""

    kind: str  # BUCKET_POLICY | ROLE_INLINE_POLICY | PUBLIC_ACCESS_BLOCK
    bucket: str | None = None
    role_name: str | None = None
    policy_name: str | None = None

    @property
    def key(self) -> str:
        if self.kind == ROLE_INLINE_POLICY:
            return f"iam:role-policy:{self.role_name}/{self.policy_name}"
        if self.kind == PUBLIC_ACCESS_BLOCK:
            return f"s3:public-access-block:{self.bucket}"
        return f"s3:bucket-policy:{self.bucket}"

    def describe(self) -> str:
        if self.kind == ROLE_INLINE_POLICY:
            return f"inline policy {self.policy_name} of role {self.role_name}"
        if self.kind == PUBLIC_ACCESS_BLOCK:
            return f"Block Public Access of bucket {self.bucket}"
        return f"bucket policy of {self.bucket}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "bucket": self.bucket,
            "role_name": self.role_name,
            "policy_name": self.policy_name,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyTarget:
        return cls(data["kind"], data.get("bucket"), data.get("role_name"), data.get("policy_name"))


@dataclass(frozen=True)
class PolicyChange:
    """Replace the document at `target`: `old_text` exactly as read (None: there was none),
    `new_text` what will be sent (None: delete it)."""

    target: PolicyTarget
    title: str
    reason: str
    old_text: str | None
    new_text: str | None
    warnings: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()  # validations passed, for people
    fixes: tuple[str, ...] = field(default=())  # finding ids this change addresses

    @property
    def diff(self) -> str:
        return document_diff(self.old_text, self.new_text, self.target.describe())

    @property
    def resource(self) -> str:
        if self.target.kind == ROLE_INLINE_POLICY:
            return f"role {self.target.role_name}, inline policy {self.target.policy_name}"
        return f"bucket {self.target.bucket}"


def pretty(doc: Any) -> str:
    return json.dumps(doc, indent=2)


def parse(text: str | None) -> dict[str, Any] | None:
    """The document, or None when absent. Raises ValidationError when it is not a JSON object."""
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            "existing policy", f"it is not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from exc
    except ValueError as exc:  # well-formed but unreadable, e.g. an integer past Python's digit limit
        raise ValidationError("existing policy", f"it is not valid JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise ValidationError("existing policy", "it is not a JSON object")
    return doc


def document_diff(old_text: str | None, new_text: str | None, name: str = "policy") -> str:
    """Unified diff of two document texts, both pretty-printed when they parse."""

    def norm(text: str | None) -> Any:
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return text  # malformed: diff the raw text

    return unified_json_diff(norm(old_text), norm(new_text), f"{name} (current)", f"{name} (proposed)")
