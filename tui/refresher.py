"""Keeping the index up to date: its opening, coalesced refreshes on a worker, load progress.

One ``StoreRefresher`` per app, built by the app and handed to the screens
and curves panels. The watcher's reports (``files_changed``) and the live
check (``live_check``) ask for a refresh; refreshes never overlap, and one
starts at least ``REFRESH_MIN_INTERVAL_S`` after the last ended, taking in
every run directory reported meanwhile. A refresh runs in the
``store-refresh`` worker and posts ``StoreRefreshed`` (and, while the first
load runs, ``IngestProgress``) to the app, which hands them to ``took_in``
and ``progressed`` on the event loop: these publish ``refreshed`` and
``progress`` for the screens. No thread touches a widget.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.signal import Signal
from textual.worker import get_current_worker

from trackui.tui.latest import LatestOnly
from trackui.tui.messages import IngestProgress, StoreRefreshed

if TYPE_CHECKING:
    from trackui.store.index import Index
    from trackui.store.models import RunRow

REFRESH_MIN_INTERVAL_S = 0.75
"""A refresh starts at least this long after the last one ended, however fast runs
write: a value logged reaches the screen within about 0.8 s (the live budget is 1 s)."""
MIRROR_SLICE_S = 0.3
"""Each refresh reads other trackers' runs left unread for this long (one at least)."""
FIRST_PAINT_WAIT_S = 3.0
"""The metric load waits this long at most for the run table to be on screen first."""


