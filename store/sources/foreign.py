"""The seam between other trackers' runs and the index: find them, mirror them, name their folders.

The index asks :class:`Foreign` to bring the mirror up to date before each
scan (:meth:`Foreign.refresh`): with no report (a full scan) every source
finds its runs again in one shared walk of the root and each run's mirror is
brought up to date (or, for the viewer's first scan, only listed, to be read
one by one after the first paint: :meth:`Foreign.sync_pending`); with the paths a watcher reported, only the foreign runs
under them are read again (a path no known run holds makes the sources find
again: a new folder or file). The answer names the mirrored run
directories that changed, which the catalogue and the loader then treat
like the root's own run directories.

The mirror folder is ``mirror-<digest>`` beside the per-user index file (see
``store.db.user_cache_path``); a second viewer of the same root, or an index
kept without a cache, mirrors into a private temporary folder instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from trackui.store import layout
from trackui.store.sources.base import ForeignRun, Source
from trackui.store.sources.mirror import Mirror, dir_name_of, watched_files
from trackui.store.sources.walk import shared_walk

LOCK_FILE = ".lock"


def mirror_path(root: Path) -> Path:
    """The mirror folder of ``root`` in the per-user cache, beside its index file."""
    from trackui.store.db import user_cache_path

    idx = user_cache_path(root)
    return idx.with_name("mirror-" + idx.stem.split("-", 1)[1])


class Foreign:
    """The runs of other trackers under one root, mirrored (see the module docstring).

    Args:
        root: The run root.
        cache: Mirror into the per-user cache (False: a temporary folder, removed on close).
        sources: The readers (default: ``store.sources.registry.SOURCES``).
    """

    def __init__(
        self, root: Path, *, cache: bool = True, sources: Iterable[Source] | None = None
    ) -> None:
        if sources is None:
            from trackui.store.sources.registry import SOURCES

            sources = SOURCES
        self.root = Path(root)
        self.sources = tuple(sources)
        self._cache = cache
        self._mirror: Mirror | None = None
        self._lock_fd: int | None = None
        self._tmp: Path | None = None
        self.runs: dict[str, ForeignRun] = {}
        """By mirrored directory (absolute path): replaced whole, never changed in place."""
        self._reader: dict[tuple[str, str], Source] = {}
        """Which source found each run (by source name and key): two may share a name."""
        self.warnings: list[str] = []
        """Sources that could not look for their runs (one line each)."""
        self._found = False
        self._guard = threading.Lock()
        self.pending: list[str] = []
        """Mirrored directories listed but not read yet (``refresh(None, defer=True)``), in
        the order they are read: ``sync_pending`` reads them."""

    # ------------------------------------------------------------ the folder

    @property
    def mirror(self) -> Mirror:
        """The mirror, its folder chosen (and locked) when first needed."""
        if self._mirror is None:
            self._mirror = Mirror(self._choose_folder())
        return self._mirror

    def _choose_folder(self) -> Path:
        if self._cache:
            folder = mirror_path(self.root)
            try:
                folder.mkdir(parents=True, exist_ok=True)
                fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
                import fcntl

                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)  # another viewer keeps this mirror current
                else:
                    self._lock_fd = fd
                    return folder
            except OSError:
                pass
        self._tmp = Path(tempfile.mkdtemp(prefix="trackui-mirror-"))
        return self._tmp

    @property
    def folder(self) -> Path | None:
        """The mirror folder, once one is in use."""
        return self._mirror.folder if self._mirror is not None else None

    def close(self) -> None:
        """Let go of the mirror folder (a temporary one is removed)."""
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
            self._lock_fd = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # ------------------------------------------------------------- finding

    def _find(self) -> dict[str, ForeignRun]:
        found: dict[tuple[str, str], ForeignRun] = {}
        reader: dict[tuple[str, str], Source] = {}
        warns: list[str] = []
        if self.root.is_dir():
            with shared_walk():
                for s in self.sources:
                    try:
                        runs = s.find(self.root)
                    except Exception as e:  # one source's failure hides none of the others
                        warns.append(f"{s.name}: runs not looked for ({type(e).__name__}: {e})")
                        continue
                    for r in runs:
                        if (r.source, r.key) not in found:
                            found[(r.source, r.key)] = r
                            reader[(r.source, r.key)] = s
        self.warnings = warns
        self._reader = reader
        self._found = True
        if not found and self._mirror is None:
            return {}
        m = self.mirror
        return {str(m.dir_of(r)): r for r in found.values()}

    def dirs(self) -> list[str]:
        """The mirrored run directories of the runs last found (absolute paths)."""
        return sorted(self.runs)

    def watched(self) -> dict[str, list[str]]:
        """``{foreign run path: the files that say it changed}``, for a watcher."""
        return {str(r.path): watched_files(r) for r in self.runs.values()}

    # ------------------------------------------------------------- refresh

    def refresh(
        self, dirs: Iterable[str | os.PathLike[str]] | None, *, defer: bool = False
    ) -> list[str] | None:
        """Read again the foreign runs ``dirs`` may concern; the run directories to scan.

        ``dirs``: what a watcher reported (None: everything, the sources find again).
        Returns ``dirs`` with each foreign path replaced by the mirrored
        directories that changed (those of runs gone included); None for None.

        ``defer`` (with None): the runs are found, but a run whose mirror is not
        current is only listed (a mirror never read gets its ``meta.json`` from
        the source's ``describe``, where it has one) and left in ``pending``
        for ``sync_pending``: the table shows every run before any is read.
        """
        with self._guard:
            if dirs is None:
                self.runs = self._find()
                self.pending = []
                if self._mirror is not None:
                    self._mirror.drop_except({os.path.basename(d) for d in self.runs})
                    for d, run in self.runs.items():
                        if not defer:
                            self._sync(d, run)
                        elif not self._mirror.current(run):
                            self._mirror.list_unread(run, self._reader.get((run.source, run.key)))
                            self.pending.append(d)
                return None
            out, todo, again = self._split(dirs)
            if again or not self._found:
                before = self.runs
                self.runs = self._find()
                todo |= {d for d in self.runs if d not in before}
                gone = [d for d in before if d not in self.runs]
                self.pending = [d for d in self.pending if d in self.runs]
                if gone and self._mirror is not None:
                    self._mirror.drop_except({os.path.basename(d) for d in self.runs})
                out += gone
            for d in sorted(todo):
                run = self.runs.get(d)
                if run is not None and self._sync(d, run):
                    out.append(d)
            return out

    def sync_pending(self, first: str | None = None, budget_s: float = 0.0) -> list[str]:
        """Read runs of ``pending``: ``first`` (a mirrored directory) before the others, then
        more while ``budget_s`` lasts (one at least); the mirrored directories read."""
        with self._guard:
            if first in self.pending:
                self.pending.remove(first)
                self.pending.insert(0, first)
            done: list[str] = []
            start = time.monotonic()
            while self.pending and (not done or time.monotonic() - start < budget_s):
                d = self.pending.pop(0)
                run = self.runs.get(d)
                if run is not None:
                    self._sync(d, run)
                    done.append(d)
            return done

    def _sync(self, d: str, run: ForeignRun) -> bool:
        """Read ``run`` into its mirror (at ``d``); True when the mirror changed."""
        if self.pending and d in self.pending:
            self.pending.remove(d)
        try:
            return self.mirror.sync(run, self._reader.get((run.source, run.key)))
        except OSError as e:  # (the cache folder is full or gone: the run waits)
            self.warnings = [*self.warnings, f"{run.key}: not mirrored ({e.strerror or e})"][-20:]
            return False

    def translate(self, dirs: Iterable[str | os.PathLike[str]] | None) -> list[str] | None:
        """``dirs`` with each foreign path replaced by the mirrored directories it concerns."""
        if dirs is None:
            return None
        out, todo, _again = self._split(dirs)
        return out + sorted(todo)

    def _split(self, dirs: Iterable[str | os.PathLike[str]]) -> tuple[list[str], set[str], bool]:
        """``(the root's own run directories, mirrored ones concerned, find again?)``."""
        out: list[str] = []
        todo: set[str] = set()
        again = False
        runs = self.runs
        paths = {str(r.path): d for d, r in runs.items()}
        root_s = str(self.root)
        for raw in dirs:
            p = os.fspath(raw)
            parent, name = os.path.split(p)
            if parent == root_s and layout.parse_run_dir_name(name) is not None:
                out.append(p)
                continue
            if p in runs:
                todo.add(p)
                continue
            hit = [d for rp, d in paths.items() if _related(p, rp)]
            if hit:
                todo.update(hit)
            if not hit or p == root_s or _new_folder(p, paths):
                again = True
        return out, todo, again

    def info(self) -> dict[str, Any]:
        """Where the mirror is and what it holds (for ``trackui`` diagnostics)."""
        return {"folder": str(self.folder) if self.folder else None, "runs": len(self.runs)}


def _related(p: str, run_path: str) -> bool:
    """Whether a reported path is a foreign run's path, lies in it, or holds it."""
    return (
        p == run_path
        or p.startswith(run_path + os.sep)
        or run_path.startswith(p + os.sep)
        or p.startswith(run_path + "-")  # a database's -wal and -journal
    )


def _new_folder(p: str, paths: dict[str, str]) -> bool:
    """A folder reported inside a known run's folder may be a run of its own (TensorBoard)."""
    return os.path.isdir(p) and p not in paths


__all__ = ["Foreign", "dir_name_of", "mirror_path"]
