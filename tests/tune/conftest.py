"""Fixtures for tuning: the sandbox trainer at full speed, data the role can read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from services.sandbox import trainer
from services.tuning.config import TrainingBase
from tests.tune.data import prepare


@pytest.fixture
def fast_trainer() -> Iterator[None]:
    old = trainer.set_pace(0.0)
    yield
    trainer.set_pace(old)


@pytest.fixture
def base(world: Any, factory: Any, fast_trainer: None) -> TrainingBase:
    return prepare(world, factory, num_round=6)
