"""The run catalogue: which run directories a root holds and what their small files say.

It only reads files (never DuckDB): :func:`scan` compares the directories
with the run table of an ``IndexState`` and says what changed; the index
installs the answer and writes it to DuckDB later.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from trackui.store import layout
from trackui.store.index_state import IndexState, RunEntry
from trackui.store.liveness import derive_state
from trackui.store.models import RunInfo
from trackui.store.reader import META_DEFAULTS, read_json_object, read_run

_SMALL = (layout.META, layout.CONFIG, layout.SUMMARY)


def names_in(
    root: Path, dirs: Iterable[str | os.PathLike[str]] | None, extra: Iterable[str] = ()
) -> set[str] | None:
    """The run directories among ``dirs`` the catalogue knows by name: those directly
    under ``root`` (by their name) and those in ``extra`` (absolute paths: mirrored runs)."""
    if dirs is None:
        return None
    extra = set(extra)
    out = set()
    for d in dirs:
        p = Path(d)
        if p.parent == root and layout.parse_run_dir_name(p.name) is not None:
            out.add(p.name)
        elif str(p) in extra:
            out.add(str(p))
    return out


def run_path(root_s: str, name: str) -> str:
    """A catalogue entry's directory: ``name`` under the root, or itself when absolute."""
    return os.path.join(root_s, name)


def signature(run_dir: str) -> str | None:
    """Sizes and mtimes of a run's small files; None when it has no ``meta.json`` yet."""
    parts = []
    for name in _SMALL:
        try:
            st = os.stat(run_dir + os.sep + name)
        except FileNotFoundError:
            if name == layout.META:
                return None
            parts.append("-")
            continue
        except OSError:
            parts.append("?")
            continue
        parts.append(f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}")
    return "|".join(parts)


def _placeholder(run_dir: Path, why: str) -> RunInfo | None:
    """A run whose ``meta.json`` cannot be used: listed with a warning, nothing loaded."""
    parsed = layout.parse_run_dir_name(run_dir.name)
    if parsed is None:
        return None
    meta = {**META_DEFAULTS, "id": parsed[1], "state": "crashed"}
    return RunInfo(parsed[1], run_dir, meta, {}, {}, "crashed", (why,))


def read_entry(root: Path, name: str, rid: int, sig: str, now: float) -> RunEntry | None:
    """The run in ``root/name`` read from its small files; None while it has no ``meta.json``.

    ``name`` may be an absolute path (a mirrored run of another tracker).

    A ``meta.json`` that cannot be used gives a placeholder (``readable`` False).
    """
    run_dir = root / name
    info = read_run(run_dir, now=now)
    if info is not None:
        return RunEntry(rid, name, sig, info)
    warns: list[str] = []
    meta = read_json_object(run_dir / layout.META, warns)
    if meta is None:
        if not warns:
            return None  # not written yet: the run appears once it is
        info = _placeholder(run_dir, warns[0])
    else:
        fmt = meta.get("format")
        info = _placeholder(
            run_dir,
            f"{layout.META}: format {fmt!r} is newer than this trackui reads "
            f"({layout.FORMAT_VERSION}); run not loaded",
        )
    return None if info is None else RunEntry(rid, name, "", info, readable=False)


def rederived(root: Path, run: RunEntry, now: float) -> RunEntry | None:
    """``run`` with its state derived again if it moved (a running run's writer may have died)."""
    if not run.claims_running():
        return None
    d = root / run.dir
    state = derive_state(run.info.meta, d, now=now)
    if state == run.info.state:
        return None
    i = run.info
    return RunEntry(run.rid, run.dir, run.sig,
                    RunInfo(i.id, d, i.meta, i.config, i.summary, state, i.warnings))  # fmt: skip


@dataclass
class Scanned:
    """What a scan found: the new run table and what to write to DuckDB."""

    runs: dict[str, RunEntry]
    by_dir: dict[str, RunEntry]
    changed: set[str] = field(default_factory=set)
    """Ids of runs new, changed (files or derived state) or vanished."""
    upserts: list[RunEntry] = field(default_factory=list)
    state_updates: list[RunEntry] = field(default_factory=list)
    gone: list[RunEntry] = field(default_factory=list)
    warnings: list[str] | None = None
    """Root-level warnings (None: as the last full scan left them)."""


def _look(
    root: Path, name: str, prev: RunEntry | None, sig: str, now: float, alloc: Callable[[], int]
) -> tuple[RunEntry | None, str]:
    """The scan's rule for one directory whose small files have signature ``sig``.

    Returns the run (None: not a run yet) and how it changed: ``same``,
    ``state`` (derived again) or ``read`` (read again, or new).
    """
    if prev is not None and prev.sig == sig:
        moved = rederived(root, prev, now)
        return (prev, "same") if moved is None else (moved, "state")
    run = read_entry(root, name, prev.rid if prev is not None else 0, sig, now)
    if run is not None and prev is None:
        run.rid = alloc()
    return run, "read"


