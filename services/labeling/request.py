"""The labeling job as the user configured it, and the CreateLabelingJob request built from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.errors import ValidationError
from services.labeling import rules
from services.model_check import check_request, format_problems
from services.plan import tags_list

PUBLIC = "public"  # Amazon Mechanical Turk
PRIVATE = "private"
VENDOR = "vendor"
WORKFORCES = {
    PUBLIC: "Amazon Mechanical Turk",
    PRIVATE: "Private work team",
    VENDOR: "Vendor (AWS Marketplace)",
}

DEFAULT_DESCRIPTION = "Classify the vehicle in the image by choosing one label."
DEFAULT_INSTRUCTIONS = "If several vehicles appear, label the most prominent one."
DEFAULT_TITLE = "Vehicle image classification"

# The contractor acknowledgement the console asks for (shown to be accepted, never pre-ticked).
MTURK_ACKNOWLEDGEMENT = (
    "I understand that my dataset will be viewed by the Amazon Mechanical Turk public workforce, "
    "which is made up of independent contractors located worldwide, and I acknowledge that it "
    "contains no personally identifiable information (PII)."
)


@dataclass(frozen=True)
class Workforce:
    kind: str = PUBLIC
    price_mills: int = 12  # Mechanical Turk only
    free_of_pii: bool = False
    free_of_adult_content: bool = False
    acknowledged: bool = False  # the contractor acknowledgement
    team_arn: str = ""  # private or vendor

    def arn(self, region: str) -> str:
        return rules.public_workteam_arn(region) if self.kind == PUBLIC else self.team_arn


@dataclass(frozen=True)
class JobSpec:
    region: str
    role_arn: str
    job_name: str = "vehicle-labels"
    label_attribute: str = "vehicle-labels"  # the console names it after the job; Train expects that
    task_type: str = rules.SINGLE
    labels: tuple[str, ...] = ("Airplane", "Car", "Ferry", "Helicopter", "Motorbike")
    title: str = DEFAULT_TITLE
    description: str = DEFAULT_DESCRIPTION
    instructions: str = DEFAULT_INSTRUCTIONS
    keywords: tuple[str, ...] = ("Images", "Classification", "Vehicles")
    workforce: Workforce = field(default_factory=Workforce)
    workers_per_object: int = 1
    task_time_limit: int = 300
    availability_lifetime: int = 21600
    max_concurrent: int = 1000
    lambdas: rules.TaskLambdas | None = None  # None: the region's documented table
    manifest_uri: str = ""
    categories_uri: str = ""
    template_uri: str = ""
    output_path: str = ""


@dataclass(frozen=True)
class CheckedSpec:
    spec: JobSpec
    lambdas: rules.TaskLambdas
    warnings: tuple[str, ...]


def check_spec(spec: JobSpec) -> CheckedSpec:
    """Every input rule, in the order a person fills the form; raises the first failure."""
    rules.check_job_name(spec.job_name)
    rules.check_attribute_name(spec.label_attribute)
    rules.check_role_arn(spec.role_arn)
    if spec.task_type not in rules.TASK_TYPES:
        raise ValidationError(
            "task type", f"Unknown task type {spec.task_type!r}.", "Choose single or multi-label."
        )
    labels = rules.check_labels(spec.labels, spec.task_type)
    rules.check_title(spec.title)
    rules.check_description(spec.description)
    for word in spec.keywords:
        rules.check_keyword(word)
    if not 1 <= spec.workers_per_object <= 9:
        raise ValidationError(
            "workers per image", "Use 1 to 9 workers per image.", "3 is a common choice for consensus."
        )
    wf = spec.workforce
    if wf.kind == PUBLIC:
        rules.price_to_amount(wf.price_mills)
        if not wf.free_of_pii:
            raise ValidationError(
                "content declarations",
                "Mechanical Turk requires declaring the images free of personally identifiable information.",
                "Tick 'free of PII' if true; if the images contain PII, use a private work team instead.",
            )
        if not wf.acknowledged:
            raise ValidationError(
                "contractor acknowledgement",
                "The Mechanical Turk acknowledgement has not been accepted.",
                "Read and accept it, or choose a private work team.",
            )
        if spec.availability_lifetime > 43200:
            raise ValidationError(
                "task availability", "Mechanical Turk allows at most 12 hours (43200 s).", "Lower it."
            )
    elif wf.kind in (PRIVATE, VENDOR):
        if not wf.team_arn:
            raise ValidationError(
                "work team",
                "No work team chosen.",
                "Pick a team from the list (or create one in the console).",
            )
        rules.check_workteam_arn(wf.team_arn, spec.region)
    else:
        raise ValidationError(
            "workforce", f"Unknown workforce {wf.kind!r}.", "Choose Mechanical Turk, private or vendor."
        )
    if spec.lambdas is None:
        lambdas = rules.documented_lambdas(spec.region, spec.task_type)
        if lambdas is None:
            raise ValidationError(
                "region", rules.region_note(spec.region), "Enter the two Lambda ARNs below."
            )
    else:
        lambdas = rules.user_lambdas(spec.lambdas.pre, spec.lambdas.consolidation, spec.region)
    for what, uri in (("input manifest", spec.manifest_uri), ("label category file", spec.categories_uri),
                      ("worker template", spec.template_uri), ("output path", spec.output_path)):  # fmt: skip
        if uri:
            rules.check_s3_uri(uri, what)
    return CheckedSpec(spec, lambdas, labels.warnings)


def build_request(spec: JobSpec) -> dict[str, Any]:
    """The CreateLabelingJob parameters; validated against our rules and the botocore model."""
    checked = check_spec(spec)
    wf = spec.workforce
    hc: dict[str, Any] = {
        "WorkteamArn": wf.arn(spec.region),
        "UiConfig": {"UiTemplateS3Uri": spec.template_uri},
        "PreHumanTaskLambdaArn": checked.lambdas.pre,
        "TaskKeywords": list(spec.keywords),
        "TaskTitle": spec.title.strip(),
        "TaskDescription": spec.description.strip(),
        "NumberOfHumanWorkersPerDataObject": spec.workers_per_object,
        "TaskTimeLimitInSeconds": spec.task_time_limit,
        "TaskAvailabilityLifetimeInSeconds": spec.availability_lifetime,
        "MaxConcurrentTaskCount": spec.max_concurrent,
        "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn": checked.lambdas.consolidation},
    }
    if wf.kind == PUBLIC:
        hc["PublicWorkforceTaskPrice"] = {"AmountInUsd": rules.price_to_amount(wf.price_mills)}
    classifiers = []
    if wf.free_of_pii:
        classifiers.append("FreeOfPersonallyIdentifiableInformation")
    if wf.free_of_adult_content:
        classifiers.append("FreeOfAdultContent")
    input_config: dict[str, Any] = {"DataSource": {"S3DataSource": {"ManifestS3Uri": spec.manifest_uri}}}
    if classifiers:
        input_config["DataAttributes"] = {"ContentClassifiers": classifiers}
    request = {
        "LabelingJobName": spec.job_name.strip(),
        "LabelAttributeName": spec.label_attribute.strip(),
        "InputConfig": input_config,
        "OutputConfig": {"S3OutputPath": spec.output_path},
        "RoleArn": spec.role_arn,
        "LabelCategoryConfigS3Uri": spec.categories_uri,
        "HumanTaskConfig": hc,
        "Tags": tags_list(),
    }
    problems = check_request("CreateLabelingJob", request)
    if problems:
        raise ValidationError("labeling job request", format_problems(problems), "Fix the field named above.")
    return request
