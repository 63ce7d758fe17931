"""Every name in a run directory, in one place.

The format these names make up is described in ``docs/format.md``; change the
two together.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

FORMAT_VERSION = 2
"""The run-directory format version this code writes and the newest it reads
(2 adds rich values: ``r`` in history records and the ``media/`` folder)."""

ROOT_ENV = "TRACKUI_DIR"
DEFAULT_ROOT = "trackui-runs"
"""Default root, relative to the working directory (as wandb uses ``./wandb``; not ``./trackui``, which would sit beside a checkout's package folder)."""

RUN_PREFIX = "run-"
RUN_GLOB = "run-*-*"
LATEST_LINK = "latest-run"

META = "meta.json"
CONFIG = "config.json"
SUMMARY = "summary.json"
HISTORY = "history.jsonl"
OUTPUT = "output.log"
HEARTBEAT = "heartbeat"
FILES_DIR = "files"
MEDIA_DIR = "media"
"""Rich values' files (images, tables...), under ``media/<kind>/<digest>.<ext>``."""

HEARTBEAT_S = 15.0
"""How often a live writer touches its heartbeat file."""
STALE_HEARTBEAT_S = 120.0
"""A run from another host whose heartbeat is older than this is ``crashed``."""
FSYNC_INTERVAL_S = 15.0
"""The longest a writer goes without fsyncing its history."""
SUMMARY_INTERVAL_S = 10.0
"""The longest a writer goes without replacing ``summary.json`` while logging."""

STATES = ("running", "finished", "failed", "crashed")

# Root-level names: what a viewer keeps beside the runs (never inside one).
CACHE_DIR = ".trackui"
"""The viewer's folder under a root: the cached index and the UI's preferences."""
INDEX_FILE = "index.duckdb"
"""The cached DuckDB index, in :data:`CACHE_DIR`."""
PREFS_FILE = "ui.json"
"""The UI's preferences for this root, in :data:`CACHE_DIR`."""

# The axes a curve can be drawn against besides a logged metric.
X_STEP = "step"
X_RELATIVE = "relative"
"""Seconds since the run's first record."""
X_WALL = "wall"
"""Unix time of each record."""
X_AXES = (X_STEP, X_RELATIVE, X_WALL)
X_TIME_AXES = (X_RELATIVE, X_WALL)
"""The axes that need each record's time."""

# Smoothing kinds: time-weighted EMA (wandb's default), plain EMA, none.
SMOOTH_TWEMA = "twema"
SMOOTH_EMA = "ema"
SMOOTH_NONE = "none"
SMOOTHERS = (SMOOTH_TWEMA, SMOOTH_EMA, SMOOTH_NONE)

NONFINITE = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}
"""How non-finite numbers are spelled in JSON files, and their values."""

_ID_RE = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_DIR_RE = re.compile(r"^run-(\d{8}_\d{6})-([0-9A-Za-z_-]{1,64})$")


def resolve_root(dir: str | os.PathLike[str] | None = None) -> Path:
    """The run root: ``dir`` if given, else ``$TRACKUI_DIR``, else ``./trackui-runs``."""
    if dir is not None and str(dir) != "":
        return Path(dir).expanduser()
    env = os.environ.get(ROOT_ENV)
    if env:
        return Path(env).expanduser()
    return Path.cwd() / DEFAULT_ROOT


def valid_run_id(run_id: str) -> bool:
    """Whether ``run_id`` may name a run (it becomes part of a directory name)."""
    return bool(_ID_RE.match(run_id))


def run_dir_name(timespec: str, run_id: str) -> str:
    """``run-<YYYYMMDD_HHMMSS>-<id>``: sortable by start time, unique by id."""
    return f"{RUN_PREFIX}{timespec}-{run_id}"


def parse_run_dir_name(name: str) -> tuple[str, str] | None:
    """``(timespec, run_id)`` for a run directory's name, or None if it is not one."""
    m = _DIR_RE.match(name)
    return (m.group(1), m.group(2)) if m else None


def list_run_names(root: Path) -> list[str]:
    """Names of the run directories under ``root``, sorted (one ``scandir``, no stat per entry).

    Raises:
        OSError: The root cannot be listed.
    """
    with os.scandir(root) as it:
        names = [
            e.name
            for e in it
            if parse_run_dir_name(e.name) is not None and e.is_dir(follow_symlinks=False)
        ]
    names.sort()
    return names
