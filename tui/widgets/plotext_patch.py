"""A process-wide patch of plotext: faster versions of its per-point helpers.

plotext builds a chart in pure Python, point by point: finding the data's
range (``get_lim``), scaling data to canvas cells (``get_matrix_data``),
filling in the cells between points (``get_lines``), and grouping points into
high-definition block characters (``hd_group``). Those are most of a chart's
build time: a screen of live charts redrawn every second would spend a tenth
of a core on them.

:func:`install` replaces them in ``plotext._utility`` (where plotext's build
looks them up) with versions that compute the same thing on arrays or in
single C-level calls. They
return exactly what plotext's own return (``tests/tui/test_plotext_patch.py``
checks that, helper by helper and on whole charts); for any input that is
not plain numbers (dates as strings, None or NaN gaps, mixed marker sizes,
empty data) they hand over to plotext's own. plotext is pinned in
``pyproject.toml``: a new version is checked by those tests before it is
allowed in.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import plotext._utility as ut
from plotext._matrix import matrix_class

ORIGINAL: dict[str, Callable[..., Any]] = {
    "get_matrix_data": ut.get_matrix_data,
    "get_lines": ut.get_lines,
    "hd_group": ut.hd_group,
    "get_lim": ut.get_lim,
}
"""plotext's own helpers (what the fast ones fall back to, and are tested against)."""
ORIGINAL_SET_MATRICES = matrix_class.set_matrices

_installed = False
_install_lock = threading.Lock()


def _plain(values: Sequence[Any], kinds: frozenset[type]) -> bool:
    """Whether every value's type is exactly one of ``kinds`` (no bool, str or None)."""
    return set(map(type, values)) <= kinds


_NUMBERS = frozenset((float, int))
_INTS = frozenset((int,))


def get_matrix_data(data: Sequence[Any], lim: Sequence[Any], bins: int) -> list[Any]:
    """``plotext._utility.get_matrix_data``: values to canvas cell indices."""
    lo, hi = lim[0], lim[1]
    if (
        len(data) < 8
        or not _plain(data, _NUMBERS)
        or type(lo) not in (float, int)
        or type(hi) not in (float, int)
        or hi == lo
    ):
        return ORIGINAL["get_matrix_data"](data, lim, bins)
    a = np.asarray(data, dtype=np.float64)
    if not np.isfinite(a).all():
        return ORIGINAL["get_matrix_data"](data, lim, bins)
    return _dots(a, lo, hi, bins).tolist()


