"""The execution role SageMaker assumes: an existing one it can assume, the sandbox's, or a new
least-privilege role scoped to the bucket."""

from __future__ import annotations

from dataclasses import dataclass

from services.errors import ValidationError
from services.flow.context import FlowContext
from services.flow.outcome import StepPlan, Verdict
from services.plan import apply_plan
from services.roles.creation import RoleSpec, plan_create_role
from services.roles.listing import check_role_assumable, role_arn_parts, role_arn_problem
from services.state import WizardState

DEFAULT_ROLE_NAME = "AmazonSageMaker-ExecutionRole-sagewiz"


@dataclass(frozen=True)
class RoleChoices:
    arn: str = ""  # "" means none chosen (the sandbox's execution role, in the sandbox)


@dataclass(frozen=True)
class RoleFindings:
    arn: str
    exists: bool
    problem: ValidationError | None = None  # it exists, but SageMaker cannot use it


@dataclass(frozen=True, kw_only=True)
class RolePlan(StepPlan):
    arn: str = ""


def new_role_arn(ctx: FlowContext, name: str = DEFAULT_ROLE_NAME) -> str:
    return RoleSpec(name, ctx.account, ctx.region, "").arn


def choices_from_state(state: WizardState) -> RoleChoices:
    return RoleChoices(arn=state.role_arn)


def inspect(ctx: FlowContext, choices: RoleChoices) -> RoleFindings:
    """Whether the role exists and SageMaker can assume it (read-only)."""
    try:
        check_role_assumable(ctx.factory, choices.arn)
    except ValidationError as err:
        if "does not exist" in err.message:
            return RoleFindings(choices.arn, exists=False)
        return RoleFindings(choices.arn, exists=True, problem=err)
    return RoleFindings(choices.arn, exists=True)


def plan(ctx: FlowContext, state: WizardState, choices: RoleChoices) -> RolePlan:
    arn = choices.arn
    if not arn:
        if ctx.world is not None:  # the sandbox's execution role, as the Notebook step offers
            return RolePlan(
                verdict=Verdict.UNCHANGED,
                message=f"using the sandbox's execution role {ctx.world.role_arn}",
                arn=ctx.world.role_arn,
            )
        return RolePlan(verdict=Verdict.SKIPPED, message="no execution role chosen")
    parts = role_arn_parts(arn)
    if parts is None:
        problem = ValidationError("role", role_arn_problem(arn) or "not a role ARN")
        return RolePlan(verdict=Verdict.CANNOT, message=problem.title, problem=problem, arn=arn)
    if parts.account != ctx.account:
        # Another account's role: used as given (SageMaker assumes it across accounts when its trust
        # policy allows); sagewiz neither checks nor creates a role outside this account.
        return RolePlan(
            verdict=Verdict.UNCHANGED,
            message=f"using role {arn} of account {parts.account} as given (not created or checked here)",
            arn=arn,
        )
    found = inspect(ctx, choices)
    if found.problem is not None:
        return RolePlan(verdict=Verdict.CANNOT, message=found.problem.title, problem=found.problem, arn=arn)
    if found.exists:
        return RolePlan(
            verdict=Verdict.UNCHANGED, message=f"role {arn} exists and SageMaker can assume it", arn=arn
        )
    if not state.bucket:
        problem = ValidationError("bucket", "the role's policy is scoped to the bucket, and none is chosen")
        return RolePlan(verdict=Verdict.CANNOT, message=problem.title, problem=problem, arn=arn)
    # Scoped to the bucket (not the image prefix): labeling and training write beside the images.
    spec = RoleSpec(parts.name, ctx.account, ctx.region, state.bucket, None, path=parts.path)
    return RolePlan(
        verdict=Verdict.SEND,
        message=f"Create role {spec.name}",
        requests=plan_create_role(spec),
        arn=spec.arn,
    )


def record(state: WizardState, plan: RolePlan) -> None:
    if plan.arn:
        state.update(role_arn=plan.arn)


def apply(ctx: FlowContext, state: WizardState, plan: RolePlan) -> str:
    assert plan.requests is not None
    apply_plan(plan.requests, ctx.factory, ctx.journal)
    record(state, plan)
    return f"role {plan.arn} created (least privilege, scoped to the bucket)"
