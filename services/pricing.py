"""On-demand SageMaker prices used for cost estimates. Always shown as estimates, with the date.

Source: the Amazon SageMaker AI pricing page (on-demand, Linux), US East (N. Virginia) and Europe
(Stockholm), read 2026-11-01. Prices change and differ by region; a type not listed has no estimate
(shown as unknown, never guessed).
"""

from __future__ import annotations

from dataclasses import dataclass

PRICE_DATE = "2026-11-01"
PRICE_SOURCE = "aws.amazon.com/sagemaker/pricing (on-demand)"

# USD per instance-hour in us-east-1. Notebook instances and training use the same ml.* types but
# are billed under different usage types; the notebook rate is used for notebooks, training rate for jobs.
_NOTEBOOK_USD_HOUR: dict[str, float] = {
    "ml.t3.medium": 0.05, "ml.t3.large": 0.10, "ml.t3.xlarge": 0.20, "ml.t3.2xlarge": 0.399,
    "ml.m5.xlarge": 0.23, "ml.m5.2xlarge": 0.461, "ml.m5.4xlarge": 0.922,
    "ml.c5.xlarge": 0.204, "ml.c5.2xlarge": 0.408,
    "ml.g4dn.xlarge": 0.736, "ml.g5.xlarge": 1.408, "ml.p3.2xlarge": 3.825,
    "ml.t2.medium": 0.0464, "ml.t2.large": 0.0928,
}  # fmt: skip
_TRAINING_USD_HOUR: dict[str, float] = {
    "ml.m5.large": 0.115, "ml.m5.xlarge": 0.23, "ml.m5.2xlarge": 0.461, "ml.m5.4xlarge": 0.922,
    "ml.c5.xlarge": 0.204, "ml.c5.2xlarge": 0.408, "ml.c5.4xlarge": 0.816,
    "ml.m4.xlarge": 0.24, "ml.p3.2xlarge": 3.825, "ml.g4dn.xlarge": 0.736, "ml.g5.xlarge": 1.408,
    "ml.p2.xlarge": 1.125,
}  # fmt: skip
# Regional multipliers relative to us-east-1 (approximate, from the same page).
_REGION_FACTOR: dict[str, float] = {"us-east-1": 1.0, "us-east-2": 1.0, "us-west-2": 1.0, "eu-north-1": 1.06,
                                    "eu-west-1": 1.11, "eu-central-1": 1.2, "ap-northeast-1": 1.29}  # fmt: skip


@dataclass(frozen=True)
class PriceEstimate:
    usd_per_hour: float | None
    instance_type: str
    region: str
    date: str = PRICE_DATE

    @property
    def known(self) -> bool:
        return self.usd_per_hour is not None

    def label(self) -> str:
        if self.usd_per_hour is None:
            return "unknown (no price listed)"
        return f"~${self.usd_per_hour:.3f}/h (estimate, prices of {self.date})"


def _price(table: dict[str, float], instance_type: str, region: str) -> PriceEstimate:
    base = table.get(instance_type)
    if base is None:
        return PriceEstimate(None, instance_type, region)
    return PriceEstimate(round(base * _REGION_FACTOR.get(region, 1.1), 4), instance_type, region)


def notebook_price(instance_type: str, region: str) -> PriceEstimate:
    return _price(_NOTEBOOK_USD_HOUR, instance_type, region)


def training_price(instance_type: str, region: str) -> PriceEstimate:
    return _price(_TRAINING_USD_HOUR, instance_type, region)


# ML storage (the notebook instance's volume), USD per GB-month in us-east-1; billed while the
# instance exists, also when it is stopped.
_ML_STORAGE_USD_GB_MONTH = 0.14
_HOURS_PER_MONTH = 730.0


def notebook_storage_hourly(volume_gb: int, region: str) -> float:
    """What a notebook instance's volume costs an hour (all a Stopped instance bills)."""
    return round(volume_gb * _ML_STORAGE_USD_GB_MONTH * _REGION_FACTOR.get(region, 1.1) / _HOURS_PER_MONTH, 6)


def cost_for(seconds: float, estimate: PriceEstimate, count: int = 1) -> float | None:
    if estimate.usd_per_hour is None:
        return None
    return estimate.usd_per_hour * count * seconds / 3600.0
