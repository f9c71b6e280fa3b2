"""Built-in SageMaker image classification (MXNet ResNet) trained on an augmented manifest.

Hyperparameters, ranges and tuning ranges follow the SageMaker developer guide's
"Image Classification Hyperparameters" and "Tune an Image Classification Model" pages. The
augmented-manifest input uses Pipe mode, RecordIO wrapping and AttributeNames
["source-ref", <label attribute>] (the labeling job's name is its label attribute).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from services.algorithms.spec import (
    NUMBER,
    Algorithm,
    ChannelSpec,
    HyperParameter,
    MetricDefinition,
    ObjectiveMetric,
    check_each,
    effective,
)

VERSION = "1"
H = HyperParameter
HYPERPARAMETERS: tuple[HyperParameter, ...] = (
    H("num_classes", "int", None, min=2, required=True,
      description="Number of output classes (the labels of the labeling job)."),
    H("num_training_samples", "int", None, min=1, required=True,
      description="Number of training examples in the train channel (used by the learning-rate schedule)."),
    H("epochs", "int", "30", min=1, description="Number of training epochs."),
    H("learning_rate", "float", "0.1", min=1e-6, max=1.0, tunable=True, recommended_range=(1e-6, 0.5),
      scaling="Logarithmic", description="Initial learning rate."),
    H("mini_batch_size", "int", "32", min=1, tunable=True, recommended_range=(8, 512), scaling="Linear",
      description="Batch size for training (per machine with kv_store dist_sync)."),
    H("optimizer", "categorical", "sgd", choices=("sgd", "adam", "rmsprop", "nag"), tunable=True,
      recommended_range=("sgd", "adam", "rmsprop", "nag"), description="The optimizer."),
    H("momentum", "float", "0.9", min=0, max=1, tunable=True, recommended_range=(0.0, 0.999),
      description="Momentum for sgd and nag; ignored by other optimizers."),
    H("weight_decay", "float", "0.0001", min=0, max=1, tunable=True, recommended_range=(0.0, 0.999),
      description="Weight decay (L2 regularization) for sgd and nag."),
    H("beta_1", "float", "0.9", min=0, max=1, tunable=True, recommended_range=(1e-6, 0.999),
      description="beta1 of adam: exponential decay rate of the first moment estimates."),
    H("beta_2", "float", "0.999", min=0, max=1, tunable=True, recommended_range=(1e-6, 0.999),
      description="beta2 of adam: exponential decay rate of the second moment estimates."),
    H("eps", "float", "1e-8", min=0, max=1, tunable=True, recommended_range=(1e-8, 1.0),
      scaling="Logarithmic", description="epsilon of adam and rmsprop."),
    H("gamma", "float", "0.9", min=0, max=1, tunable=True, recommended_range=(1e-8, 0.999),
      description="gamma of rmsprop: decay factor of the moving average of the squared gradient."),
    H("num_layers", "int", "152", choices=("18", "34", "50", "101", "152", "200", "20", "32", "44", "56", "110"),
      description="Number of layers of the ResNet (20..110 for small 28x28 images)."),
    H("use_pretrained_model", "int", "0", choices=("0", "1"), min=0, max=1,
      description="1: start from a model pretrained on ImageNet (transfer learning)."),
    H("image_shape", "str", "3,224,224", description="Input image dimensions: channels,height,width."),
    H("resize", "int", None, min=1, description="Resize the shorter side of each image to this many pixels."),
    H("augmentation_type", "categorical", None, choices=("crop", "crop_color", "crop_color_transform"),
      description="Data augmentation: crop, crop_color, or crop_color_transform."),
    H("top_k", "int", "5", min=2, advanced=True, description="Report the top-k accuracy during training."),
    H("multi_label", "int", "0", choices=("0", "1"), min=0, max=1,
      description="1: each image may have several labels (multi-label manifest)."),
    H("use_weighted_loss", "int", "0", choices=("0", "1"), min=0, max=1, advanced=True,
      description="multi-label only: weight the loss by the class frequencies."),
    H("early_stopping", "bool", "false", description="Stop when validation accuracy stops improving."),
    H("early_stopping_min_epochs", "int", "10", min=1, advanced=True,
      description="Minimum epochs before early stopping may stop the run."),
    H("early_stopping_patience", "int", "5", min=1, advanced=True,
      description="Epochs without improvement before stopping."),
    H("early_stopping_tolerance", "float", "0.0", min=0, max=1, advanced=True,
      description="Relative improvement below which an epoch counts as no improvement."),
    H("lr_scheduler_factor", "float", "0.1", min=0, max=1, advanced=True,
      description="Factor by which the learning rate is reduced at each lr_scheduler_step."),
    H("lr_scheduler_step", "str", None, advanced=True,
      description="Comma-separated epochs at which to reduce the learning rate, e.g. 10,20."),
    H("checkpoint_frequency", "int", None, min=1, advanced=True,
      description="Period (in epochs) for storing model parameters."),
    H("kv_store", "categorical", None, choices=("dist_sync", "dist_async"), advanced=True,
      description="Weight update synchronisation in distributed training."),
    H("precision_dtype", "categorical", "float32", choices=("float32", "float16"), advanced=True,
      description="Precision of the weights (float16 for mixed precision on GPUs)."),
)  # fmt: skip

CHANNELS = (
    ChannelSpec("train", True, ("application/x-recordio", "application/x-image"),
                "Augmented manifest of labeled images (source-ref + label attribute), Pipe mode."),
    ChannelSpec("validation", True, ("application/x-recordio", "application/x-image"),
                "A held-out augmented manifest (validation accuracy each epoch)."),
)  # fmt: skip

METRICS = (
    MetricDefinition("train:accuracy", rf".*Epoch\[[0-9]+\].*Train-accuracy={NUMBER}.*"),
    MetricDefinition("validation:accuracy", rf".*Epoch\[[0-9]+\].*Validation-accuracy={NUMBER}.*"),
    MetricDefinition("train:accuracy:epoch", rf".*Epoch\[[0-9]+\].*Train-accuracy={NUMBER}.*"),
)
OBJECTIVE_METRICS = (
    ObjectiveMetric("validation:accuracy", "Maximize", "Correct predictions / all predictions"),
)


def validate(values: Mapping[str, str], channels: Iterable[str] | None = None) -> dict[str, str]:
    errors = check_each(HYPERPARAMETERS, values)
    shape = effective(values, "image_shape")
    if shape and "image_shape" not in errors:
        parts = [p.strip() for p in shape.split(",")]
        if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
            errors["image_shape"] = "image_shape must be channels,height,width, e.g. 3,224,224."
        elif parts[0] not in ("1", "3"):
            errors["image_shape"] = "image_shape must have 1 or 3 channels first, e.g. 3,224,224."
    steps = effective(values, "lr_scheduler_step")
    if steps and "lr_scheduler_step" not in errors and not all(s.strip().isdigit() for s in steps.split(",")):
        errors["lr_scheduler_step"] = "lr_scheduler_step must be epochs separated by commas, e.g. 10,20."
    if effective(values, "use_weighted_loss") == "1" and effective(values, "multi_label") != "1":
        errors.setdefault("use_weighted_loss", "use_weighted_loss needs multi_label 1.")
    top_k, n = effective(values, "top_k"), effective(values, "num_classes")
    if top_k and n and "top_k" not in errors and "num_classes" not in errors and int(top_k) > int(n):
        errors["top_k"] = f"top_k ({top_k}) cannot exceed num_classes ({n})."
    mb, ns = effective(values, "mini_batch_size"), effective(values, "num_training_samples")
    if (
        mb
        and ns
        and "mini_batch_size" not in errors
        and "num_training_samples" not in errors
        and int(mb) > int(ns)
    ):
        errors["mini_batch_size"] = (
            f"mini_batch_size ({mb}) is larger than num_training_samples ({ns}); use at most {ns}."
        )
    if channels is not None and "validation" not in set(channels):
        errors.setdefault("validation", "image classification needs a validation channel.")
    return errors


ALGORITHM = Algorithm(
    id="image-classification",
    title="Image classification (built-in, labeled manifest)",
    framework="image-classification",
    version=VERSION,
    input_modes=("Pipe",),
    channels=CHANNELS,
    hyperparameters=HYPERPARAMETERS,
    metrics=METRICS,
    objectives=OBJECTIVE_METRICS,
    validate=validate,
    default_instance_type="ml.p3.2xlarge",
    notes=("Needs a GPU instance type on AWS (ml.p2/p3/g4dn/g5).",),
)
