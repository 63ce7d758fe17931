"""The index's tables in DuckDB: the schema, its version, and the tables of run history.

``store.db`` opens the database and calls :func:`prepare`; the write and read
sides name tables through the helpers here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SCHEMA_VERSION = "7"
"""Bump when the tables change: an index file with another version is rebuilt."""
SCHEMA = """
CREATE TABLE IF NOT EXISTS info(key VARCHAR, value VARCHAR);
CREATE TABLE IF NOT EXISTS runs(
    rid INTEGER, id VARCHAR, dir VARCHAR, name VARCHAR, project VARCHAR, grp VARCHAR,
    job_type VARCHAR, tags VARCHAR[], state VARCHAR, host VARCHAR, created VARCHAR,
    start_time DOUBLE, notes VARCHAR, sig VARCHAR, meta VARCHAR, config VARCHAR,
    summary VARCHAR, warnings VARCHAR);
CREATE TABLE IF NOT EXISTS config_kv(rid INTEGER, key VARCHAR, num DOUBLE, txt VARCHAR);
CREATE TABLE IF NOT EXISTS summary_kv(rid INTEGER, key VARCHAR, num DOUBLE, txt VARCHAR);
CREATE TABLE IF NOT EXISTS metric_names(mid INTEGER, name VARCHAR);
CREATE TABLE IF NOT EXISTS points(rid INTEGER, mid INTEGER, step BIGINT, t DOUBLE, v DOUBLE);
CREATE TABLE IF NOT EXISTS wide_cols(rid INTEGER, mid INTEGER, w SMALLINT, col SMALLINT);
CREATE TABLE IF NOT EXISTS texts(rid INTEGER, key VARCHAR, step BIGINT, t DOUBLE, val VARCHAR);
CREATE TABLE IF NOT EXISTS hist(
    rid INTEGER, off BIGINT, size BIGINT, mtime_ns BIGINT, ino BIGINT, head VARCHAR, tail VARCHAR,
    steps BIGINT, last_step BIGINT, first_t DOUBLE, last_t DOUBLE, warnings VARCHAR,
    stats STRUCT(mid INTEGER, n BIGINT, first_step BIGINT, last_step BIGINT, last_v DOUBLE)[],
    summary_ok BOOLEAN);
"""
"""``hist`` is one row per run's history file: how far it is loaded, and the
stats of each metric so far (one row to rewrite per live refresh, not one per
metric). ``summary_ok`` is false while the run's ``summary_kv`` rows lag its
stats: they are written when a filter needs them or at close, and an index
opened after a crash rewrites the ones left behind.

Numeric values live in two layouts. ``points`` is one row per value (run,
metric, step, time, value): the line-by-line path writes there. A whole file
loaded in bulk, where most of its records hold most of its metrics, goes to
``wide<W>`` instead, one row per record: run, step, time and ``v0`` to
``v<W-1>``, a column per metric of the batch (NULL where a record has none
of it); ``wide_cols`` says which column holds which metric of which run.
Appending a record's row costs a third of appending its values as rows, the
step and time are stored once, and a run's values of one metric are read
without the others' rows. A run's rows in ``wide<W>`` come before its rows
in ``points`` in its file (appends after a bulk load go line by line)."""

_TABLES = (
    "runs", "config_kv", "summary_kv", "metric_names", "points", "wide_cols", "texts", "hist"
)  # fmt: skip
_OLD_TABLES = ("mstats",)
"""Tables of earlier versions, dropped with them."""


def wide_table(w: int) -> str:
    """The table of bulk-loaded records with ``w`` value columns."""
    return f"wide{int(w)}"


def ensure_wide_table(cur: Any, w: int) -> str:
    """Create ``wide<w>`` if it is missing; its name."""
    name = wide_table(w)
    cols = ", ".join(f"v{i} DOUBLE" for i in range(int(w)))
    cur.execute(f"CREATE TABLE IF NOT EXISTS {name}(rid INTEGER, step BIGINT, t DOUBLE, {cols})")
    return name


def wide_tables(cur: Any) -> list[str]:
    """The ``wide<W>`` tables the database holds."""
    rows = cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND regexp_full_match(table_name, 'wide[0-9]+')"
    ).fetchall()
    return sorted(r[0] for r in rows)


def run_tables(cur: Any) -> list[str]:
    """The tables that hold rows of each run's history (deleted by ``rid``)."""
    return ["points", "wide_cols", *wide_tables(cur), "texts", "hist"]


def all_tables(cur: Any) -> list[str]:
    """Every table of the index but ``info``."""
    return [*_TABLES, *wide_tables(cur)]


def prepare(con: Any, root: Path) -> bool:
    """Create the schema; drop everything first if the file is from another version."""
    con.execute("CREATE TABLE IF NOT EXISTS info(key VARCHAR, value VARCHAR)")
    rows = dict(con.execute("SELECT key, value FROM info").fetchall())
    ok = rows.get("schema") == SCHEMA_VERSION and rows.get("root") == str(root.resolve())
    if not ok:
        for t in (*_TABLES, *_OLD_TABLES, *wide_tables(con)):
            con.execute(f"DROP TABLE IF EXISTS {t}")
        con.execute("DELETE FROM info")
    con.execute(SCHEMA)
    if not ok:
        con.execute(
            "INSERT INTO info VALUES ('schema', ?), ('root', ?)",
            [SCHEMA_VERSION, str(root.resolve())],
        )
    return not ok
