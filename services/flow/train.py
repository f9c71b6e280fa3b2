"""The Train step: a SageMaker training job with a built-in algorithm. Every default the faces
offer (instance type, hyperparameters, channels, output path, job name) is defined here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from services import tabular_dataset, training
from services.data_split import DEFAULT_SEED, DEFAULT_VALIDATION_FRACTION, Split, fraction_problem
from services.errors import ValidationError
from services.flow.context import FlowContext
from services.flow.outcome import StepPlan, Verdict
from services.flow.reads import JobKind, job_status, object_exists
from services.state import WizardState

XGBOOST = "xgboost"
IMAGE_CLASSIFICATION = "image-classification"
DEFAULT_ALGORITHM = XGBOOST
DEFAULT_INSTANCE_TYPE = "ml.m5.xlarge"
GPU_INSTANCE_TYPE = "ml.p3.2xlarge"  # image classification trains on a GPU
DEFAULT_INSTANCE_COUNT = 1
DEFAULT_VOLUME_GB = 10
DEFAULT_MAX_RUNTIME_S = 3600
CHANNELS = ("train", "validation")
DEFAULT_LABEL_ATTRIBUTE = "label"


@dataclass(frozen=True)
class TrainChoices:
    """What a face chose; an empty value means the default for the algorithm and the session."""

    algorithm: str = DEFAULT_ALGORITHM
    job_name: str = ""
    role_arn: str = ""
    channels: Mapping[str, str] = field(default_factory=dict)  # channel name -> s3:// URI
    channels_pending: bool = False  # the derived dataset is written before the job (a dry run skips it)
    label_attribute: str = ""
    hyperparameters: Mapping[str, str] = field(default_factory=dict)
    complete: bool = False  # True: a form gave every field; no default fills an empty one
    output_path: str = ""
    instance_type: str = ""
    instance_count: int = DEFAULT_INSTANCE_COUNT
    volume_gb: int = DEFAULT_VOLUME_GB
    max_runtime_s: int = DEFAULT_MAX_RUNTIME_S
    spot: bool = False
    max_wait_s: int | None = None
    checkpoint_s3: str = ""
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION  # the held-out share of each class
    split_seed: int = DEFAULT_SEED
    data_split: Split | None = None  # the split the channels hold, once made (shown in the plan)
    partial_labels: str = ""  # the warning when the labels cover only part of the images


@dataclass(frozen=True, kw_only=True)
class TrainPlan(StepPlan):
    config: training.TrainingConfig | None = None
    notes: tuple[str, ...] = ()  # what the input check found fine
    warning: str = ""  # the role would probably be denied: shown before confirming
    data_split: Split | None = None  # how the prepared data was split (its summary leads the notes)


# -- defaults ----------------------------------------------------------------------------------------
def default_instance_type(algorithm: str) -> str:
    return GPU_INSTANCE_TYPE if algorithm == IMAGE_CLASSIFICATION else DEFAULT_INSTANCE_TYPE


def default_hyperparameters(algorithm: str, state: WizardState) -> dict[str, str]:
    classes = len(state.labels) or 5
    if algorithm == XGBOOST:
        return tabular_dataset.seed_hyperparameters(classes)
    if algorithm == IMAGE_CLASSIFICATION:
        # num_training_samples comes from the split of the labeled manifest (prepare_data).
        return {"num_classes": str(classes), "epochs": "10", "mini_batch_size": "8"}
    return {}


def bucket_of(state: WizardState) -> str:
    return state.bucket or state.default_bucket


def derived_prefix(state: WizardState, algorithm: str = XGBOOST) -> str:
    """Where the data prepared for `algorithm` goes (the CSV dataset, or the split manifests)."""
    bucket = bucket_of(state)
    return f"s3://{bucket}/sagewiz/{algorithm}/" if bucket else ""


def default_channels(algorithm: str, state: WizardState) -> dict[str, str]:
    if algorithm == IMAGE_CLASSIFICATION:
        # Two manifests split from the labeled one: validation never sees a training image.
        if not (state.output_manifest and bucket_of(state)):
            return {}
        from services.manifest_split import split_destination

        train, validation = split_destination(derived_prefix(state, IMAGE_CLASSIFICATION))
        return {"train": train, "validation": validation}
    dest = derived_prefix(state)
    return {name: f"{dest}{name}/" for name in CHANNELS} if dest else {}


def default_output_path(state: WizardState) -> str:
    bucket = bucket_of(state)
    return f"s3://{bucket}/sagewiz/output" if bucket else ""


def default_role(ctx: FlowContext, state: WizardState) -> str:
    return state.role_arn or (ctx.world.role_arn if ctx.world is not None else "")


def default_label_attribute(state: WizardState) -> str:
    """A terminal-labeled or imported manifest names its attribute; a real job uses its name."""
    labels = state.extra.get("labels")
    kept = labels.get("label_attribute") if isinstance(labels, dict) else None
    return str(state.extra.get("label_attribute") or kept or state.labeling_job or "")


def choices_from_state(state: WizardState) -> TrainChoices | None:
    """The [training] table as choices; None when no training job is chosen."""
    raw = state.extra.get("training")
    s: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if not state.training_job and not s:
        return None
    algorithm = str(s.get("algorithm", DEFAULT_ALGORITHM))
    return TrainChoices(
        algorithm=algorithm,
        job_name=state.training_job,
        channels={str(k): str(v) for k, v in (s.get("channels") or {}).items()},
        hyperparameters={k: str(v) for k, v in (s.get("hyperparameters") or {}).items()},
        output_path=str(s.get("output_path") or ""),
        instance_type=str(s.get("instance_type") or ""),
        instance_count=int(s.get("instance_count", DEFAULT_INSTANCE_COUNT)),
        volume_gb=int(s.get("volume_gb", DEFAULT_VOLUME_GB)),
        max_runtime_s=int(s.get("max_runtime_seconds", DEFAULT_MAX_RUNTIME_S)),
        validation_fraction=float(s.get("validation_fraction", DEFAULT_VALIDATION_FRACTION)),
        split_seed=int(s.get("split_seed", DEFAULT_SEED)),
    )


def config(state: WizardState, choices: TrainChoices, role_arn: str = "") -> training.TrainingConfig:
    """The training configuration the choices describe (no AWS call; the image is resolved by `plan`).
    `role_arn` is the role used when none is chosen."""
    algo = choices.algorithm
    full = choices.complete
    hp = {} if full else default_hyperparameters(algo, state)
    hp.update(choices.hyperparameters)
    uris = dict(choices.channels) if full else dict(choices.channels) or default_channels(algo, state)
    if algo == IMAGE_CLASSIFICATION:
        attr = (
            choices.label_attribute
            or ("" if full else default_label_attribute(state))
            or DEFAULT_LABEL_ATTRIBUTE
        )
        channels = tuple(
            training.ChannelInput(n, u, "application/x-recordio", "AugmentedManifestFile", ("source-ref", attr), "Pipe", "RecordIO")
            for n, u in uris.items() if u
        )  # fmt: skip
    else:
        channels = tuple(training.ChannelInput(n, u, "text/csv") for n, u in uris.items() if u)

    def or_default(chosen: str, default: str) -> str:
        # A form gave every field and is sent as given; choices from a script get the defaults.
        return chosen if full else chosen or default

    return training.TrainingConfig(
        job_name=or_default(choices.job_name, training.default_job_name(algo)),
        algorithm_id=algo,
        role_arn=or_default(choices.role_arn, role_arn),
        channels=channels,
        hyperparameters=hp,
        output_path=or_default(choices.output_path, default_output_path(state)),
        instance_type=or_default(choices.instance_type, default_instance_type(algo)),
        instance_count=choices.instance_count,
        volume_gb=choices.volume_gb,
        max_runtime_s=choices.max_runtime_s,
        spot=choices.spot,
        max_wait_s=choices.max_wait_s if choices.spot else None,
        checkpoint_s3=choices.checkpoint_s3 if choices.spot else "",
        input_mode="Pipe" if algo == IMAGE_CLASSIFICATION else "File",
    )


# -- the data prepared for the job: a stratified split ------------------------------------------------
def needs_derived_dataset(choices: TrainChoices) -> bool:
    """No channels chosen: the data is prepared from the Labels step's results (a split)."""
    return choices.algorithm in (XGBOOST, IMAGE_CLASSIFICATION) and not choices.channels


