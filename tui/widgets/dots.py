"""A grid of dots drawn as text: braille (2x4 dots a cell), quadrant blocks (2x2) or ASCII (1x2).

Curves are drawn here as dots on the grid, on arrays: the points of a curve
joined by Bresenham lines on the dot grid (not cell by cell), a min/max
envelope as vertical runs of dots, bars from a baseline, or lone points.
Each layer is drawn over the layers before it: a cell shows the dots of the
last layer that has any there, in that layer's colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

BRAILLE = "braille"
QUADRANT = "quadrant"
ASCII = "ascii"
MODES = (BRAILLE, QUADRANT, ASCII)
"""The resolutions, finest first (the order a setting cycles through)."""

FACTORS: dict[str, tuple[int, int]] = {BRAILLE: (2, 4), QUADRANT: (2, 2), ASCII: (1, 2)}
"""Dots per cell (columns, rows) of each resolution."""

_BRAILLE_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
"""The braille pattern bit of each dot of a cell, by (row from the top, column)."""
_QUADRANTS = " ▘▝▀▖▌▞▛▗▚▐▜▄▙▟█"
"""Quadrant blocks by mask (bit 0 top left, 1 top right, 2 bottom left, 3 bottom right)."""
_ASCII = " '.:"
"""ASCII by mask (bit 0 the top dot, 1 the bottom one)."""


def glyphs(mode: str) -> list[str]:
    """The character of every mask of a cell: bit ``row * columns + column``, rows from the top."""
    fx, fy = FACTORS[mode]
    if mode == QUADRANT:
        return list(_QUADRANTS)
    if mode == ASCII:
        return list(_ASCII)
    out = []
    for mask in range(1 << (fx * fy)):
        code = 0
        for p in range(fx * fy):
            if mask >> p & 1:
                code |= _BRAILLE_BITS[p // fx][p % fx]
        out.append(chr(0x2800 + code))
    return out


_GLYPHS = {m: glyphs(m) for m in MODES}


def line_dots(xd: np.ndarray, yd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every dot on the segments joining consecutive points (integer dot coordinates).

    Bresenham's dots: one a step along the longer axis of each segment, the
    other coordinate rounded (halves away from the start), both ends
    included. One point alone is that dot.
    """
    xd = np.asarray(xd, dtype=np.int64)
    yd = np.asarray(yd, dtype=np.int64)
    if len(xd) < 2:
        return xd.copy(), yd.copy()
    dx = np.diff(xd)
    dy = np.diff(yd)
    n = np.maximum(np.abs(dx), np.abs(dy))  # steps on each segment
    k = n.copy()
    k[-1] += 1  # the last segment keeps its end point; the others leave it to the next
    k = np.maximum(k, 1)
    seg = np.repeat(np.arange(len(n)), k)
    i = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)  # step within the segment
    steps = np.maximum(n[seg], 1)
    # Integer rounding, half away from zero: i * d / n to the nearest dot.
    ox = _round_div(i * dx[seg], steps)
    oy = _round_div(i * dy[seg], steps)
    return xd[seg] + ox, yd[seg] + oy


def _round_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a / b`` rounded to the nearest integer, halves away from zero (``b > 0``)."""
    q = (2 * np.abs(a) + b) // (2 * b)
    return np.where(a < 0, -q, q)


class DotGrid:
    """A picture of ``cols`` x ``rows`` cells at one resolution, layers drawn in order.

    Dot ``(0, 0)`` is the bottom left one; ``x`` grows to the right and ``y``
    upwards. Dots off the grid are dropped.
    """

    def __init__(self, cols: int, rows: int, mode: str = BRAILLE) -> None:
        self.cols, self.rows, self.mode = cols, rows, mode
        self.fx, self.fy = FACTORS[mode]
        self.width, self.height = cols * self.fx, rows * self.fy
        """The grid's size in dots."""
        self.mask = np.zeros(cols * rows, dtype=np.int64)
        """Each cell's dots (cells row by row from the top)."""
        self.owner = np.full(cols * rows, -1, dtype=np.int64)
        """The layer each cell shows (-1: none)."""
        self.chars: dict[int, str] = {}
        """Cells that show a character of their own (a marker) instead of dots."""
        self.layers = 0

    def dots(self, xd: np.ndarray, yd: np.ndarray, char: str | None = None) -> int:
        """Draw dots as a new layer (``char``: the cells show that character); returns its number."""
        layer = self.layers
        self.layers += 1
        xd = np.asarray(xd, dtype=np.int64)
        yd = np.asarray(yd, dtype=np.int64)
        ok = (xd >= 0) & (xd < self.width) & (yd >= 0) & (yd < self.height)
        xd, yd = xd[ok], yd[ok]
        if not len(xd):
            return layer
        row = self.rows - 1 - yd // self.fy
        cell = row * self.cols + xd // self.fx
        if char is not None:
            cells = np.unique(cell)
            self.mask[cells] = 1
            self.owner[cells] = layer
            for c in cells.tolist():
                self.chars[c] = char
            return layer
        bit = (self.fy - 1 - yd % self.fy) * self.fx + xd % self.fx
        mine = np.zeros(len(self.mask), dtype=np.int64)
        np.bitwise_or.at(mine, cell, np.left_shift(1, bit))
        hit = np.flatnonzero(mine)
        self.mask[hit] = mine[hit]
        self.owner[hit] = layer
        if self.chars:
            for c in hit.tolist():
                self.chars.pop(c, None)
        return layer

    def line(self, xd: np.ndarray, yd: np.ndarray, char: str | None = None) -> int:
        """Draw points joined by lines as a new layer."""
        lx, ly = line_dots(xd, yd)
        return self.dots(lx, ly, char)

    def spans(self, xd: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> int:
        """Draw a vertical run of dots from ``lo`` to ``hi`` at each ``xd`` as a new layer."""
        xd = np.asarray(xd, dtype=np.int64)
        lo = np.clip(np.asarray(lo, dtype=np.int64), -1, self.height)
        hi = np.clip(np.asarray(hi, dtype=np.int64), -1, self.height)
        a, b = np.minimum(lo, hi), np.maximum(lo, hi)
        n = b - a + 1
        col = np.repeat(xd, n)
        i = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        return self.dots(col, np.repeat(a, n) + i)

    def text_rows(self) -> list[list[tuple[str, int]]]:
        """Each row's cells as (character, layer), layer -1 for an empty cell."""
        table = _GLYPHS[self.mode]
        masks = self.mask.tolist()
        owners = self.owner.tolist()
        chars = self.chars
        out = []
        for r in range(self.rows):
            a = r * self.cols
            row = []
            for c in range(a, a + self.cols):
                if owners[c] < 0:
                    row.append((" ", -1))
                else:
                    row.append((chars.get(c) or table[masks[c]], owners[c]))
            out.append(row)
        return out


def to_dots(values: Sequence[float] | np.ndarray, lo: float, hi: float, size: int) -> Any:
    """Values from ``lo..hi`` to dot indices ``0..size - 1`` (rounded; outside: off the grid)."""
    a = np.asarray(values, dtype=np.float64)
    if hi == lo:
        return np.full(len(a), size // 2, dtype=np.int64)
    scaled = (a - lo) / (hi - lo) * (size - 1)
    scaled = np.clip(scaled, -2.0, size + 1.0)  # far off the grid stays just off it
    return np.floor(scaled + 0.5).astype(np.int64)
