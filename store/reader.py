"""Read run directories: list them, read their small files, tail their history.

The reader never returns a torn or damaged record: each one it skips becomes a
line in the warnings it returns. It never executes or unpickles anything.
See ``docs/format.md`` for the format.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import orjson

from trackui.store import layout
from trackui.store.liveness import derive_state
from trackui.store.models import Record, RunInfo

MAX_SMALL_BYTES = 16 << 20
"""The largest ``meta.json``, ``config.json`` or ``summary.json`` read (16 MiB);
a bigger one is skipped with a warning naming it."""

MAX_LINE_BYTES = 16 << 20
"""The longest history line read (16 MiB, the index's bound too); a longer one
is skipped with a warning. ``log()`` never writes one (its limit is 8 MiB)."""

_SKIP_CHUNK = 1 << 20
_SPAN_BYTES = 2 * MAX_LINE_BYTES
_BIG_INT = re.compile(rb"\d{19}")
"""A run of digits that may be an integer beyond 64 bits (orjson reads those as floats)."""

META_DEFAULTS: dict[str, Any] = {
    "format": layout.FORMAT_VERSION,
    "name": None,
    "project": None,
    "group": None,
    "job_type": None,
    "notes": None,
    "tags": [],
    "state": "running",
    "host": None,
    "user": None,
    "pid": None,
    "command": [],
    "cwd": None,
    "python": None,
    "git": None,
    "created": None,
    "start_time": None,
    "end_time": None,
    "exit_code": None,
}


def list_run_dirs(root: Path) -> list[Path]:
    """Run directories under ``root`` (those with a run-shaped name), oldest first."""
    try:
        return [root / name for name in layout.list_run_names(root)]
    except OSError:
        return []


def encode_value(v: Any) -> Any:
    """``v`` made JSON-safe: non-finite floats as the format's spellings (see
    ``decode_value``), paths as strings, tuples as lists, keys as strings."""
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, dict):
        return {str(k): encode_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [encode_value(x) for x in v]
    if isinstance(v, Path):
        return str(v)
    return v


def is_rich_reference(v: Any) -> bool:
    """Whether a value is a rich value's typed reference (an object with ``_type``)."""
    return isinstance(v, dict) and isinstance(v.get("_type"), str)


def decode_value(v: Any) -> Any:
    """A value from a JSON file with the non-finite spellings turned into floats."""
    if isinstance(v, str) and v in layout.NONFINITE:
        return layout.NONFINITE[v]
    return v


def read_small(path: str | os.PathLike[str]) -> bytes:
    """A small file's bytes, read with plain system calls.

    No buffered file object: a scan reads three files per run, thousands in
    all, and an ``open()`` costs several times the read itself.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        size = os.fstat(fd).st_size
        if size > MAX_SMALL_BYTES:
            raise _TooLarge(size)
        chunks = [os.read(fd, size + 1)]
        total = len(chunks[0])
        while chunks[-1]:  # (grown since the fstat, or a file with no size, such as in /proc)
            chunks.append(os.read(fd, max(size, 1 << 16)))
            total += len(chunks[-1])
            if total > MAX_SMALL_BYTES:
                raise _TooLarge(total)
        return chunks[0] if len(chunks) == 2 else b"".join(chunks)
    finally:
        os.close(fd)


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        self.size = size


def loads_json(data: bytes | str) -> Any:
    """JSON with integers beyond 64 bits read exactly (the writer keeps them exact;
    orjson would read them as floats, or refuse those beyond ±1.8e308)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if _BIG_INT.search(data) is None:
        return orjson.loads(data)
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return orjson.loads(data)  # damaged: orjson says so