def _check_fraction(choices: TrainChoices) -> None:
    if problem := fraction_problem(choices.validation_fraction):
        raise ValidationError("validation share", problem, "Use a share like 20%.")


def derive_dataset(
    ctx: FlowContext, state: WizardState, choices: TrainChoices, say: Callable[[str], None]
) -> TrainChoices:
    """Write the data the channels read: for XGBoost the CSV dataset (27 image features, label
    first, no header), for image classification the labeled manifest split in two. The choices
    then name it, with num_training_samples from the split."""
    _check_fraction(choices)
    if choices.algorithm == IMAGE_CLASSIFICATION:
        return _split_manifest(ctx, state, choices, say, write=True)
    manifest = (
        state.output_manifest if state.output_manifest and object_exists(ctx, state.output_manifest) else ""
    )
    ds = tabular_dataset.tabular_from_images(
        ctx.factory, state.images_prefix(), derived_prefix(state), manifest, tuple(state.labels), ctx.journal,
        choices.validation_fraction, choices.split_seed,
    )  # fmt: skip
    say(f"derived {ds.rows} rows from the images; labels from {ds.label_source}")
    if ds.split is not None:
        say(ds.split.summary())
        for warning in ds.split.warnings():
            say(f"warning: {warning}")
    if ds.partial_warning:
        say(f"warning: {ds.partial_warning}")
    return replace(
        choices,
        channels={"train": ds.train_uri, "validation": ds.validation_uri},
        data_split=ds.split,
        partial_labels=ds.partial_warning,
    )


