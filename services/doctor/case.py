"""The evaluated request every finding reads: the context, the decision, the evidence, the parsed
error text, and the scope a grant from this refusal may take."""

from __future__ import annotations

from dataclasses import dataclass

from services.doctor import fixes as fx
from services.doctor.evidence import Evidence
from services.doctor.layers import Evaluation
from services.doctor.model import DoctorRequest
from services.doctor.parse import ParsedError
from services.policy import PolicySet, RequestContext
from services.policy.arns import PrincipalInfo
from services.policy.evaluate import Decision, StatementTrace
from services.policy.s3 import S3Facts

# Why a statement that means to allow the request does not match it (StatementTrace.near_miss).
NEAR_MISS_TEXT = {
    "bucket-arn-for-object": "names the bucket ARN, but object actions need the object ARN (bucket/*)",
    "object-arn-for-bucket": "names objects (bucket/*), but this bucket-level action needs the bucket ARN",
    "case": "differs only in upper/lower case (ARNs are case-sensitive)",
    "prefix": "covers another prefix of the bucket",
    "bucket-name": "only covers bucket names containing 'sagemaker' (case-sensitive)",
    "variable": "uses a policy variable this request does not have",
}
_IDENTITY_KINDS = ("inline", "managed", "group-inline", "group-managed")


def stmt_text(doc_name: str, t: StatementTrace) -> str:
    return f"statement {t.label} of {doc_name}: {t.why}"


def near_miss_text(t: StatementTrace) -> str:
    return NEAR_MISS_TEXT.get(t.near_miss or "", "misses")


@dataclass(frozen=True)
class Case:
    ctx: RequestContext
    d: Decision
    ev: Evidence
    parsed: ParsedError | None
    pset: PolicySet
    facts: S3Facts
    req: DoctorRequest
    info: PrincipalInfo
    region: str
    scope: fx.GrantScope

    @property
    def bucket(self) -> str | None:
        return self.ev.bucket

    @property
    def role_arn(self) -> str | None:
        return self.ctx.role_arn

    @property
    def role_name(self) -> str | None:
        return self.role_arn.rsplit("/", 1)[-1] if self.role_arn else None

    @property
    def is_role(self) -> bool:
        return self.info.kind in ("role", "assumed-role")

    @property
    def who(self) -> str:
        """The role when there is one (what a policy names), else the principal itself."""
        return self.role_arn or self.ctx.principal_arn

    @property
    def inline(self) -> list[tuple[str, str]]:
        return [(p.name, p.text) for p in self.ev.identity_policies if p.kind == "inline"]

    @property
    def object_key(self) -> str | None:
        """The key part of the request's resource (None for a bucket-level resource)."""
        return self.ctx.resource.split("/", 1)[1] if "/" in self.ctx.resource else None


def make_case(
    ev: Evidence,
    evaluation: Evaluation,
    parsed: ParsedError | None,
    req: DoctorRequest,
    info: PrincipalInfo,
    region: str,
) -> Case:
    ctx = evaluation.ctx
    identity = tuple((p.name, p.text) for p in ev.identity_policies if p.text and p.kind in _IDENTITY_KINDS)
    candidates = [a for a in (req.default_principal, ctx.role_arn) if a and ":role/" in a]
    execution_role = ctx.resource if ctx.resource in candidates else (candidates[0] if candidates else None)
    scope = fx.GrantScope(
        role_arn=ctx.role_arn or ctx.principal_arn,
        account=info.account,
        region=region,
        bucket=ev.bucket if ev.bucket and not ev.bucket_owned_by_other else None,
        execution_role=execution_role,
        kms_key=evaluation.facts.kms_key_arn,
        identity=identity,
    )
    return Case(
        ctx, evaluation.decision, ev, parsed, evaluation.pset, evaluation.facts, req, info, region, scope
    )
