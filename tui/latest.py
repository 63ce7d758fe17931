"""One query in flight, the newest request wins: how the UI asks its workers.

A thread cannot be stopped: a query started on every keypress or every live
refresh would pile up behind the others and compete for the CPU. Each asker
(the store refresher, the runs table, a curves panel) holds a ``LatestOnly``:
one request runs at a time, a request made meanwhile replaces the one
waiting (only the newest goes when the running one ends), and an answer to
anything but the newest request is stale (``is_stale``) and dropped.

Used on the event loop only; a worker reports its end with
``node.call_later(latest.finished)`` (thread-safe, and queued behind the
answer the worker posted to the same node).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

R = TypeVar("R")


class LatestOnly(Generic[R]):
    """A request running, at most one waiting, and the newest one asked."""

    def __init__(self, start: Callable[[R], object]) -> None:
        """``start(request)`` starts the work (a worker); its end calls ``finished``."""
        self._start = start
        self.wanted: R | None = None
        """The newest request asked (running, waiting, or answered)."""
        self.running = False
        """Whether a request runs now."""
        self.waiting = False
        """Whether ``wanted`` waits for the running request to end."""

    @property
    def busy(self) -> bool:
        """Whether a request runs or waits."""
        return self.running or self.waiting

    def ask(self, request: R) -> None:
        """Start ``request`` now, or after the running one (replacing any waiting one)."""
        self.wanted = request
        if self.running:
            self.waiting = True
            return
        self._go(request)

    def finished(self) -> bool:
        """The running request ended: start the waiting one; False when none waits (idle)."""
        self.running = False
        if self.waiting and self.wanted is not None:
            self._go(self.wanted)
            return True
        return False

    def is_stale(self, request: R) -> bool:
        """Whether an answer to ``request`` is older than what was asked since."""
        return self.wanted is not None and request != self.wanted

    def _go(self, request: R) -> None:
        self.waiting = False
        self.running = True
        self._start(request)
