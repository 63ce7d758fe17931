"""Foreign runs mirrored, incrementally, into trackui run directories in the viewer's cache.

Each run another tracker wrote (a :class:`ForeignRun`) gets a run directory
of the format in ``docs/format.md`` under the mirror folder (beside the
per-user index, never under the root). The index then reads it like any
run. Beside the run's files a hidden ``.source.json`` keeps the source's
cursor and the signature (size, mtime, inode) of the files read, so that a
later viewer continues where the last one stopped, skips a run whose files
did not change, and rebuilds one whose append-only files shrank or were
replaced.

The history is kept valid for the format (steps never go down from one
record to the next): each read's rows are put in step order (stably: a
repeated step keeps the order it was logged in, the last one winning), and
rows that come before the last step already written make the mirror
rewrite its history in step order (a replaced file, which the index loads
again).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import shutil
import time
from datetime import datetime, timezone
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson

from trackui.store import layout
from trackui.store.reader import encode_value
from trackui.store.sources.base import Batch, ForeignRun, Source, SourceUnavailable
from trackui.store.writer import write_atomic

STATE_FILE = ".source.json"
"""In each mirrored run directory: the source, its cursor and the signature read."""
QUIET_S = 300.0
"""A run whose tracker records no state is ``running`` until its files are this long quiet
(TensorBoard's writers flush every 120 s by default)."""
MAX_WARNINGS = 20
"""Warnings kept per mirrored run (the first ones)."""
MAX_FILES = 5_000
"""Files of one run's folder looked at, at most."""
_PREFIX = {"tensorboard": "tb", "wandb": "wb", "mlflow": "mlf", "trackio": "tio"}
_TIMESPEC = "19700101_000000"
"""Mirrored runs' directory names hold no start time (a rebuild keeps the same name)."""
_SKIP_DIRS = frozenset({"artifacts", "media", "tmp"})


def run_id_of(run: ForeignRun) -> str:
    """A stable run id for a foreign run, from its source and key (valid per ``layout``)."""
    digest = hashlib.sha1(f"{run.source}\0{run.key}".encode("utf-8", "surrogateescape"))
    return f"{_PREFIX.get(run.source, 'x')}-{digest.hexdigest()[:12]}"


def dir_name_of(run: ForeignRun) -> str:
    """The mirrored run's directory name."""
    return layout.run_dir_name(_TIMESPEC, run_id_of(run))


def watched_files(run: ForeignRun) -> list[str]:
    """The files whose size and mtime say whether ``run`` changed (absolute paths).

    A database file with its write-ahead log; the event files of a
    TensorBoard folder (directly in it); the files of another folder, below
    it (without artifacts and media).
    """
    p = str(run.path)
    if run.source == "tensorboard":
        try:
            with os.scandir(p) as it:
                names = sorted(e.name for e in it if e.name.startswith("events.out.tfevents"))
        except OSError:
            return []
        return [os.path.join(p, n) for n in names]
    if not os.path.isdir(p):
        return [p, p + "-wal"]
    out: list[str] = []
    stack = [(p, 0)]
    while stack and len(out) < MAX_FILES:
        d, depth = stack.pop()
        try:
            with os.scandir(d) as it:
                for e in it:
                    if e.name.startswith("."):
                        continue
                    if e.is_dir(follow_symlinks=False):
                        if depth < 4 and e.name not in _SKIP_DIRS:
                            stack.append((e.path, depth + 1))
                    else:
                        out.append(e.path)
        except OSError:
            continue
    out.sort()
    return out


def signature(files: list[str], base: str) -> dict[str, list[int]]:
    """``{path relative to base: [size, mtime_ns, inode]}`` of the files that exist."""
    sig: dict[str, list[int]] = {}
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            continue
        sig[os.path.relpath(f, base)] = [st.st_size, st.st_mtime_ns, st.st_ino]
    return sig


def _append_only(rel: str) -> bool:
    """Files read from a cursor: when one shrinks or is replaced, the run is read again."""
    name = os.path.basename(rel)
    return (
        name.startswith("events.out.tfevents")
        or name.endswith((".wandb", ".db", ".sqlite", ".sqlite3"))
        or rel.startswith("metrics" + os.sep)
    )


def replaced(old: dict[str, list[int]], new: dict[str, list[int]]) -> bool:
    """Whether an append-only file read before is gone, shorter, or another file now."""
    for rel, (size, _mt, ino) in old.items():
        if not _append_only(rel):
            continue
        now = new.get(rel)
        if now is None or now[0] < size or now[2] != ino:
            return True
    return False


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).astimezone().isoformat()


