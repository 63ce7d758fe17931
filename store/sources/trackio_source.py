"""trackio's project databases (``<project>.db``), read with ``sqlite3``, never through trackio.

A trackio database holds a project's runs: ``metrics`` (one row per logged
step: ``run_name``, ``step``, an ISO ``timestamp`` and the values as a JSON
object, NaN and the infinities as the strings ``"NaN"``, ``"Infinity"``,
``"-Infinity"``), ``configs`` (one row per run: the config as JSON, with
trackio's own ``_Username``, ``_Created``, ``_Group``, ``_Command``) and
``system_metrics`` (rows with a timestamp and no step). trackio stores no
run state, no summary and no console output.

:class:`TrackioSource` finds every ``*.db`` of that schema under a root (a
file is opened only when it starts with SQLite's header, and only to read its
table list), plus the folders given to it (:func:`default_dir`, where trackio
writes by default, when the caller asks for it). Each run is one
:class:`ForeignRun` keyed ``<db path>#<run name>``. A read fetches the rows
after the last row id read (the cursor), so polling a database is cheap;
rows of plain numbers come as history lines (``trackio_lines``), others as
decoded rows.

Nothing is written: a database with no ``-wal`` file beside it (no writer)
is opened ``immutable`` (SQLite then creates no ``-wal``/``-shm`` file), one
with a ``-wal`` file read-only (``mode=ro``) through the writer's files.
"""

from __future__ import annotations

import os
import sqlite3
import time
from bisect import bisect_right
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from trackui.store.sources.base import TRACKIO, Batch, ForeignRun
from trackui.store.sources.trackio_lines import history_lines, time_steps
from trackui.store.sources.trackio_values import (
    Stamps,
    json_object,
    metric_values,
    only_numbers,
    split_command,
    system_values,
    unix_time,
)
from trackui.store.sources.walk import walk_root

QUIET_S = 30.0
"""trackio records no run's end (its schema has no state, ``finish()`` writes nothing): a run
is ``running`` while its own newest row is this recent, else ``finished`` (trackio writes its
queued logs every second or so while a run lives). The mirror and the index apply it later
too, from ``source_heartbeat`` (that row's time) and ``source_quiet_s``."""

_SQLITE_MAGIC = b"SQLite format 3\x00"
_NEEDED = {
    "metrics": {"run_name", "step", "timestamp", "metrics"},
    "configs": {"run_name", "config"},
}


def default_dir() -> Path:
    """Where trackio writes by default: ``$TRACKIO_DIR``, else ``$HF_HOME/trackio``."""
    if os.environ.get("TRACKIO_DIR"):
        return Path(os.environ["TRACKIO_DIR"])
    hf_home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "huggingface"
    )
    return Path(hf_home) / "trackio"


def connect(path: Path) -> sqlite3.Connection:
    """``path`` opened without writing anything beside it (see the module's note)."""
    live = os.path.exists(f"{path}-wal")
    uri = Path(path).resolve().as_uri() + ("?mode=ro" if live else "?mode=ro&immutable=1")
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


