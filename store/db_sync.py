"""Bulk loads written without syncing to disk, and the markers that make that safe.

See :func:`unsynced`. ``store.db`` settles a marker before it opens a file
(:func:`settle_marker`) and syncs a completed load's file when it closes it
(:func:`sync_and_unmark`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trackui.store.db import Opened

UNSYNCED_SUFFIX = ".unsynced"
"""Beside an index file written without syncing: the boot it was written in."""
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


@dataclass
class BulkWrites:
    """What :func:`unsynced` yields: the caller says when its load completed."""

    done: bool = False


def boot_id() -> str | None:
    """What tells this boot of the machine from the others (None where unknown)."""
    try:
        return BOOT_ID.read_text().strip() or None
    except OSError:
        return None


def _marker(path: Path) -> Path:
    return path.with_name(path.name + UNSYNCED_SUFFIX)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def index_files(path: Path) -> tuple[Path, Path]:
    """An index file and its WAL."""
    return path, path.with_name(path.name + ".wal")


def remove_files(paths: Iterable[Path]) -> bool:
    """Remove those of ``paths`` that exist; False if one could not be removed."""
    try:
        for p in paths:
            if p.exists():
                p.unlink()
    except OSError:
        return False
    return True


def _sync_files(path: Path) -> None:
    """Flush an index file and its WAL to disk (raises OSError)."""
    for p in index_files(path):
        if p.exists():
            _fsync(p)


@contextlib.contextmanager
def unsynced(opened: Opened) -> Iterator[BulkWrites]:
    """Write without syncing to disk, for a bulk load.

    DuckDB syncs its file at every commit. A cold load of many files commits
    once per batch, and those syncs cost about a tenth of its time. The index
    is a cache of the files, so a sync only matters if the machine itself
    goes down (a killed process loses nothing that the kernel was given).

    While unsynced writes may be lost, a marker holding this boot's id lies
    beside the index file. The marker is written and synced first. After a
    load that completed (``done`` set on what this yields), a thread syncs
    the file and removes the marker; :func:`close_db` waits for it. A load
    stopped part-way (a viewer quitting) leaves syncs off and the marker in
    place, so that closing does not wait for the disk. So does a process
    killed meanwhile. The next open in the same boot syncs the file and
    removes the marker (the kernel still holds every write). An index found
    with a marker from another boot is rebuilt from the files (see
    :func:`settle_marker`).

    A temporary index never outlives its process, so it syncs nothing at all
    (see :func:`open_db`). Without a boot id (not Linux), syncs stay on.
    """
    import duckdb

    writes = BulkWrites()
    path, boot = opened.path, boot_id()
    if opened.kind not in ("root", "user") or path is None or boot is None:
        yield writes
        return
    if opened.syncing is not None:
        opened.syncing.join()  # (it would remove the marker written next)
    if not opened.unsynced:
        try:
            marker = _marker(path)
            with open(marker, "w", encoding="utf-8") as f:
                f.write(boot)
                f.flush()
                os.fsync(f.fileno())
            _fsync(marker.parent)
        except OSError:
            yield writes  # no marker, no shortcut
            return
        opened.con.execute("SET fsync_mode='NONE'")
        opened.unsynced = True
    try:
        yield writes
    finally:
        if writes.done:
            with contextlib.suppress(duckdb.Error):
                opened.con.execute("SET fsync_mode='STANDARD'")
                opened.unsynced = False
        if not opened.unsynced:
            opened.syncing = threading.Thread(
                target=sync_and_unmark, args=(path,), name="trackui-sync", daemon=True
            )
            opened.syncing.start()


def settle_marker(path: Path, notes: list[str]) -> bool:
    """Deal with an unsynced marker before ``path`` is opened; False to rebuild it.

    A marker from another boot means the machine went down with writes
    possibly lost: the file cannot be trusted.
    """
    marker = _marker(path)
    try:
        written_in = marker.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return True
    except OSError:
        written_in = ""
    if written_in and written_in == boot_id():
        return True  # the kernel still holds every write: synced once opened
    notes.append(f"{path}: not synced before the machine restarted, rebuilt")
    return remove_files((*index_files(path), marker))


def sync_and_unmark(path: Path) -> None:
    """Sync an index file written unsynced in this boot, then drop its marker."""
    marker = _marker(path)
    if not marker.exists():
        return
    try:
        _sync_files(path)
        marker.unlink()
    except OSError:
        pass  # kept: the next open after a restart rebuilds the index
