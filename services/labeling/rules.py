"""Ground Truth's input rules (labels, names, description, ARNs) and the documented tables.

Every rule returns a message that says which rule failed and how to fix it, before any AWS call.
Sources: botocore's sagemaker model (patterns, lengths), the Ground Truth developer guide (label
rules, quotas, price list, Lambda ARNs); see docs/aws-facts section 6. Names are checked by `services.sagemaker_model`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services import regions
from services.errors import ValidationError
from services.sagemaker_model import NameShape, name_rule

LAMBDA_PATTERN = re.compile(r"arn:aws[a-z\-]*:lambda:[a-z0-9\-]*:[0-9]{12}:function:.*")
WORKTEAM_PATTERN = re.compile(r"arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:workteam/.*")
S3_URI_PATTERN = re.compile(r"(https|s3)://([^/]+)/?(.*)")
KEYWORD_PATTERN = re.compile(r"[A-Za-z0-9]+( [A-Za-z0-9]+)*")
ROLE_PATTERN = re.compile(r"arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")

LABEL_MAX_CHARS = 256  # Input Data Quotas: "Label category names cannot exceed 256 characters."
CONSOLE_LABEL_LIMIT = 30  # image classification (single label): API unlimited, console 30
MULTI_LABEL_LIMIT = 50  # image classification (multi-label): 50 / 50
DESCRIPTION_MAX = 255  # TaskDescription 1-255
TITLE_MAX = 128

SINGLE = "single"
MULTI = "multi"
TASK_TYPES = {SINGLE: "Image classification (single label)", MULTI: "Image classification (multi-label)"}

# PublicWorkforceTaskPrice doc: allowed prices (USD) for image classification, in mills (1/1000 $).
PRICE_MILLS: tuple[int, ...] = (12, 24, 36, 48, 60, 72, 120, 240, 360, 480, 600, 720, 840, 960, 1080, 1200)

# The 12 regions documented for the built-in task Lambdas, with the AWS account that owns them.
LAMBDA_ACCOUNTS: dict[str, str] = {
    "us-east-1": "432418664414", "us-east-2": "266458841044", "us-west-2": "081040173940",
    "ca-central-1": "918755190332", "eu-west-1": "568282634449", "eu-west-2": "487402164563",
    "eu-central-1": "203001061592", "ap-northeast-1": "477331159723", "ap-northeast-2": "845288260483",
    "ap-south-1": "565803892007", "ap-southeast-1": "377565633583", "ap-southeast-2": "454466003867",
}  # fmt: skip

PUBLIC_WORKTEAM_ACCOUNT = "394669845002"


@dataclass(frozen=True)
class LabelCheck:
    labels: tuple[str, ...]
    warnings: tuple[str, ...]


def check_labels(labels: list[str] | tuple[str, ...], task_type: str = SINGLE) -> LabelCheck:
    """Ground Truth's label rules; raises ValidationError naming the rule, returns warnings."""
    cleaned = [str(label).strip() for label in labels]
    if any(not label for label in cleaned):
        raise ValidationError(
            "labels", "A label is empty.", "Type a name for every label or remove the empty one."
        )
    if len(cleaned) < 2:
        raise ValidationError(
            "labels",
            f"Image classification needs at least two labels; there {'is' if len(cleaned) == 1 else 'are'} {len(cleaned)}.",
            "Add another label (Ground Truth: 'you must specify at least two label categories').",
        )
    seen: dict[str, int] = {}
    for n, label in enumerate(cleaned, 1):
        if label in seen:
            raise ValidationError(
                "labels",
                f"Label '{label}' appears twice (labels {seen[label]} and {n}).",
                "Each label category must be unique; rename or remove one of them.",
            )
        seen[label] = n
        if len(label) > LABEL_MAX_CHARS:
            raise ValidationError(
                "labels",
                f"Label {n} is {len(label)} characters long; the limit is {LABEL_MAX_CHARS}.",
                "Shorten it (Ground Truth: label category names cannot exceed 256 characters).",
            )
    warnings: list[str] = []
    if task_type == MULTI and len(cleaned) > MULTI_LABEL_LIMIT:
        raise ValidationError(
            "labels",
            f"{len(cleaned)} labels; multi-label image classification allows at most {MULTI_LABEL_LIMIT}.",
            "Remove labels or split the job.",
        )
    if task_type == SINGLE and len(cleaned) > CONSOLE_LABEL_LIMIT:
        warnings.append(
            f"{len(cleaned)} labels: the API accepts any number, but the console allows only "
            f"{CONSOLE_LABEL_LIMIT}, and many labels slow workers down."
        )
    case_twins = {label.lower() for label in cleaned}
    if len(case_twins) < len(cleaned):
        warnings.append("Two labels differ only in letter case; workers may confuse them.")
    return LabelCheck(tuple(cleaned), tuple(warnings))


