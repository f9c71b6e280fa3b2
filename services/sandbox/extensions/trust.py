"""Trust policies as AWS reads them: a statement applies only to the principals it names.

moto 5.2 evaluates a role's trust policy statement by statement and, for each one whose action
matches, compares the caller with `Principal.AWS`. A statement naming only a `Service` (as every
SageMaker execution role's does) makes that comparison fail with a TypeError, so AssumeRole
answered HTTP 500; and a statement naming somebody else answers "denied" instead of "does not
apply", so a second statement that does name the caller could never allow it.

This wraps moto's statement check for trust-policy evaluations (those that carry a caller): a
statement whose Principal does not name the caller is neutral, as in AWS. `AWS` principals match the
caller's exact ARN, `*`, the account root (`arn:aws:iam::ACCOUNT:root`) or the bare account ID;
`Service` and `Federated` principals never name an IAM user or assumed role. Everything else (the
identity-policy side, ExternalId conditions) is left to moto.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.sandbox.extensions import wrap_method


def names_caller(principal: Any, caller_arn: str) -> bool:
    """Whether a statement's Principal element names the caller (an IAM user or assumed-role ARN)."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    aws = principal.get("AWS")
    if aws is None:
        return False
    values = [aws] if isinstance(aws, str) else list(aws)
    parts = caller_arn.split(":")
    account = parts[4] if len(parts) > 4 else ""
    accepted = {"*", caller_arn, account, f"arn:aws:iam::{account}:root"}
    return any(v in accepted for v in values)


def _trust_aware(original: Callable[..., Any]) -> Callable[..., Any]:
    def is_action_permitted(
        self: Any,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> Any:
        statement = getattr(self, "_statement", {}) or {}
        if principal and isinstance(statement, dict) and "Principal" in statement:
            from moto.iam.access_control import IAMPolicyStatement, PermissionResult

            if not names_caller(statement["Principal"], principal):
                return PermissionResult.NEUTRAL
            # It names the caller (perhaps as the account root, which moto cannot compare): let
            # moto judge the rest (action, Effect, ExternalId condition) with a principal it reads.
            self = IAMPolicyStatement({**statement, "Principal": {"AWS": "*"}})
        return original(self, action, resource, principal, incoming_condition_values)

    return is_action_permitted


def install() -> None:
    from moto.iam.access_control import IAMPolicyStatement

    wrap_method(IAMPolicyStatement, "is_action_permitted", _trust_aware)
