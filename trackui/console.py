"""What a run prints: a line at ``init``, a history and summary at ``finish``.

Also the tee that copies the process's console output into ``output.log``.
``TRACKUI_SILENT=1`` silences the lines (warnings still go to stderr).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

# Console text is made safe by the store's one module: ``safe`` shows each
# control character as ``?``; ``escape`` spells it out (``\x1b``).
from trackui.settings import env_flag
from trackui.store.text import escape as escape  # (re-exported for the trainer)
from trackui.store.text import marked as safe

if TYPE_CHECKING:
    from trackui.run_object import Run

_warned: set[str] = set()
_BARS = "▁▂▃▄▅▆▇█"
_SPARK_WIDTH = 24
_MAX_METRICS = 12
_MAX_HISTORY_BYTES = 64 << 20


def silent() -> bool:
    """``$TRACKUI_SILENT`` (else ``$WANDB_SILENT``) is set to a true value."""
    return env_flag("SILENT")


def warn(msg: str) -> None:
    with contextlib.suppress(Exception):
        print(safe(msg), file=sys.stderr)


def warn_once(key: str, msg: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warn(msg)


def _say(line: str) -> None:
    if not silent():
        with contextlib.suppress(Exception):
            # stderr, as wandb does: a script's stdout stays its own.
            print(line, file=sys.stderr, flush=True)


def print_init(run: Run, *, resumed: bool) -> None:
    verb = "resuming" if resumed else "run"
    _say(f"trackui: {verb} {safe(run.name)!s} ({run.id}) in {safe(run.run_dir)}")
    _say(f"trackui: watch it with: trackui {safe(run.root)}")


def sparkline(values: list[float], width: int = _SPARK_WIDTH) -> str:
    """A Unicode sparkline of ``values`` squeezed to ``width`` columns (gaps as spaces).

    Non-finite values are gaps; any finite values, ±1.8e308 included, are
    drawn (each column's mean and the scale are computed halved, so nothing
    overflows)."""
    if not values:
        return ""
    n = len(values)
    if n > width:
        cols = [values[(i * n) // width : ((i + 1) * n) // width] for i in range(width)]
        values = [
            sum(v / len(f) for v in f) if (f := [v for v in c if math.isfinite(v)]) else math.nan
            for c in cols
        ]
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return " " * len(values)
    lo, hi = min(finite) / 2, max(finite) / 2
    span = hi - lo
    top = len(_BARS) - 1
    out = []
    for v in values:
        if not math.isfinite(v):
            out.append(" ")
        elif span <= 0:
            out.append(_BARS[len(_BARS) // 2])
        else:
            pos = (v / 2 - lo) / span * len(_BARS)
            out.append(_BARS[max(0, min(top, int(pos))) if math.isfinite(pos) else top])
    return "".join(out)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.5g}"
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10**15:
        try:
            return f"{float(v):.5g}"
        except OverflowError:
            return f"{'-' if v < 0 else ''}2^{abs(v).bit_length() - 1}"
    if isinstance(v, str):
        return safe(v if len(v) <= 40 else v[:39] + "…")
    try:
        text = safe(v)
    except Exception:  # a str() that raises (an int of 5,000 digits in a dict, say)
        return f"<{type(v).__name__}>"
    return text if len(text) <= 40 else text[:39] + "…"


def print_finish(run: Run) -> None:
    """The run's history (a sparkline per metric) and summary, as wandb prints them."""
    if silent() or run.run_dir is None:
        return
    from trackui.store import layout, reader

    history: dict[str, list[float]] = {}
    try:
        size = (run.run_dir / layout.HISTORY).stat().st_size
    except OSError:
        size = 0
    if 0 < size <= _MAX_HISTORY_BYTES:
        records, _, _ = reader.read_records(run.run_dir)
        for _step, values in sorted(reader.merge_steps(records).items()):
            for k, v in values.items():
                history.setdefault(k, []).append(v)
    summary = run.summary.as_dict()
    name_w = min(32, max((len(k) for k in [*history, *summary]), default=0))
    if history:
        _say("trackui: run history:")
        for k in list(history)[:_MAX_METRICS]:
            _say(f"  {safe(k):>{name_w}} {sparkline(history[k])}")
        if len(history) > _MAX_METRICS:
            _say(f"  ... and {len(history) - _MAX_METRICS} more")
    if summary:
        _say("trackui: run summary:")
        for k in list(summary)[:_MAX_METRICS]:
            _say(f"  {safe(k):>{name_w}} {_fmt(summary[k])}")
        if len(summary) > _MAX_METRICS:
            _say(f"  ... and {len(summary) - _MAX_METRICS} more")
    state = "finished" if run._meta.get("exit_code", 0) == 0 else "failed"
    _say(f"trackui: {state} {safe(run.name)} ({run.id}); view with: trackui {safe(run.root)}")


class Tee:
    """Copies what the process writes to ``sys.stdout`` and ``sys.stderr`` into a file.

    The streams are wrapped, not replaced at the file-descriptor level, so
    output from child processes and C extensions is not captured.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._streams: list[tuple[str, TextIO, _TeeStream]] = []

    @classmethod
    def start(cls, path: Path) -> Tee | None:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError:
            return None
        tee = cls(fd)
        for name in ("stdout", "stderr"):
            orig = getattr(sys, name)
            if orig is None:
                continue
            wrapper = _TeeStream(orig, fd)
            setattr(sys, name, wrapper)
            tee._streams.append((name, orig, wrapper))
        return tee

    def close(self) -> None:
        for name, orig, wrapper in self._streams:
            if getattr(sys, name) is wrapper:
                setattr(sys, name, orig)
            wrapper._fd = -1
        self._streams.clear()
        with contextlib.suppress(OSError):
            os.close(self._fd)


class _TeeStream:
    """A text stream that writes through to another and appends to a file."""

    def __init__(self, inner: TextIO, fd: int) -> None:
        self._inner = inner
        self._fd = fd

    def write(self, s: str) -> int:
        n = self._inner.write(s)
        if self._fd >= 0 and s:
            with contextlib.suppress(OSError, ValueError):
                os.write(self._fd, s.encode("utf-8", "replace"))
        return n

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._inner.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
