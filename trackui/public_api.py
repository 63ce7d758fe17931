"""``trackui.Api()``: a read-only API over a run root, shaped like ``wandb.Api()``.

Runs come from the index (``store.index.Index``, opened without a cache
file, so nothing under the root is written; DuckDB is imported only here),
histories from the run directories (``store.reader``). Filters and orders
are wandb's (``trackui.run_query``).

    api = trackui.Api()                      # root: overrides["dir"], $TRACKUI_DIR, $WANDB_DIR
    for run in api.runs("mnist", filters={"config.lr": {"$lt": 0.01}}, order="-summary_metrics.acc"):
        print(run.name, run.summary["acc"], run.history(keys=["loss"]))
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trackui.run_query import matches, sort_rows
from trackui.store import artifact_store, layout, reader
from trackui.store.models import Record, RunRow

_X_DEFAULT = "_step"


def _root(overrides: dict[str, Any] | None) -> Path:
    d = (overrides or {}).get("dir")
    if not d and not os.environ.get(layout.ROOT_ENV):
        d = os.environ.get("WANDB_DIR") or None
    return layout.resolve_root(d).absolute()


class Api:
    """Read the runs under a root (see the module docstring).

    Args:
        overrides: ``{"dir": ROOT}``; ``entity`` and ``project`` are accepted
            (``project`` is the default for ``runs()``).
    """

    def __init__(
        self, overrides: dict[str, Any] | None = None, timeout: int | None = None, **_: Any
    ) -> None:
        self.root = _root(overrides)
        self.settings = dict(overrides or {})
        self._index: Any = None

    def _ix(self) -> Any:
        from trackui.store.index import Index

        if self._index is None:
            self._index = Index(self.root, cache=False)
        self._index.scan()
        return self._index

    @property
    def default_entity(self) -> str | None:
        return self.settings.get("entity")

    def flush(self) -> None:
        """Accepted for compatibility: every call reads the root afresh."""

    def runs(
        self,
        path: str | None = None,
        filters: dict[str, Any] | None = None,
        order: str = "+created_at",
        per_page: int = 50,
        **_: Any,
    ) -> Runs:
        """Runs of a project (``"entity/project"`` or ``"project"``; None: the
        default project, else every run), filtered and ordered as wandb's."""
        project = (path or self.settings.get("project") or "").strip("/").split("/")[-1]
        rows = self._ix().runs(sort="created", descending=False)
        rows = [r for r in rows if (not project or r.project == project) and matches(r, filters)]
        return Runs([ApiRun(r) for r in sort_rows(rows, order)])

    def run(self, path: str = "") -> ApiRun:
        """One run by ``"entity/project/run_id"``, ``"project/run_id"`` or id.

        Raises:
            ValueError: No such run.
        """
        ref = path.strip("/").split("/")[-1]
        ix = self._ix()
        try:
            return ApiRun(ix.run(ref))
        except LookupError:
            try:
                return ApiRun(ix.resolve(ref))
            except LookupError as e:
                raise ValueError(f"Could not find run {path!r} under {self.root}: {e}") from None

    def artifact(self, name: str, type: str | None = None) -> Any:
        """A stored artifact version by ``"name:alias"`` (``entity/project/`` allowed before it)."""
        from trackui.artifact_log import get_artifact

        return get_artifact(self.root, name, type)

    def artifact_versions(self, type_name: str, name: str) -> list[Any]:
        """Every stored version of an artifact, oldest first."""
        name = artifact_store.parse_ref(name)[0]
        return [
            self.artifact(f"{name}:v{v}") for v in artifact_store.list_versions(self.root, name)
        ]

    def artifact_exists(self, name: str, type: str | None = None) -> bool:
        try:
            self.artifact(name, type)
            return True
        except ValueError:
            return False


class Runs(list):  # type: ignore[type-arg]
    """The runs ``Api.runs`` found (a list of ``ApiRun``)."""

    @property
    def length(self) -> int:
        return len(self)

    def histories(self, samples: int = 500, keys: list[str] | None = None, **kw: Any) -> Any:
        """Every run's ``history`` in one table, with a ``run_id`` column."""
        rows = []
        for run in self:
            for row in run.history(samples=samples, keys=keys, pandas=False, **kw):
                rows.append({"run_id": run.id, **row})
        return _frame(rows, kw.get("pandas", True))


class RunSummary(dict):  # type: ignore[type-arg]
    """A run's summary: a dict (``_json_dict`` too, as wandb's scripts read it)."""

    @property
    def _json_dict(self) -> dict[str, Any]:
        return dict(self)


class File:
    """One file of a run: ``name`` (its path in the run), ``size``, ``download()``."""

    def __init__(self, name: str, size: int, path: Path) -> None:
        self.name, self.size, self.path = name, size, path

    def download(
        self, root: str = ".", replace: bool = False, exist_ok: bool = False, **_: Any
    ) -> Any:
        """Copy the file to ``root/name`` and open it for reading."""
        dest = Path(root) / self.name
        if dest.exists() and not replace:
            if not exist_ok:
                raise ValueError(f"File {dest} already exists, pass replace=True to overwrite")
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.path, dest)
        return open(dest)

    def __repr__(self) -> str:
        return f"<File {self.name} ({self.size} bytes)>"


