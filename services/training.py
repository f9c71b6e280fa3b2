"""Training jobs: a checked configuration, the CreateTrainingJob request, a plan, preflight, and actions.

The front ends collect a `TrainingConfig`; `validate_config` says what is wrong field by field
before any AWS call; `check_inputs` (read-only calls) says whether each channel exists;
`preflight` asks the doctor's policy evaluator (when built) whether the execution role can
read the channels and write the output; `plan_training` is the one action to confirm;
`create`/`stop`/`plan_create_model` do the rest.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from services.errors import SagewizError, ValidationError, translate
from services.journal_events import JobStarted, ResourceCreated
from services.plan import Action, Plan, tags_list
from services.resource_kinds import ResourceKind
from services.sagemaker_model import EnumShape, NameShape, enum_problem, name_rule

ROLE_RE = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-/]+$")
# What the form offers first; any type the API model lists may be typed.
TRAINING_INSTANCE_TYPES = (
    "ml.m5.large", "ml.m5.xlarge", "ml.m5.2xlarge", "ml.m5.4xlarge", "ml.c5.xlarge", "ml.c5.2xlarge",
    "ml.c5.4xlarge", "ml.m4.xlarge", "ml.g4dn.xlarge", "ml.g5.xlarge", "ml.p3.2xlarge",
)  # fmt: skip
# The ranges CreateTrainingJob accepts (the Train form, --plain and `apply` check against these).
MAX_INSTANCE_COUNT = 100
MAX_VOLUME_GB = 16384
MAX_RUNTIME_S = 28 * 86400

GPU_FAMILIES = ("ml.p2", "ml.p3", "ml.p4", "ml.p5", "ml.g4dn", "ml.g5", "ml.g6")


@dataclass(frozen=True)
class ChannelInput:
    name: str
    s3_uri: str
    content_type: str = "text/csv"
    data_type: str = "S3Prefix"  # S3Prefix | ManifestFile | AugmentedManifestFile
    attribute_names: tuple[str, ...] = ()
    input_mode: str | None = None  # per-channel override (Pipe for augmented manifests)
    record_wrapper: str | None = None  # "RecordIO" for augmented manifests

    def as_api(self) -> dict[str, Any]:
        src: dict[str, Any] = {
            "S3DataType": self.data_type,
            "S3Uri": self.s3_uri,
            "S3DataDistributionType": "FullyReplicated",
        }
        if self.attribute_names:
            src["AttributeNames"] = list(self.attribute_names)
        out: dict[str, Any] = {
            "ChannelName": self.name,
            "DataSource": {"S3DataSource": src},
            "ContentType": self.content_type,
            "CompressionType": "None",
        }
        if self.record_wrapper:
            out["RecordWrapperType"] = self.record_wrapper
        if self.input_mode:
            out["InputMode"] = self.input_mode
        return out


@dataclass(frozen=True)
class TrainingConfig:
    job_name: str
    algorithm_id: str
    role_arn: str
    channels: tuple[ChannelInput, ...]
    hyperparameters: dict[str, str]
    output_path: str
    image_uri: str = ""
    instance_type: str = "ml.m5.xlarge"
    instance_count: int = 1
    volume_gb: int = 10
    max_runtime_s: int = 3600
    spot: bool = False
    max_wait_s: int | None = None
    checkpoint_s3: str = ""
    input_mode: str = "File"
    extra_tags: dict[str, str] = field(default_factory=dict)

    @property
    def distributed(self) -> bool:
        return self.instance_count > 1

    def with_(self, **changes: Any) -> TrainingConfig:
        return replace(self, **changes)


def default_job_name(algorithm_id: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d-%H-%M-%S")
    return f"sagewiz-{algorithm_id}-{stamp}"[: name_rule(NameShape.TRAINING_JOB).max_length]


# -- validation (no AWS calls) ------------------------------------------------------------------
def validate_config(cfg: TrainingConfig) -> dict[str, str]:
    """{field: message} for everything wrong, before any call. Fields: job_name, role_arn,
    output_path, instance_type, instance_count, volume_gb, max_runtime_s, max_wait_s,
    checkpoint_s3, channel:<name>, and each hyperparameter's name."""
    from services.algorithms import get

    errors: dict[str, str] = {}
    if not cfg.job_name:
        errors["job_name"] = "A job name is required."
    elif len(cfg.job_name) > (limit := name_rule(NameShape.TRAINING_JOB).max_length):
        errors["job_name"] = f"A job name has at most {limit} characters (this one has {len(cfg.job_name)})."
    elif not name_rule(NameShape.TRAINING_JOB).matches(cfg.job_name):
        errors["job_name"] = (
            "Use letters, digits and hyphens only; start and end with a letter or digit (no _ . or spaces)."
        )
    if not ROLE_RE.match(cfg.role_arn or ""):
        errors["role_arn"] = (
            "Give the execution role's ARN, e.g. arn:aws:iam::123456789012:role/service-role/MyRole."
        )
    msg = _s3_problem(cfg.output_path)
    if msg:
        errors["output_path"] = msg
    if not cfg.instance_type:
        errors["instance_type"] = "Pick an instance type (they look like ml.m5.xlarge)."
    elif problem := enum_problem(
        cfg.instance_type, EnumShape.TRAINING_INSTANCE_TYPE, "a training instance type"
    ):
        errors["instance_type"] = problem
    if not 1 <= cfg.instance_count <= MAX_INSTANCE_COUNT:
        errors["instance_count"] = f"Instance count must be between 1 and {MAX_INSTANCE_COUNT}."
    if not 1 <= cfg.volume_gb <= MAX_VOLUME_GB:
        errors["volume_gb"] = f"The volume must be between 1 and {MAX_VOLUME_GB} GB."
    if not 1 <= cfg.max_runtime_s <= MAX_RUNTIME_S:
        errors["max_runtime_s"] = f"Maximum runtime must be between 1 second and 28 days ({MAX_RUNTIME_S} s)."
    if cfg.spot:
        if cfg.max_wait_s is None:
            errors["max_wait_s"] = "Managed spot training needs a maximum wait time (>= the maximum runtime)."
        elif cfg.max_wait_s < cfg.max_runtime_s:
            errors["max_wait_s"] = (
                f"The maximum wait ({cfg.max_wait_s} s) must be at least the maximum runtime ({cfg.max_runtime_s} s)."
            )
        if cfg.checkpoint_s3:
            msg = _s3_problem(cfg.checkpoint_s3)
            if msg:
                errors["checkpoint_s3"] = msg
    try:
        algo = get(cfg.algorithm_id)
    except KeyError as exc:
        errors["algorithm"] = str(exc)
        return errors
    names = [c.name for c in cfg.channels]
    for spec in algo.channels:
        if spec.required and spec.name not in names:
            errors[f"channel:{spec.name}"] = f"The {spec.name} channel is required: {spec.description}"
    for ch in cfg.channels:
        msg = _s3_problem(ch.s3_uri)
        if msg:
            errors[f"channel:{ch.name}"] = msg
    if len(names) != len(set(names)):
        errors["channels"] = "Channel names must be unique."
    if algo.id == "image-classification" and not any(cfg.instance_type.startswith(f) for f in GPU_FAMILIES):
        errors.setdefault(
            "instance_type", "Built-in image classification trains on GPU instances only (ml.p2/p3/g4dn/g5)."
        )
    for name, message in algo.validate(cfg.hyperparameters, names).items():
        errors.setdefault(name, message)
    return errors


