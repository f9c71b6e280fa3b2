"""Built-in SageMaker algorithms sagewiz knows: hyperparameter specs, rules and metric definitions."""

from __future__ import annotations

from services.algorithms.spec import (
    Algorithm,
    ChannelSpec,
    HyperParameter,
    MetricDefinition,
    ObjectiveMetric,
)


def algorithms() -> dict[str, Algorithm]:
    from services.algorithms import image_classification, xgboost

    return {
        xgboost.ALGORITHM.id: xgboost.ALGORITHM,
        image_classification.ALGORITHM.id: image_classification.ALGORITHM,
    }


def get(algorithm_id: str) -> Algorithm:
    try:
        return algorithms()[algorithm_id]
    except KeyError:
        raise KeyError(f"unknown algorithm {algorithm_id!r}; known: {', '.join(algorithms())}") from None


def detect(image_uri: str) -> Algorithm | None:
    """Which built-in algorithm a training image URI belongs to (by repository name)."""
    repo = image_uri.rsplit("/", 1)[-1].split(":", 1)[0]
    if repo in ("sagemaker-xgboost", "xgboost"):
        return get("xgboost")
    if repo == "image-classification":
        return get("image-classification")
    return None


def validate(algorithm_id: str, values: dict[str, str], channels: list[str] | None = None) -> dict[str, str]:
    """{field: message} for every problem; {} when the hyperparameters are fine."""
    return get(algorithm_id).validate(values, channels)


__all__ = [
    "Algorithm",
    "ChannelSpec",
    "HyperParameter",
    "MetricDefinition",
    "ObjectiveMetric",
    "algorithms",
    "detect",
    "get",
    "validate",
]