def _split_manifest(
    ctx: FlowContext, state: WizardState, choices: TrainChoices, say: Callable[[str], None], write: bool
) -> TrainChoices:
    from services.manifest_split import split_manifest

    if not state.output_manifest:
        raise ValidationError(
            "training data", "no labeled manifest yet", "Label the images in the Labels step first."
        )
    done = split_manifest(
        ctx.factory, state.output_manifest, derived_prefix(state, IMAGE_CLASSIFICATION),
        choices.label_attribute or default_label_attribute(state), choices.validation_fraction,
        choices.split_seed, ctx.journal, write=write,
    )  # fmt: skip
    say(("split " if write else "would split ") + f"{state.output_manifest}: {done.split.summary()}")
    for warning in done.split.warnings():
        say(f"warning: {warning}")
    partial = _partial_labels(ctx, state, len(done.split.train) + len(done.split.validation))
    if partial:
        say(f"warning: {partial}")
    hp = {**choices.hyperparameters, "num_training_samples": str(done.num_training_samples)}
    return replace(
        choices,
        channels={"train": done.train_uri, "validation": done.validation_uri},
        channels_pending=not write,
        label_attribute=choices.label_attribute or done.label_attribute,
        hyperparameters=hp,
        data_split=done.split,
        partial_labels=partial,
    )


def _partial_labels(ctx: FlowContext, state: WizardState, labeled: int) -> str:
    """The warning when the labeled manifest covers only part of the images under the data
    prefix; "" when it covers them all or the images cannot be listed (nothing to compare)."""
    from services.labeling.setup import list_images

    prefix = state.images_prefix()
    if not prefix:
        return ""
    try:
        images = len(list_images(ctx.factory, prefix))
    except Exception:
        return ""
    return tabular_dataset.partial_labels_warning(labeled, images)


def pending_channels(
    choices: TrainChoices, state: WizardState, ctx: FlowContext, say: Callable[[str], None]
) -> TrainChoices:
    """The prepared data's channels before it is written (a dry run plans with them). The manifest
    split is computed (read only) so the plan shows its counts and num_training_samples."""
    if choices.algorithm == IMAGE_CLASSIFICATION and state.output_manifest:
        _check_fraction(choices)
        return _split_manifest(ctx, state, choices, say, write=False)
    return replace(choices, channels=default_channels(choices.algorithm, state), channels_pending=True)