def ensure_valid(cfg: TrainingConfig) -> None:
    errors = validate_config(cfg)
    if errors:
        name, message = next(iter(errors.items()))
        more = f" ({len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise ValidationError(name, message + more, "Fix the field and try again.")


def _s3_problem(uri: str) -> str | None:
    from services.s3uri import parse_s3_uri

    if not uri:
        return "An S3 URI is required, e.g. s3://bucket/prefix/."
    try:
        parse_s3_uri(uri)
    except ValidationError as exc:
        return exc.message
    return None


# -- the request ----------------------------------------------------------------------------------
def image_uri(algorithm_id: str, region: str) -> str:
    """The algorithm's container image for the region, from the SageMaker SDK.

    Imports sagemaker.core (1-2 s cold): call it in a worker thread, never on the UI path."""
    from services.algorithms import get

    algo = get(algorithm_id)
    try:
        from sagemaker.core import image_uris
    except Exception as exc:  # the SDK missing or broken is a configuration problem, said plainly
        raise SagewizError("The SageMaker SDK could not be loaded", f"{type(exc).__name__}: {exc}",
                           "Reinstall sagewiz (pip install -e .).") from exc  # fmt: skip
    try:
        return str(image_uris.retrieve(algo.framework, region, algo.version))
    except ValueError as exc:
        raise ValidationError("region", f"{algo.title} has no image in {region}: {exc}") from exc


