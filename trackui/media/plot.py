"""``wandb.plot``: a table of the data plus a chart spec saying how to draw it.

Each function returns a :class:`Plot`; logging it stores the table as JSON
(like a ``Table``) and the spec in the history record's reference.
"""

from __future__ import annotations

from typing import Any

from trackui.media.files import _numpy
from trackui.media.table import Table


class Plot:
    """A chart: ``chart`` (line, scatter, bar, histogram, line_series,
    confusion_matrix, pr_curve, roc_curve), the table it draws, and which
    columns go where (``fields``)."""

    kind = "plot"

    def __init__(self, chart: str, table: Table, fields: dict[str, str], title: str = "") -> None:
        self.chart = chart
        self.table = table
        self.fields = fields
        self.title = title or ""

    def spec(self) -> dict[str, Any]:
        """The chart spec kept in the reference."""
        return {"chart": self.chart, "fields": dict(self.fields), "title": self.title}

    def __repr__(self) -> str:
        return f"<trackui.plot.{self.chart} {self.title!r}>"


def line(
    table: Table, x: str, y: str, stroke: str | None = None, title: str = "", **_: Any
) -> Plot:
    """A line through ``y`` against ``x`` (one line per ``stroke`` value, if given)."""
    fields = {"x": x, "y": y}
    if stroke:
        fields["stroke"] = stroke
    return Plot("line", table, fields, title)


def scatter(table: Table, x: str, y: str, title: str = "", **_: Any) -> Plot:
    """Points of ``y`` against ``x``."""
    return Plot("scatter", table, {"x": x, "y": y}, title)


def bar(table: Table, label: str, value: str, title: str = "", **_: Any) -> Plot:
    """A bar per row: ``label`` names it, ``value`` sizes it."""
    return Plot("bar", table, {"label": label, "value": value}, title)


def histogram(table: Table, value: str, title: str = "", **_: Any) -> Plot:
    """A histogram of one column's values."""
    return Plot("histogram", table, {"value": value}, title)


def line_series(
    xs: Any,
    ys: Any,
    keys: list[str] | None = None,
    title: str | None = None,
    xname: str | None = None,
    **_: Any,
) -> Plot:
    """Several lines: ``ys`` is a list of series; ``xs`` one x list for all, or one per series."""
    ys = [list(_numpy(y)) for y in ys]
    xs = list(_numpy(xs))
    per_line = bool(xs) and hasattr(xs[0], "__len__")
    keys = list(keys) if keys else [f"key_{i}" for i in range(len(ys))]
    t = Table(columns=["lineKey", "lineVal", "step"])
    for i, y in enumerate(ys):
        x = list(xs[i]) if per_line else xs
        for xv, yv in zip(x, y, strict=False):
            t.add_data(keys[i], _item(yv), _item(xv))
    fields = {"step": "step", "lineKey": "lineKey", "lineVal": "lineVal"}
    if xname:
        fields["xname"] = xname
    return Plot("line_series", t, fields, title or "")


def _item(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def confusion_matrix(
    probs: Any = None,
    y_true: Any = None,
    preds: Any = None,
    class_names: list[str] | None = None,
    title: str | None = None,
    **_: Any,
) -> Plot:
    """Counts of (actual, predicted) class pairs, from ``preds`` or the argmax of ``probs``."""
    import numpy as np

    y = np.asarray(_numpy(y_true)).astype(int).ravel()
    if preds is None:
        if probs is None:
            raise ValueError("trackui.plot.confusion_matrix: give preds or probs")
        p = np.asarray(_numpy(probs)).argmax(axis=1)
    else:
        p = np.asarray(_numpy(preds)).astype(int).ravel()
    n = len(class_names) if class_names else int(max(y.max(initial=0), p.max(initial=0)) + 1)
    names = list(class_names) if class_names else [f"Class_{i + 1}" for i in range(n)]
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (y, p), 1)
    t = Table(columns=["Actual", "Predicted", "nPredictions"])
    for i in range(n):
        for j in range(n):
            t.add_data(names[i], names[j], int(counts[i, j]))
    fields = {"Actual": "Actual", "Predicted": "Predicted", "nPredictions": "nPredictions"}
    return Plot("confusion_matrix", t, fields, title or "")


def _curves(y_true: Any, y_probas: Any, labels: Any, classes_to_plot: Any) -> Any:
    """Per class: the labels of each sample as 0/1 and the class's scores."""
    import numpy as np

    y = np.asarray(_numpy(y_true)).ravel()
    probas = np.asarray(_numpy(y_probas), dtype=np.float64)
    if probas.ndim == 1:
        probas = np.stack([1 - probas, probas], axis=1)
    classes = np.arange(probas.shape[1])
    chosen = classes if classes_to_plot is None else list(classes_to_plot)
    for c in chosen:
        name = labels[c] if labels is not None else str(c)
        yield str(name), (y == c).astype(np.int64), probas[:, int(c)]


def _roc_points(truth: Any, score: Any) -> tuple[Any, Any, Any]:
    """(thresholds, true positive counts, false positive counts), highest threshold first."""
    import numpy as np

    order = np.argsort(-score, kind="mergesort")
    s, t = score[order], truth[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(t)[last]
    fps = (last + 1) - tps
    return s[last], tps, fps


def pr_curve(
    y_true: Any,
    y_probas: Any,
    labels: list[str] | None = None,
    classes_to_plot: Any = None,
    title: str | None = None,
    **_: Any,
) -> Plot:
    """Precision against recall per class, from the true labels and the class scores."""
    import numpy as np

    t = Table(columns=["class", "precision", "recall"])
    for name, truth, score in _curves(y_true, y_probas, labels, classes_to_plot):
        _, tps, fps = _roc_points(truth, score)
        pos = max(int(truth.sum()), 1)
        precision = tps / np.maximum(tps + fps, 1)
        recall = tps / pos
        for p, r in zip(np.r_[1.0, precision], np.r_[0.0, recall], strict=True):
            t.add_data(name, round(float(p), 6), round(float(r), 6))
    return Plot("pr_curve", t, {"x": "recall", "y": "precision", "class": "class"}, title or "")


def roc_curve(
    y_true: Any,
    y_probas: Any,
    labels: list[str] | None = None,
    classes_to_plot: Any = None,
    title: str | None = None,
    **_: Any,
) -> Plot:
    """True positive rate against false positive rate per class."""
    import numpy as np

    t = Table(columns=["class", "fpr", "tpr"])
    for name, truth, score in _curves(y_true, y_probas, labels, classes_to_plot):
        _, tps, fps = _roc_points(truth, score)
        pos, neg = max(int(truth.sum()), 1), max(int(len(truth) - truth.sum()), 1)
        for f, tp in zip(np.r_[0.0, fps / neg], np.r_[0.0, tps / pos], strict=True):
            t.add_data(name, round(float(f), 6), round(float(tp), 6))
    return Plot("roc_curve", t, {"x": "fpr", "y": "tpr", "class": "class"}, title or "")
