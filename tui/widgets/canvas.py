"""trackui's own canvas: curves painted onto the matrix plotext built, on arrays.

plotext draws a chart's frame (axes, ticks, title); the curves themselves
are painted here onto its character and colour matrices, all layers at once,
to exactly the cells plotext would fill (``tests/tui/test_plotext_patch.py``
compares the two), in a fraction of the time. Curves holding anything only
plotext handles are left to it (:func:`layers_fit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotext._utility as ut

from trackui.tui.widgets.plotext_patch import (
    _NUMBERS,
    _dots,
    _hd_chars,
    _plain,
    _segment_dots,
    _unique,
)


class Layer:
    """One curve or scatter of a chart: plain numbers, one marker, one colour."""

    __slots__ = ("x", "y", "marker", "color", "lines")

    def __init__(
        self, x: list[float], y: list[float], marker: str, color: Any, lines: bool
    ) -> None:
        self.x, self.y, self.marker, self.color, self.lines = x, y, marker, color, lines


_FACTORS = {"hd": (2, 2), "fhd": (2, 3), "braille": (2, 4)}
"""Dots per cell (columns, rows) of plotext's high-definition markers."""


def layers_fit(monitor: Any, layers: Sequence[Layer]) -> bool:
    """Whether :func:`place_layers` draws ``layers`` exactly as plotext would.

    That is plain finite numbers on the default axes, with no grid, fill,
    dates or labels in the figure (anything else is left to plotext).
    """
    import math

    if not layers or monitor.grid != [False, False] or monitor.signals or monitor.text:
        return False
    for la in layers:
        if not la.x or len(la.x) != len(la.y):
            return False
        if not (_plain(la.x, _NUMBERS) and _plain(la.y, _NUMBERS)):
            return False
        if not all(map(math.isfinite, la.x)) or not all(map(math.isfinite, la.y)):
            return False
    return True


def place_layers(plt: Any, layers: Sequence[Layer], *, log: bool) -> None:
    """Set up ``plt`` so that its build draws the frame for ``layers`` alone.

    Two empty texts at the corners of the data give plotext the axis limits
    (and ticks) it would find from the layers themselves; the layers are
    then drawn by :func:`paint_layers` after the build. A log y axis takes
    positive values only.
    """
    xs = [min(la.x) for la in layers] + [max(la.x) for la in layers]
    ys = [min(la.y) for la in layers] + [max(la.y) for la in layers]
    plt.text("", min(xs), min(ys))
    plt.text("", max(xs), max(ys))


def _paint_group(monitor: Any, layers: Sequence[Layer], mk: str, log: bool, w: int, h: int) -> None:
    """Paint layers that share one marker, all at once (see :func:`paint_layers`)."""
    import math

    m = monitor.matrix
    (xlo, xhi), (ylo, yhi) = monitor.xlim[0], monitor.ylim[0]
    fx, fy = _FACTORS.get(mk, (1, 1))
    n_layers = len(layers)
    lens = [len(la.x) for la in layers]
    xs = np.concatenate([np.asarray(la.x, dtype=np.float64) for la in layers])
    ys = np.concatenate([
        np.asarray([math.log10(v) for v in la.y] if log else la.y, dtype=np.float64)
        for la in layers
    ])  # fmt: skip
    lid = np.repeat(np.arange(n_layers), lens)
    xd = _dots(xs, xlo, xhi, w * fx)
    yd = _dots(ys, ylo, yhi, h * fy)
    # Lines join the points of one layer, never the last of a layer to the
    # first of the next.
    lines = np.array([la.lines for la in layers], dtype=bool)
    use = (lid[1:] == lid[:-1]) & lines[lid[:-1]]
    if use.any():
        sx, sy, first = _segment_dots(xd, yd, use)
        xd = np.concatenate((xd, sx))
        yd = np.concatenate((yd, sy))
        lid = np.concatenate((lid, lid[first]))
    # A dot off the canvas is in a cell off the canvas (plotext drops those).
    ok = (xd >= 0) & (xd < w * fx) & (yd >= 0) & (yd < h * fy)
    xd, yd, lid = xd[ok], yd[ok], lid[ok]
    cells = w * h
    key = lid * cells + (yd // fy) * w + xd // fx  # (layer, cell)
    bits = fx * fy
    if bits == 1:
        keys = _unique(key)
        masks = None
    else:
        # Bit p of a mask is element p of the cell's code: rows from the top
        # (plotext reverses them), columns left to right.
        pos = (fy - 1 - yd % fy) * fx + xd % fx
        u = _unique(key * 8 + pos)
        ukey = u >> 3
        starts = np.concatenate(([0], np.flatnonzero(np.diff(ukey)) + 1))
        keys = ukey[starts]
        masks = np.add.reduceat(np.left_shift(1, u & 7), starts)
    # Each layer's characters replace what the layers before put in a cell:
    # per cell, the last layer that has dots there.
    cell, layer = keys % cells, keys // cells
    order = np.lexsort((layer, cell))
    last = np.concatenate((np.flatnonzero(np.diff(cell[order])), [len(order) - 1]))
    pick = order[last]
    cols_in = (cell[pick] % w + m.Cols_canvas.start).tolist()
    rows_in = (cell[pick] // w + m.Rows_canvas.start).tolist()
    if masks is None:
        chars = [mk] * len(pick)
    else:
        table = _hd_chars(fx, fy)
        chars = [table[b] for b in masks[pick].tolist()]
    colors = [monitor.check_color(la.color) for la in layers]
    owners = layer[pick].tolist()
    marker_rows, fg_rows, style_rows = m.marker, m.fullground, m.style
    no_style = ut.no_color
    for c, r, ch, o in zip(cols_in, rows_in, chars, owners, strict=True):
        marker_rows[r][c] = ch
        fg_rows[r][c] = colors[o]
        style_rows[r][c] = no_style


def paint_layers(monitor: Any, layers: Sequence[Layer], *, log: bool) -> None:
    """Draw ``layers`` onto the matrix plotext just built, as plotext draws them.

    The same steps as plotext's own build, on arrays and for all layers at
    once: data to dots on the canvas (``get_matrix_data``), the dots between
    the points of each line (``get_lines``), dots grouped into block
    characters (``hd_group``), cells off the canvas dropped, and each
    layer's cells written over the ones before.
    """
    m = monitor.matrix
    w, h = len(m.Cols_canvas), len(m.Rows_canvas)
    if w <= 0 or h <= 0 or not layers:
        return
    (xlo, xhi), (ylo, yhi) = monitor.xlim[0], monitor.ylim[0]
    if xlo == xhi or ylo == yhi:
        raise ValueError("empty axis range")  # (plotext fails there too)
    # Layers are painted in order, a run of layers with one marker at a time.
    group: list[Layer] = []
    mk = None
    for la in layers:
        lm = monitor.check_marker(la.marker)
        if group and lm != mk:
            _paint_group(monitor, group, mk, log, w, h)  # type: ignore[arg-type]
            group = []
        group.append(la)
        mk = lm
    _paint_group(monitor, group, mk, log, w, h)  # type: ignore[arg-type]
