"""The history loader: which histories to load and which way, then loading them in batches.

:func:`plan` looks at the files only (a stat, and the first and last bytes
loaded): a file that grew is read on from its offset, exactly; a whole file
of at least ``BULK_MIN_BYTES`` goes the bulk way; a file replaced or
rewritten is forgotten and loaded again. :class:`Loader` carries a plan out
with the index's cursors and writes, holding no connection of its own.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trackui.store import layout
from trackui.store.curves import Curves
from trackui.store.db import STAGE_DB, Opened, bulk_memory
from trackui.store.db_sync import unsynced
from trackui.store.index_state import IndexState, RunEntry, touched
from trackui.store.ingest import BULK_MIN_BYTES, HistState, Loaded, read_before, read_head
from trackui.store.ingest_bulk import (
    BATCH_BYTES,
    BATCH_FILES,
    BulkFile,
    drop_stage,
    load_bulk,
    stage_bulk,
)
from trackui.store.ingest_exact import load_exact
from trackui.store.ingest_sampling import bulk_sample, count_marks
from trackui.store.writes import Writes, transaction

HEAD_HEX = 128
"""A history's first 64 bytes, in hex: what tells a file rewritten from one appended to."""

ExactItem = tuple[int, Path, HistState, int]
"""``(rid, run dir, state to read on from, size)``."""


@dataclass
class Plan:
    """What an ingest loads, and how."""

    resets: list[int] = field(default_factory=list)
    """Runs whose history vanished or was replaced: their points are forgotten."""
    exact: list[ExactItem] = field(default_factory=list)
    bulk: list[tuple[int, Path, int]] = field(default_factory=list)
    """``(rid, history file, size)``."""
    hist: dict[int, HistState] = field(default_factory=dict)
    """Each history's state with its stat refreshed."""


