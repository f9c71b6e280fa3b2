"""The Notebook step: a notebook instance with the chosen type, volume, platform and role (and the
role itself when a new one is chosen with it)."""

from __future__ import annotations

from dataclasses import dataclass

from services import notebooks
from services.flow.context import FlowContext
from services.flow.outcome import StepPlan, Verdict
from services.roles.creation import RoleSpec, plan_create_role
from services.state import WizardState

DEFAULT_NAME = "sagewiz-notebook"
_SETTINGS = ("instance_type", "volume_gb", "platform", "idle_minutes")  # kept in the [notebook] table


@dataclass(frozen=True)
class NotebookChoices:
    spec: notebooks.NotebookSpec | None  # None: no notebook instance wanted
    new_role: RoleSpec | None = None  # create this role in the same plan


@dataclass(frozen=True)
class NotebookFindings:
    info: notebooks.NotebookInfo | None  # None: no instance of that name


@dataclass(frozen=True, kw_only=True)
class NotebookPlan(StepPlan):
    name: str = ""
    instance_type: str = ""


def choices_from_state(state: WizardState) -> NotebookChoices:
    """The Notebook step's choices as the session (or a configuration file) holds them."""
    if not state.notebook_name:
        return NotebookChoices(None)
    settings = state.extra.get("notebook")
    kept = settings if isinstance(settings, dict) else {}
    spec = notebooks.NotebookSpec(
        name=state.notebook_name,
        role_arn=state.role_arn,
        instance_type=str(kept.get("instance_type", notebooks.DEFAULT_TYPE)),
        volume_gb=int(kept.get("volume_gb", notebooks.DEFAULT_VOLUME_GB)),
        platform=str(kept.get("platform", notebooks.DEFAULT_PLATFORM)),
        idle_minutes=int(kept["idle_minutes"]) if kept.get("idle_minutes") is not None else None,
    )
    return NotebookChoices(spec)


def keep_settings(state: WizardState, spec: notebooks.NotebookSpec) -> None:
    """Write a face's answers where `choices_from_state` (and `sagewiz export`) read them."""
    state.update(notebook_name=spec.name)
    kept = state.extra.setdefault("notebook", {})
    kept["instance_type"] = spec.instance_type


def inspect(ctx: FlowContext, name: str) -> NotebookFindings:
    if not notebooks.notebook_exists(ctx.factory, name):
        return NotebookFindings(None)
    return NotebookFindings(notebooks.describe_notebook(ctx.factory, name))


def plan(ctx: FlowContext, state: WizardState, choices: NotebookChoices) -> NotebookPlan:
    spec = choices.spec
    if spec is None or not spec.name:
        return NotebookPlan(verdict=Verdict.SKIPPED, message="no notebook instance chosen")
    found = inspect(ctx, spec.name)
    if found.info is not None:
        return NotebookPlan(
            verdict=Verdict.UNCHANGED,
            message=f"notebook {spec.name} exists ({found.info.status})",
            name=spec.name,
        )
    role_plan = plan_create_role(choices.new_role) if choices.new_role is not None else None
    requests = notebooks.plan_create_notebook(spec, ctx.region, role_plan=role_plan)
    return NotebookPlan(
        verdict=Verdict.SEND,
        message=f"Create notebook {spec.name}",
        requests=requests,
        name=spec.name,
        instance_type=spec.instance_type,
    )


def apply(ctx: FlowContext, state: WizardState, plan: NotebookPlan) -> str:
    """Create it; a failure undoes what the plan made before it (role, lifecycle configuration)."""
    assert plan.requests is not None
    notebooks.apply_create(
        plan.requests, ctx.factory, ctx.journal, name=plan.name, instance_type=plan.instance_type
    )
    state.update(notebook_name=plan.name)
    return f"notebook {plan.name} created (it takes a few minutes to be InService)"
