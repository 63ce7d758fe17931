"""The DuckDB database behind the index: where it lives, its settings, and fallbacks.

The index is a cache of the run files, never the truth. It is kept in
``<root>/.trackui/index.duckdb`` so that the next viewer opens fast. When that
file cannot be used (a read-only root, a second viewer holding DuckDB's lock,
a damaged or outdated file) the index moves to a per-user cache file, then to
a private temporary file, and last to memory. Every one of those still works;
only the start-up time differs.

A place is used only once a write to it has been committed (:func:`_probe`):
a file that opens but cannot be written (a full disk, a folder that another
user owns, where DuckDB cannot create its WAL) is passed over like one that
does not open. A place that fails later, in the middle of a load (the disk
fills up), is set aside for the rest of the process with :func:`set_aside`,
and the index opens again one step down the chain: :func:`cache_unusable`
tells such an error from a bug.

The tables are in ``store.db_schema``; bulk loads written without syncing,
and their markers, in ``store.db_sync``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trackui.store import layout
from trackui.store.db_schema import prepare
from trackui.store.db_sync import index_files, remove_files, settle_marker, sync_and_unmark

CACHE_DIR_NAME = layout.CACHE_DIR
CACHE_FILE = layout.INDEX_FILE

MEMORY_LIMIT = "256MB"
"""DuckDB's buffer pool: a file-backed index spills to disk rather than grow past it."""
LOAD_MEMORY_LIMIT = "384MB"
"""The buffer pool while a batch of whole files loads (see :func:`bulk_memory`)."""
LOAD_KEEP = "128MB"
"""What a file-backed index keeps cached after each such batch."""
LOAD_SKIP_COMPRESSION = "alp,alprd"
"""Compression methods not tried while whole files load (see :func:`bulk_memory`)."""
STAGE_DB = "_bulk"
"""An in-memory database attached to the index's, where batches of whole files are
staged (parsed) before they are written: a thread stages the next batch while the
last one is written, which a TEMP table (one connection's own) would not allow."""


class IndexOpenError(OSError):
    """No place to keep the index could be opened at all (not even memory)."""


_set_aside: dict[str, str] = {}
"""Places this process found unusable after opening them (cache file paths, and
``temp`` for temporary files), each with the note that says why. :func:`open_db`
passes over them."""
_set_aside_lock = threading.Lock()

_UNUSABLE_WORDS = (
    "permission denied",
    "no space left",
    "disk quota",
    "read-only file system",
    "could not write",
    "failed to commit",
    "cannot rollback",
    "invalidated",
    "i/o error",
    "input/output error",
)
"""Words of a DuckDB error that says the storage, not the query, failed."""


@dataclass
class Opened:
    """A DuckDB connection and where its data lives."""

    con: Any
    """The ``duckdb.DuckDBPyConnection`` the index owns."""
    path: Path | None
    """The database file, or None for memory."""
    kind: str
    """``root`` (``<root>/.trackui``), ``user`` (per-user cache), ``temp`` or ``memory``."""
    fresh: bool
    """Whether the tables were (re)created empty, so nothing cached can be trusted."""
    notes: tuple[str, ...] = ()
    """One line for each place that was tried and could not be used."""
    syncing: threading.Thread | None = None
    """Syncing the file after a bulk load written unsynced (see :func:`unsynced`)."""
    unsynced: bool = False
    """Whether a load stopped part-way left writes that nothing is syncing."""


