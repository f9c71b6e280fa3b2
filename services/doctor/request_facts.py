"""What the refused request was: the user's fields, what the error text says, and the wizard's
defaults, in that order of precedence; checked before any AWS call.

A field the user gave wins over the error text (the user may be correcting it); a default fills
a gap only when neither said anything, and is then stated as an assumption.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.doctor import fixes as fx
from services.doctor.model import (
    Assumption,
    AssumptionReason,
    Diagnosis,
    DoctorRequest,
    Finding,
    Need,
)
from services.doctor.parse import ParsedError, parse_error
from services.policy.arns import parse_principal, s3_arn
from services.policy.s3 import OPERATION_ACTIONS, action_for_operation, is_bucket_action
from services.remedy import Remedy, RemedyKind

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ACTION_RE = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$")
_CANONICAL = {a.lower(): a for a in OPERATION_ACTIONS.values()}
_NOT_DIAGNOSABLE = ("empty", "unrecognised", "not-access-denied")


def canonical_action(action: str) -> str:
    if action.lower() == "s3:copyobject":  # the BPA doc example names the operation
        return "s3:PutObject"
    return _CANONICAL.get(action.lower(), action)


def validate_request(req: DoctorRequest) -> list[str]:
    """Problems with the fields themselves (before any AWS call)."""
    problems = []
    if req.principal:
        info = parse_principal(req.principal)
        if info is None:
            problems.append(
                f"--principal {req.principal!r} is not a principal ARN (expected arn:aws:iam::<account>:role/<name>, "
                "…:user/<name>, or arn:aws:sts::<account>:assumed-role/<role>/<session>)"
            )
        elif info.partition != "aws":
            problems.append(
                f"the principal is in the {info.partition} partition; sagewiz diagnoses the standard aws partition only"
            )
    if req.bucket and not _BUCKET_RE.match(req.bucket):
        problems.append(
            f"--bucket {req.bucket!r} is not a valid S3 bucket name (3-63 characters: lower-case letters, digits, "
            "dots and hyphens, starting and ending with a letter or digit)"
        )
    if req.action and not _ACTION_RE.match(req.action):
        problems.append(
            f"--action {req.action!r} is not an IAM action (expected service:Action, e.g. s3:PutObject)"
        )
    return problems


@dataclass
class RequestFacts:
    """The request as understood, with what was assumed to get there and what is wrong with it."""

    req: DoctorRequest
    parsed: ParsedError | None
    principal: str | None
    bucket: str | None
    key: str | None
    action: str | None
    understood: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    assumptions: list[Assumption] = field(default_factory=list)

    @property
    def s3_request(self) -> bool:
        return bool(self.action and self.action.lower().startswith("s3:"))

    def assume(self, reason: AssumptionReason, text: str) -> None:
        self.assumptions.append(Assumption(reason, text))

    def resource(self) -> str | None:
        """The S3 ARN the request touched, when a bucket is known."""
        if not self.bucket:
            return None
        object_key = None if (self.action and is_bucket_action(self.action)) or self.key is None else self.key
        return s3_arn(self.bucket, object_key)


def read_request(req: DoctorRequest) -> RequestFacts:
    """The fields, then the error text, then the defaults (each default an assumption)."""
    parsed = parse_error(req.error_text) if req.error_text.strip() else None
    facts = RequestFacts(
        req=req,
        parsed=parsed,
        principal=req.principal or (parsed.principal if parsed else None),
        bucket=req.bucket or (parsed.bucket if parsed else None),
        key=req.key if req.key is not None else (parsed.key if parsed else None),
        action=None,
        understood=list(parsed.understood) if parsed else [],
        problems=validate_request(req) + (list(parsed.problems) if parsed else []),
    )
    if not facts.principal and req.default_principal:
        facts.principal = req.default_principal
        facts.assume(
            AssumptionReason.PRINCIPAL_FROM_WIZARD,
            f"the principal is {facts.principal} (not in the error text; the wizard's execution role)",
        )
    if not facts.bucket and req.default_bucket:
        facts.bucket = req.default_bucket
        facts.assume(
            AssumptionReason.BUCKET_FROM_WIZARD,
            f"the bucket is {facts.bucket} (not in the error text; the wizard's bucket)",
        )
    _read_action(facts)
    return facts


def _read_action(facts: RequestFacts) -> None:
    req, parsed = facts.req, facts.parsed
    operation = req.operation or (parsed.operation if parsed else None)
    action = (
        req.action
        or (parsed.action if parsed else None)
        or (action_for_operation(operation) if operation else None)
    )
    facts.action = canonical_action(action) if action else None
    if req.action is None and parsed and parsed.action is None and operation and facts.action:
        facts.understood.append(f"{operation} is authorised as {facts.action}")


def needs(facts: RequestFacts) -> list[Need]:
    """What must still be given before the doctor can diagnose, each with how to give it."""
    out = []
    if not facts.principal:
        out.append(Need("the principal (who made the request)", Remedy(RemedyKind.GIVE_PRINCIPAL)))
    if not facts.action:
        out.append(Need("the action", Remedy(RemedyKind.GIVE_ACTION)))
    elif facts.s3_request and not facts.bucket and facts.action.lower() != "s3:listallmybuckets":
        out.append(Need("the bucket", Remedy(RemedyKind.GIVE_BUCKET)))
    return out


def undiagnosable_text(facts: RequestFacts) -> bool:
    """Error text that is not an access denial (or not understood) and no field to go on."""
    parsed, req = facts.parsed, facts.req
    if not parsed or parsed.form not in _NOT_DIAGNOSABLE or (req.principal or req.bucket or req.action):
        return False
    # A missing bucket or key still deserves a diagnosis when the bucket is known.
    return not (parsed.form == "not-access-denied" and parsed.code in ("NoSuchBucket", "NoSuchKey"))


def credentials_refused(facts: RequestFacts) -> Diagnosis:
    """The error says the credentials themselves were refused: not a permissions problem."""
    parsed = facts.parsed
    assert parsed is not None
    finding = Finding(
        "invalid-credentials",
        True,
        "The credentials were refused: this is not a permissions problem. "
        + (parsed.understood[-1] if parsed.understood else ""),
        (f"error code {parsed.code}" if parsed.code else "the error text names a credentials failure",),
        fx.client_fix(
            "Refresh or fix the credentials: `aws sso login --profile NAME` for SSO, new temporary keys for "
            "expired sessions, or `aws configure` for wrong keys; check the clock for RequestExpired.",
        ),
        rank=0,
    )
    return Diagnosis(
        "denied",
        facts.principal,
        facts.action,
        facts.resource(),
        (finding,),
        "The credentials were refused (not a permissions problem)",
        tuple(facts.understood),
        (),
        tuple(facts.assumptions),
        request=facts.req,
        bucket=facts.bucket,
        key=facts.key,
    )


def _gap(what: str) -> str:
    return what.split(" (", 1)[0].strip()


def unknown(facts: RequestFacts, gaps: list[Need]) -> Diagnosis:
    """Not enough to diagnose: what was understood, and what is missing first."""
    parsed = facts.parsed
    gaps = list(gaps)
    if parsed and parsed.missing:
        # "the bucket" and "the bucket (this message form ...)" are one gap: listed once.
        said = {_gap(g.what) for g in gaps}
        gaps += [Need(m) for m in parsed.missing if _gap(m) not in said]
    if parsed and parsed.form == "not-access-denied":
        gaps.insert(0, Need(f"this is not an access-denied error ({parsed.code}); the doctor explains 403s"))
    if parsed and parsed.form == "other-service" and not gaps:
        gaps.append(Need("the resource"))
    head = "Not enough to diagnose: " + (gaps[0].what if gaps else "the input was not understood")
    return Diagnosis(
        verdict="unknown",
        principal=facts.principal,
        action=facts.action,
        resource=facts.resource(),
        headline=head,
        understood=tuple(facts.understood),
        needs=tuple(dict.fromkeys(gaps)),
        assumptions=tuple(facts.assumptions),
        request=facts.req,
        bucket=facts.bucket,
        key=facts.key,
    )