def derive_preview(state: WizardState, algorithm: str = XGBOOST) -> str:
    if algorithm == IMAGE_CLASSIFICATION:
        return f"Split {state.output_manifest} into train and validation manifests under {derived_prefix(state, algorithm)}"
    return (
        f"Derive a CSV dataset (27 image features) from {state.images_prefix()} into {derived_prefix(state)}"
    )


# -- inspect, plan, apply --------------------------------------------------------------------------------
def plan_existing(ctx: FlowContext, state: WizardState, choices: TrainChoices) -> TrainPlan | None:
    """The job already exists, or waits for the labels: the plan says so; else None (plan it)."""
    if choices.job_name:
        status = job_status(ctx, JobKind.TRAINING, choices.job_name)
        if status:
            return TrainPlan(
                verdict=Verdict.UNCHANGED, message=f"training job {choices.job_name} exists ({status})"
            )
    if state.output_manifest and state.labeling_job and not object_exists(ctx, state.output_manifest):
        return TrainPlan(
            verdict=Verdict.WAITING,
            message=f"waits for labeling job {state.labeling_job} to finish (no output manifest yet); "
            "run apply again once it has",
        )
    return None


def plan(ctx: FlowContext, state: WizardState, choices: TrainChoices, image: str = "") -> TrainPlan:
    """Check the job name, the inputs and the role's access, then the exact CreateTrainingJob request.
    `image` is the algorithm's image when a face already resolved it (it takes a second or two)."""
    earlier = plan_existing(ctx, state, choices)
    if earlier is not None:
        return earlier
    cfg = config(state, choices, default_role(ctx, state))
    cfg = cfg.with_(image_uri=image or training.image_uri(cfg.algorithm_id, ctx.region))
    notes: list[str] = []
    if choices.data_split is not None:  # the data this plan trains on, and what is thin in it
        notes.append(f"data: {choices.data_split.summary()}")
        notes += [f"warning: {w}" for w in choices.data_split.warnings()]
    if choices.partial_labels:
        notes.append(f"warning: {choices.partial_labels}")
    warnings: list[str] = []
    samples: dict[str, str] = {}
    for chk in training.check_inputs(ctx.factory, cfg):
        if choices.channels_pending and chk.field.startswith("channel:"):
            continue
        (notes if chk.ok else warnings).append(f"{chk.field}: {chk.message}")
        if chk.sample_key:
            samples[chk.field.removeprefix("channel:")] = chk.sample_key
    if any(w.startswith("channel:") for w in warnings):
        problem = ValidationError("training data", "; ".join(warnings), "Fix the S3 URI or upload the data.")
        problem.title = "A channel has no data"
        return TrainPlan(verdict=Verdict.CANNOT, message=problem.title, problem=problem, config=cfg)
    denied = [f for f in training.preflight(ctx.factory, cfg, samples) if f.allowed is False]
    warning = ""
    if denied:
        warning = "The role will probably be denied: " + "; ".join(f.message for f in denied)
        warning += ". The job would fail; fix it in the Permissions step or the doctor first."
    return TrainPlan(
        verdict=Verdict.SEND,
        message=f"Start training job {cfg.job_name}",
        requests=training.plan_training(cfg, ctx.region, tuple(warnings)),
        config=cfg,
        notes=tuple(notes),
        warning=warning,
        data_split=choices.data_split,
    )


def record(state: WizardState, plan: TrainPlan) -> None:
    """The [training] table `sagewiz export` writes, and the job's name."""
    cfg = plan.config
    if cfg is None:
        return
    kept = state.extra.setdefault("training", {})
    kept.update(
        algorithm=cfg.algorithm_id,
        instance_type=cfg.instance_type,
        hyperparameters=dict(cfg.hyperparameters),
        channels={c.name: c.s3_uri for c in cfg.channels},
    )
    if plan.data_split is not None:  # so a rerun (export, apply) splits the same way
        kept.update(validation_fraction=plan.data_split.fraction, split_seed=plan.data_split.seed)
    state.update(training_job=cfg.job_name)


def apply(ctx: FlowContext, state: WizardState, plan: TrainPlan) -> str:
    assert plan.requests is not None and plan.config is not None
    training.create(ctx.factory, ctx.journal, plan.requests)
    record(state, plan)
    return f"training job {plan.config.job_name} started"
