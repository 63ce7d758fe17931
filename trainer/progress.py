"""The console side of ``trackui train``: a progress bar on a terminal, lines elsewhere."""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO


class Progress:
    """A progress bar on a terminal; one line per epoch anywhere else.

    On a terminal the bar redraws in place at most ``1 / min_interval_s``
    times a second. When the stream is a file or a pipe, nothing is written
    but the per-epoch lines, so a log file does not fill with bars.

    Args:
        stream: where to write (default: ``sys.stdout``).
        epochs: the number of epochs.
        steps_per_epoch: the number of steps in each.
        tty: whether to draw the bar (default: whether ``stream`` is a terminal).
        min_interval_s: the shortest time between two redraws.
    """

    def __init__(
        self,
        stream: TextIO | None,
        epochs: int,
        steps_per_epoch: int,
        *,
        tty: bool | None = None,
        min_interval_s: float = 0.1,
    ) -> None:
        self._stream = stream
        self.epochs = epochs
        self.steps = steps_per_epoch
        if tty is None:
            try:
                tty = bool(self.stream.isatty())
            except (AttributeError, ValueError, OSError):
                tty = False
        self.tty = tty
        self.min_interval_s = min_interval_s
        self._last = -math.inf
        self._drawn = False

    @property
    def stream(self) -> TextIO:
        """Where lines go: the stream given, else ``sys.stdout`` as it is now (so that a
        run's console capture, installed after this was made, sees them)."""
        return self._stream if self._stream is not None else sys.stdout

    def update(self, epoch: int, step: int, loss: float | None) -> None:
        """Redraw the bar for ``step`` of ``epoch`` (a no-op off a terminal or too soon)."""
        if not self.tty:
            return
        now = time.monotonic()
        if now - self._last < self.min_interval_s and step < self.steps:
            return
        self._last = now
        width = 24
        filled = int(width * step / max(self.steps, 1))
        bar = "#" * filled + "." * (width - filled)
        tail = f" loss {loss:.4f}" if loss is not None else ""
        self._write(f"\r\x1b[2Kepoch {epoch}/{self.epochs} [{bar}] {step}/{self.steps}{tail}")
        self._drawn = True

    def line(self, text: str) -> None:
        """Print one line (clearing the bar first on a terminal)."""
        if self._drawn:
            self._write("\r\x1b[2K")
            self._drawn = False
        self._write(text + "\n")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed or broken stdout must not stop training
