"""What a logged chart draws, read from its table and spec (``wandb.plot``) or from a
plotly figure's JSON: lines or points over numbers, labelled bars, or a grid of counts.

Nothing here draws: the Media tab hands lines and points to the curves' renderer
(``metric_plot``) and bars and grids to ``media_views``.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

HISTOGRAM_BINS = 20
"""Bins of a ``plot.histogram`` (wandb's chart bins the column itself)."""
PLOTLY_DRAWN = ("scatter", "scattergl", "bar")
"""The plotly trace types drawn; a figure with any other is shown as its metadata."""


@dataclass(frozen=True)
class Lines:
    """Named lines (or points, not joined) of y against x."""

    title: str
    x_label: str
    names: tuple[str, ...]
    xs: tuple[tuple[float, ...], ...]
    ys: tuple[tuple[float, ...], ...]
    joined: bool = True


@dataclass(frozen=True)
class Bars:
    """A bar per label."""

    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]


@dataclass(frozen=True)
class Binned:
    """A histogram of one column: ``edges`` (one more than ``counts``)."""

    title: str
    edges: tuple[float, ...]
    counts: tuple[float, ...]


@dataclass(frozen=True)
class Grid:
    """Counts of (row, column) pairs: a confusion matrix."""

    title: str
    row_label: str
    col_label: str
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    counts: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class NotDrawn:
    """Why a chart is not drawn (its metadata is shown instead)."""

    reason: str


Chart = Lines | Bars | Binned | Grid | NotDrawn


def _num(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        f = float(v)
    elif isinstance(v, str):
        try:
            f = float(v)
        except ValueError:
            return None
    else:
        return None
    return f if math.isfinite(f) else None


def _column(columns: Sequence[str], rows: Sequence[Sequence[Any]], name: Any) -> list[Any]:
    if not isinstance(name, str) or name not in columns:
        raise KeyError(name)
    i = list(columns).index(name)
    return [r[i] if i < len(r) else None for r in rows]


def _lines(
    title: str,
    x_label: str,
    xs: list[Any],
    ys: list[Any],
    groups: list[Any] | None,
    *,
    joined: bool = True,
    sort: bool = True,
) -> Lines:
    """Points grouped into named lines (in order first seen), unusable points left out."""
    by: dict[str, list[tuple[float, float]]] = {}
    for i, (x, y) in enumerate(zip(xs, ys, strict=False)):
        fx, fy = _num(x), _num(y)
        name = str(groups[i]) if groups is not None else ""
        pts = by.setdefault(name, [])
        if fx is not None and fy is not None:
            pts.append((fx, fy))
    names, out_x, out_y = [], [], []
    for name, pts in by.items():
        if not pts:
            continue
        if sort:
            pts.sort(key=lambda p: p[0])
        names.append(name)
        out_x.append(tuple(p[0] for p in pts))
        out_y.append(tuple(p[1] for p in pts))
    return Lines(title, x_label, tuple(names), tuple(out_x), tuple(out_y), joined)


def plot_chart(ref: dict[str, Any], columns: list[str], rows: list[list[Any]]) -> Chart:
    """The chart of a ``plot`` reference, from its table (``docs/format.md``)."""
    chart = ref.get("chart")
    fields = ref.get("fields") if isinstance(ref.get("fields"), dict) else {}
    title = str(ref.get("title") or "")

    def col(role: str) -> list[Any]:
        return _column(columns, rows, fields.get(role))

    try:
        if chart == "line":
            stroke = col("stroke") if fields.get("stroke") else None
            return _lines(title, str(fields["x"]), col("x"), col("y"), stroke)
        if chart == "scatter":
            return _lines(title, str(fields["x"]), col("x"), col("y"), None, joined=False)
        if chart in ("pr_curve", "roc_curve"):
            # Points in the order computed (thresholds from high to low).
            x, y, klass = col("x"), col("y"), col("class")
            return _lines(title, str(fields["x"]), x, y, klass, sort=False)
        if chart == "line_series":
            x_label = str(fields.get("xname") or "step")
            return _lines(title, x_label, col("step"), col("lineVal"), col("lineKey"))
        if chart == "bar":
            labels, values = col("label"), col("value")
            pairs = [(str(a), _num(b)) for a, b in zip(labels, values, strict=False)]
            kept = [(a, b) for a, b in pairs if b is not None]
            return Bars(title, tuple(a for a, _ in kept), tuple(b for _, b in kept))
        if chart == "histogram":
            return _binned(title, col("value"))
        if chart == "confusion_matrix":
            return _grid(title, col("Actual"), col("Predicted"), col("nPredictions"))
    except KeyError as e:
        return NotDrawn(f"the chart names a column the table does not have: {e}")
    return NotDrawn(f"a {chart!r} chart is not drawn in the terminal")


def _binned(title: str, values: list[Any]) -> Chart:
    import numpy as np

    nums = np.asarray([f for f in map(_num, values) if f is not None], dtype=np.float64)
    if not nums.size:
        return NotDrawn("the histogram's column holds no numbers")
    counts, edges = np.histogram(nums, bins=min(HISTOGRAM_BINS, max(1, nums.size)))
    return Binned(title, tuple(edges.tolist()), tuple(float(c) for c in counts))


def _grid(title: str, actual: list[Any], predicted: list[Any], counts: list[Any]) -> Grid:
    rows: dict[str, None] = {}
    cols: dict[str, None] = {}
    cells: dict[tuple[str, str], float] = {}
    for a, p, n in zip(actual, predicted, counts, strict=False):
        a, p = str(a), str(p)
        rows.setdefault(a)
        cols.setdefault(p)
        cells[a, p] = cells.get((a, p), 0.0) + (_num(n) or 0.0)
    names = list(dict.fromkeys([*rows, *cols]))  # one order for both axes
    grid = tuple(tuple(cells.get((r, c), 0.0) for c in names) for r in names)
    return Grid(title, "actual", "predicted", tuple(names), tuple(names), grid)


def _plotly_array(v: Any) -> list[Any] | None:
    """A plotly array: a list, or the typed array plotly 6 writes (``dtype``, ``bdata``)."""
    if isinstance(v, list):
        return v
    if isinstance(v, dict) and isinstance(v.get("bdata"), str):
        import numpy as np

        try:
            a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(str(v["dtype"])))
        except (ValueError, TypeError, KeyError):
            return None
        return a.ravel().tolist()
    return None


