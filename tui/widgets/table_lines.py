"""A rendered line of the run table, and how it is cut to the pane it shows in."""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

ELLIPSIS = "…"

Line = tuple[Strip, tuple[tuple[int, int], ...]]
"""A rendered line and where each cell's text lies on it (start, end)."""


def crop_line(
    strip: Strip, spans: Sequence[tuple[int, int]], x: int, width: int, style: Style
) -> Strip:
    """The cells ``x`` to ``x + width`` of a line; a text cut at either edge ends in ``…`` there.

    A table wider than its pane is cut at the pane's edges, and a number cut
    there would read as another number (``0.001`` as ``0.0``).
    """
    out = strip.crop_extend(x, x + width, style)
    right = x + width
    cut_right = any(a < right < b for a, b in spans)
    cut_left = any(a < x < b for a, b in spans)
    if not (cut_left or cut_right) or width < 1:
        return out
    if width == 1:
        return _mark(out, 0)
    first = _mark(out, 0) if cut_left else out.crop(0, 1)
    last = _mark(out, width - 1) if cut_right else out.crop(width - 1, width)
    return Strip.join([first, out.crop(1, width - 1), last])


def _mark(strip: Strip, x: int) -> Strip:
    """An ellipsis in the style of cell ``x`` of ``strip``."""
    seg = next(iter(strip.crop(x, x + 1)), None)
    return Strip([Segment(ELLIPSIS, seg.style if seg is not None else None)], 1)