def build_request(cfg: TrainingConfig) -> dict[str, Any]:
    """The CreateTrainingJob request (boto3 shape). Built-in algorithms get no MetricDefinitions:
    SageMaker supplies them."""
    from services.algorithms import get

    algo = get(cfg.algorithm_id)
    input_mode = cfg.input_mode if cfg.input_mode in algo.input_modes else algo.input_modes[0]
    stopping: dict[str, Any] = {"MaxRuntimeInSeconds": int(cfg.max_runtime_s)}
    req: dict[str, Any] = {
        "TrainingJobName": cfg.job_name,
        "AlgorithmSpecification": {"TrainingImage": cfg.image_uri, "TrainingInputMode": input_mode},
        "RoleArn": cfg.role_arn,
        "InputDataConfig": [c.as_api() for c in cfg.channels],
        "OutputDataConfig": {"S3OutputPath": cfg.output_path},
        "ResourceConfig": {
            "InstanceType": cfg.instance_type,
            "InstanceCount": int(cfg.instance_count),
            "VolumeSizeInGB": int(cfg.volume_gb),
        },
        "StoppingCondition": stopping,
        "HyperParameters": {k: str(v) for k, v in cfg.hyperparameters.items() if str(v).strip() != ""},
        "Tags": tags_list(cfg.extra_tags),
    }
    if cfg.spot:
        req["EnableManagedSpotTraining"] = True
        stopping["MaxWaitTimeInSeconds"] = int(cfg.max_wait_s or cfg.max_runtime_s)
        if cfg.checkpoint_s3:
            req["CheckpointConfig"] = {"S3Uri": cfg.checkpoint_s3}
    return req


def plan_training(cfg: TrainingConfig, region: str, warnings: tuple[str, ...] = ()) -> Plan:
    from services.pricing import training_price

    ensure_valid(cfg)
    if not cfg.image_uri:
        raise ValidationError("image", "The container image is not resolved yet.")
    req = build_request(cfg)
    price = training_price(cfg.instance_type, region)
    hosts = f"{cfg.instance_count} x {cfg.instance_type}" + (" (distributed)" if cfg.distributed else "")
    action = Action(
        service="sagemaker",
        operation="create_training_job",
        params=req,
        description=f"Start training job {cfg.job_name} on {hosts}, {price.label()}",
        undo="stop it (StopTrainingJob); a finished job cannot be deleted, only its artifacts",
        resource=cfg.job_name,
        journal=JobStarted(
            ResourceKind.TRAINING_JOB,
            cfg.job_name,
            attributes={
                "algorithm": cfg.algorithm_id,
                "instance_type": cfg.instance_type,
                "instance_count": cfg.instance_count,
            },
        ),
    )
    return Plan(f"Create training job {cfg.job_name}", (action,), warnings)


def create(factory: Any, journal: Any, plan: Plan) -> str:
    """Apply the plan (one CreateTrainingJob); returns the job ARN. A taken name is a ConflictError."""
    from services.plan import apply_plan

    done = apply_plan(plan, factory, journal)
    return str((done[-1].result or {}).get("TrainingJobArn", ""))


def stop(factory: Any, name: str) -> None:
    try:
        factory.client("sagemaker").stop_training_job(TrainingJobName=name)
    except Exception as exc:
        raise translate(exc, "StopTrainingJob") from exc


