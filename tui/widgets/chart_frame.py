"""What a drawn chart is made of: its colours and styles, its frame, its lines as strips.

Shared by the drawing (``chart_draw``) and the cursor (``chart_cursor``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from trackui.store.models import Series
from trackui.tui.widgets.dots import BRAILLE, to_dots
from trackui.tui.widgets.plot_spec import RGB

_BLANKS = re.compile(r"( {2,})")


@dataclass(frozen=True)
class ChartColours:
    """The colours of the frame (the curves bring their own)."""

    text: RGB = (220, 220, 220)
    background: RGB = (0, 0, 0)


FOCUS_TITLE = Style(bold=True, reverse=True)
"""How the title of the chart with focus stands out (in colour and without)."""


def focus_title(strip: Strip) -> Strip:
    """A chart's title line with the title marked: the chart with focus (its keys act on it)."""
    text = strip.text
    start, end = len(text) - len(text.lstrip()), len(text.rstrip())
    if end <= start:
        return strip
    start, end = max(0, start - 1), min(strip.cell_length, end + 1)
    marked = strip.crop(start, end).apply_style(FOCUS_TITLE)
    return Strip.join([strip.crop(0, start), marked, strip.crop(end)])


@dataclass(frozen=True)
class When:
    """When a curve's points were logged: their steps and wall times, where known."""

    step: np.ndarray | None = None
    t: np.ndarray | None = None
    start_time: float | None = None
    """The run's start, for times relative to it."""


def when_of(s: Series, ok: np.ndarray) -> When:
    """The steps and times of a series' points kept by ``ok`` (its finite ones)."""
    return When(
        None if s.step is None or len(s.step) != len(ok) else s.step[ok],
        None if s.t is None or len(s.t) != len(ok) else s.t[ok],
        s.start_time,
    )


@dataclass
class ChartFrame:
    """Where a drawn chart put things: what a cursor needs, in cells and data units."""

    plot_left: int = 0
    """The first column of the plot area."""
    plot_cols: int = 0
    plot_top: int = 1
    plot_rows: int = 0
    values_row: int | None = None
    """The row of the values line (None: no room for one)."""
    x_lo: float = 0.0
    x_hi: float = 1.0
    dots_x: int = 1
    """Dots per cell across."""
    mode: str = BRAILLE
    """The resolution it was drawn at."""
    curves: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    """Per series of the spec: its finite x, smoothed y and raw y (sorted by x)."""
    when: list[When] = field(default_factory=list)
    """Per series, as ``curves``: the step and wall time of each point, where known."""

    def col_of(self, x: float) -> int:
        """The column (of the widget) that shows ``x``."""
        size = self.plot_cols * self.dots_x
        d = int(to_dots([x], self.x_lo, self.x_hi, size)[0])
        return self.plot_left + min(max(d, 0), size - 1) // self.dots_x

    def x_of(self, col: int) -> float:
        """The x at the middle of column ``col`` of the widget."""
        size = self.plot_cols * self.dots_x
        if size <= 1 or self.x_hi == self.x_lo:
            return self.x_lo
        d = (col - self.plot_left) * self.dots_x + (self.dots_x - 1) / 2
        return self.x_lo + d / (size - 1) * (self.x_hi - self.x_lo)


@dataclass
class ChartPicture:
    """A drawn chart: its lines and its frame."""

    strips: list[Strip]
    frame: ChartFrame


class ChartStyles:
    """Rich styles on the chart's background, made once per colour (NO_COLOR: faint is dim)."""

    def __init__(self, colours: ChartColours, no_color: bool) -> None:
        self.bg = Color.from_rgb(*colours.background)
        self.no_color = no_color
        self.text = self.of(colours.text)
        self.dim = Style(color=Color.from_rgb(*colours.text), bgcolor=self.bg, dim=True)
        self._cache: dict[tuple[RGB, bool], Style] = {}

    def of(self, rgb: RGB, faint: bool = False) -> Style:
        return Style(color=Color.from_rgb(*rgb), bgcolor=self.bg, dim=faint and self.no_color)

    def cached(self, rgb: RGB, faint: bool = False) -> Style:
        st = self._cache.get((rgb, faint))
        if st is None:
            st = self._cache[(rgb, faint)] = self.of(rgb, faint)
        return st


def rows_to_strips(
    rows: list[list[tuple[str, Style]]], width: int, height: int, st: ChartStyles
) -> list[Strip]:
    """Rows of (text, style) runs as exactly ``height`` strips of ``width`` cells.

    Runs of blanks are segments of their own (the background alone): an SVG
    of the screen then places the text after them by its cell, whatever
    width the viewer's font gives a blank.
    """
    blank = Style(bgcolor=st.bg)
    out = []
    for row in rows[:height]:
        merged: list[tuple[str, Style | None]] = []
        text, style = "", None
        for t, s in row:
            if s is style:
                text += t
                continue
            if text:
                merged.append((text, style))
            text, style = t, s
        if text:
            merged.append((text, style))
        segs: list[Segment] = []
        for text, style in merged:
            for i, part in enumerate(_BLANKS.split(text)):
                if part:
                    segs.append(Segment(part, blank if i % 2 else style))
        out.append(Strip(segs).adjust_cell_length(width, blank).crop(0, width))
    while len(out) < height:
        out.append(Strip.blank(width, blank))
    return out