class StoreRefresher:
    """The index of one root, brought up to date in the background."""

    def __init__(
        self,
        app: App[Any],
        root: Path,
        *,
        index: Index | None = None,
        open_index: Callable[[], Index] | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        if index is None and open_index is None:
            raise TypeError("the store needs an index or a way to open one")
        self._app = app
        self.root = root
        self._index = index
        self._open_index = open_index
        self._index_ready = threading.Event()
        self._opening = False
        """Whether ``open_soon`` started the opening thread (it runs once)."""
        """Set once the index is open (or could not be)."""
        self._index_error: BaseException | None = None
        if index is not None:
            self._index_ready.set()
        self.now = now
        """The clock of ages and runtimes (frozen in snapshot tests)."""
        self.loaded: tuple[int, int] = (0, 0)
        """Runs with metrics loaded, and runs."""
        self.scanned = False
        """Whether the first scan finished (the table can be trusted)."""
        self.generation = 0
        """Counts index refreshes, so that a screen can tell new data from old."""
        self.closing = False
        """Set while the app shuts down: late store messages are dropped."""
        self.snapshot_rows: list[RunRow] | None = None
        """The rows the last viewer of this root left (``store.saved_rows``), until the first scan."""
        self.live_dirs: frozenset[str] = frozenset()
        """The directories of the runs shown as running (set by the runs screen)."""
        self.shown: str | None = None
        """The run directory of the row the runs screen highlights: read first where the
        first scan left other trackers' runs unread (``Index.mirror_pending``)."""
        self.read_ahead = True
        """Whether the runs screen reads long curves ahead (``CurvesPanel.read_ahead``)."""
        # Loading metrics holds the GIL in long stretches: it waits until the
        # table is on screen, so that the first paint does not wait for it.
        self._painted = threading.Event()
        self._settled = False
        self._reported: set[str] = set()
        """Run directories the watcher reported since the last refresh."""
        self._full = False
        """The next refresh looks at every run (a rescan, not only reported ones)."""
        self._last_refresh = 0.0
        self._timer: Any = None
        self._refreshes: LatestOnly[bool] = LatestOnly(self._arm)
        """One refresh at a time (the request: whether it is the first load)."""
        self.refreshed: Signal[frozenset[str]] = Signal(app, "store-refreshed")
        """Published after each refresh with the ids of the runs that changed."""
        self.progress: Signal[tuple[int, int]] = Signal(app, "store-progress")
        """Published as the first load goes: ``(runs loaded, runs)``."""
        self.ticked: Signal[None] = Signal(app, "clock-ticked")
        """Published at each live check: ages move with the clock."""

    @property
    def index(self) -> Index:
        """The store's index of ``root``; called only from worker threads (it is
        thread-safe: one refresh at a time, queries alongside).

        When built with ``open_index``, a thread opens it as the app starts
        (``open_soon``); a worker that needs it sooner waits.
        """
        if self._index is None:
            self._index_ready.wait()
            if self._index is None:
                raise RuntimeError(f"cannot open the index: {self._index_error}")
        return self._index

    def foreign_files(self) -> dict[str, list[str]]:
        """Other trackers' runs and their files, for the watcher (none until the index is open)."""
        index = self._index
        return index.foreign_files() if index is not None else {}

    def open_soon(self) -> None:
        """Start opening the index in a thread (DuckDB's import and the cache's load
        overlap the UI's start), and read the run list the last viewer left. Once."""
        if self._index is None and self._open_index is not None and not self._opening:
            self._opening = True
            from trackui.store.saved_rows import read_snapshot

            # On screen before the index is open, replaced by the index's answer.
            self.snapshot_rows = read_snapshot(self.root)
            threading.Thread(target=self._open_now, name="open-index", daemon=True).start()

    def _open_now(self) -> None:
        assert self._open_index is not None
        try:
            self._index = self._open_index()
        except Exception as e:
            self._index_error = e
        finally:
            self._index_ready.set()

    def close(self) -> None:
        """Stop taking in answers and close the index (keeping its cache file)."""
        self.closing = True
        # Closing waits for a refresh in flight (cancelled by the app: it
        # stops at its next batch).
        self._index_ready.wait(30)
        close = getattr(self._index, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                pass

    def table_painted(self) -> None:
        """The run table is on screen: the metric load may start."""
        self._painted.set()

    # -- asking for refreshes -----------------------------------------------

    def load(self) -> None:
        """The first load: a scan (the table), then every run's metrics."""
        self._refreshes.ask(True)

    def schedule_refresh(self, *, full: bool = False) -> None:
        """Bring the index up to date soon (coalescing bursts, never overlapping).

        The run directories the watcher reported are looked at; with ``full``
        every run is (a rescan).
        """
        if full:
            self._full = True
        if self._timer is not None:
            return  # the refresh about to start takes in everything reported until then
        self._refreshes.ask(False)

    def files_changed(self, paths: Iterable[str]) -> None:
        """The watcher reported changes under these paths."""
        self._reported.update(paths)
        self.schedule_refresh()

    def live_check(self) -> None:
        """Tell the screens that the clock moved, and look at the running runs again.

        A run killed by SIGKILL writes nothing, so its crash shows only when
        its state is derived again; only running runs can end unseen (the
        watcher's own rescan catches changes to the others).
        """
        self.ticked.publish(None)
        if self.live_dirs:
            self._reported |= self.live_dirs
            self.schedule_refresh()

    def _arm(self, first: bool) -> None:
        if first:
            self._load_store(True, None)
            return
        wait = max(0.0, REFRESH_MIN_INTERVAL_S - (time.monotonic() - self._last_refresh))
        if wait <= 0:
            self._go()
        else:
            self._timer = self._app.set_timer(wait, self._go)

    def _go(self) -> None:
        self._timer = None
        # Only the run directories the watcher reported, unless a full
        # rescan was asked for: a thousand quiet runs cost nothing then.
        dirs = None if self._full else frozenset(self._reported)
        self._reported = set()
        self._full = False
        self._load_store(False, dirs)

    def _load_store(self, first: bool, dirs: frozenset[str] | None) -> None:
        self._app.run_worker(
            lambda: self._refresh(first, dirs),
            thread=True,
            group="store-refresh",
            exit_on_error=False,
            description="refresh index",
        )

    def _refresh(self, first: bool, dirs: frozenset[str] | None) -> None:
        app = self._app
        cancel = get_current_worker().cancelled_event
        try:
            index = self.index
            if first:
                # Other trackers' runs are listed before they are read: the
                # one shown first is read once the table is painted, the
                # others by the refreshes after this one.
                changed = index.scan(defer_foreign=True)
                app.post_message(StoreRefreshed(frozenset(changed), index.loaded, scan=True))
                self._painted.wait(FIRST_PAINT_WAIT_S)
                _done, changed = index.mirror_pending(first=self.shown)

                def progress(done: int, total: int) -> None:
                    app.post_message(IngestProgress(done, total))

                changed |= index.ingest(cancel=cancel, progress=progress)
            else:
                changed = index.refresh(dirs)
                if index.pending_mirrors and not cancel.is_set():
                    done, more = index.mirror_pending(first=self.shown, budget_s=MIRROR_SLICE_S)
                    changed |= more | index.ingest(cancel=cancel, dirs=done)
            loaded = index.loaded
            if not cancel.is_set():
                app.post_message(StoreRefreshed(frozenset(changed), loaded))
        finally:
            app.call_later(self._refresh_done)

    def _refresh_done(self) -> None:
        self._last_refresh = time.monotonic()
        self._refreshes.finished()
        index = self._index
        if index is not None and index.pending_mirrors and not self.closing:
            self.schedule_refresh()  # (the next runs of other trackers)

    # -- answers, on the event loop ---------------------------------------------

    def progressed(self, event: IngestProgress) -> None:
        """The first load went on."""
        if self.closing:
            return
        self.loaded = (event.done, event.total)
        self.progress.publish(self.loaded)

    def took_in(self, event: StoreRefreshed) -> bool:
        """A refresh ended; returns True once, when every run's metrics are first loaded."""
        if self.closing:
            return False
        self.loaded = event.loaded
        self.generation += 1
        settled = False
        if event.scan:
            self.scanned = True
        elif not self._settled and event.loaded[0] >= event.loaded[1]:
            self._settled = settled = True
        self.refreshed.publish(event.changed)
        return settled
