"""The one shape every reader of another tracker's data gives the store.

A *source* finds the runs of its kind under a root (:meth:`Source.find`) and
reads one of them incrementally (:meth:`Source.read`): each read starts from a
JSON-able cursor the source returned last time (``{}`` the first time) and
returns what was completed since, as a :class:`Batch`, with the next cursor.
A source never writes anything where it reads; what it finds is kept by the
store in the viewer's cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

TENSORBOARD = "tensorboard"
WANDB = "wandb"
MLFLOW = "mlflow"
TRACKIO = "trackio"
SOURCE_NAMES = (TENSORBOARD, WANDB, MLFLOW, TRACKIO)
"""The ``source`` of a run written by another tracker (trackui's own runs have none)."""


class SourceUnavailable(Exception):
    """A source's runs were found but cannot be read here: the message names the extra to install."""


@dataclass(frozen=True)
class ForeignRun:
    """One run of another tracker, as found under a root."""

    source: str
    """One of :data:`SOURCE_NAMES`."""
    key: str
    """Stable identity under the root: the path of its folder or file relative to the
    root (``/``-separated), plus ``#<id>`` for one run among several in one database."""
    path: Path
    """The folder or file read."""
    run_id: str | None = None
    """The run's id in its own tracker, where it has one."""


@dataclass
class Batch:
    """What one read of a foreign run found since the cursor it started from."""

    rows: list[tuple[int, float | None, dict[str, Any]]] = field(default_factory=list)
    """``(step, wall time in Unix seconds or None, {flat metric name: value})`` in the
    order read; values are numbers (NaN and infinities as floats) or strings."""
    lines: bytes = b""
    """Rows already as ``history.jsonl`` lines, in step order (a source that builds them
    itself), beside or instead of :attr:`rows`."""
    line_steps: tuple[int, int] | None = None
    """The first and the last step of :attr:`lines`."""
    meta: dict[str, Any] | None = None
    """``meta.json`` keys known so far (``name``, ``project``, ``group``, ``job_type``,
    ``notes``, ``tags``, ``state``, ``host``, ``start_time``, ...); None when unchanged."""
    config: dict[str, Any] | None = None
    """The whole config (nested) when it is known or changed; None when unchanged."""
    summary: dict[str, Any] | None = None
    """Summary values the source states itself (beyond the last of each metric); None
    when unchanged."""
    output: str = ""
    """Console text completed since the cursor."""
    warnings: list[str] = field(default_factory=list)
    """One line for each thing skipped as damaged or unreadable."""


class Source(Protocol):
    """A reader of one other tracker's data."""

    name: str
    """One of :data:`SOURCE_NAMES`."""

    def find(self, root: Path) -> list[ForeignRun]:
        """The runs of this kind under ``root`` (read-only, cheap enough to repeat)."""
        ...

    def read(self, run: ForeignRun, cursor: dict[str, Any]) -> tuple[Batch, dict[str, Any]]:
        """What ``run`` holds after ``cursor`` (``{}`` to read from the start), and the next cursor.

        Reads only what is complete: a record still being written stays for the
        next read. Damaged parts are skipped with a warning in the batch.

        Raises:
            SourceUnavailable: the package needed to read this kind is not installed.
        """
        ...


class Describes(Protocol):
    """A source that can say what a run is from its files' header, without reading its
    history (optional: a source without it lists its runs by their key until read)."""

    def describe(self, run: ForeignRun) -> dict[str, Any]:
        """``meta.json`` keys (``name``, ``project``, ``tags``, ``start_time``...) cheaply."""
        ...