def check_description(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError(
            "task description", "The task description is empty.", "Say in one line what workers do."
        )
    if len(text) > DESCRIPTION_MAX:
        raise ValidationError(
            "task description",
            f"The description is {len(text)} characters; the limit is {DESCRIPTION_MAX}.",
            f"Shorten it by {len(text) - DESCRIPTION_MAX} characters; put details in the extra instructions.",
        )
    return text


def check_title(text: str) -> str:
    text = text.strip()
    if not text or len(text) > TITLE_MAX:
        raise ValidationError(
            "task title", f"The title must be 1 to {TITLE_MAX} characters.", "Use a short title."
        )
    return text


def check_job_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError(
            "job name", "The job name is empty.", "Use letters, digits and hyphens, e.g. vehicle-labels."
        )
    rule = name_rule(NameShape.LABELING_JOB)
    if len(name) > rule.max_length:
        raise ValidationError(
            "job name",
            f"The job name is {len(name)} characters; the limit is {rule.max_length}.",
            "Shorten it.",
        )
    if not rule.matches(name):
        raise ValidationError(
            "job name",
            f"'{name}' does not match the API's pattern {rule.pattern}.",
            "Use only letters, digits and hyphens; start and end with a letter or digit (no _ . or spaces).",
        )
    return name


def check_attribute_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError("label attribute name", "The label attribute name is empty.", "e.g. vehicle")
    rule = name_rule(NameShape.LABEL_ATTRIBUTE)
    if len(name) > rule.max_length:
        raise ValidationError(
            "label attribute name",
            f"It is {len(name)} characters; the limit is {rule.max_length}.",
            "Shorten it.",
        )
    if not rule.matches(name):
        raise ValidationError(
            "label attribute name",
            f"'{name}' does not match the API's pattern {rule.pattern}.",
            "Use only letters, digits and hyphens; start and end with a letter or digit.",
        )
    if name.endswith("-metadata"):
        raise ValidationError(
            "label attribute name", "The name can't end with -metadata.", "Drop the suffix."
        )
    if name.endswith("-ref"):
        raise ValidationError(
            "label attribute name",
            "For image classification the attribute name can't end with -ref (that suffix is for segmentation and video).",
            "Drop the -ref suffix.",
        )
    return name


def check_role_arn(arn: str) -> str:
    arn = arn.strip()
    if not arn:
        raise ValidationError("execution role", "No execution role chosen yet.",
                              "Enter its ARN, or pick or create one in the Notebook step.")  # fmt: skip
    if not (20 <= len(arn) <= 2048) or not ROLE_PATTERN.fullmatch(arn):
        raise ValidationError(
            "execution role",
            f"'{arn}' is not an IAM role ARN.",
            "It looks like arn:aws:iam::123456789012:role/service-role/NAME.",
        )
    return arn


def check_keyword(word: str) -> str:
    word = word.strip()
    if not (1 <= len(word) <= 30) or not KEYWORD_PATTERN.fullmatch(word):
        raise ValidationError(
            "task keyword",
            f"'{word}' is not a valid keyword (1-30 letters or digits, single spaces between words).",
            "Remove hyphens and punctuation, e.g. 'Image classification'.",
        )
    return word


# -- prices --------------------------------------------------------------------------------
def price_label(mills: int) -> str:
    return f"${mills / 1000:.3f}"


def price_to_amount(mills: int) -> dict[str, int]:
    """PublicWorkforceTaskPrice.AmountInUsd in integer arithmetic (no float rounding)."""
    if mills not in PRICE_MILLS:
        allowed = ", ".join(price_label(m) for m in PRICE_MILLS)
        raise ValidationError(
            "price per task", f"{price_label(mills)} is not an allowed price.", f"Pick one of {allowed}."
        )
    return {"Dollars": mills // 1000, "Cents": (mills % 1000) // 10, "TenthFractionsOfACent": mills % 10}


def amount_to_mills(amount: dict[str, int]) -> int:
    return (
        int(amount.get("Dollars", 0)) * 1000
        + int(amount.get("Cents", 0)) * 10
        + int(amount.get("TenthFractionsOfACent", 0))
    )


@dataclass(frozen=True)
class CostEstimate:
    objects: int
    workers_per_object: int
    price_mills: int

    @property
    def workforce_usd(self) -> float:
        return self.objects * self.workers_per_object * self.price_mills / 1000

    def describe(self) -> str:
        return (
            f"{self.objects} images x {self.workers_per_object} workers x {price_label(self.price_mills)} = "
            f"${self.workforce_usd:.2f} paid to workers (plus the Ground Truth per-object fee, "
            "see aws.amazon.com/sagemaker/groundtruth/pricing)"
        )


def cost_so_far(labeled: int, workers_per_object: int, price_mills: int) -> float:
    return labeled * workers_per_object * price_mills / 1000


# -- Lambdas and workteams -----------------------------------------------------------------
@dataclass(frozen=True)
class TaskLambdas:
    pre: str
    consolidation: str
    documented: bool  # False when the user typed them (region not in the table)


def documented_lambdas(region: str, task_type: str = SINGLE) -> TaskLambdas | None:
    """The region's built-in PRE/ACS Lambdas for image classification; None when not documented."""
    account = LAMBDA_ACCOUNTS.get(region)
    if account is None:
        return None
    family = "ImageMultiClassMultiLabel" if task_type == MULTI else "ImageMultiClass"
    base = regions.arn("lambda", region, account, "function:")
    return TaskLambdas(base + f"PRE-{family}", base + f"ACS-{family}", True)


def region_note(region: str) -> str:
    if region in LAMBDA_ACCOUNTS:
        return f"{region} has documented Ground Truth Lambdas; they are filled in for you."
    return (
        f"Ground Truth's documentation lists no pre-annotation or consolidation Lambda for {region}. "
        f"Documented regions: {', '.join(LAMBDA_ACCOUNTS)}. Enter the two Lambda ARNs AWS gave you for "
        f"{region}, or create the job in a documented region."
    )


def check_lambda_arn(arn: str, region: str, what: str) -> str:
    arn = arn.strip()
    if not arn:
        raise ValidationError(what, "The Lambda ARN is empty.", region_note(region))
    if not LAMBDA_PATTERN.fullmatch(arn):
        raise ValidationError(
            what,
            f"'{arn}' does not match the API's pattern arn:aws[a-z\\-]*:lambda:[a-z0-9\\-]*:[0-9]{{12}}:function:.*",
            "It looks like arn:aws:lambda:REGION:ACCOUNT:function:NAME.",
        )
    arn_region = arn.split(":")[3]
    if arn_region != region:
        raise ValidationError(
            what,
            f"The Lambda is in {arn_region or '(no region)'} but the job runs in {region}.",
            "Ground Truth calls Lambdas in the job's own region; use the ARN for this region.",
        )
    return arn


def user_lambdas(pre: str, consolidation: str, region: str) -> TaskLambdas:
    return TaskLambdas(
        check_lambda_arn(pre, region, "pre-annotation Lambda ARN"),
        check_lambda_arn(consolidation, region, "consolidation Lambda ARN"),
        False,
    )


def public_workteam_arn(region: str) -> str:
    return regions.arn("sagemaker", region, PUBLIC_WORKTEAM_ACCOUNT, "workteam/public-crowd/default")


def check_workteam_arn(arn: str, region: str) -> str:
    arn = arn.strip()
    if not WORKTEAM_PATTERN.fullmatch(arn):
        raise ValidationError(
            "work team",
            f"'{arn}' is not a work team ARN.",
            "It looks like arn:aws:sagemaker:REGION:ACCOUNT:workteam/...",
        )
    if arn.split(":")[3] != region:
        raise ValidationError(
            "work team",
            f"The work team is in {arn.split(':')[3]}, the job in {region}.",
            "Pick a team of this region.",
        )
    return arn


def check_s3_uri(uri: str, what: str) -> str:
    if not uri.startswith("s3://") or not S3_URI_PATTERN.fullmatch(uri) or len(uri) > 1024:
        raise ValidationError(what, f"'{uri}' is not an s3:// URI.", "Use s3://bucket/prefix/.")
    return uri


def split_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValidationError("S3 URI", f"'{uri}' does not start with s3://", "Use s3://bucket/key.")
    rest = uri[5:]
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise ValidationError("S3 URI", f"'{uri}' names no bucket.", "Use s3://bucket/key.")
    return bucket, key
