"""The sources the store reads, in the order they claim runs."""

from __future__ import annotations

from trackui.store.sources.base import Source
from trackui.store.sources.mlflow_db import MlflowDbSource
from trackui.store.sources.mlflow_files import MlflowFilesSource
from trackui.store.sources.tensorboard import TensorBoardSource
from trackui.store.sources.trackio_source import TrackioSource
from trackui.store.sources.wandb_source import WandbSource

SOURCES: tuple[Source, ...] = (
    TensorBoardSource(),
    MlflowFilesSource(),
    MlflowDbSource(),
    WandbSource(),
    TrackioSource(),
)
"""Every source; each ``find`` claims the runs of its kind under a root."""
