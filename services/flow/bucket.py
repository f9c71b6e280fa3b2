"""The Bucket step: the SageMaker SDK's default bucket (or a chosen one) exists and belongs to the
account, or the plan creates it."""

from __future__ import annotations

from dataclasses import dataclass

from services.buckets.creation import create_bucket, create_plan
from services.buckets.naming import expected_bucket_name
from services.buckets.ownership import BucketCheck, BucketStatus, check_bucket
from services.errors import SagewizError
from services.flow.context import FlowContext
from services.flow.outcome import StepPlan, Verdict
from services.state import WizardState


@dataclass(frozen=True)
class BucketChoices:
    name: str = ""  # "" means the default, sagemaker-<region>-<account>


@dataclass(frozen=True)
class BucketFindings:
    check: BucketCheck


@dataclass(frozen=True, kw_only=True)
class BucketPlan(StepPlan):
    bucket: str


def default_name(ctx: FlowContext, state: WizardState) -> str:
    """The name every face proposes: the session's bucket, else the SDK's default."""
    return state.bucket or expected_bucket_name(ctx.region, ctx.account)


def choices_from_state(state: WizardState) -> BucketChoices:
    return BucketChoices(name=state.bucket)


def inspect(ctx: FlowContext, state: WizardState, choices: BucketChoices) -> BucketFindings:
    """Whether the bucket exists and whose it is (read-only)."""
    name = choices.name or default_name(ctx, state)
    return BucketFindings(check_bucket(ctx.factory, name, ctx.account))


def decide(ctx: FlowContext, findings: BucketFindings) -> BucketPlan:
    """The plan for what `inspect` found (no AWS call): for a face that already holds the check."""
    check = findings.check
    name = check.name
    if check.usable:
        return BucketPlan(
            verdict=Verdict.UNCHANGED,
            message=f"bucket {name} exists and belongs to this account",
            bucket=name,
        )
    if check.status is not BucketStatus.MISSING:
        problem = SagewizError(f"Bucket {name} cannot be used", check.problem or check.ownership_evidence)
        return BucketPlan(verdict=Verdict.CANNOT, message=problem.title, problem=problem, bucket=name)
    requests = create_plan(name, ctx.region, ctx.account)
    return BucketPlan(verdict=Verdict.SEND, message=f"Create bucket {name}", requests=requests, bucket=name)


def plan(ctx: FlowContext, state: WizardState, choices: BucketChoices) -> BucketPlan:
    return decide(ctx, inspect(ctx, state, choices))


def record(state: WizardState, plan: BucketPlan) -> None:
    """The bucket is the session's from now on (also when it already existed)."""
    state.update(bucket=plan.bucket)


def apply(ctx: FlowContext, state: WizardState, plan: BucketPlan) -> str:
    assert plan.requests is not None
    create_bucket(ctx.factory, plan.requests, ctx.journal)
    record(state, plan)
    return f"bucket {plan.bucket} created"