def read_json_object(path: str | os.PathLike[str], warnings: list[str]) -> dict[str, Any] | None:
    """A small JSON file as a dict; None (with a warning) if missing or damaged."""
    name = os.path.basename(path)
    try:
        data = read_small(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        warnings.append(f"{name}: unreadable ({e.strerror or e})")
        return None
    except _TooLarge as e:
        warnings.append(f"{name}: too large ({e.size:,} bytes, over {MAX_SMALL_BYTES:,}), skipped")
        return None
    try:
        obj = loads_json(data)
    except orjson.JSONDecodeError:
        warnings.append(f"{name}: damaged (not valid JSON), skipped")
        return None
    if not isinstance(obj, dict):
        warnings.append(f"{name}: damaged (not a JSON object), skipped")
        return None
    return obj


def read_run(run_dir: Path, *, now: float | None = None) -> RunInfo | None:
    """Meta, config, summary and derived state of one run; None if it has no readable meta."""
    warnings: list[str] = []
    base = os.fspath(run_dir) + os.sep
    meta = read_json_object(base + layout.META, warnings)
    if meta is None:
        return None
    fmt = meta.get("format", 1)
    if not isinstance(fmt, int) or fmt > layout.FORMAT_VERSION:
        return None
    parsed = layout.parse_run_dir_name(run_dir.name)
    run_id = meta.get("id") if isinstance(meta.get("id"), str) else None
    if run_id is None:
        run_id = parsed[1] if parsed else run_dir.name
    full = {**META_DEFAULTS, **meta, "id": run_id}
    if not isinstance(full["tags"], list):
        full["tags"] = []
    if isinstance(meta.get("source_warnings"), list):  # (a run mirrored from another tracker)
        warnings.extend(str(w) for w in meta["source_warnings"])
    config = read_json_object(base + layout.CONFIG, warnings) or {}
    summary_raw = read_json_object(base + layout.SUMMARY, warnings) or {}
    # A rich value's last reference (docs/format.md) is no metric: store/rich.py reads it.
    summary = {str(k): decode_value(v) for k, v in summary_raw.items() if not is_rich_reference(v)}
    state = derive_state(full, run_dir, now=now)
    return RunInfo(
        id=run_id,
        path=run_dir,
        meta=full,
        config=config,
        summary=summary,
        state=state,
        warnings=tuple(warnings),
    )


def parse_record(line: bytes) -> Record | None:
    """One history line as a Record, or None if it is not a valid record."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    step = obj.get("s")
    metrics = obj.get("m")
    if type(step) is not int or step < 0 or not isinstance(metrics, dict):
        return None
    t = obj.get("t")
    if not isinstance(t, (int, float)) or isinstance(t, bool):
        t = math.nan
    m: dict[str, float] = {}
    for k, v in metrics.items():
        if isinstance(v, (int, float)):
            m[k] = float(v)
        elif isinstance(v, str) and v in layout.NONFINITE:
            m[k] = layout.NONFINITE[v]
        else:
            return None
    text = obj.get("x")
    x: dict[str, str] = {}
    if isinstance(text, dict):
        x = {k: v for k, v in text.items() if isinstance(v, str)}
    r = obj.get("r")  # rich values' references (format 2; store.rich reads them)
    rich: dict[str, Any] = {}
    if isinstance(r, dict):
        rich = {k: v for k, v in r.items() if isinstance(v, dict) and "_type" in v}
    return Record(step=step, time=float(t), metrics=m, text=x, rich=rich)


def read_records(
    run_dir: Path, offset: int = 0, *, max_bytes: int | None = None
) -> tuple[list[Record], int, list[str]]:
    """Records of ``history.jsonl`` from byte ``offset`` up to its last complete line.

    Returns the records, the offset to pass next time (just after the last
    ``\\n`` consumed), and a warning per damaged line skipped. Bytes after the
    last ``\\n`` (a record being written, or a torn one) are left for later,
    unless they are already longer than ``MAX_LINE_BYTES``: a line that long is
    skipped with a warning, terminated or not, and never held in memory whole.
    The file is read ``_SPAN_BYTES`` at a time (``max_bytes``: read at most that
    much, but never less than one line's bound).
    """
    if max_bytes is not None:
        return _read_span(run_dir, offset, max_bytes)
    records: list[Record] = []
    warnings: list[str] = []
    while True:
        got, new_offset, warns = _read_span(run_dir, offset, _SPAN_BYTES)
        records += got
        warnings += warns
        if new_offset == offset:
            return records, offset, warnings
        offset = new_offset


def _read_span(run_dir: Path, offset: int, max_bytes: int) -> tuple[list[Record], int, list[str]]:
    path = run_dir / layout.HISTORY
    warnings: list[str] = []
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read(max(max_bytes, MAX_LINE_BYTES + 1))
            if len(data) > MAX_LINE_BYTES and data.find(b"\n", 0, MAX_LINE_BYTES + 1) < 0:
                # One line over the bound at the start: skip it without reading it whole.
                return [], _skip_long_line(f, offset, warnings), warnings
    except FileNotFoundError:
        return [], offset, warnings
    except OSError as e:
        warnings.append(f"{layout.HISTORY}: unreadable ({e.strerror or e})")
        return [], offset, warnings
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset, warnings
    records: list[Record] = []
    pos = offset
    for line in data[: end + 1].split(b"\n")[:-1]:
        start = pos
        pos += len(line) + 1
        if not line.strip():
            continue
        if len(line) > MAX_LINE_BYTES:
            warnings.append(_long_line_warning(start, len(line)))
            continue
        rec = parse_record(line)
        if rec is None:
            warnings.append(
                f"{layout.HISTORY}: damaged record at byte {start} ({len(line)} bytes), skipped"
            )
            continue
        records.append(rec)
    return records, offset + end + 1, warnings


def _long_line_warning(start: int, length: int) -> str:
    return (
        f"{layout.HISTORY}: a line of {length:,} bytes at byte {start} is over "
        f"{MAX_LINE_BYTES:,}, skipped"
    )


def _skip_long_line(f: Any, offset: int, warnings: list[str]) -> int:
    """The offset just after the line that starts at ``offset`` (or the end of the
    file), found by reading on in chunks; adds the warning for the skipped line."""
    f.seek(offset)
    pos = offset
    while True:
        chunk = f.read(_SKIP_CHUNK)
        if not chunk:
            warnings.append(_long_line_warning(offset, pos - offset))
            return pos
        i = chunk.find(b"\n")
        if i >= 0:
            warnings.append(_long_line_warning(offset, pos + i - offset))
            return pos + i + 1
        pos += len(chunk)


def last_step(run_dir: Path) -> int:
    """The highest step in a run's history (-1 if none), read 16 MiB at a time."""
    last = -1
    offset = 0
    while True:
        records, new_offset, _ = read_records(run_dir, offset, max_bytes=1 << 24)
        if records:
            last = max(last, max(r.step for r in records))
        if new_offset == offset:
            return last
        offset = new_offset


def merge_steps(records: list[Record]) -> dict[int, dict[str, float]]:
    """Records merged by step, later values replacing earlier ones."""
    out: dict[int, dict[str, float]] = {}
    for r in records:
        out.setdefault(r.step, {}).update(r.metrics)
    return out


def output_tail(run_dir: Path, max_bytes: int = 256 * 1024, max_lines: int = 1000) -> list[str]:
    """The last lines of a run's console output (``output.log``), at most ``max_lines``.

    Only the last ``max_bytes`` of the file are read; when the file is longer,
    the first line read (likely cut) is dropped. A carriage return (a
    progress bar) keeps only what a terminal would show last on that line.
    Control characters are left in: what is safe to show is the caller's
    concern. A missing or unreadable file has no lines.
    """
    try:
        with open(run_dir / layout.OUTPUT, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace")
    if size > max_bytes:
        text = text.split("\n", 1)[-1]
    return [line.rstrip("\r").split("\r")[-1] for line in text.split("\n")[-max_lines:]]


def list_files(run_dir: Path, max_files: int = 2000) -> tuple[tuple[str, int], ...]:
    """A run's saved files (under ``files/``) as ``(relative path, size in bytes)``.

    In path order, at most ``max_files``; symlinks are listed with their own
    size and never followed (a link to a directory is not walked into).
    """
    base = run_dir / layout.FILES_DIR
    out: list[tuple[str, int]] = []
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            p = Path(dirpath) / name
            try:
                st = p.lstat()
            except OSError:
                continue
            out.append((str(p.relative_to(base)), st.st_size))
            if len(out) >= max_files:
                return tuple(out)
    return tuple(out)