def record_line(step: int, wall: float | None, values: dict[str, Any]) -> bytes | None:
    """One ``history.jsonl`` line for a row (None when it holds nothing to keep)."""
    try:
        total = sum(values.values())
    except TypeError:  # (text among them)
        total = None
    if type(total) is float and total - total == 0.0:
        # The common case: finite numbers only (a sum of floats with a NaN or
        # an infinity among them is not finite), written as they are.
        if wall is not None and wall - wall == 0.0:
            return orjson.dumps({"s": step, "t": wall, "m": values}) + b"\n"
        return orjson.dumps({"s": step, "m": values}) + b"\n"
    m: dict[str, Any] = {}
    x: dict[str, str] = {}
    for k, v in values.items():
        if isinstance(v, bool):
            m[k] = int(v)
        elif isinstance(v, int):
            m[k] = float(v) if abs(v) >= 1 << 63 else v
        elif isinstance(v, float):
            m[k] = v if math.isfinite(v) else encode_value(v)
        elif isinstance(v, str):
            x[k] = v
    if not m and not x:
        return None
    rec: dict[str, Any] = {"s": step}
    if wall is not None and math.isfinite(wall):
        rec["t"] = wall
    rec["m"] = m
    if x:
        rec["x"] = x
    return orjson.dumps(rec) + b"\n"


def _cut_back(d: Path, state: dict[str, Any]) -> None:
    """Drop what was appended after the cursor was last saved (a viewer stopped between
    the two): it is read again from the cursor, never twice."""
    for name, size in state.get("sizes", {}).items():
        path = d / name
        with contextlib.suppress(OSError):
            if path.stat().st_size > size:
                os.truncate(path, size)