def plan_create_model(snapshot: Any, model_name: str | None = None) -> Plan:
    """CreateModel from a completed job's artifact, with the same image and role."""
    if snapshot.status != "Completed" or not snapshot.model_artifact:
        raise ValidationError("model", f"Job {snapshot.name} has no model yet (status {snapshot.status}).")
    rule = name_rule(NameShape.MODEL)
    name = (model_name or f"{snapshot.name}-model")[: rule.max_length]
    if not rule.matches(name):
        raise ValidationError(
            "model_name", f"Use letters, digits and hyphens only (at most {rule.max_length})."
        )
    params = {
        "ModelName": name,
        "PrimaryContainer": {"Image": snapshot.image, "ModelDataUrl": snapshot.model_artifact},
        "ExecutionRoleArn": snapshot.role_arn,
        "Tags": tags_list({"sagewiz:training-job": snapshot.name}),
    }
    action = Action(
        "sagemaker", "create_model", params, f"Create model {name} from {snapshot.model_artifact}",
        undo=f"delete it: DeleteModel {name}", resource=name,
        journal=ResourceCreated(ResourceKind.MODEL, name, attributes={"from_job": snapshot.name}),
    )  # fmt: skip
    return Plan(f"Create model {name}", (action,))


# -- read-only checks --------------------------------------------------------------------------------
@dataclass(frozen=True)
class InputCheck:
    field: str  # "channel:train", "output_path"
    ok: bool
    message: str
    objects: int = 0
    sample_key: str = ""  # one real key under the prefix (what the preflight checks reading)


def check_inputs(factory: Any, cfg: TrainingConfig) -> list[InputCheck]:
    """As the caller: does each channel exist (objects under the prefix / the manifest), and the output bucket?"""
    from services.s3uri import parse_s3_uri

    s3 = factory.client("s3")
    out: list[InputCheck] = []
    for ch in cfg.channels:
        uri = parse_s3_uri(ch.s3_uri)
        fld = f"channel:{ch.name}"
        try:
            if ch.data_type == "S3Prefix":
                resp = s3.list_objects_v2(Bucket=uri.bucket, Prefix=uri.key, MaxKeys=1000)
                keys = [o["Key"] for o in resp.get("Contents", []) if not o["Key"].endswith("/")]
                n = len(keys)
                if n == 0:
                    out.append(InputCheck(fld, False, f"No objects under {ch.s3_uri}: the {ch.name} channel would be empty."))  # fmt: skip
                else:
                    more = "+" if resp.get("IsTruncated") else ""
                    out.append(InputCheck(fld, True, f"{n}{more} object(s) under {ch.s3_uri}", n, keys[0]))
            else:
                s3.head_object(Bucket=uri.bucket, Key=uri.key)
                out.append(InputCheck(fld, True, f"{ch.s3_uri} exists", 1))
        except Exception as exc:
            err = translate(exc, "ListObjectsV2")
            text = "does not exist" if err.kind == "not-found" else f"cannot be checked: {err.title}"
            out.append(InputCheck(fld, False, f"{ch.s3_uri} {text}."))
    try:
        out_uri = parse_s3_uri(cfg.output_path)
        s3.head_bucket(Bucket=out_uri.bucket)
        out.append(InputCheck("output_path", True, f"bucket {out_uri.bucket} exists"))
    except ValidationError as exc:
        out.append(InputCheck("output_path", False, exc.message))
    except Exception as exc:
        err = translate(exc, "HeadBucket")
        out.append(InputCheck("output_path", False, f"the output bucket cannot be used: {err.title}"))
    return out


@dataclass(frozen=True)
class PreflightFinding:
    action: str  # s3:GetObject ...
    resource: str  # ARN
    allowed: bool | None  # None: could not be evaluated
    message: str


