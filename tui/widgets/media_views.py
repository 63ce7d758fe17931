"""Pictures of rich values as Rich text: a histogram's bars, histograms over steps as a
heatmap, and the metadata of a kind the terminal cannot show."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rich.text import Text

from trackui.tui.fmt import clean

SHADES = " ░▒▓█"
"""Block characters from no count to the most (they read without colour too)."""
HEAT_STYLES = ("", "blue", "cyan", "yellow", "bold red")
MAX_BAR_ROWS = 24


def _finite(x: Any) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def hist_parts(ref: dict[str, Any]) -> tuple[list[float], list[float]]:
    """A histogram reference's (edges, counts), unusable entries left out."""
    bins = [_finite(b) for b in ref.get("bins") or []]
    vals = [_finite(v) for v in ref.get("values") or []]
    n = min(len(vals), len(bins) - 1)
    if n <= 0 or any(b is None for b in bins[: n + 1]):
        return [], []
    return [b for b in bins[: n + 1] if b is not None], [max(v or 0.0, 0.0) for v in vals[:n]]


def _num(x: float) -> str:
    return f"{x:.4g}"


def histogram_bars(ref: dict[str, Any], width: int) -> Text:
    """One histogram as horizontal bars, one line per bin (adjacent bins merged past
    ``MAX_BAR_ROWS``), each labelled with its lower edge and count."""
    edges, counts = hist_parts(ref)
    if not counts:
        return Text("(empty histogram)", style="dim")
    group = max(1, math.ceil(len(counts) / MAX_BAR_ROWS))
    rows = [(edges[i], sum(counts[i : i + group])) for i in range(0, len(counts), group)]
    top = max(c for _, c in rows) or 1.0
    label_w = max(len(_num(e)) for e, _ in rows)
    count_w = max(len(_num(c)) for _, c in rows)
    bar_w = max(4, width - label_w - count_w - 4)
    out = Text(no_wrap=True)
    for i, (edge, c) in enumerate(rows):
        n = round(c / top * bar_w)
        out.append(f"{_num(edge):>{label_w}} ", style="dim")
        out.append("█" * n, style="green")
        out.append(f" {_num(c):>{count_w}}")
        if i < len(rows) - 1:
            out.append("\n")
    return out