def plan(st: IndexState, todo: list[RunEntry], validate: bool) -> Plan:
    """How to load the histories of ``todo`` (``validate``: check every file, changed or not)."""
    out = Plan()
    for run in todo:
        if not run.readable:
            continue
        path = run.info.path / layout.HISTORY
        h = st.hist.get(run.rid)
        try:
            fs = os.stat(path)
        except OSError:
            if h is not None and h.off > 0:
                out.resets.append(run.rid)  # the history vanished: forget its points
                out.hist[run.rid] = HistState()
            elif h is None:
                out.hist[run.rid] = HistState()  # nothing to load: loaded
            continue
        if h is not None and fs.st_size == h.size and fs.st_mtime_ns == h.mtime_ns and not validate:
            continue
        # An append-only file only grows: anything else means it was
        # replaced or rewritten, and is loaded again from byte 0.
        replaced = (
            h is not None
            and h.off > 0
            and (
                fs.st_ino != h.ino
                or fs.st_size < h.off
                or (fs.st_size == h.size and fs.st_mtime_ns != h.mtime_ns)
                # (a head read while the file was shorter is compared as far as it goes)
                or read_head(path, len(h.head) // 2) != h.head
                or read_before(path, h.off) != h.tail
            )
        )
        if replaced:
            out.resets.append(run.rid)
            h = None
        base = h if h is not None else HistState()
        base = HistState(**{**base.__dict__, "warnings": list(base.warnings)})
        base.size, base.mtime_ns, base.ino = fs.st_size, fs.st_mtime_ns, fs.st_ino
        if len(base.head) < HEAD_HEX or base.off == 0:
            base.head = read_head(path)
        if fs.st_size <= base.off:
            out.hist[run.rid] = base
            continue
        if base.off == 0 and fs.st_size >= BULK_MIN_BYTES:
            out.bulk.append((run.rid, path, fs.st_size))
        else:
            out.exact.append((run.rid, run.info.path, base, fs.st_size))
        out.hist[run.rid] = base
    return out


class Loader:
    """Loads histories into DuckDB and hands what it loaded to the index.

    Args:
        db: The index's database (opened on first use).
        cursor: A new cursor of the index's connection.
        lock: The index's state lock.
        state: The index's current state.
        writes: The index's writes.
        curves: The index's curves (their points are extended by live appends).
        apply: Installs a load in the index's state (``Index._apply``).
    """

    def __init__(
        self,
        db: Callable[[], Opened],
        cursor: Callable[[], Any],
        lock: threading.Lock,
        state: Callable[[], IndexState],
        writes: Writes,
        curves: Curves,
        apply: Callable[..., None],
    ) -> None:
        self._db = db
        self._cursor = cursor
        self._lock = lock
        self._state = state
        self._writes = writes
        self._curves = curves
        self._apply = apply
        self.validated = False
        """Whether an ingest checked every file against what a cache file said."""

    def load(
        self,
        todo: list[RunEntry],
        cancel: threading.Event | None,
        progress: Callable[[int, int], None] | None,
    ) -> set[int]:
        """Load what the histories of ``todo`` hold beyond what is loaded; the rids changed."""
        p = plan(self._state(), todo, validate=not self.validated)
        self.validated = True
        total = len(p.exact) + len(p.bulk)
        done = 0
        changed: set[int] = set(p.resets)
        if p.resets:
            self._writes.write_behind()  # (appends held for these runs go before their points do)
            self._apply(Loaded(), p.resets)
        if progress is not None and total:
            progress(0, total)
        # Small appends first: live runs show their newest values soonest.
        if p.exact:
            appends = [it for it in p.exact if it[2].off > 0]
            firsts = [it for it in p.exact if it[2].off == 0]
            if appends:
                changed |= self.load_exact(appends, defer=True)
            if firsts:
                changed |= self.load_exact(firsts)
            done += len(p.exact)
            if progress is not None:
                progress(done, total)
        if p.bulk:
            changed |= self._load_bulk(p.bulk, p.hist, cancel, progress, done, total)
            if cancel is not None and cancel.is_set():
                return changed
        # Files that only had their stat refreshed (no new bytes).
        rest = {rid: h for rid, h in p.hist.items() if rid not in changed}
        if rest:
            self._apply(Loaded(hist=rest), [])
        if self._writes.write_behind_due():
            self._writes.write_behind()
        return changed

    def load_exact(self, items: list[ExactItem], *, defer: bool = False) -> set[int]:
        """Load the new lines of ``items``; with ``defer``, hold the rows for the
        write-behind queue instead of writing them now."""
        cur = self._cursor()
        w = self._writes
        with transaction(cur) if not defer else contextlib.nullcontext():
            got = load_exact(cur, items, lambda n: w.mid(n, cur), self._state().mstats,
                             insert=not defer)  # fmt: skip
            for rid, _, h, size in items:
                if rid in got.reload:
                    continue
                got.hist[rid].size = size
                got.hist[rid].mtime_ns = h.mtime_ns
                got.hist[rid].ino = h.ino
                got.hist[rid].head = h.head
            if not defer:
                # Small appends (live runs): the summaries filters read are
                # written when a filter next runs, not on every refresh.
                w.persist(cur, got, summaries_written=False)
        before = self._state().mstats
        curves = self._curves
        with self._lock:
            old_gens = {rid: curves.gen.get(rid, 0) for rid in got.hist}
        self._apply(got, [], summaries=False, pending=True, unwritten=got if defer else None)
        with self._lock:
            epoch, new_gens = curves.epoch, {rid: curves.gen.get(rid, 0) for rid in got.hist}
        curves.extend_points(got, before, epoch, old_gens, new_gens)
        changed = set(got.hist)
        if got.reload:
            changed |= self._reload(items, got.reload)
        return changed

    def _reload(self, items: list[ExactItem], rids: list[int]) -> set[int]:
        """Forget what ``rids`` loaded and load their whole files again, exactly."""
        self._writes.write_behind()  # (their rows held for later go before they are forgotten)
        self._apply(Loaded(), rids)
        again = [
            (rid, run_dir, HistState(mtime_ns=h.mtime_ns, ino=h.ino,
                                     head=read_head(run_dir / layout.HISTORY)), size)
            for rid, run_dir, h, size in items
            if rid in rids
        ]  # fmt: skip
        return self.load_exact(again)

    def _load_bulk(
        self,
        bulk: list[tuple[int, Path, int]],
        hist_upd: dict[int, HistState],
        cancel: threading.Event | None,
        progress: Callable[[int, int], None] | None,
        done: int,
        total: int,
    ) -> set[int]:
        """Load whole files in batches of the same metric names, three threads at work.

        A thread samples the files and counts their colons and quotes; another stages
        (parses) the next batch while this one writes the last, so that the
        two halves overlap (DuckDB releases the GIL).
        """
        from collections import deque
        from concurrent.futures import Future, ThreadPoolExecutor

        def prep(item: tuple[int, Path, int]) -> BulkFile | None:
            rid, path, size = item
            sample = bulk_sample(path, size)
            marks = count_marks(path, size) if sample is not None else None
            if sample is None or marks is None:
                return None
            return BulkFile(rid, path, size, sample[0], *marks, with_x=sample[1])

        changed: set[int] = set()
        stage_cur = self._cursor()  # the stager thread's own
        cur = self._cursor()
        names = itertools.count()
        staging: deque[tuple[Future[bool], list[BulkFile], tuple[str, ...], bool, str]] = deque()

        def cancelled() -> bool:
            return cancel is not None and cancel.is_set()

        def write_oldest() -> None:
            nonlocal done
            fut, batch, keys, with_x, table = staging.popleft()
            try:
                staged = fut.result()
                if cancelled():
                    return
                if not staged:
                    # Once more here: memory may have been short while the
                    # last batch was written. (A damaged file fails again.)
                    staged = stage_bulk(cur, batch, keys, table, with_x=with_x)
                changed.update(
                    self._write_batch(batch, keys, with_x, hist_upd, table if staged else None)
                )
                done += len(batch)
                if progress is not None:
                    progress(done, total)
            finally:
                drop_stage(cur, table)

        groups: dict[tuple[tuple[str, ...], bool], tuple[list[BulkFile], int]] = {}
        with (
            unsynced(self._db()) as writes,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="trackui-prep") as prep_pool,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="trackui-stage") as stager,
        ):

            def submit(batch: list[BulkFile], keys: tuple[str, ...], with_x: bool) -> None:
                table = f"{STAGE_DB}.s{next(names)}"
                fut = stager.submit(stage_bulk, stage_cur, batch, keys, table, with_x=with_x)
                staging.append((fut, batch, keys, with_x, table))
                while len(staging) > 1 and not cancelled():
                    write_oldest()

            try:
                ready = prep_pool.map(prep, bulk)
                for (rid, path, size), f in zip(bulk, ready, strict=True):
                    if cancelled():
                        break
                    if f is None:
                        changed.update(self.load_exact([(rid, path.parent, hist_upd[rid], size)]))
                        done += 1
                        continue
                    key = (f.keys, f.with_x)
                    batch, nbytes = groups.get(key, ([], 0))
                    if batch and (len(batch) >= BATCH_FILES or nbytes + f.size > BATCH_BYTES):
                        submit(batch, f.keys, f.with_x)
                        batch, nbytes = [], 0
                    batch.append(f)
                    groups[key] = (batch, nbytes + f.size)
                for (keys, with_x), (batch, _) in groups.items():
                    if batch and not cancelled():
                        submit(batch, keys, with_x)
                while staging:
                    write_oldest()
                writes.done = not cancelled()
            finally:
                prep_pool.shutdown(wait=True, cancel_futures=True)
                while staging:  # (cancelled, or an error: what was staged is dropped)
                    fut, *_, table = staging.popleft()
                    with contextlib.suppress(Exception):
                        fut.result()
                    with contextlib.suppress(Exception):
                        drop_stage(cur, table)
        return changed

    def _write_batch(
        self,
        batch: list[BulkFile],
        keys: tuple[str, ...],
        with_x: bool,
        hist_upd: dict[int, HistState],
        staged: str | None,
    ) -> set[int]:
        """Write a batch staged in ``staged`` (None: DuckDB refused it, all go the exact way)."""
        cur = self._cursor()
        w = self._writes
        with bulk_memory(cur, self._db().path is not None):
            with transaction(cur):
                if staged is None:
                    got = Loaded(failed=[f.rid for f in batch])
                else:
                    got = load_bulk(cur, batch, keys, lambda n: w.mid(n, cur), staged,
                                    with_x=with_x)  # fmt: skip
                for rid, h in got.hist.items():
                    base = hist_upd[rid]
                    h.mtime_ns, h.ino, h.head = base.mtime_ns, base.ino, base.head
                w.persist(cur, got, summaries_written=True)
                with w.flush_lock:
                    w.write_summaries(sorted(touched(got, [])), cur, self._state().merged(got, []))
            self._apply(got, [], summaries=False)
            changed = set(got.hist)
            if got.failed:
                by_rid = {f.rid: f for f in batch}
                items = [
                    (rid, by_rid[rid].path.parent, hist_upd[rid], by_rid[rid].size)
                    for rid in got.failed
                ]
                changed |= self.load_exact(items)
            return changed