def preflight(
    factory: Any, cfg: TrainingConfig, sample_keys: dict[str, str] | None = None
) -> list[PreflightFinding]:
    """Can the execution role read each channel and write the output? Uses the doctor's policy
    evaluator (services.policy) on the role's identity policies and the buckets' policies.
    Returns [] with one 'unknown' finding when the evaluator is not available."""
    try:
        from services.policy import NamedPolicy, PolicySet, RequestContext, evaluate_request, parse_policy
    except ImportError:
        return [PreflightFinding("", "", None, "The permission check is not available in this version.")]
    from services.s3uri import parse_s3_uri

    role_name = cfg.role_arn.rsplit("/", 1)[-1]
    iam, s3 = factory.client("iam"), factory.client("s3")
    identity: list[Any] = []
    try:
        for pname in iam.list_role_policies(RoleName=role_name).get("PolicyNames", []):
            doc = iam.get_role_policy(RoleName=role_name, PolicyName=pname)["PolicyDocument"]
            identity.append(
                NamedPolicy(pname, parse_policy(doc), source=f"inline policy of role {role_name}")
            )
        for att in iam.list_attached_role_policies(RoleName=role_name).get("AttachedPolicies", []):
            pol = iam.get_policy(PolicyArn=att["PolicyArn"])["Policy"]
            ver = iam.get_policy_version(PolicyArn=att["PolicyArn"], VersionId=pol["DefaultVersionId"])
            identity.append(NamedPolicy(att["PolicyName"], parse_policy(ver["PolicyVersion"]["Document"]),
                                        source=f"managed policy attached to {role_name}", arn=att["PolicyArn"]))  # fmt: skip
    except Exception as exc:
        err = translate(exc, "iam:GetRolePolicy")
        return [PreflightFinding("", cfg.role_arn, None, f"The role's policies could not be read ({err.title}); the check did not run.")]  # fmt: skip
    bucket_policies: dict[str, Any] = {}

    def bucket_policy(bucket: str) -> Any:
        if bucket not in bucket_policies:
            try:
                doc = s3.get_bucket_policy(Bucket=bucket)["Policy"]
                bucket_policies[bucket] = NamedPolicy(f"bucket policy of {bucket}", parse_policy(doc), kind="resource",
                                                      source=f"bucket policy of {bucket}")  # fmt: skip
            except Exception:
                bucket_policies[bucket] = None  # none, or not readable: evaluate identity only
        return bucket_policies[bucket]

    account = cfg.role_arn.split(":")[4]
    from services.policy.arns import session_arn

    session = session_arn(cfg.role_arn, "SageMaker")
    checks: list[tuple[str, str, str]] = []  # (action, bucket, key or None)
    for ch in cfg.channels:
        u = parse_s3_uri(ch.s3_uri)
        if ch.data_type == "S3Prefix":
            checks.append(("s3:ListBucket", u.bucket, ""))
        key = (sample_keys or {}).get(ch.name) or (
            u.key if ch.data_type != "S3Prefix" else u.key + "data.csv"
        )
        checks.append(("s3:GetObject", u.bucket, key))
    o = parse_s3_uri(cfg.output_path)
    checks.append(
        (
            "s3:PutObject",
            o.bucket,
            f"{o.key.rstrip('/') + '/' if o.key else ''}{cfg.job_name}/output/model.tar.gz",
        )
    )
    out: list[PreflightFinding] = []
    seen = set()
    for action, bucket, key in checks:
        resource = f"arn:aws:s3:::{bucket}" + (f"/{key}" if action != "s3:ListBucket" else "")
        if (action, resource) in seen:
            continue
        seen.add((action, resource))
        ctx = RequestContext.build(action, resource, session, role_arn=cfg.role_arn, resource_account=account)
        bp = bucket_policy(bucket)
        decision = evaluate_request(ctx, PolicySet(identity=tuple(identity), resource=bp))
        what = {"s3:ListBucket": f"list s3://{bucket}", "s3:GetObject": f"read s3://{bucket}/{key}",
                "s3:PutObject": f"write s3://{bucket}/{key}"}[action]  # fmt: skip
        if decision.allowed:
            out.append(PreflightFinding(action, resource, True, f"the role can {what}"))
        else:
            out.append(
                PreflightFinding(action, resource, False, f"the role cannot {what}: {decision.reason}")
            )
    return out


def model_tar_members(data: bytes) -> list[str]:
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return tar.getnames()
