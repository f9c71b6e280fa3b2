"""requirements.lock agrees with pyproject.toml: what the README's commands install is what pyproject
promises, every package pinned with hashes."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import dev  # noqa: E402

LOCK = (ROOT / "requirements.lock").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PIN = re.compile(r"^([A-Za-z0-9._-]+(?:\[[^\]]*\])?)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def _pins() -> list[tuple[str, Version, str | None, list[str]]]:
    """(name, version, marker, hashes) for each pinned entry of the lock."""
    pins: list[tuple[str, Version, str | None, list[str]]] = []
    for line in LOCK.splitlines():
        m = PIN.match(line)
        if m:
            pins.append((canonicalize_name(m.group(1)), Version(m.group(2)), m.group(3), []))
        elif line.strip().startswith("--hash=sha256:") and pins:
            pins[-1][3].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
    return pins


def _declared() -> list[Requirement]:
    project = PYPROJECT["project"]
    texts = [*project["dependencies"], *PYPROJECT["build-system"]["requires"]]
    for extra in dev.EXTRAS:
        texts += project["optional-dependencies"][extra]
    return [Requirement(t) for t in texts]


def test_the_lock_was_made_from_this_pyproject():
    header = re.search(r"^# sagewiz-inputs-sha256: ([0-9a-f]{64})$", LOCK, re.M)
    assert header, "requirements.lock has no inputs digest; run `python3 dev.py lock`"
    assert header.group(1) == dev.inputs_digest(), (
        "pyproject.toml changed since requirements.lock was made; run `python3 dev.py lock` and the suite"
    )


def test_every_pin_has_hashes():
    pins = _pins()
    assert len(pins) > 50, "the lock should pin every transitive dependency"
    unhashed = [name for name, _, _, hashes in pins if not hashes]
    assert not unhashed, f"pins without hashes: {unhashed}"
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for *_, hashes in pins for h in hashes)


@pytest.mark.parametrize("python", ["3.11", "3.12", "3.13", "3.14"])
def test_every_declared_requirement_is_pinned_inside_its_range(python: str):
    env = {"python_version": python, "python_full_version": f"{python}.0"}
    pins: dict[str, Version] = {}
    for name, version, marker, _ in _pins():
        if marker is None or Marker(marker).evaluate(env):
            assert name not in pins, f"{name} is pinned twice for Python {python}"
            pins[name] = version
    for req in _declared():
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        name = canonicalize_name(req.name)
        assert name in pins, f"{req} is declared in pyproject.toml but not in requirements.lock"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside pyproject's {req}"
        )


def test_moto_range_is_what_the_suite_has_shown():
    """moto's internals are extended (services/sandbox/extensions): its range is one tested release."""
    moto = next(Requirement(t) for t in PYPROJECT["project"]["dependencies"] if t.startswith("moto"))
    locked = next(v for n, v, _, _ in _pins() if n == "moto")
    allowed = [v for v in ("5.2.5", "5.2.6", "5.2.7", "5.3.0") if moto.specifier.contains(v)]
    assert allowed == [str(locked)]
