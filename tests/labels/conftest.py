"""Labels tests: a fast, exact sandbox workforce and deterministic images."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.sandbox.extensions import labeling as ext


@pytest.fixture(autouse=True)
def fast_workforce(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    before = (ext.SETTINGS.seconds_per_object, ext.SETTINGS.accuracy, ext.SETTINGS.start_delay)
    ext.configure(seconds_per_object=0.0, accuracy=1.0, start_delay=0.0)
    # half-blocks: snapshots must not depend on the terminal's graphics support
    monkeypatch.setenv("SAGEWIZ_IMAGES", "halfblock")
    yield
    ext.configure(clock=None, seconds_per_object=before[0], accuracy=before[1], start_delay=before[2])
