"""The Labels step: a Ground Truth labeling job over the images (its manifest, categories, CORS
and the job itself), unless its output manifest is already there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.errors import SagewizError, ValidationError, translate
from services.flow.context import FlowContext
from services.flow.outcome import StepPlan, Verdict
from services.flow.reads import bucket_exists, is_gone, object_exists
from services.labeling.manifest import output_manifest_uri
from services.labeling.request import PUBLIC, JobSpec, Workforce, check_spec
from services.labeling.rules import TaskLambdas, user_lambdas
from services.labeling.setup import SetupPlan, build_setup_plan
from services.plan import apply_plan
from services.state import WizardState

CONFIG_HINT = (
    ' In a configuration file, under [labels]: workforce = "public" with free_of_pii, '
    'free_of_adult_content and acknowledged = true, or workforce = "private" with team_arn; '
    "pre_annotation_lambda and consolidation_lambda where AWS documents none for the region."
)


@dataclass(frozen=True)
class LabelsChoices:
    spec: JobSpec | None  # None: no labeling job (label elsewhere, or train on derived classes)
    data_prefix: str = ""  # "" means the images' folder (WizardState.images_prefix)
    output_path: str | None = None  # None: beside the images (services.state.OUTPUT_PREFIX)


@dataclass(frozen=True, kw_only=True)
class LabelsPlan(StepPlan):
    job: str = ""
    setup: SetupPlan | None = None
    output_manifest: str = ""  # known once the job exists


def choices_from_state(state: WizardState, region: str) -> LabelsChoices:
    """The Labels step's choices as the session (or a configuration file's [labels]) holds them."""
    if not state.labeling_job:
        return LabelsChoices(None)
    raw = state.extra.get("labels")
    s: dict[str, Any] = raw if isinstance(raw, dict) else {}
    workforce = Workforce(
        kind=str(s.get("workforce", PUBLIC)),
        price_mills=int(s.get("price_mills", Workforce.price_mills)),
        free_of_pii=bool(s.get("free_of_pii", False)),
        free_of_adult_content=bool(s.get("free_of_adult_content", False)),
        acknowledged=bool(s.get("acknowledged", False)),
        team_arn=str(s.get("team_arn", "")),
    )
    spec = JobSpec(
        region=region,
        role_arn=state.role_arn,
        job_name=state.labeling_job,
        label_attribute=str(s.get("label_attribute") or state.labeling_job),
        labels=tuple(state.labels),
        workforce=workforce,
        lambdas=_lambdas(s, region),
    )
    return LabelsChoices(spec, output_path=output_path_of(state))


def output_path_of(state: WizardState) -> str | None:
    """Where the labels go when the Data step chose a place (None: beside the images)."""
    chosen = state.extra.get("labels_output")
    return str(chosen) if chosen else None


def _lambdas(settings: dict[str, Any], region: str) -> TaskLambdas | None:
    """The Lambda ARNs a configuration gives (needed where AWS documents none for the region)."""
    pre, cons = settings.get("pre_annotation_lambda"), settings.get("consolidation_lambda")
    if not (pre and cons):
        return None
    return user_lambdas(str(pre), str(cons), region)


def _job_output(ctx: FlowContext, job: str) -> tuple[str, str] | None:
    """(status, output manifest) of an existing labeling job, None when AWS does not know it."""
    sm = ctx.factory.client("sagemaker")
    try:
        d = sm.describe_labeling_job(LabelingJobName=job)
    except Exception as exc:
        if is_gone(exc):
            return None
        raise translate(exc, "sagemaker:DescribeLabelingJob") from exc
    out = (d.get("LabelingJobOutput") or {}).get("OutputDatasetS3Uri") or ""
    return str(d.get("LabelingJobStatus")), str(out)


def plan(ctx: FlowContext, state: WizardState, choices: LabelsChoices) -> LabelsPlan:
    manifest = state.output_manifest
    if manifest and object_exists(ctx, manifest):
        return LabelsPlan(verdict=Verdict.UNCHANGED, message=f"labels are in {manifest}")
    spec = choices.spec
    if spec is None:
        return LabelsPlan(
            verdict=Verdict.SKIPPED,
            message="no labeling job chosen (label in the wizard, or import a manifest)",
        )
    job = spec.job_name
    existing = _job_output(ctx, job)
    if existing is not None:
        status, out = existing
        return LabelsPlan(
            verdict=Verdict.UNCHANGED,
            message=f"labeling job {job} exists ({status})",
            job=job,
            output_manifest=out,
        )
    try:
        check_spec(spec)
    except ValidationError as err:
        problem = ValidationError(err.field, err.message, err.hint + CONFIG_HINT)
        return LabelsPlan(verdict=Verdict.CANNOT, message=problem.title, problem=problem, job=job)
    prefix = choices.data_prefix or state.images_prefix()
    bucket = prefix.removeprefix("s3://").partition("/")[0]
    if not bucket_exists(ctx, bucket):
        return LabelsPlan(
            verdict=Verdict.AFTER_EARLIER,
            message=f"labeling job {job} planned after the data is copied",
            problem=SagewizError("The images' bucket does not exist", f"There is no bucket named {bucket}."),
            job=job,
        )
    setup = build_setup_plan(ctx.factory, spec, prefix, output_path=choices.output_path)
    return LabelsPlan(
        verdict=Verdict.SEND,
        message=f"Start labeling job {job}",
        requests=setup.plan,
        job=job,
        setup=setup,
        output_manifest=output_manifest_uri(setup.locations.output_path, job),
    )


def record(state: WizardState, plan: LabelsPlan) -> None:
    if plan.output_manifest:
        state.update(output_manifest=plan.output_manifest)


def apply(ctx: FlowContext, state: WizardState, plan: LabelsPlan) -> str:
    assert plan.requests is not None
    apply_plan(plan.requests, ctx.factory, ctx.journal)
    record(state, plan)
    return f"labeling job {plan.job} started"
