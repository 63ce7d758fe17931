"""Rich values in a run's history: which keys hold them, and each one's references.

A history record keeps rich values (images, histograms, tables, charts,
files) under ``r`` as typed references (``docs/format.md``, format 2); their
files are under the run's ``media/``. They are never charted as metrics: this
module reads them for the CLI and the viewer.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from trackui.store import layout
from trackui.store.reader import is_rich_reference, read_json_object, read_records


@dataclass(frozen=True)
class RichKey:
    """One key of a run that holds rich values."""

    key: str
    type: str
    """``image``, ``images``, ``histogram``, ``table``, ``plot``, ``audio``, ``video``,
    ``html``, ``object3d``, ``molecule`` or ``plotly`` (the last logged, if it changed)."""
    count: int
    """How many values were logged under it."""
    last_step: int


def rich_keys(run_dir: Path) -> list[RichKey]:
    """The keys of a run that hold rich values, in the order first logged."""
    found: dict[str, list[Any]] = {}
    for rec in read_records(run_dir)[0]:
        for k, ref in rec.rich.items():
            got = found.get(k)
            if got is None:
                found[k] = [str(ref["_type"]), 1, rec.step]
            else:
                got[0], got[1], got[2] = str(ref["_type"]), got[1] + 1, rec.step
    return [RichKey(k, t, n, s) for k, (t, n, s) in found.items()]


def rich_values(run_dir: Path, key: str) -> list[tuple[int, dict[str, Any]]]:
    """Every value logged under ``key``: (step, reference), in file order.

    A reference is a dict with ``_type``; files are named by ``path``,
    relative to the run directory (:func:`media_path`). Histograms carry
    ``bins`` (edges) and ``values`` (counts); a list of images is
    ``{"_type": "images", "items": [image references]}``.
    """
    return [(rec.step, rec.rich[key]) for rec in read_records(run_dir)[0] if key in rec.rich]


def media_path(run_dir: Path, ref: dict[str, Any]) -> Path | None:
    """The file of a reference, if it has one inside the run's ``media/``."""
    rel = ref.get("path")
    if not isinstance(rel, str):
        return None
    media = (run_dir / layout.MEDIA_DIR).resolve()
    path = (run_dir / rel).resolve()
    return path if path.is_relative_to(media) else None


def read_table(run_dir: Path, ref: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The columns and rows of a table or chart reference (images in cells as references)."""
    path = media_path(run_dir, ref)
    if path is None:
        raise ValueError(f"not a table reference: {ref.get('_type')!r}")
    doc = orjson.loads(path.read_bytes())
    return [str(c) for c in doc["columns"]], [list(r) for r in doc["data"]]


def table_csv(run_dir: Path, ref: dict[str, Any]) -> str:
    """A table as CSV text (an image cell as its file's full path)."""
    columns, rows = read_table(run_dir, ref)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([run_dir / c.get("path", "") if isinstance(c, dict) else c for c in r])
    return buf.getvalue()


def last_references(run_dir: Path) -> dict[str, dict[str, Any]]:
    """The last reference of each rich key, as the run's ``summary.json`` keeps it (the
    writer puts it there, as wandb's summary holds the last image's reference)."""
    got = read_json_object(run_dir / layout.SUMMARY, []) or {}
    return {str(k): v for k, v in got.items() if is_rich_reference(v)}


def describe(ref: dict[str, Any]) -> str:
    """A reference in words: its type and file (``image 28x28 media/image/ab….png``)."""
    kind = str(ref.get("_type"))
    parts = [kind]
    shape = ref.get("shape")
    if kind == "image" and isinstance(shape, list) and len(shape) >= 2:
        parts.append(f"{shape[1]}x{shape[0]}")
    elif kind == "images" and isinstance(ref.get("items"), list):
        parts.append(f"of {len(ref['items'])}")
    elif kind == "histogram" and isinstance(ref.get("values"), list):
        parts.append(f"of {len(ref['values'])} bins")
    elif kind in ("table", "plot") and isinstance(shape, list) and len(shape) == 2:
        parts.append(f"{shape[0]} rows")
    if isinstance(ref.get("path"), str):
        parts.append(ref["path"])
    return " ".join(str(p) for p in parts)


def summary(run_dir: Path) -> dict[str, str]:
    """For ``trackui show``: each rich key with its type and count."""
    return {
        k.key: f"{k.type}, {k.count} logged (last step {k.last_step})" for k in rich_keys(run_dir)
    }


def export(run_dir: Path, base: Path, run_id: str) -> list[str]:
    """For ``trackui export``: write the run's tables and charts (the last value of
    each key) as CSV under ``base/<run_id>-tables/``; lines saying what was
    written and where the media files are."""
    out_dir = base / f"{run_id}-tables"
    lines = []
    for k in rich_keys(run_dir):
        if k.type not in ("table", "plot"):
            continue
        step, ref = rich_values(run_dir, k.key)[-1]
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in k.key) + ".csv"
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / name).write_text(table_csv(run_dir, ref), encoding="utf-8")
        lines.append(f"table {k.key} (step {step}) -> {out_dir / name}")
    media = run_dir / layout.MEDIA_DIR
    if media.is_dir():
        lines.append(f"media files: {media}")
    return lines
