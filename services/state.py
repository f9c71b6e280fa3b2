"""What the wizard has learned and chosen so far, shared by every step and front end."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Where the Data step puts the images and the labeling output by default (the seed's notebook used these).
DATA_PREFIX = "ground-truth-demo/images/"
OUTPUT_PREFIX = "ground-truth-demo/output/"


def default_data_prefix(bucket: str) -> str:
    return f"s3://{bucket}/{DATA_PREFIX}"


@dataclass
class WizardState:
    """Mutable on purpose: the App owns one, steps fill it in, the journal records its changes."""

    region: str = ""
    account: str = ""
    caller_arn: str = ""
    sandbox: bool = False
    role_arn: str = ""
    notebook_name: str = ""
    bucket: str = ""
    data_prefix: str = ""  # s3://bucket/ground-truth-demo/images/
    labels: list[str] = field(default_factory=lambda: ["Airplane", "Car", "Ferry", "Helicopter", "Motorbike"])
    labeling_job: str = ""
    output_manifest: str = ""  # s3://.../output.manifest
    training_job: str = ""
    tuning_job: str = ""
    model_name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # per-step settings (training, tuning ...)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, **values: Any) -> dict[str, Any]:
        """Set known fields; returns what changed (for the journal's 'choice' entries)."""
        changed = {}
        for key, value in values.items():
            if not hasattr(self, key):
                raise AttributeError(f"WizardState has no field {key!r}")
            if getattr(self, key) != value:
                setattr(self, key, value)
                changed[key] = value
        return changed

    @property
    def default_bucket(self) -> str:
        return f"sagemaker-{self.region}-{self.account}" if self.region and self.account else ""

    def images_prefix(self) -> str:
        """The images' s3:// folder: the Data step's choice, else the default in the chosen bucket ("" if none)."""
        if self.data_prefix:
            return self.data_prefix if self.data_prefix.endswith("/") else self.data_prefix + "/"
        bucket = self.bucket or self.default_bucket
        return default_data_prefix(bucket) if bucket else ""