def _plotly_title(doc: dict[str, Any]) -> str:
    layout = doc.get("layout") if isinstance(doc.get("layout"), dict) else {}
    t = layout.get("title")
    if isinstance(t, dict):
        t = t.get("text")
    return str(t) if isinstance(t, str) else ""


def plotly_chart(doc: Any) -> Chart:
    """The chart of a plotly figure's JSON: line and scatter traces as lines or points,
    bar traces as bars; any other trace type is not drawn."""
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        return NotDrawn("not a plotly figure")
    traces = [t for t in doc["data"] if isinstance(t, dict)]
    kinds = [str(t.get("type") or "scatter") for t in traces]
    other = sorted({k for k in kinds if k not in PLOTLY_DRAWN})
    if not traces or other:
        what = ", ".join(other) if other else "no"
        return NotDrawn(f"{what} traces are not drawn in the terminal (line, scatter, bar are)")
    title = _plotly_title(doc)
    if all(k == "bar" for k in kinds):
        labels: list[str] = []
        values: list[float] = []
        for i, t in enumerate(traces):
            cats, vals = _plotly_array(t.get("x")), _plotly_array(t.get("y"))
            if t.get("orientation") == "h":
                cats, vals = vals, cats
            vals = vals or []
            cats = cats or list(range(len(vals)))
            name = t.get("name") if isinstance(t.get("name"), str) else f"trace {i}"
            prefix = f"{name} " if len(traces) > 1 else ""
            for c, v in zip(cats, vals, strict=False):
                f = _num(v)
                if f is not None:
                    labels.append(f"{prefix}{c}")
                    values.append(f)
        return Bars(title, tuple(labels), tuple(values))
    if "bar" in kinds:
        return NotDrawn("bar traces mixed with lines are not drawn in the terminal")
    xs: list[Any] = []
    ys: list[Any] = []
    groups: list[Any] = []
    joined = False
    for i, t in enumerate(traces):
        x, y = _plotly_array(t.get("x")), _plotly_array(t.get("y"))
        if y is None and x is None:
            continue
        if y is None:  # plotly draws a lone x against the index, as a lone y
            x, y = list(range(len(x or []))), x
        if x is None:
            x = list(range(len(y)))
        mode = str(t.get("mode") or "lines")
        joined = joined or "lines" in mode
        name = t.get("name") if isinstance(t.get("name"), str) else f"trace {i}"
        n = min(len(x), len(y))
        xs += x[:n]
        ys += y[:n]
        groups += [name] * n
    if not xs:
        return NotDrawn("the figure's traces hold no numbers")
    return _lines(title, "x", xs, ys, groups, joined=joined, sort=False)
