"""What ``log()`` makes of a rich value: files under the run's ``media/`` and a
small typed reference for the history record (see ``docs/format.md``).

``as_rich`` says whether a logged value is rich (an ``Image``, a list of them,
a ``Histogram``, a ``Table``, a ``plot`` chart, a file value, an array or
tensor of more than one element, a matplotlib or plotly figure);
``references`` writes the files of a record's rich values and returns their
references. Nothing here is imported until a script logs a rich value.
"""

from __future__ import annotations

import hashlib
import math
import os
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson

from trackui.media.files import FileValue, Plotly
from trackui.media.histogram import Histogram
from trackui.media.image import Image, is_figure
from trackui.media.plot import Plot
from trackui.media.table import Table
from trackui.store.layout import MEDIA_DIR
from trackui.store.writer import write_atomic

_RICH = (Image, Histogram, Table, Plot, FileValue)


def as_rich(v: Any) -> Any:
    """``v`` as a rich value to store, or None when it is not one."""
    if isinstance(v, _RICH):
        return v
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(i, Image) for i in v):
            return list(v)
        return None
    if is_figure(v):
        return Image(v)
    mod = type(v).__module__
    if mod.startswith("plotly.") and hasattr(v, "to_json"):
        return Plotly(v)
    shape = getattr(v, "shape", None)
    # As wandb: an array or tensor of more than one value logged is a histogram.
    if shape is not None and getattr(v, "ndim", 0) > 0 and math.prod(shape) > 1:
        try:
            return Histogram(v)
        except (TypeError, ValueError):  # not numbers (an array of strings, say)
            return None
    return None


_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_pending: list[Future[None]] = []
_queued: set[Path] = set()
"""Files this process has written or queued (content-addressed: each is written once)."""
_lock = threading.Lock()


def _write(path: Path, data: bytes) -> None:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)


class _Files:
    """The files of one record's rich values: where they go, and those to write."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.todo: list[tuple[Path, bytes]] = []


def _store(out: _Files, kind: str, data: bytes, ext: str) -> tuple[str, str]:
    """Name ``data`` ``media/<kind>/<digest>.<ext>`` and add it to the files to write,
    unless this process already wrote or queued it; (relative path, digest)."""
    digest = hashlib.sha256(data).hexdigest()[:32]
    rel = f"{MEDIA_DIR}/{kind}/{digest}.{ext}"
    path = out.run_dir / rel
    with _lock:
        if path not in _queued:
            _queued.add(path)
            out.todo.append((path, data))
    return rel, digest


def _write_all(todo: list[tuple[Path, bytes]]) -> None:
    errors = []
    for path, data in todo:
        try:
            _write(path, data)
        except OSError as e:
            errors.append(e)
    if errors:
        raise errors[0]


def _submit(todo: list[tuple[Path, bytes]]) -> None:
    """Hand one record's files to the writer thread: the bytes are already encoded
    and owned here, so the caller may change its values at once. One job per
    record, not per file: each hand-over between the threads costs (the GIL)."""
    global _pool, _pool_pid
    with _lock:
        if _pool is None or _pool_pid != os.getpid():  # a forked child gets its own thread
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trackui-media")
            _pool_pid = os.getpid()
        if len(_pending) >= 1024:  # keep only the files not written yet
            _pending[:] = [f for f in _pending if not f.done() or f.exception()]
        _pending.append(_pool.submit(_write_all, todo))


def flush() -> None:
    """Wait until every queued media file is written (``finish()`` calls this); a file
    that could not be written is reported on stderr, once per file."""
    with _lock:
        pending, _pending[:] = list(_pending), []
    for f in pending:
        try:
            f.result()
        except OSError as e:
            print(f"trackui: a media file could not be written: {e}", file=sys.stderr)


def _image_ref(out: _Files, img: Image) -> dict[str, Any]:
    rel, digest = _store(out, "image", img.png(), "png")
    ref: dict[str, Any] = {"_type": "image", "path": rel, "digest": digest, "shape": img.shape()}
    if img.caption is not None:
        ref["caption"] = img.caption
    ref.update(img.meta)
    return ref


def _cell(out: _Files, v: Any) -> Any:
    """A table cell as JSON: images as their references."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else ("nan" if v != v else ("inf" if v > 0 else "-inf"))
    if isinstance(v, Image):
        return _image_ref(out, v)
    if hasattr(v, "item") and getattr(v, "ndim", 0) == 0:
        return _cell(out, v.item())
    if isinstance(v, (list, tuple)):
        return [_cell(out, x) for x in v]
    return str(v)


def _table_ref(out: _Files, t: Table) -> dict[str, Any]:
    doc = {"columns": t.columns, "data": [[_cell(out, c) for c in r] for r in t.data]}
    rel, digest = _store(out, "table", orjson.dumps(doc), "table.json")
    return {
        "_type": "table",
        "path": rel,
        "digest": digest,
        "shape": [len(t.data), len(t.columns)],
        "columns": t.columns,
    }


def reference(out: _Files, v: Any) -> dict[str, Any]:
    """The reference of one rich value (from :func:`as_rich`); its files join ``out``."""
    if isinstance(v, list):
        return {"_type": "images", "items": [_image_ref(out, i) for i in v]}
    if isinstance(v, Image):
        return _image_ref(out, v)
    if isinstance(v, Histogram):
        return {"_type": "histogram", "bins": v.bins, "values": v.histogram}
    if isinstance(v, Table):
        return _table_ref(out, v)
    if isinstance(v, Plot):
        ref = _table_ref(out, v.table)
        ref.update(_type="plot", **v.spec())
        return ref
    data, ext, meta = v.encode()
    rel, digest = _store(out, v.kind, data, ext)
    ref = {"_type": v.kind, "path": rel, "digest": digest, **meta}
    if getattr(v, "caption", None) is not None:
        ref["caption"] = v.caption
    return ref


def references(run_dir: Path, rich: dict[str, Any]) -> dict[str, Any]:
    """The references of a record's rich values; their files are queued to be
    written under ``run_dir`` by a background thread (:func:`flush` waits)."""
    out = _Files(run_dir)
    refs = {k: reference(out, v) for k, v in rich.items()}
    if out.todo:
        _submit(out.todo)
    return refs
