"""Background work the sandbox does on this machine (jobs that progress, workforces that label).

Extensions register threads here so a reset or shutdown stops them all at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_generation = 0
_threads: list[tuple[threading.Thread, threading.Event]] = []


def generation() -> int:
    """Bumped on every reset; work from an older generation must stop touching state."""
    return _generation


def spawn(name: str, target: Callable[[threading.Event], Any]) -> threading.Event:
    """Run `target(stop_event)` in a daemon thread; it must return soon after the event is set."""
    stop = threading.Event()
    thread = threading.Thread(target=target, args=(stop,), name=f"sandbox-{name}", daemon=True)
    with _lock:
        _threads[:] = [(t, e) for t, e in _threads if t.is_alive()]
        _threads.append((thread, stop))
    thread.start()
    return stop


def cancel_all(timeout: float = 5.0) -> None:
    global _generation
    with _lock:
        _generation += 1
        current = list(_threads)
        _threads.clear()
    for _, ev in current:
        ev.set()
    for t, _ in current:
        if t is not threading.current_thread():
            t.join(timeout)
