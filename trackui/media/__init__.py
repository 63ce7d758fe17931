"""Rich values: images, histograms, tables, charts and files (wandb's media types).

Importing this package imports neither NumPy nor Pillow: they are imported
when a value is made or logged. ``encode`` turns them into files under the
run's ``media/`` and references in the history record.
"""

from __future__ import annotations

from trackui.media import plot
from trackui.media.files import Audio, Html, Molecule, Object3D, Plotly, Video
from trackui.media.histogram import Histogram
from trackui.media.image import Image
from trackui.media.table import Table

__all__ = [
    "Audio",
    "Histogram",
    "Html",
    "Image",
    "Molecule",
    "Object3D",
    "Plotly",
    "Table",
    "Video",
    "plot",
]
