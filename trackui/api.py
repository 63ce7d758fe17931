"""The logging API behind ``import trackui``, in one place.

``Run`` (``trackui.run_object``) is one run; ``init`` and ``current``
(``trackui.session``) start runs and keep track of the current one; what a
run records about where it ran comes from ``trackui.probes``.
"""

from __future__ import annotations

from trackui.run_object import MAX_RECORD_BYTES, Run
from trackui.session import _active, current, init

__all__ = ["MAX_RECORD_BYTES", "Run", "_active", "current", "init"]
