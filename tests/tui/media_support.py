"""A run that logs rich values (images, a list of images, a histogram, a table, a file kind)
through the public API, deterministic so snapshots hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np

HOSTILE_CAPTION = "[bold red]cap[/] \x1b[31m"
HOSTILE_CELL = "[link=x]cell[/link]"


def gradient(step: int, size: int = 16) -> np.ndarray:
    """A square RGB picture that changes with ``step``."""
    y, x = np.mgrid[0:size, 0:size]
    img = np.zeros((size, size, 3), dtype=np.uint8)
    img[..., 0] = (x * 255 // (size - 1)).astype(np.uint8)
    img[..., 1] = (y * 255 // (size - 1)).astype(np.uint8)
    img[..., 2] = (step * 60) % 256
    return img


def build_media_root(root: Path) -> Path:
    import trackui

    run = trackui.init(project="media", name="media-run", id="media001", dir=root)
    rng = np.random.default_rng(0)
    for step in range(4):
        run.log(
            {
                "samples/picture": trackui.Image(gradient(step), caption=f"step {step} picture"),
                "weights": trackui.Histogram(rng.normal(step * 0.5, 1.0, 500)),
                "loss": 1.0 / (step + 1),
            },
            step=step,
        )
    run.log(
        {
            "grid": [trackui.Image(gradient(i, 8), caption=f"g{i}") for i in range(3)],
            "preds": trackui.Table(
                columns=["id", "label", "score"],
                data=[[3, "cat", 0.25], [1, HOSTILE_CELL, 0.75], [2, "dog", 0.5]],
            ),
            "evil": trackui.Image(gradient(9), caption=HOSTILE_CAPTION),
            "page": trackui.Html("<p>hi</p>"),
        },
        step=4,
    )
    run.finish()
    return root


PLOT_KEYS = [
    "plots/line",
    "plots/scatter",
    "plots/bar",
    "plots/histogram",
    "plots/series",
    "plots/confusion",
    "plots/pr",
    "plots/roc",
    "figures/lines",
    "figures/bars",
    "figures/contour",
    "gallery",
    "row",
    "clip",
]


def build_plots_root(root: Path) -> Path:
    """A run that logs every ``trackui.plot`` chart, three plotly figures (lines, bars,
    a contour that is not drawn), a table with image cells, a row of six images and a video,
    one key each, at step 0."""
    import plotly.graph_objs as go

    import trackui

    run = trackui.init(project="media", name="plots-run", id="plots001", dir=root)
    rng = np.random.default_rng(1)
    xs = list(range(20))
    curve = trackui.Table(
        columns=["epoch", "loss", "split"],
        data=[[x, 1.0 / (x + 1), "train"] for x in xs] + [[x, 1.2 / (x + 1), "val"] for x in xs],
    )
    points = trackui.Table(
        columns=["a", "b"],
        data=[[float(v), float(v * 2 + w)] for v, w in enumerate(rng.normal(size=15))],
    )
    bars = trackui.Table(columns=["class", "count"], data=[["cat", 12], ["dog", 30], ["bird", 7]])
    values = trackui.Table(columns=["v"], data=[[float(v)] for v in rng.normal(0, 1, 200)])
    truth = np.array([0, 1, 2, 2, 1, 0, 1, 2, 2, 0, 1, 1])
    preds = np.array([0, 1, 2, 1, 1, 0, 2, 2, 2, 0, 0, 1])
    probas = rng.dirichlet(np.ones(3), size=len(truth))
    names = ["cat", "dog", "bird"]
    run.log(
        {
            "plots/line": trackui.plot.line(curve, "epoch", "loss", stroke="split", title="Loss"),
            "plots/scatter": trackui.plot.scatter(points, "a", "b", title="b against a"),
            "plots/bar": trackui.plot.bar(bars, "class", "count", title="Classes"),
            "plots/histogram": trackui.plot.histogram(values, "v", title="Scores"),
            "plots/series": trackui.plot.line_series(
                xs=xs,
                ys=[[x * x for x in xs], [x * 10 for x in xs]],
                keys=["sq", "lin"],
                title="Two series",
                xname="x",
            ),
            "plots/confusion": trackui.plot.confusion_matrix(
                y_true=truth, preds=preds, class_names=names, title="Confusion"
            ),
            "plots/pr": trackui.plot.pr_curve(truth, probas, labels=names, title="PR"),
            "plots/roc": trackui.plot.roc_curve(truth, probas, labels=names, title="ROC"),
            "figures/lines": go.Figure(
                data=[go.Scatter(x=xs, y=[x % 7 for x in xs], name="saw")],
                layout=go.Layout(title=go.layout.Title(text="A saw")),
            ),
            "figures/bars": go.Figure(data=go.Bar(x=["a", "b", "c"], y=np.array([3.0, 1.0, 2.0]))),
            "figures/contour": go.Figure(data=go.Contour(z=[[1, 2], [3, 4]])),
            "gallery": trackui.Table(
                columns=["id", "picture"],
                data=[
                    [0, trackui.Image(gradient(0), caption="first picture")],
                    [1, trackui.Image(gradient(5))],
                ],
            ),
            "row": [trackui.Image(gradient(i, 8), caption=f"row image {i}") for i in range(6)],
            "clip": trackui.Video(np.stack([gradient(i) for i in range(3)]), fps=2),
        },
        step=0,
    )
    run.finish()
    return root
