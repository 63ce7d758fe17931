"""MLflow's SQLite store (``mlflow.db``, or any SQLite file of its schema) as runs, without MLflow.

The database is opened read-only (``file:...?mode=ro``) with ``sqlite3``;
each run is one foreign run (``<file>#<run id>``). Its metrics are polled
by row id: each read asks only for the rows after the last one read (the
store's index on ``run_uuid`` makes that cheap). Params become the config,
tags map as ``store.sources.mlflow_files.run_meta`` says, the status is
the run's. NaN is stored as 0 with ``is_nan`` set, ±inf as ±the largest
double: both read back as logged.
"""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import threading
from operator import itemgetter
from pathlib import Path
from typing import Any

from trackui.store.sources.base import MLFLOW, Batch, ForeignRun
from trackui.store.sources.mlflow_files import metric_value, parse_value, run_meta
from trackui.store.sources.walk import walk_root

DB_SUFFIXES = (".db", ".sqlite", ".sqlite3")
_TABLES = {"runs", "metrics", "params", "tags", "experiments"}
_schema_memo: dict[tuple[str, int, int], bool] = {}
_memo_lock = threading.Lock()


def connect(path: Path) -> sqlite3.Connection:
    """``path`` opened read-only (never created, never written)."""
    uri = "file:" + os.path.abspath(path).replace("?", "%3f").replace("#", "%23") + "?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=1.0, check_same_thread=False)


def is_mlflow_db(path: Path) -> bool:
    """Whether ``path`` is a SQLite file holding MLflow's tables (remembered per file)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    key = (str(path), st.st_ino, st.st_size)
    with _memo_lock:
        got = _schema_memo.get(key)
    if got is not None:
        return got
    try:
        with open(path, "rb") as f:
            ok = f.read(16) == b"SQLite format 3\x00"
        if ok:
            con = connect(path)
            try:
                names = {
                    r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
                }
            finally:
                con.close()
            ok = names >= _TABLES and "alembic_version" in names
    except (OSError, sqlite3.Error):
        ok = False
    with _memo_lock:
        _schema_memo[key] = ok
    return ok


class MlflowDbSource:
    """Runs of MLflow's SQLite store."""

    name = MLFLOW

    def find(self, root: Path) -> list[ForeignRun]:
        out = []
        for folder in walk_root(root):
            for f in folder.files:
                if not f.endswith(DB_SUFFIXES):
                    continue
                path = folder.path / f
                if not is_mlflow_db(path):
                    continue
                rel = f"{folder.rel}/{f}" if folder.rel else f
                try:
                    con = connect(path)
                    try:
                        rows = con.execute(
                            "SELECT run_uuid FROM runs WHERE lifecycle_stage IS NULL "
                            "OR lifecycle_stage != 'deleted' ORDER BY start_time, run_uuid"
                        ).fetchall()
                    finally:
                        con.close()
                except sqlite3.Error:
                    continue
                out += [ForeignRun(MLFLOW, f"{rel}#{r[0]}", path, r[0]) for r in rows]
        return out

    def read(self, run: ForeignRun, cursor: dict[str, Any]) -> tuple[Batch, dict[str, Any]]:
        batch = Batch()
        uid = run.run_id or run.key.rsplit("#", 1)[-1]
        last = int(cursor.get("rowid", 0))
        try:
            con = connect(run.path)
        except sqlite3.Error as e:
            batch.warnings.append(f"{run.key}: cannot be opened ({e})")
            return batch, cursor
        try:
            with contextlib.closing(con):
                got = con.execute(
                    "SELECT r.name, r.status, r.start_time, r.end_time, e.name FROM runs r "
                    "LEFT JOIN experiments e ON e.experiment_id = r.experiment_id "
                    "WHERE r.run_uuid = ?",
                    [uid],
                ).fetchone()
                if got is None:
                    batch.warnings.append(f"{run.key}: no such run in the database")
                    return batch, cursor
                tags = dict(con.execute("SELECT key, value FROM tags WHERE run_uuid = ?", [uid]))
                params = dict(
                    con.execute("SELECT key, value FROM params WHERE run_uuid = ?", [uid])
                )
                rows = con.execute(
                    "SELECT rowid, key, value, timestamp, step, is_nan FROM metrics "
                    "WHERE run_uuid = ? AND rowid > ? ORDER BY rowid",
                    [uid, last],
                ).fetchall()
        except sqlite3.Error as e:
            batch.warnings.append(f"{run.key}: not read ({e}); tried again on its next change")
            return batch, cursor
        batch.meta = run_meta({k: v or "" for k, v in tags.items()}, got[0], got[1], got[2],
                              got[3], got[4])  # fmt: skip
        batch.config = {k: parse_value(v) for k, v in sorted(params.items())}
        by_step: dict[int, dict[str, Any]] = {}
        out: list[tuple[int, float | None, dict[str, Any]]] = []
        for rowid, key, value, ts, step, is_nan in rows:
            last = rowid
            vals = by_step.get(step)
            if vals is None or key in vals:
                vals = by_step[step] = {}
                out.append((int(step), ts / 1000.0 if ts is not None else None, vals))
            vals[key] = math.nan if is_nan else metric_value(float(value))
        out.sort(key=itemgetter(0))
        batch.rows = out
        return batch, {"rowid": last}