def _dots(a: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """``get_matrix_data`` on an array of finite numbers (``hi != lo``)."""
    # The same float operations in the same order as plotext's, then its
    # rounding to 8 decimals (half up) and floor.
    n = (0.5 + (bins - 1) * (a - lo) / (hi - lo)) * 100000000
    f = np.floor(n)
    r = np.where(n - f < 0.5, f, np.ceil(n)) * 10 ** (-8)
    return np.floor(r).astype(np.int64)


def get_lim(data: Sequence[Any]) -> list[Any]:
    """``plotext._utility.get_lim``: the data's range (widened when it is one value)."""
    if not data or not _plain(data, _NUMBERS):
        return ORIGINAL["get_lim"](data)
    m, big = min(data), max(data)
    if m != m or big != big:  # NaN: plotext leaves those out
        return ORIGINAL["get_lim"](data)
    if m != big:
        return [m, big]
    return [0.5 * m, 1.5 * m] if m != 0 else [-1, 1]


def get_lines(x: list[Any], y: list[Any], *other: list[Any]) -> list[list[Any]]:
    """``plotext._utility.get_lines``: the cells on the segments between points."""
    n = len(x)
    if (
        n < 2
        or len(y) != n
        or any(len(o) != n for o in other)
        or not _plain(x, _INTS)
        or not _plain(y, _INTS)
    ):
        return ORIGINAL["get_lines"](x, y, *other)
    seg, xl, yl = _line_dots(np.asarray(x, dtype=np.int64), np.asarray(y, dtype=np.int64))
    idx = seg.tolist()
    rest = [[o[j] for j in idx] for o in other]
    return [xl.tolist(), yl.tolist(), *rest]


def _unique(a: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer array.

    As ``np.unique``, which imports ``numpy.ma`` on its first call (to check
    for a masked array): 55 ms of the viewer's start.
    """
    a = np.sort(a)
    if len(a) < 2:
        return a
    keep = np.empty(len(a), dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def _line_dots(xa: np.ndarray, ya: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``get_lines`` on integer arrays of two or more points.

    Returns, for every dot, the index of the point its segment starts at,
    and the dot's x and y (the last point closes the last segment).
    """
    n = len(xa)
    xl, yl, first = _segment_dots(xa, ya, np.ones(n - 1, dtype=bool))
    return np.append(first, n - 1), np.append(xl, xa[-1]), np.append(yl, ya[-1])


_CODES: dict[tuple[int, int], list[tuple[int, ...]]] = {}


def _codes(xf: int, yf: int) -> list[tuple[int, ...]]:
    """Every marker code of an ``xf`` x ``yf`` block, by its bit mask."""
    codes = _CODES.get((xf, yf))
    if codes is None:
        codes = [tuple(int(b) for b in bits) for bits in itertools.product((0, 1), repeat=xf * yf)]
        # Bit p of the mask is element p of the code: product() counts with
        # the last element fastest, so reverse the bit order once.
        by_mask = [(0,)] * len(codes)
        for code in codes:
            mask = sum(1 << p for p, b in enumerate(code) if b)
            by_mask[mask] = code
        codes = by_mask
        _CODES[(xf, yf)] = codes
    return codes


def hd_group(
    x: list[Any], y: list[Any], xf: list[int], yf: list[int]
) -> tuple[list[int], list[int], list[tuple[int, ...]]]:
    """``plotext._utility.hd_group``: points grouped into block-character cells."""
    n = len(x)
    if (
        n == 0
        or len(y) != n
        or len(xf) != n
        or len(yf) != n
        or not _plain(x, _INTS)
        or not _plain(y, _INTS)
    ):
        return ORIGINAL["hd_group"](x, y, xf, yf)
    fx, fy = xf[0], yf[0]
    if len(set(xf)) != 1 or len(set(yf)) != 1:
        return ORIGINAL["hd_group"](x, y, xf, yf)
    cx, cy, masks = _hd_cells(np.asarray(x, dtype=np.int64), np.asarray(y, dtype=np.int64), fx, fy)
    codes = _codes(fx, fy)
    return cx.tolist(), cy.tolist(), [codes[m] for m in masks.tolist()]


def _hd_cells(
    xa: np.ndarray, ya: np.ndarray, fx: int, fy: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``hd_group`` on integer arrays: each cell once, with the bit mask of its dots."""
    cx, cy = xa // fx, ya // fy
    # Cells in order of their first point (plotext keeps them in a dict).
    key = (cx - cx.min()) * (int(cy.max() - cy.min()) + 1) + (cy - cy.min())
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    cell = rank[inverse.reshape(-1)]
    # Each point sets one element of its cell's code: rows from the top
    # (plotext reverses them), columns left to right.
    pos = (fy - 1 - ya % fy) * fx + xa % fx
    masks = np.zeros(len(order), dtype=np.int64)
    np.bitwise_or.at(masks, cell, np.left_shift(1, pos))
    firsts = first[order]
    return cx[firsts], cy[firsts], masks


def _segment_dots(
    xa: np.ndarray, ya: np.ndarray, use: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The dots ``get_lines`` puts on the segments ``i -> i + 1`` where ``use[i]``.

    Returns each dot's x, y and the index of its segment's first point; the
    points themselves are left to the caller (a segment's dots start with its
    first point and stop before its last).
    """
    start = np.flatnonzero(use)
    dx = xa[start + 1] - xa[start]
    dy = ya[start + 1] - ya[start]
    a = np.maximum(np.abs(dx), np.abs(dy)) + 1  # points on each segment, both ends
    k = a - 1
    seg = np.repeat(np.arange(len(start)), k)
    i = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)  # index within its segment
    # plotext's linspace: lower + i * (upper - lower) / (length - 1), truncated.
    denom = np.where(a > 1, a - 1, 1).astype(np.float64)
    sx = np.where(a > 1, dx / denom, 0.0)
    sy = np.where(a > 1, dy / denom, 0.0)
    first = start[seg]
    xl = np.trunc(xa[first] + i * sx[seg]).astype(np.int64)
    yl = np.trunc(ya[first] + i * sy[seg]).astype(np.int64)
    return xl, yl, first


_CHARS: dict[tuple[int, int], list[str]] = {}


def _hd_chars(fx: int, fy: int) -> list[str]:
    """The block character of every bit mask of an ``fx`` x ``fy`` cell."""
    chars = _CHARS.get((fx, fy))
    if chars is None:
        chars = _CHARS[(fx, fy)] = [ut.get_hd_marker(code) for code in _codes(fx, fy)]
    return chars


def set_matrices(self: Any) -> None:
    """``plotext._matrix.matrix_class.set_matrices``: a blank picture.

    The background of a row is the canvas colour over the canvas columns
    and the axes colour elsewhere, worked out once per row kind rather than
    by a call per cell.
    """
    cols = self.cols
    self.marker = [[ut.space] * cols for _ in self.Rows]
    self.fullground = [[ut.no_color] * cols for _ in self.Rows]
    canvas, axes, inside = self.canvas_color, self.axes_color, self.Cols_canvas
    canvas_row = [canvas if col in inside else axes for col in self.Cols]
    rows_in = self.Rows_canvas
    self.background = [list(canvas_row) if row in rows_in else [axes] * cols for row in self.Rows]
    self.style = [[ut.no_color] * cols for _ in self.Rows]


def install() -> None:
    """Put the fast helpers into plotext (once; safe from any thread)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        ut.get_matrix_data = get_matrix_data
        ut.get_lines = get_lines
        ut.hd_group = hd_group
        ut.get_lim = get_lim
        matrix_class.set_matrices = set_matrices
        _installed = True


def uninstall() -> None:
    """Give plotext its own helpers back (tests compare both)."""
    global _installed
    with _install_lock:
        for name, fn in ORIGINAL.items():
            setattr(ut, name, fn)
        matrix_class.set_matrices = ORIGINAL_SET_MATRICES
        _installed = False