class TrackioSource:
    """Finds and reads trackio databases.

    Args:
        extra_dirs: folders to look in beside the root (not walked: their
            ``*.db`` files only), e.g. ``[default_dir()]``.
    """

    name = TRACKIO

    def __init__(self, extra_dirs: Iterable[Path] = ()) -> None:
        self.extra_dirs = [Path(d) for d in extra_dirs]
        self._schema: dict[str, tuple[tuple[int, int], bool]] = {}
        """``db path -> ((mtime ns, size), is trackio's)``: each file checked once while unchanged."""
        self._listed: dict[str, tuple[tuple[int, ...], list[tuple[str, str | None]]]] = {}
        """``db path -> (signature, its runs)``: a database listed again only once it changed."""

    def add_dir(self, folder: Path) -> None:
        """Look in ``folder`` too (for trackio's :func:`default_dir`)."""
        if Path(folder) not in self.extra_dirs:
            self.extra_dirs.append(Path(folder))

    def find(self, root: Path) -> list[ForeignRun]:
        """One run per (trackio database, run name) under ``root`` and in the extra folders."""
        root = Path(root)
        found: list[ForeignRun] = []
        for db in self._databases(root):
            try:
                rel = db.relative_to(root).as_posix()
            except ValueError:
                rel = db.resolve().as_posix()
            for name, run_id in self._cached_runs(db):
                found.append(ForeignRun(TRACKIO, f"{rel}#{name}", db, run_id))
        return found

    def _databases(self, root: Path) -> list[Path]:
        dbs = [
            folder.path / f
            for folder in walk_root(root)
            for f in folder.files
            if f.endswith(".db") and self._is_trackio(folder.path / f)
        ]
        seen = {p.resolve() for p in dbs}
        for folder in self.extra_dirs:
            try:
                names = sorted(n for n in os.listdir(folder) if n.endswith(".db"))
            except OSError:
                continue
            for n in names:
                p = folder / n
                if p.resolve() not in seen and self._is_trackio(p):
                    dbs.append(p)
                    seen.add(p.resolve())
        return sorted(dbs)

    def _is_trackio(self, path: Path) -> bool:
        """Whether ``path`` is a SQLite database with trackio's tables (cached while unchanged)."""
        try:
            st = path.stat()
        except OSError:
            return False
        sig = (st.st_mtime_ns, st.st_size)
        known = self._schema.get(str(path))
        if known and known[0] == sig:
            return known[1]
        ok = False
        try:
            with open(path, "rb") as f:
                if f.read(16) == _SQLITE_MAGIC:
                    conn = connect(path)
                    try:
                        ok = all(need <= _columns(conn, t) for t, need in _NEEDED.items())
                    finally:
                        conn.close()
        except (OSError, sqlite3.Error):
            ok = False
        self._schema[str(path)] = (sig, ok)
        return ok

    def _cached_runs(self, db: Path) -> list[tuple[str, str | None]]:
        sig: tuple[int, ...] = ()
        for p in (db, Path(f"{db}-wal")):
            try:
                st = p.stat()
                sig += (st.st_mtime_ns, st.st_size)
            except OSError:
                sig += (0, 0)
        known = self._listed.get(str(db))
        if known and known[0] == sig:
            return known[1]
        runs = self._runs(db)
        self._listed[str(db)] = (sig, runs)
        return runs

    @staticmethod
    def _runs(db: Path) -> list[tuple[str, str | None]]:
        """``(run name, trackio run id or None)`` of each run in ``db``."""
        try:
            conn = connect(db)
            try:
                names: dict[str, str | None] = {}
                has_ids = "run_id" in _columns(conn, "configs")
                q = (
                    "SELECT run_name, run_id FROM configs"
                    if has_ids
                    else ("SELECT run_name, NULL FROM configs")
                )
                for name, rid in conn.execute(q):
                    names[name] = rid if names.get(name, rid) == rid else None
                for (name,) in conn.execute("SELECT DISTINCT run_name FROM metrics"):
                    names.setdefault(name, None)
            finally:
                conn.close()
        except sqlite3.Error:
            return []
        return sorted(names.items())

    def read(self, run: ForeignRun, cursor: dict[str, Any]) -> tuple[Batch, dict[str, Any]]:
        """The rows after the cursor's row ids, the config when it changed, and the run's state."""
        cur = {"metrics_id": 0, "system_id": 0, "config_id": None, "step": 0, "last_t": None,
               "meta": {}, **cursor}  # fmt: skip
        batch = Batch()
        name = run.key.rsplit("#", 1)[1]
        try:
            conn = connect(run.path)
            try:
                self._read(conn, name, run, cur, batch)
            finally:
                conn.close()
        except sqlite3.Error as e:
            batch.warnings.append(f"{run.path}: run {name!r} not read ({e})")
        return batch, cur

    def _read(
        self, conn: sqlite3.Connection, name: str, run: ForeignRun, cur: dict[str, Any], b: Batch
    ) -> None:
        meta = dict(cur["meta"])
        row = conn.execute(
            "SELECT id, config FROM configs WHERE run_name = ? ORDER BY id DESC LIMIT 1", (name,)
        ).fetchone()
        if row is not None and row[0] != cur["config_id"]:
            cur["config_id"] = row[0]
            config = json_object(row[1])
            b.config = {k: v for k, v in config.items() if not k.startswith("_")}
            for key, field in (("_Group", "group"), ("_Username", "user")):
                if config.get(key):
                    meta[field] = config[key]
            if isinstance(config.get("_Command"), str):
                meta["command"] = split_command(config["_Command"])
            created = unix_time(config.get("_Created"))
            if created is not None:
                meta["start_time"] = created
        where, args = "run_name = ?", [name]
        if run.run_id and "run_id" in _columns(conn, "metrics"):
            where, args = "run_id = ?", [run.run_id]  # indexed in trackio's schema
        after = cur["metrics_id"]
        lines = history_lines(conn, where, args, after)
        if lines is not None:
            b.lines, b.line_steps = lines.text, (lines.first_step, lines.last_step)
            cur["metrics_id"], cur["step"] = lines.last_id, lines.step
            newest = unix_time(lines.last_time)
            cur["last_t"] = cur["last_t"] if newest is None else newest
            first_t = unix_time(lines.first_time)
            if first_t is not None:
                meta.setdefault("start_time", first_t)
            pairs: list[tuple[float | None, int]] | None = None
        else:
            pairs = self._read_rows(conn, name, run, cur, b, where, args)
        if "system_metrics" in _tables(conn):
            self._read_system(conn, name, cur, b, pairs, (where, args, after))
        meta.update({"id": run.run_id or name, "name": name, "project": run.path.stem})
        meta["state"] = "running" if self._recent(cur) else "finished"
        meta["source_quiet_s"] = QUIET_S  # (no state of trackio's: see QUIET_S)
        meta["source_heartbeat"] = cur["last_t"]
        if meta != cur["meta"]:
            b.meta = cur["meta"] = meta

    @staticmethod
    def _recent(cur: dict[str, Any]) -> bool:
        return cur["last_t"] is not None and time.time() - cur["last_t"] < QUIET_S

    @staticmethod
    def _read_rows(
        conn: sqlite3.Connection,
        name: str,
        run: ForeignRun,
        cur: dict[str, Any],
        b: Batch,
        where: str,
        args: list[Any],
    ) -> list[tuple[float | None, int]]:
        """Rows one by one in Python (NaN, text, nested or damaged values among them)."""
        pairs: list[tuple[float | None, int]] = []
        after = cur["metrics_id"]
        got = _metric_rows(conn, where, args, after)
        if got is None:
            return pairs
        last_id, steps, stamps, text, count = got
        cur["metrics_id"] = last_id
        try:
            values = orjson.loads(text)
            if not only_numbers(text, count):
                values = [metric_values(v) for v in values]
        except (TypeError, ValueError):  # a damaged row: each read alone, and skipped
            texts = _row_texts(conn, where, args, after, last_id)
            values = [metric_values(json_object(t)) if json_object(t) else None for t in texts]
            bad = values.count(None)
            b.warnings.append(f"{run.path}: {bad} unreadable row(s) of run {name!r} skipped")
        stamp = Stamps()
        pairs = [(stamp(ts), step) for ts, step in zip(stamps, steps, strict=True)]
        b.rows.extend(
            (step, t, v) for (t, step), v in zip(pairs, values, strict=True) if v is not None
        )
        cur["step"] = steps[-1]
        known = [t for t, _ in pairs if t is not None]
        cur["last_t"] = max(known) if known else cur["last_t"]
        return pairs

    @staticmethod
    def _read_system(
        conn: sqlite3.Connection,
        name: str,
        cur: dict[str, Any],
        b: Batch,
        pairs: list[tuple[float | None, int]] | None,
        rows_read: tuple[str, list[Any], int],
    ) -> None:
        """System rows after the cursor, each at the step logged last before it.

        ``pairs``: the (time, step) of the metric rows just read, None where
        they were read as lines (then fetched from ``rows_read``, the query
        and cursor of that read, only when there are system rows).
        """
        rows = conn.execute(
            "SELECT id, timestamp, metrics FROM system_metrics"
            " WHERE run_name = ? AND id > ? ORDER BY id",
            (name, cur["system_id"]),
        ).fetchall()
        if not rows:
            return
        cur["system_id"] = rows[-1][0]
        if pairs is None:
            where, args, after = rows_read
            stamp = Stamps()
            got = time_steps(conn, where, args, after, cur["metrics_id"])
            pairs = [(stamp(ts), step) for ts, step in got]
        times: list[float] = []
        steps: list[int] = []
        for t, step in pairs:
            if t is not None and (not times or t >= times[-1]):
                times.append(t)
                steps.append(step)
        stamp = Stamps()
        for _, ts, text in rows:
            t = stamp(ts)
            i = bisect_right(times, t) - 1 if t is not None else -1
            step = steps[i] if i >= 0 else cur["step"]
            values = system_values(json_object(text))
            if values:
                b.rows.append((step, t, values))