def scan_reported(root: Path, old: IndexState, by_dir: dict[str, RunEntry], only: set[str],
                  now: float) -> Scanned | None:  # fmt: skip
    """``scan`` of a few reported runs, without a pass over every run.

    A live refresh reports the few runs being written, in a root that may
    hold thousands: their entries are replaced in a copy of the run table,
    and the other running runs' states derived again. None when a reported
    run is new, vanished or changed its id: the caller then makes the full pass.
    """
    if not only <= by_dir.keys():
        return None
    root_s = str(root)
    out = Scanned(dict(old.runs), by_dir)
    for name in sorted(only):
        prev = by_dir[name]
        sig = signature(run_path(root_s, name))
        if sig is None:
            return None
        if sig == prev.sig:
            continue  # (its state is looked at below, with the other running runs)
        run = read_entry(root, name, prev.rid, sig, now)
        if run is None or run.info.id != prev.info.id:
            return None
        out.runs[run.info.id] = run
        out.upserts.append(run)
        out.changed.add(run.info.id)
    touched = {r.info.id for r in out.upserts}
    for run in old.runs.values():
        if run.claims_running() and run.info.id not in touched:
            moved = rederived(root, run, now)
            if moved is not None:
                out.runs[moved.info.id] = moved
                out.state_updates.append(moved)
                out.changed.add(moved.info.id)
    if out.upserts or out.state_updates:
        out.by_dir = {**by_dir, **{r.dir: r for r in (*out.upserts, *out.state_updates)}}
    return out


def scan(
    root: Path,
    old: IndexState,
    by_dir: dict[str, RunEntry],
    only: set[str] | None,
    now: float,
    alloc: Callable[[], int],
    warnings: list[str],
    extra: list[str] | None = None,
) -> Scanned:
    """List run directories and read the small files of new or changed runs.

    ``only``: the only run directories that may have changed (None: all);
    ``warnings``: the root-level warnings the last full scan left;
    ``extra``: run directories elsewhere (absolute paths: mirrored runs), listed after the root's.
    """
    if only is not None:
        got = scan_reported(root, old, by_dir, only, now)
        if got is not None:
            return got
    out = Scanned({}, {}, warnings=[])
    root_s = str(root)
    if only is None:
        if not root.is_dir():
            out.warnings.append(f"{root}: not a directory (no runs)")
        try:
            names = layout.list_run_names(root)
        except OSError:
            names = []
        names += extra or []
    else:
        # The runs known already and the directories reported, in the
        # order a full listing gives; warnings stay as the last full scan left them.
        out.warnings = list(warnings)
        names = sorted(set(by_dir) | {n for n in only if (root / n).is_dir()})
        names = [n for n in names if not os.path.isabs(n)] + [n for n in names if os.path.isabs(n)]
    for name in names:
        prev = by_dir.get(name)
        if only is not None and name not in only and prev is not None:
            # Not reported: unchanged on disk. Only a running run's
            # state can move (its writer may have died).
            if not prev.claims_running():
                out.runs[prev.info.id] = prev
                continue
            sig: str | None = prev.sig
        else:
            sig = signature(run_path(root_s, name))
        if sig is None:
            continue
        run, how = _look(root, name, prev, sig, now, alloc)
        if run is None:
            continue
        if how != "same":
            (out.state_updates if how == "state" else out.upserts).append(run)
            out.changed.add(run.info.id)
            if how == "read" and prev is not None:
                out.changed.add(prev.info.id)  # (the same, or the id it had before)
        if run.info.id in out.runs:
            if only is not None:
                continue  # said by the last full scan already
            out.warnings.append(
                f"{name}: run id {run.info.id!r} already used by "
                f"{out.runs[run.info.id].dir}; skipped"
            )
            continue
        out.runs[run.info.id] = run
    kept_rids = {r.rid for r in out.runs.values()}
    out.gone = [r for r in old.runs.values() if r.rid not in kept_rids]
    out.changed.update(r.info.id for r in out.gone)
    out.by_dir = {r.dir: r for r in out.runs.values()}
    return out


class Catalogue:
    """The run directories of one root as the index knows them: scans, and numbering new runs.

    A run's number (``rid``) is given here, once, when its directory is
    first read, and kept while the directory is (see ``store.index_state``).
    Not thread-safe: the index scans one refresh at a time.
    """

    def __init__(self, root: Path, extra: Callable[[], list[str]] | None = None) -> None:
        self.root = root
        self.extra = extra
        """The run directories listed besides the root's (mirrored runs), absolute paths."""
        self.warnings: list[str] = []
        """Root-level warnings (duplicate run ids, an unreadable root)."""
        self.next_rid = 1
        self._by_dir: tuple[dict[str, RunEntry], dict[str, RunEntry]] = ({}, {})

    def _alloc(self) -> int:
        rid = self.next_rid
        self.next_rid += 1
        return rid

    def by_dir(self, st: IndexState) -> dict[str, RunEntry]:
        """The runs of ``st`` by directory name (kept while its run table is)."""
        if self._by_dir[0] is not st.runs:
            self._by_dir = (st.runs, {r.dir: r for r in st.runs.values()})
        return self._by_dir[1]

    def scan(
        self, old: IndexState, dirs: Iterable[str | os.PathLike[str]] | None, now: float
    ) -> Scanned:
        """:func:`scan` of ``dirs`` (None: all); the warnings and the view by directory follow it."""
        extra = self.extra() if self.extra is not None else []
        got = scan(self.root, old, self.by_dir(old), names_in(self.root, dirs, extra), now,
                   self._alloc, self.warnings, extra)  # fmt: skip
        if got.warnings is not None:
            self.warnings = got.warnings
        self._by_dir = (got.runs, got.by_dir)
        return got
