"""Sandbox extensions: operations moto lacks, added to its server before the first request.

Every module in this package that defines `install()` is loaded by `install_all()`. An extension
adds methods with `add_operation`, which refuses to overwrite anything moto already implements:
if moto grows the operation, the extension must be retired, not silently shadow it.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable
from typing import Any

_installed: set[str] = set()
_lock = threading.Lock()
_ADDED = "__sagewiz_added__"  # an operation we added (moto lacks it)
_WRAPPED = "__sagewiz_wrapped__"  # a moto operation we wrapped


class ExtensionConflict(RuntimeError):
    """moto already implements an operation an extension wants to add."""


def add_operation(response_cls: type, name: str, func: Callable[..., Any]) -> None:
    existing = getattr(response_cls, name, None)
    if existing is not None and not getattr(existing, _ADDED, False):
        raise ExtensionConflict(
            f"moto's {response_cls.__name__} already implements {name}; retire the sagewiz extension for it"
        )
    setattr(func, _ADDED, True)
    setattr(response_cls, name, func)


def wrap_method(
    cls: type, name: str, wrapper_factory: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> None:
    """Wrap an existing moto method once (for behaviour moto has but gets wrong, e.g. statuses)."""
    original = getattr(cls, name)
    if getattr(original, _WRAPPED, False):
        return
    wrapped = wrapper_factory(original)
    setattr(wrapped, _WRAPPED, True)
    setattr(cls, name, wrapped)


def install_all() -> list[str]:
    """Install every extension module once per process; returns their names."""
    with _lock:
        for info in pkgutil.iter_modules(__path__):
            if info.name.startswith("_") or info.name in _installed:
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            install = getattr(module, "install", None)
            if install is not None:
                install()
            _installed.add(info.name)
        return sorted(_installed)
