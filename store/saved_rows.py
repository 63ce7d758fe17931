"""The run list as the viewer last saw it, to paint the next start at once.

Opening a cached index means importing DuckDB and reading the cache, which
takes a good part of a second while the UI starts. The index therefore leaves
beside its cache file, when it closes, the rows of the run table as JSON
(``runs.json`` next to ``index.duckdb``; ``runs-<digest>.json`` next to a
per-user cache file). The next viewer shows them at once, marked as not yet
read again, and replaces them with the index's answer as soon as it has one.
Nothing else reads this file: filters, curves and the CLI always ask the index.

A snapshot that is missing, damaged, from another version or of another root
is ignored (the viewer then waits for the index, as without one).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import orjson

from trackui.store.db import cache_paths
from trackui.store.models import RunRow
from trackui.store.reader import decode_value, encode_value
from trackui.store.writer import json_bytes, write_atomic

VERSION = 1
"""Bump when RunRow's fields change: another version is ignored."""

_FIELDS = tuple(f.name for f in dataclasses.fields(RunRow))


def snapshot_path(index_path: Path) -> Path:
    """Where the snapshot of the index file ``index_path`` lives (beside it)."""
    return index_path.with_name(index_path.stem.replace("index", "runs", 1) + ".json")


def candidate_paths(root: Path) -> list[Path]:
    """Where a snapshot of ``root`` may be, in the order the index would be opened."""
    return [snapshot_path(p) for p in cache_paths(root)]


def write_snapshot(index_path: Path, root: Path, rows: list[RunRow]) -> None:
    """Write ``rows`` beside ``index_path`` (atomically: a reader sees the old file or the new)."""
    path = snapshot_path(index_path)
    data = {
        "version": VERSION,
        "root": str(root.resolve()),
        # A field at a time: dataclasses.asdict deep-copies every value first.
        "rows": [encode_value({f: getattr(r, f) for f in _FIELDS}) for r in rows],
    }
    try:
        write_atomic(path, json_bytes(data, indent=False), sync=False)
    except OSError:
        pass  # a read-only place: the next start just waits


def _row(d: dict[str, Any]) -> RunRow:
    return RunRow(
        id=str(d["id"]),
        name=str(d["name"]),
        project=d["project"],
        group=d["group"],
        tags=tuple(d["tags"]),
        state=str(d["state"]),
        created=str(d["created"]),
        start_time=float(decode_value(d["start_time"])),
        end_time=None if d["end_time"] is None else float(decode_value(d["end_time"])),
        runtime_s=float(decode_value(d["runtime_s"])),
        last_step=d["last_step"],
        steps=int(d["steps"]),
        path=Path(d["path"]),
        host=d["host"],
        config=d["config"],
        summary={str(k): decode_value(v) for k, v in d["summary"].items()},
        meta=d["meta"],
        warnings=tuple(d["warnings"]),
    )


def read_snapshot(root: Path) -> list[RunRow] | None:
    """The rows the last viewer of ``root`` left, or None (none, damaged, another root)."""
    want = str(root.resolve())
    for path in candidate_paths(root):
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        try:
            if data.get("version") != VERSION or data.get("root") != want:
                continue
            return [_row(d) for d in data["rows"]]
        except (AttributeError, KeyError, TypeError, ValueError):
            continue  # damaged or of another shape: as if there were none
    return None
