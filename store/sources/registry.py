"""The sources the store reads, in the order they claim runs."""

from __future__ import annotations

from trackui.store.sources.base import Source
from trackui.store.sources.mlflow_db import MlflowDbSource
from trackui.store.sources.mlflow_files import MlflowFilesSource
from trackui.store.sources.tensorboard import TensorBoardSource

SOURCES: tuple[Source, ...] = (
    TensorBoardSource(),
    MlflowFilesSource(),
    MlflowDbSource(),
    # -- wandb and trackio: added here with their readers --
    # WandbSource(),   (store/sources/wandb_source.py)
    # TrackioSource(), (store/sources/trackio_source.py)
)
"""Every source; each ``find`` claims the runs of its kind under a root."""
