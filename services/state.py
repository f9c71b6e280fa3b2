"""What the wizard has learned and chosen so far, shared by every step and front end."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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