class ApiRun:
    """One run, read-only: ``id``, ``name``, ``state``, ``config``, ``summary``,
    ``tags``, ``group``, ``created_at``, ``history()``, ``scan_history()``, ``files()``."""

    def __init__(self, row: RunRow) -> None:
        self._row = row
        self.id = row.id
        self.name = self.display_name = row.name
        self.state = row.state
        self.config: dict[str, Any] = dict(row.config)
        self.summary = RunSummary(row.summary)
        self.summary_metrics = self.summary
        self.tags = list(row.tags)
        self.group = row.group
        self.project = row.project
        self.entity: str | None = None
        self.created_at = row.created
        self.job_type = row.meta.get("job_type")
        self.notes = row.meta.get("notes")
        self.metadata = row.meta
        self.dir = str(row.path)
        self.url = row.path.as_uri()
        self.path = [self.entity, self.project, self.id]
        self.lastHistoryStep = row.last_step if row.last_step is not None else -1

    def __repr__(self) -> str:
        return f"<Run {self.project}/{self.id} ({self.state})>"

    def _rows(
        self, keys: list[str] | None, span: int = 1 << 20
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(step, row)`` for each step holding every key, streamed from ``history.jsonl``."""
        start = self._row.start_time
        offset, cur = 0, None
        want = list(keys) if keys else None
        while True:
            records, new_offset, _ = reader.read_records(self._row.path, offset, max_bytes=span)
            for rec in records:
                if cur is not None and rec.step == cur["_step"]:
                    _merge(cur, rec, start)
                    continue
                if cur is not None and _has(cur, want):
                    yield cur["_step"], _pick(cur, want)
                cur = {"_step": rec.step}
                _merge(cur, rec, start)
            if new_offset == offset:
                break
            offset = new_offset
        if cur is not None and _has(cur, want):
            yield cur["_step"], _pick(cur, want)

    def scan_history(
        self, keys: list[str] | None = None, page_size: int = 1000, min_step: int = 0,
        max_step: int | None = None, **_: Any,
    ) -> Iterator[dict[str, Any]]:  # fmt: skip
        """Every history row (unsampled), read ``page_size`` rows' worth of bytes at a time."""
        for step, row in self._rows(keys, span=max(64 << 10, page_size * 512)):
            if step < min_step:
                continue
            if max_step is not None and step >= max_step:
                break
            yield row

    def history(
        self,
        samples: int = 500,
        keys: list[str] | None = None,
        x_axis: str = _X_DEFAULT,
        pandas: bool = True,
        stream: str = "default",
    ) -> Any:
        """Up to ``samples`` history rows, evenly spaced over the run (first and last
        kept); with ``keys``, the rows holding all of them, with ``x_axis`` and those
        columns only. A pandas DataFrame when pandas is installed (and ``pandas``),
        else a list of dicts."""
        want = [x_axis, *(k for k in keys if k != x_axis)] if keys else None
        rows = [row for _, row in self._rows(want)]
        if samples and len(rows) > samples:
            n = len(rows)
            idx = sorted({round(i * (n - 1) / max(1, samples - 1)) for i in range(samples)})
            rows = [rows[i] for i in idx]
        return _frame(rows, pandas)

    def files(self, names: list[str] | None = None, per_page: int = 50) -> list[File]:
        """The run's saved files (``files/``) and its console output, as ``File``s."""
        out = []
        base = self._row.path / layout.FILES_DIR
        for rel, size in reader.list_files(self._row.path):
            out.append(File(rel, size, base / rel))
        log = self._row.path / layout.OUTPUT
        if log.is_file():
            out.append(File(layout.OUTPUT, log.stat().st_size, log))
        return [f for f in out if not names or f.name in names]

    def file(self, name: str) -> File:
        for f in self.files():
            if f.name == name:
                return f
        raise ValueError(f"run {self.id} has no file {name!r}")

    def _artifacts(self, op: str) -> list[Any]:
        from trackui.artifact_log import get_artifact

        root, seen, out = self._row.path.parent, set(), []
        for use in artifact_store.read_run_artifacts(self._row.path):
            key = (use.name, use.version)
            if use.op == op and use.version is not None and key not in seen:
                seen.add(key)
                try:
                    out.append(get_artifact(root, f"{use.name}:v{use.version}"))
                except ValueError:
                    continue
        return out

    def logged_artifacts(self, per_page: int = 100) -> list[Any]:
        return self._artifacts("logged")

    def used_artifacts(self, per_page: int = 100) -> list[Any]:
        return self._artifacts("used")

    def alerts(self) -> list[artifact_store.Alert]:
        """The run's alerts, oldest first (not in wandb's public API)."""
        return artifact_store.read_alerts(self._row.path)


def _merge(row: dict[str, Any], rec: Record, start: float) -> None:
    row.update(rec.metrics)
    row.update(rec.text)
    row["_timestamp"] = rec.time
    row["_runtime"] = max(0.0, rec.time - start)


def _has(row: dict[str, Any], keys: list[str] | None) -> bool:
    return keys is None or all(k in row for k in keys)


def _pick(row: dict[str, Any], keys: list[str] | None) -> dict[str, Any]:
    return row if keys is None else {k: row[k] for k in keys}


def _frame(rows: list[dict[str, Any]], pandas: bool) -> Any:
    if pandas:
        try:
            import pandas as pd
        except ImportError:
            return rows
        return pd.DataFrame.from_records(rows)
    return rows
