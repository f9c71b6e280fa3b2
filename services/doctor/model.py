"""The doctor's data: the request, findings with cause IDs, fixes, what was assumed, what is
missing, and the diagnosis."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

from services.denied import DeniedCall
from services.remedy import Face, Remedy, RemedyKind

if TYPE_CHECKING:  # for annotations only: the values stay cheap to import
    from services.doctor.evidence import Evidence
    from services.doctor.reads import Read
    from services.permissions.fixes.change import PolicyChange
    from services.plan import Plan
    from services.policy.evaluate import Decision

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
    "bucket-policy-no-allow": "no bucket policy statement grants it (in one account, an alternative to an identity grant)",
    "kms-key-access": "the SSE-KMS key does not let the principal use it",
    "object-ownership": "the object is owned by another account and ACLs are in play",
    "requester-pays": "the bucket is Requester Pays and the request did not say so",
    "object-missing-no-list": "the key does not exist and, lacking s3:ListBucket, S3 says 403",
    "role-missing": "the execution role named does not exist (or not at the ARN given)",
    "role-trust": "the role's trust policy does not let SageMaker assume it",
    "input-missing": "no objects under the input prefix, and the role may list the bucket",
    "vpc-no-s3-route": "a job or notebook in a VPC whose subnets have neither an S3 gateway endpoint nor a NAT route",
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
    def from_denied(
        cls,
        denied: DeniedCall,
        *,
        default_principal: str | None = None,
        default_bucket: str | None = None,
        notebook_name: str | None = None,
    ) -> DoctorRequest:
        """From a call another step saw refused; the defaults fill what the call did not say."""
        return cls(
            error_text=denied.error_text,
            principal=denied.principal_arn,
            bucket=denied.bucket,
            key=denied.key,
            action=denied.action,
            operation=denied.operation,
            source_step=denied.source_step,
            default_principal=default_principal,
            default_bucket=default_bucket,
            notebook_name=notebook_name,
        )


class AssumptionReason(Enum):
    """Why the doctor had to assume something: which gap in what it was given or could read."""

    PRINCIPAL_FROM_WIZARD = "principal-from-wizard"  # the error did not say; the wizard's role
    PRINCIPAL_IS_CALLER = "principal-is-caller"  # the error did not say; the connected identity
    BUCKET_FROM_WIZARD = "bucket-from-wizard"  # the error did not say; the wizard's bucket
    ANY_KEY = "any-key"  # an object action without a key: a key named '*'
    ROLE_PATH_UNREAD = "role-path-unread"  # a session's role could not be read for its path
    RESOURCE_UNKNOWN = "resource-unknown"  # a non-S3 action without a resource: Resource '*'
    PASSED_TO_SAGEMAKER = "passed-to-sagemaker"  # iam:PassRole evaluated for SageMaker
    REQUEST_CONTEXT = "request-context"  # a condition key's value (HTTPS, VPC endpoint, IP…)
    OTHER_ACCOUNT_POLICY = "other-account-policy"  # another account's bucket policy: assumed to allow
    IDENTITY_INCOMPLETE = "identity-incomplete"  # some identity policies could not be read


@dataclass(frozen=True)
class Assumption:
    """Something the verdict rests on that nobody said and sagewiz could not read. Made only when
    the gap exists; shown with every diagnosis so nobody mistakes a guess for a fact."""

    reason: AssumptionReason
    text: str


@dataclass(frozen=True)
class Need:
    """Something the diagnosis lacks, and how the user can supply it (when there is a way)."""

    what: str
    remedy: Remedy | None = None

    def render(self, face: Face) -> str:
        return f"{self.what}: {self.remedy.render(face)}" if self.remedy else self.what


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
    policy_changes: tuple[PolicyChange, ...] = field(default=(), compare=False)
    plan: Plan | None = field(default=None, compare=False)
    request_changes: dict[str, Any] = field(default_factory=dict)
    admin_only: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def applicable(self) -> bool:
        return bool(self.policy_changes or self.plan is not None) and not self.admin_only

    @property
    def remedy(self) -> Remedy | None:
        """The way forward when sagewiz cannot apply it itself."""
        return Remedy(RemedyKind.SEND_TO_ADMIN) if self.admin_only else None

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
    # Other findings whose fix would each be enough instead of this one (a same-account missing
    # Allow: the identity or the bucket policy), and why this one is recommended over them.
    alternatives: tuple[Finding, ...] = ()
    recommended: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "cause": self.cause,
            "blocking": self.blocking,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "fix": self.fix.to_json() if self.fix else None,
        }
        if self.alternatives:
            out["alternatives"] = [a.to_json() for a in self.alternatives]
            out["recommended"] = self.recommended
        return out

    @property
    def either_text(self) -> str:
        """The sentence that says the alternatives are alternatives ('' without any)."""
        if not self.alternatives:
            return ""
        return f"Either fix is enough; this one is recommended because {self.recommended}."


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
    needs: tuple[Need, ...] = ()  # why the verdict is "unknown", first the most useful
    assumptions: tuple[Assumption, ...] = ()
    trace: tuple[str, ...] = ()  # statement-level trace, one line each
    reads: tuple[Read, ...] = ()
    calls: int = 0
    cross_check: CrossCheck | None = None
    request: DoctorRequest | None = None
    role_arn: str | None = None
    bucket: str | None = None
    key: str | None = None
    decision: Decision | None = field(default=None, compare=False)
    evidence: Evidence | None = field(default=None, compare=False)

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
    def missing(self) -> tuple[str, ...]:
        """What is missing, as sentences (front ends render `needs` for their own face)."""
        return tuple(n.render(Face.PLAIN) for n in self.needs)

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