def heatmap_text(
    values: list[tuple[int, dict[str, Any]]], selected: int, width: int, height: int = 12
) -> Text:
    """Histograms over steps: rows are bins over the range of every step (high values on
    top), columns are steps (evenly sampled to fit ``width``), the shade is the count
    relative to the largest. The column of the ``selected`` value is marked below."""
    parts = [hist_parts(ref) for _, ref in values]
    spans = [(e[0], e[-1]) for e, _ in parts if e]
    if not spans:
        return Text("(no histogram data)", style="dim")
    lo = min(a for a, _ in spans)
    hi = max(b for _, b in spans)
    if hi <= lo:
        hi = lo + 1.0
    label_w = max(len(_num(lo)), len(_num(hi)))
    cols = max(1, min(len(values), width - label_w - 2))
    picks = sorted({round(i * (len(values) - 1) / max(cols - 1, 1)) for i in range(cols)})
    if selected not in picks:
        picks = (
            sorted({*picks[:-1], selected}) if len(picks) >= cols else sorted({*picks, selected})
        )
    col_w = max(1, min(6, (width - label_w - 2) // len(picks)))
    grid = [[0.0] * len(picks) for _ in range(height)]
    for col, idx in enumerate(picks):
        edges, counts = parts[idx]
        for i, c in enumerate(counts):
            mid = (edges[i] + edges[i + 1]) / 2
            row = min(height - 1, int((mid - lo) / (hi - lo) * height))
            grid[row][col] += c
    top = max((c for line in grid for c in line), default=0.0) or 1.0
    out = Text(no_wrap=True)
    for r in range(height - 1, -1, -1):
        edge = lo + (hi - lo) * (r + 1) / height
        label = _num(edge) if r in (height - 1, 0) or r == height // 2 else ""
        out.append(f"{label:>{label_w}} │", style="dim")
        for c in grid[r]:
            level = 0 if c <= 0 else 1 + min(3, int(c / top * 4 - 1e-9))
            out.append(SHADES[level] * col_w, style=HEAT_STYLES[level])
        out.append("\n")
    out.append(" " * (label_w + 1) + "└" + "─" * (len(picks) * col_w) + "\n", style="dim")
    mark = picks.index(selected)
    out.append(" " * (label_w + 2 + mark * col_w + col_w // 2) + "▲", style="bold")
    first, last = values[picks[0]][0], values[picks[-1]][0]
    out.append(f"  steps {first} to {last}", style="dim")
    return out


def meta_text(ref: dict[str, Any], path: Path | None) -> Text:
    """A reference's fields, one per line, and its file's full path (literal)."""
    out = Text(no_wrap=True)
    for k in sorted(ref, key=str):
        if k in ("path", "items"):
            continue
        out.append(f"{clean(k):<12}", style="bold")
        out.append(clean(ref[k]) + "\n")
    out.append(f"{'file':<12}", style="bold")
    out.append(clean(path) if path is not None else "(none inside media/)")
    return out


def labelled_bars(labels: list[str], values: list[float], width: int) -> Text:
    """A bar per label, as long as its value's size against the largest (negative values
    in red); at most ``MAX_BAR_ROWS * 2`` bars, the rest counted below."""
    if not values:
        return Text("(no bars)", style="dim")
    shown = list(zip(labels, values, strict=False))[: MAX_BAR_ROWS * 2]
    top = max(abs(v) for _, v in shown) or 1.0
    label_w = min(24, max(len(clean(a)) for a, _ in shown))
    value_w = max(len(_num(v)) for _, v in shown)
    bar_w = max(4, width - label_w - value_w - 3)
    out = Text(no_wrap=True)
    for i, (label, v) in enumerate(shown):
        name = clean(label)
        name = name if len(name) <= label_w else name[: label_w - 1] + "…"
        out.append(f"{name:>{label_w}} ", style="dim")
        out.append("█" * max(0, round(abs(v) / top * bar_w)), style="green" if v >= 0 else "red")
        out.append(f" {_num(v)}")
        if i < len(shown) - 1:
            out.append("\n")
    if len(values) > len(shown):
        out.append(f"\n… {len(values) - len(shown)} more bars in the table", style="dim")
    return out


def count_grid(
    row_label: str, col_label: str, rows: list[str], cols: list[str], counts: list[list[float]]
) -> Text:
    """A grid of counts (a confusion matrix): a row per ``rows`` entry, a column per
    ``cols`` entry, each cell its count on a shade of how large it is."""
    if not rows or not cols:
        return Text("(empty grid)", style="dim")
    top = max((c for line in counts for c in line), default=0.0) or 1.0
    cell_w = max(5, *(len(_num(c)) + 2 for line in counts for c in line))
    cell_w = max(cell_w, min(10, max(len(clean(c)) + 1 for c in cols)))
    label_w = min(16, max(len(clean(row_label)), *(len(clean(r)) for r in rows)))

    def cut(s: str, n: int) -> str:
        s = clean(s)
        return s if len(s) <= n else s[: n - 1] + "…"

    out = Text(no_wrap=True)
    out.append(f"{cut(row_label, label_w):>{label_w}} ", style="bold")
    out.append(f"{col_label} →\n", style="dim")
    out.append(" " * (label_w + 1))
    for c in cols:
        out.append(f"{cut(c, cell_w - 1):>{cell_w}}", style="bold")
    for r, line in zip(rows, counts, strict=False):
        out.append("\n")
        out.append(f"{cut(r, label_w):>{label_w}} ", style="bold")
        for c in line:
            # The count at the right of its cell, the rest of the cell shaded by its size.
            level = 0 if c <= 0 else 1 + min(3, int(c / top * 4 - 1e-9))
            num = _num(c)
            out.append(" " + SHADES[level] * (cell_w - len(num) - 2), style=HEAT_STYLES[level])
            out.append(" " + num, style="bold" if level == 4 else "")
    return out
