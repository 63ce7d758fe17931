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
