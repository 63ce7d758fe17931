"""What a chart draws, without drawing it: the spec, its digest, colours, gaps.

Kept apart from the drawing (which brings in NumPy and the dot grid) so that
the first screen can be laid out before any of it is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trackui.store.models import Series

if TYPE_CHECKING:  # imported where used: the first paint does not wait for NumPy
    import numpy as np

RGB = tuple[int, int, int]

FAINT_LAYERS_MAX_RUNS = 3
"""Raw curves and min/max envelopes are drawn behind at most this many runs."""

MONO_MARKERS = ("hd", "•", "+", "x", "*", "o", "#", "@", "%", "=")
"""Markers that tell runs apart when there is no colour (NO_COLOR)."""


@dataclass(frozen=True, eq=False)
class PlotSpec:
    """Everything one chart draws; a new spec is a new picture."""

    metric: str
    series: tuple[Series, ...] = ()
    colours: tuple[RGB, ...] = ()
    """One colour per series."""
    markers: tuple[str, ...] = ()
    """One marker per series: ``hd`` draws on the dot grid, a character marks every cell."""
    kinds: tuple[str, ...] = ()
    """How each series is drawn: ``line`` (the default), ``points`` or ``bars``."""
    log: bool = False
    show_raw: bool = True
    """Draw the raw curve faintly behind the smoothed one."""
    x_label: str = "step"
    x_axis: str = "step"
    """What x is: ``step``, ``relative`` (durations), ``wall`` (clock times) or a metric."""
    x_range: tuple[float, float] | None = None
    background: RGB = (0, 0, 0)
    """What faint colours fade towards."""
    loading: bool = False
    dots: str = "braille"
    """The resolution: ``braille``, ``quadrant`` or ``ascii`` (``tui.widgets.dots``)."""
    digest: int = field(default=0)
    """A hash of the data, so that equal specs compare equal cheaply."""

    def key(self) -> tuple[object, ...]:
        """What identifies the picture (arrays via ``digest``)."""
        return (
            self.metric,
            self.colours,
            self.markers,
            self.kinds,
            self.log,
            self.show_raw,
            self.x_label,
            self.x_axis,
            self.x_range,
            self.background,
            self.loading,
            self.dots,
            self.digest,
        )


def series_digest(series: tuple[Series, ...]) -> int:
    """A hash of the drawn arrays of ``series`` (cheap: a few KB per chart)."""
    import numpy as np

    parts: list[object] = []
    for s in series:
        parts.append(s.run_id)
        parts.append(s.points)
        for a in (s.x, s.y, s.raw, s.lo, s.hi, s.step, s.t):
            parts.append(None if a is None else np.asarray(a, dtype=np.float64).tobytes())
        parts.append(s.start_time)
    return hash(tuple(parts))


def fade(colour: RGB, background: RGB, amount: float) -> RGB:
    """``colour`` moved ``amount`` of the way towards ``background``."""
    return (
        int(colour[0] + (background[0] - colour[0]) * amount),
        int(colour[1] + (background[1] - colour[1]) * amount),
        int(colour[2] + (background[2] - colour[2]) * amount),
    )


def drawable(x: np.ndarray, y: np.ndarray, *, log: bool = False) -> np.ndarray:
    """Which points can be drawn: x and y finite, and y above zero on a log axis."""
    import numpy as np

    ok = np.isfinite(x) & np.isfinite(y)
    if log:
        ok &= y > 0
    return ok


def drawable_runs(ok: np.ndarray) -> list[tuple[int, int]]:
    """The runs of consecutive drawable points (``ok``), as ``(start, stop)`` index pairs."""
    import numpy as np

    idx = np.flatnonzero(ok)
    if not len(idx):
        return []
    breaks = np.flatnonzero(np.diff(idx) > 1) + 1
    starts = np.concatenate(([0], breaks))
    ends = np.concatenate((breaks, [len(idx)]))
    return [(int(idx[a]), int(idx[b - 1]) + 1) for a, b in zip(starts, ends, strict=True)]


def finite_segments(
    x: np.ndarray, y: np.ndarray, *, log: bool = False
) -> list[tuple[list[float], list[float]]]:
    """Runs of consecutive drawable points, so that NaN and ±inf become gaps.

    NaN and inf cannot be drawn, and a log axis cannot take values at or
    below zero; those points split the curve instead.
    """
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    runs = drawable_runs(drawable(x, y, log=log))
    return [(x[a:b].tolist(), y[a:b].tolist()) for a, b in runs]


LINEAR_ABS_MAX = 1e18
"""Beyond this, a linear axis's labels run past the SI suffixes (``P`` is ``1e15``),
and near ``1e308`` its range arithmetic (``hi - lo``) overflows to inf."""
LINEAR_ABS_MIN = 1e-9
"""Below this (and above zero), tick labels grow long exponents, and near
``1e-308`` spans underflow to nothing."""


def y_exponent(series: Sequence[Series], *, log: bool = False) -> int:
    """The power of ten the y values of ``series`` are divided by for a linear axis (0: none).

    A curve spanning ``-1e308..1e308`` has a range of inf, one of ``1e-320``
    a range that divides to nothing, and a curve of ``1e20`` tick labels
    beyond the SI suffixes: such values are drawn in units of ``1e±N`` (the
    chart's title says so), the rest as they are. A log axis works on
    exponents already and needs none.
    """
    import math

    import numpy as np

    if log:
        return 0
    top = 0.0
    for s in series:
        for a in (s.y, s.raw, s.lo, s.hi):
            arr = np.abs(np.asarray(a, dtype=np.float64))
            arr = arr[np.isfinite(arr)]
            if arr.size:
                top = max(top, float(arr.max()))
    if top == 0.0 or LINEAR_ABS_MIN <= top < LINEAR_ABS_MAX:
        return 0
    return math.floor(math.log10(top))


def scaled(a: np.ndarray, exponent: int) -> np.ndarray:
    """``a`` divided by ``10**exponent`` (in two steps: ``10**-320`` is not a float)."""
    import numpy as np

    a = np.asarray(a, dtype=np.float64)
    if exponent == 0:
        return a
    half = exponent // 2
    return a / 10.0**half / 10.0 ** (exponent - half)