def user_cache_path(root: Path) -> Path:
    """The per-user cache file for ``root`` (used when the root is read-only or locked)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    digest = hashlib.sha1(str(root.resolve()).encode("utf-8", "surrogateescape")).hexdigest()
    return Path(base) / "trackui" / f"index-{digest[:16]}.duckdb"


def _configure(con: Any, temp_dir: str | None) -> None:
    con.execute(f"SET memory_limit='{MEMORY_LIMIT}'")
    # Buffers from one region kept for the connection's life: with the pool
    # always full during a load, each evicted buffer otherwise goes back to
    # the allocator and the next one is faulted in afresh (a cold load of
    # 50M points took 1.8M page faults, 1.3M with this, and 5-15% less CPU).
    con.execute(f"SET block_allocator_memory='{MEMORY_LIMIT}'")
    # The index is rebuilt from the files whenever in doubt: no need for the
    # extra ordering guarantees' cost on reads, but inserts must keep file
    # order (series rely on it to keep the last of duplicated steps).
    con.execute("SET preserve_insertion_order=true")
    if temp_dir is not None:
        con.execute(f"SET temp_directory='{temp_dir}'")
    con.execute(f"ATTACH ':memory:' AS {STAGE_DB}")


@contextlib.contextmanager
def bulk_memory(con: Any, file_backed: bool) -> Iterator[None]:
    """Room for one bulk batch, and the pool emptied of what it cached afterwards.

    A batch needs its staged rows and DuckDB's JSON buffers; the blocks of
    points written by earlier batches are not needed again during the load,
    but they fill the pool, and every allocation then evicts and faults in
    fresh pages (half the page faults of a cold load, about 10% of its CPU).
    Lowering the limit for a moment drops them (they are on disk). Only for a
    file-backed index: an in-memory one has nowhere to put its tables.

    While the batch is written, a file-backed index does not try ALP and
    ALP-RD on its floating-point columns: for logged values (all their
    digits significant) the analysis fails or saves little, and it cost 5
    to 8% of a cold load's CPU time (50M points: about 28.5 to 27 CPU-s);
    the index file grows by a sixth (490 to 567 MB). Times, repeated on a
    record's rows, still compress (RLE). Appended lines keep DuckDB's choice.
    """
    import duckdb

    con.execute(f"SET memory_limit='{LOAD_MEMORY_LIMIT}'")
    if file_backed:
        con.execute(f"SET disabled_compression_methods='{LOAD_SKIP_COMPRESSION}'")
    try:
        yield
    finally:
        if file_backed:
            con.execute("RESET disabled_compression_methods")
        try:
            if file_backed:
                con.execute(f"SET memory_limit='{LOAD_KEEP}'")
        except duckdb.Error:
            pass  # could not drop that much: keep the cache, no harm
        con.execute(f"SET memory_limit='{MEMORY_LIMIT}'")


def _short(e: BaseException) -> str:
    return " ".join(str(e).split())[:160]


def _try_file(path: Path, root: Path, notes: list[str]) -> tuple[Any, bool] | None:
    import duckdb

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        notes.append(f"{path.parent}: cannot create ({e.strerror or e})")
        return None
    if path.exists() and not os.access(path, os.W_OK):
        notes.append(f"{path}: not writable")
        return None
    if not settle_marker(path, notes):
        notes.append(f"{path}: cannot be rebuilt")
        return None
    for attempt in (1, 2):
        try:
            con = duckdb.connect(str(path))
        except duckdb.IOException as e:
            msg = str(e)
            if "lock" in msg.lower():
                notes.append(f"{path}: in use by another viewer")
                return None
            if not _rebuilt(path, notes, attempt, e):
                return None
            continue
        except duckdb.Error as e:
            # A damaged or foreign file: it is only a cache, rebuild it.
            if not _rebuilt(path, notes, attempt, e):
                return None
            continue
        try:
            _configure(con, str(path.parent / "tmp"))
            fresh = prepare(con, root)
            _probe(con)
        except (duckdb.Error, OSError) as e:
            with contextlib.suppress(Exception):
                con.close()
            if cache_unusable(e):
                # Not damaged: it cannot be written here and now (a full disk,
                # a folder owned by someone else). Keep it for whoever can.
                notes.append(f"{path}: cannot be written ({_short(e)})")
                return None
            if not _rebuilt(path, notes, attempt, e):
                return None
            continue
        # Held by this process now: a marker left by an earlier one that was
        # killed in this boot can go once the file is synced.
        sync_and_unmark(path)
        return con, fresh
    return None


def _rebuilt(path: Path, notes: list[str], attempt: int, why: BaseException) -> bool:
    """After an error that says the file is damaged: True once it is removed for a
    second try (it is only a cache), False (with a note) to pass over it."""
    if attempt == 1:
        notes.append(f"{path}: damaged cache rebuilt ({_short(why)})")
        if remove_files(index_files(path)):
            return True
    notes.append(f"{path}: unusable ({_short(why)})")
    return False


def cache_unusable(e: BaseException) -> bool:
    """Whether ``e`` (or what it was raised from) says the index's storage failed.

    True for an ``OSError``, a DuckDB I/O, permission or fatal error, and a
    DuckDB transaction error about a commit or a rollback (a full disk in the
    middle of a transaction shows as "cannot rollback - no transaction is
    active"). False for anything else, which is a bug to report.
    """
    import duckdb

    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, (OSError, duckdb.IOException, duckdb.PermissionException)):
            return True
        if isinstance(cur, duckdb.FatalException):
            return True
        if isinstance(cur, duckdb.Error):
            msg = str(cur).lower()
            if any(w in msg for w in _UNUSABLE_WORDS):
                return True
        cur = cur.__cause__ or cur.__context__
    return False


def set_aside(opened: Opened, why: BaseException | str) -> str:
    """Give up the place ``opened`` lives in, for the rest of this process.

    Closes the connection (its errors ignored: the storage has failed) and
    makes :func:`open_db` pass over that place from now on. The caller then
    opens the index again with :func:`open_db` (or :func:`reopen`); what it
    gets is fresh unless a place further down held a cache already.

    Returns:
        The note that says why (also kept in the next ``Opened.notes``).
    """
    where = str(opened.path) if opened.path is not None else "memory"
    note = f"{where}: given up ({_short(why) if isinstance(why, BaseException) else why})"
    if opened.kind in ("root", "user") and opened.path is not None:
        key = str(opened.path)
    elif opened.kind == "temp":
        key = "temp"
    else:
        key = ""
    if key:
        with _set_aside_lock:
            _set_aside[key] = note
    _close(opened)
    return note


def reopen(opened: Opened, root: Path, why: BaseException | str) -> Opened:
    """:func:`set_aside` the place ``opened`` lives in and open the next one down.

    What the index's write side calls when a write fails with an error that
    :func:`cache_unusable` accepts: roll nothing back (the transaction is gone
    with the storage), call this, take the ``Opened`` it returns as the
    index's database, and treat it like one opened at start: if ``fresh``,
    nothing in it is cached, so every run is loaded again.
    """
    set_aside(opened, why)
    return open_db(root, cache=opened.kind in ("root", "user"))


def _probe(con: Any) -> None:
    """Commit one small write, so that a file which opens but cannot be written
    (no room for DuckDB's WAL, a folder it cannot create files in) fails here."""
    # (A row rewritten with its own value, or written and removed in one
    # transaction, reaches no file: the probe row is replaced by a new one.)
    con.execute("BEGIN")
    con.execute("DELETE FROM info WHERE key = 'probe'")
    con.execute("INSERT INTO info VALUES ('probe', '')")
    con.execute("COMMIT")


def _set_aside_note(key: str) -> str | None:
    with _set_aside_lock:
        return _set_aside.get(key)


def cache_paths(root: Path) -> list[Path]:
    """Where ``open_db`` looks for a cache file of ``root``, in order."""
    return [root / CACHE_DIR_NAME / CACHE_FILE, user_cache_path(root)]


def open_db(root: Path, *, cache: bool = True) -> Opened:
    """Open the index database for ``root``, falling back as the module docstring says.

    Args:
        root: The run root the index describes.
        cache: Whether to keep the index in a file for the next start.

    Returns:
        The connection and where it lives.
    """
    import duckdb

    notes: list[str] = []
    if cache:
        places = [("user", user_cache_path(root))]
        if root.is_dir():  # never create a root as a side effect of looking at it
            places.insert(0, ("root", root / CACHE_DIR_NAME / CACHE_FILE))
        else:
            notes.append(f"{root}: not a directory (index not kept there)")
        for kind, path in places:
            aside = _set_aside_note(str(path))
            if aside is not None:
                notes.append(aside)
                continue
            got = _try_file(path, root, notes)
            if got is not None:
                return Opened(got[0], path, kind, got[1], tuple(notes))
    # A private file keeps memory bounded (DuckDB evicts to it) and vanishes on close.
    aside = _set_aside_note("temp")
    if aside is not None:
        notes.append(aside)
    else:
        tmp: Path | None = None
        try:
            tmp = Path(tempfile.mkdtemp(prefix="trackui-index-"))
            con = duckdb.connect(str(tmp / CACHE_FILE))
            try:
                _configure(con, str(tmp / "tmp"))
                con.execute("SET fsync_mode='NONE'")  # deleted on close, never opened again
                prepare(con, root)
                _probe(con)
            except BaseException:
                with contextlib.suppress(Exception):
                    con.close()
                raise
            return Opened(con, tmp / CACHE_FILE, "temp", True, tuple(notes))
        except (OSError, duckdb.Error) as e:
            notes.append(f"temporary index file: unusable ({_short(e)})")
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
    try:
        con = duckdb.connect(":memory:")
        _configure(con, None)
        prepare(con, root)
    except duckdb.Error as e:
        raise IndexOpenError(f"index: cannot open DuckDB ({_short(e)})") from e
    return Opened(con, None, "memory", True, tuple(notes))


def close_db(opened: Opened) -> None:
    """Close the connection; a temporary index file is deleted.

    A file written unsynced by a completed load is synced first (see
    :func:`unsynced`).
    """
    _close(opened)
    if opened.kind != "temp" and opened.path is not None and not opened.unsynced:
        # (Left unsynced by a load stopped part-way: the marker stays for the next open.)
        sync_and_unmark(opened.path)


def _close(opened: Opened) -> None:
    """Wait for a sync under way, close the connection (its errors ignored), and
    delete a temporary index's folder."""
    if opened.syncing is not None:
        opened.syncing.join()
    with contextlib.suppress(Exception):
        opened.con.close()
    if opened.kind == "temp" and opened.path is not None:
        shutil.rmtree(opened.path.parent, ignore_errors=True)
