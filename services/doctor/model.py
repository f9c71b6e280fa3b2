"""The doctor's data: the request, findings with cause IDs, fixes, and the diagnosis."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

# The README's "The `--json` contract" lists these cause IDs, in the order findings of equal
# blocking-ness are listed.
CAUSES: dict[str, str] = {
    "invalid-credentials": "the credentials are invalid or expired (not a permissions problem)",
    "bucket-missing": "no such bucket",
    "bucket-owned-by-other-account": "the bucket exists but belongs to another account",
    "organizations-policy": "an SCP or RCP denies it",
    "vpc-endpoint-policy": "the S3 VPC endpoint policy on the network path denies it",
    "identity-explicit-deny": "an identity policy denies it",
    "bucket-policy-explicit-deny": "a bucket policy statement denies it",
    "block-public-access": "Block Public Access rejects this request",
    "permissions-boundary": "the role's permissions boundary does not allow it or denies it",
    "session-policy": "a session policy limits it",
    "identity-wrong-resource": "an identity statement means to allow it but its Resource does not match",
    "default-bucket-name": "the bucket name does not match what SageMaker's managed policy and SDK expect",
    "identity-no-allow": "no identity policy of the principal allows the action on the resource",
    "bucket-policy-wrong-resource": "a bucket policy statement means to allow it but its Resource does not match",
    "bucket-policy-principal-mismatch": "the bucket policy names a different principal form",
    "kms-key-access": "the SSE-KMS key does not let the principal use it",
    "object-ownership": "the object is owned by another account and ACLs are in play",
    "requester-pays": "the bucket is Requester Pays and the request did not say so",
    "object-missing-no-list": "the key does not exist and, lacking s3:ListBucket, S3 says 403",
}
CAUSE_ORDER = {c: i for i, c in enumerate(CAUSES)}


@dataclass(frozen=True)
class DoctorRequest:
    """What the user gave. Fields override what the error text says; defaults fill gaps and are
    reported as assumptions."""

    error_text: str = ""
    principal: str | None = None
    bucket: str | None = None
    key: str | None = None
    action: str | None = None
    operation: str | None = None
    resource: str | None = None  # for non-S3 actions (e.g. the role ARN for iam:PassRole)
    default_principal: str | None = None  # e.g. the wizard's execution role
    default_bucket: str | None = None
    scp_text: str | None = None  # SCP / RCP / session / VPCE policy text the user supplies
    rcp_text: str | None = None
    session_policy_text: str | None = None
    vpce_policy_text: str | None = None
    secure_transport: bool | None = None
    request_payer_sent: bool = False
    request_acl: str | None = None
    notebook_name: str | None = None
    source_step: str | None = None

    def with_(self, **changes: Any) -> DoctorRequest:
        return replace(self, **changes)

    @classmethod
    def from_denied(cls, denied: Any, **defaults: Any) -> DoctorRequest:
        """From a services.denied.DeniedCall handed over by another screen."""
        return cls(
            error_text=getattr(denied, "error_text", "") or "",
            principal=getattr(denied, "principal_arn", None),
            bucket=getattr(denied, "bucket", None),
            key=getattr(denied, "key", None),
            action=getattr(denied, "action", None),
            operation=getattr(denied, "operation", None),
            source_step=getattr(denied, "source_step", None),
            **defaults,
        )


@dataclass(frozen=True)
class Fix:
    """The smallest safe fix for one finding.

    `changes` is JSON-safe (what the contract prints). `policy_changes` are the Permissions step's
    PolicyChange objects applied with services.permissions.apply; `plan` is a services.plan.Plan for
    non-policy changes; `request_changes` are changes to the request itself (client side: HTTPS,
    RequestPayer) that need no AWS change. `admin_only`: the caller's account cannot apply it.
    """

    description: str
    changes: tuple[dict[str, Any], ...] = ()
    policy_changes: tuple[Any, ...] = field(default=(), compare=False)
    plan: Any = field(default=None, compare=False)
    request_changes: dict[str, Any] = field(default_factory=dict)
    admin_only: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def applicable(self) -> bool:
        return bool(self.policy_changes or self.plan is not None) and not self.admin_only

    def to_json(self) -> dict[str, Any]:
        return {"description": self.description, "changes": [dict(c) for c in self.changes]}


@dataclass(frozen=True)
class Finding:
    cause: str
    blocking: bool
    summary: str
    evidence: tuple[str, ...] = ()
    fix: Fix | None = None
    rank: int = 50  # among blocking findings: lower first (the fix to try first)

    def to_json(self) -> dict[str, Any]:
        return {
            "cause": self.cause,
            "blocking": self.blocking,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "fix": self.fix.to_json() if self.fix else None,
        }


@dataclass(frozen=True)
class CrossCheck:
    """iam:SimulateCustomPolicy against our evaluator (identity side only)."""

    ran: bool
    message: str
    simulator_decision: str | None = None  # allowed | explicitDeny | implicitDeny
    our_decision: str | None = None
    agrees: bool | None = None
    calls: int = 0  # AWS calls made for it


@dataclass(frozen=True)
class Diagnosis:
    verdict: str  # "allowed" | "denied" | "unknown"
    principal: str | None
    action: str | None
    resource: str | None
    findings: tuple[Finding, ...] = ()
    headline: str = ""
    understood: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    trace: tuple[str, ...] = ()  # statement-level trace, one line each
    reads: tuple[Any, ...] = ()  # evidence.Read
    calls: int = 0
    cross_check: CrossCheck | None = None
    request: DoctorRequest | None = None
    role_arn: str | None = None
    bucket: str | None = None
    key: str | None = None
    decision: Any = field(default=None, compare=False)
    evidence: Any = field(default=None, compare=False)

    def recheck_request(self) -> DoctorRequest:
        """The request to re-check after a fix: what the error text told us, as fields (the old
        text describes the past and would keep saying "denied")."""
        base = self.request or DoctorRequest()
        principal = base.principal or (self.principal if self.principal else None)
        key = None if self.key == "*" else self.key
        resource = None if self.bucket else self.resource
        return base.with_(error_text="", principal=principal, bucket=self.bucket or base.bucket, key=key,
                          action=self.action or base.action, resource=resource or base.resource)  # fmt: skip

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.blocking)

    @property
    def first_blocking(self) -> Finding | None:
        return next(iter(self.blocking), None)

    def to_json(self) -> dict[str, Any]:
        """Exactly the object of the README's `--json` contract (nothing more that could break consumers)."""
        return {
            "verdict": self.verdict,
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
            "findings": [f.to_json() for f in self.findings],
        }


def order_findings(findings: list[Finding]) -> tuple[Finding, ...]:
    """Blocking first; then by rank (the fix to try first), then by the cause table's order."""
    return tuple(sorted(findings, key=lambda f: (not f.blocking, f.rank, CAUSE_ORDER.get(f.cause, 99))))