class Mirror:
    """The mirror folder of one root, and the reads that keep it current.

    Args:
        folder: Where mirrored runs live (created when a first run is mirrored).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def dir_of(self, run: ForeignRun) -> Path:
        """The mirrored run directory of ``run``."""
        return self.folder / dir_name_of(run)

    def listed(self) -> list[str]:
        """Every mirrored run directory (absolute paths), sorted."""
        try:
            return [str(self.folder / n) for n in layout.list_run_names(self.folder)]
        except OSError:
            return []

    def drop_except(self, keep: set[str]) -> list[str]:
        """Remove the mirrored runs whose directory names are not in ``keep``; returns those removed."""
        gone = []
        for d in self.listed():
            if os.path.basename(d) not in keep:
                shutil.rmtree(d, ignore_errors=True)
                gone.append(d)
        return gone

    def sync(self, run: ForeignRun, source: Source | None, now: float | None = None) -> bool:
        """Bring ``run``'s mirror up to date with ``source``'s read; True when it changed."""
        now = time.time() if now is None else now
        d = self.dir_of(run)
        files = watched_files(run)
        base = str(run.path) if run.path.is_dir() else str(run.path.parent)
        sig = signature(files, base)
        state = self._state(d)
        if state is not None and (state.get("key") != run.key or replaced(state["sig"], sig)):
            shutil.rmtree(d, ignore_errors=True)
            state = None
        if state is not None and state["sig"] == sig:
            return False
        if state is None:
            shutil.rmtree(d, ignore_errors=True)  # (what a viewer stopped mid-way left)
            state = {"v": 1, "source": run.source, "key": run.key, "path": str(run.path),
                     "cursor": {}, "sig": {}, "last_step": None, "meta": {}, "warnings": []}  # fmt: skip
        else:
            _cut_back(d, state)
        d.mkdir(parents=True, exist_ok=True)
        try:
            if source is None:
                raise SourceUnavailable(f"{run.source}: no reader for this kind of run here")
            batch, cursor = source.read(run, state["cursor"])
        except SourceUnavailable as e:
            batch, cursor = Batch(warnings=[str(e)]), {}
        except Exception as e:  # a reader's bug must not stop the viewer
            batch, cursor = Batch(warnings=[f"{run.key}: not read ({type(e).__name__}: {e})"]), {}
            # (its cursor is kept: the next change tries again from there)
            cursor = state["cursor"]
        self._apply(d, run, state, batch, files, now)
        state["cursor"] = cursor
        state["sig"] = sig
        for name in (layout.HISTORY, layout.OUTPUT):
            with contextlib.suppress(OSError):
                state.setdefault("sizes", {})[name] = os.path.getsize(d / name)
        write_atomic(d / STATE_FILE, orjson.dumps(state), sync=False)
        return True

    def current(self, run: ForeignRun) -> bool:
        """Whether ``run``'s mirror holds everything its files hold now (nothing to read)."""
        state = self._state(self.dir_of(run))
        if state is None or state.get("key") != run.key:
            return False
        base = str(run.path) if run.path.is_dir() else str(run.path.parent)
        return state["sig"] == signature(watched_files(run), base)

    def list_unread(self, run: ForeignRun, source: Source | None, now: float | None = None) -> None:
        """Give a run never mirrored a ``meta.json`` alone, from ``source.describe`` (its
        files' header) where the source has one, so that it is listed before it is read.

        A mirror that was read before is left as it is (listed with what it
        held); :meth:`sync` reads the run later, from the start.
        """
        d = self.dir_of(run)
        if self._state(d) is not None:
            return
        describe = getattr(source, "describe", None)
        meta: dict[str, Any] = {}
        if describe is not None:
            with contextlib.suppress(Exception):  # (the full read says what is wrong)
                meta = describe(run) or {}
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True, exist_ok=True)
        state = {"meta": {k: v for k, v in encode_value(meta).items() if k != "state"},
                 "warnings": [], "first_t": None}  # fmt: skip
        self._apply(d, run, state, Batch(), watched_files(run), time.time() if now is None else now)

    # ----------------------------------------------------------------- writing

    def _state(self, d: Path) -> dict[str, Any] | None:
        try:
            got = orjson.loads((d / STATE_FILE).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        if not isinstance(got, dict) or got.get("v") != 1 or not (d / layout.META).exists():
            return None
        return got

    def _apply(self, d: Path, run: ForeignRun, state: dict[str, Any], batch: Batch,
               files: list[str], now: float) -> None:  # fmt: skip
        self._history(d, state, batch.rows)
        if batch.lines and batch.line_steps:
            self._write_lines(d, state, batch.lines, batch.line_steps)
        if batch.output:
            with open(d / layout.OUTPUT, "ab") as f:
                f.write(batch.output.encode("utf-8", "replace"))
        if batch.config is not None:
            self._replace(d / layout.CONFIG, encode_value(batch.config))
        if batch.summary is not None:
            self._replace(d / layout.SUMMARY, encode_value(batch.summary))
        warns = state["warnings"]
        warns.extend(batch.warnings[: max(0, MAX_WARNINGS - len(warns))])
        if batch.meta:
            state["meta"].update(encode_value(batch.meta))
        first_t = state.get("first_t")
        for _s, t, _v in batch.rows:
            if t is not None and math.isfinite(t) and (first_t is None or t < first_t):
                first_t = t
        state["first_t"] = first_t
        # The files' newest change, as the heartbeat: a run without a state of
        # its tracker's is running until its files are QUIET_S quiet.
        newest = 0.0
        for f in files:
            with contextlib.suppress(OSError):
                newest = max(newest, os.stat(f).st_mtime)
        newest = state["meta"].get("source_heartbeat") or newest  # (a source's own, per run)
        self._meta(d, run, state, newest or now)
        hb = d / layout.HEARTBEAT
        with contextlib.suppress(OSError):
            hb.touch()
            os.utime(hb, (newest or now, newest or now))

    def _replace(self, path: Path, obj: Any) -> None:
        data = orjson.dumps(obj)
        with contextlib.suppress(OSError):
            if path.read_bytes() == data:
                return
        write_atomic(path, data, sync=False)

    def _meta(self, d: Path, run: ForeignRun, state: dict[str, Any], newest: float) -> None:
        sm = state["meta"]
        start = sm.get("start_time")
        if not isinstance(start, (int, float)):
            start = state.get("first_t")
        if not isinstance(start, (int, float)):
            start = newest
        by_tracker = (
            sm.get("state") in ("running", "finished", "failed") and "source_quiet_s" not in sm
        )
        meta: dict[str, Any] = {
            "format": layout.FORMAT_VERSION,
            "id": run_id_of(run),
            "name": run.key,
            "project": None, "group": None, "job_type": None, "notes": None, "tags": [],
            "host": None, "user": None, "pid": None, "command": [], "cwd": None, "python": None,
            "git": None, "end_time": None, "exit_code": None,
            **{k: v for k, v in sm.items() if v is not None},
            "state": sm["state"] if by_tracker else "running",
            "start_time": float(start),
            "created": _iso(float(start)),
            "source": run.source,
            "source_path": str(run.path),
            "source_key": run.key,
            "source_state": "tracker" if by_tracker else "files",
            "source_quiet_s": sm.get("source_quiet_s", QUIET_S),
            "source_warnings": list(state["warnings"]),
        }  # fmt: skip
        if run.run_id is not None:
            meta["source_run_id"] = run.run_id
        self._replace(d / layout.META, meta)

    def _history(self, d: Path, state: dict[str, Any], rows: list[Any]) -> None:
        if not rows:
            return
        steps = [r[0] for r in rows]
        if steps != sorted(steps):
            rows = sorted(rows, key=itemgetter(0))  # (stable: repeats keep their order)
        lines: list[tuple[int, bytes]] = []
        skipped = 0
        for step, wall, values in rows:
            step = int(step)
            if step < 0:
                skipped += 1
                continue
            line = record_line(step, wall, values)
            if line is not None:
                lines.append((step, line))
        if skipped:
            state["warnings"].append(f"{skipped} rows with a negative step skipped")
            del state["warnings"][MAX_WARNINGS:]
        if not lines:
            return
        self._write_lines(
            d, state, b"".join(line for _s, line in lines), (lines[0][0], lines[-1][0])
        )

    def _write_lines(
        self, d: Path, state: dict[str, Any], data: bytes, steps: tuple[int, int]
    ) -> None:
        """Lines in step order appended, or merged in when they start before the last step."""
        path = d / layout.HISTORY
        last = state.get("last_step")
        if last is not None and steps[0] < last:
            # Rows logged before the last step written: the history is
            # rewritten in step order (the format's steps never go down).
            before = b""
            with contextlib.suppress(OSError):
                before = path.read_bytes()
            keyed: list[tuple[int, bytes]] = []
            for raw in [*before.splitlines(True), *data.splitlines(True)]:
                if raw.endswith(b"\n"):
                    with contextlib.suppress(orjson.JSONDecodeError, KeyError, TypeError):
                        keyed.append((int(orjson.loads(raw)["s"]), raw))
            merged = sorted(keyed, key=lambda sl: sl[0])
            write_atomic(path, b"".join(line for _s, line in merged), sync=False)
        else:
            with open(path, "ab") as f:
                f.write(data)
        state["last_step"] = max(steps[1], last if last is not None else steps[1])
