"""What a chart draws, without drawing it: the spec, its digest, colours, gaps.

Kept apart from ``metric_plot`` (which brings in plotext) so that the first
screen can be laid out before any chart library is imported.
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
    """One plotext marker per series."""
    log: bool = False
    show_raw: bool = True
    """Draw the raw curve faintly behind the smoothed one."""
    x_label: str = "step"
    x_range: tuple[float, float] | None = None
    background: RGB = (0, 0, 0)
    """What faint colours fade towards."""
    loading: bool = False
    digest: int = field(default=0)
    """A hash of the data, so that equal specs compare equal cheaply."""

    def key(self) -> tuple[object, ...]:
        """What identifies the picture (arrays via ``digest``)."""
        return (
            self.metric,
            self.colours,
            self.markers,
            self.log,
            self.show_raw,
            self.x_label,
            self.x_range,
            self.background,
            self.loading,
            self.digest,
        )


def series_digest(series: tuple[Series, ...]) -> int:
    """A hash of the drawn arrays of ``series`` (cheap: a few KB per chart)."""
    import numpy as np

    parts: list[object] = []
    for s in series:
        parts.append(s.run_id)
        parts.append(s.points)
        for a in (s.x, s.y, s.raw, s.lo, s.hi):
            parts.append(np.asarray(a, dtype=np.float64).tobytes())
    return hash(tuple(parts))


def fade(colour: RGB, background: RGB, amount: float) -> RGB:
    """``colour`` moved ``amount`` of the way towards ``background``."""
    return (
        int(colour[0] + (background[0] - colour[0]) * amount),
        int(colour[1] + (background[1] - colour[1]) * amount),
        int(colour[2] + (background[2] - colour[2]) * amount),
    )


def finite_segments(
    x: np.ndarray, y: np.ndarray, *, log: bool = False
) -> list[tuple[list[float], list[float]]]:
    """Runs of consecutive drawable points, so that NaN and ±inf become gaps.

    plotext cannot draw NaN or inf (it raises), and a log axis cannot take
    values at or below zero; those points split the curve instead.
    """
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    if log:
        ok &= y > 0
    if not ok.any():
        return []
    idx = np.flatnonzero(ok)
    breaks = np.flatnonzero(np.diff(idx) > 1) + 1
    out = []
    for chunk in np.split(idx, breaks):
        out.append((x[chunk].tolist(), y[chunk].tolist()))
    return out


def finite_points(
    x: np.ndarray, ys: Sequence[np.ndarray], *, log: bool = False
) -> tuple[list[float], list[float]]:
    """The drawable points of several y arrays over one x, as one scatter layer.

    As ``finite_segments`` but without the splitting (points are not joined).
    """
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    out_x: list[float] = []
    out_y: list[float] = []
    for y in ys:
        y = np.asarray(y, dtype=np.float64)
        ok = np.isfinite(x) & np.isfinite(y)
        if log:
            ok &= y > 0
        out_x += x[ok].tolist()
        out_y += y[ok].tolist()
    return out_x, out_y