def _metric_rows(
    conn: sqlite3.Connection, where: str, args: list[Any], after: int
) -> tuple[int, list[int], list[str], str, int] | None:
    """``(last row id, steps, timestamps, the metrics as one JSON array, rows)`` after ``after``.

    SQLite joins the rows itself (one string each, in row id order), so a
    read costs one ``orjson.loads`` rather than one per row. None: no rows.
    """
    last, count, steps, stamps, text = conn.execute(
        "SELECT max(id), count(*), json_group_array(step), json_group_array(timestamp),"
        " '[' || group_concat(CAST(metrics AS TEXT), ',') || ']'"
        f" FROM (SELECT id, step, timestamp, metrics FROM metrics WHERE {where} AND id > ?"
        " ORDER BY id)",
        (*args, after),
    ).fetchone()
    if not count:
        return None
    return last, orjson.loads(steps), orjson.loads(stamps), text, count


def _row_texts(
    conn: sqlite3.Connection, where: str, args: list[Any], after: int, last: int
) -> list[str]:
    """The metrics JSON of each row of :func:`_metric_rows`, one by one (to find a damaged one)."""
    return [
        r[0]
        for r in conn.execute(
            f"SELECT CAST(metrics AS TEXT) FROM metrics WHERE {where} AND id > ? AND id <= ?"
            " ORDER BY id",
            (*args, after, last),
        )
    ]


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
