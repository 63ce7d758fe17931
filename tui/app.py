"""The trackui terminal app: entry points, store worker, watcher wiring.

Data reaches widgets one way only: the watcher's thread posts
``RunFilesChanged``; its handler starts the ``store-refresh`` worker, which
brings the index up to date in a thread and posts ``StoreRefreshed``; the
screens then query what they show in their own workers and update their
widgets from the answers on the event loop. No thread touches a widget.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.color import Color
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from trackui.tui import GC_THRESHOLDS
from trackui.tui.fmt import clean
from trackui.tui.messages import (
    IngestProgress,
    RunFilesChanged,
    RunOnLoop,
    StoreRefreshed,
    WatchError,
)
from trackui.tui.prefs import SMOOTHINGS, Prefs, load_prefs, save_prefs

if TYPE_CHECKING:
    from trackui.store.index import Index
    from trackui.store.models import RunRow
    from trackui.store.watch import RootWatcher

PALETTE: tuple[tuple[int, int, int], ...] = (
    (86, 180, 233),  # sky blue
    (230, 159, 0),  # orange
    (0, 200, 120),  # green
    (240, 85, 85),  # red
    (190, 130, 255),  # violet
    (240, 228, 66),  # yellow
    (255, 140, 200),  # pink
    (0, 190, 190),  # teal
    (200, 130, 70),  # brown
    (170, 170, 170),  # grey
)
"""Run colours: distinguishable on dark and light backgrounds, and colour-blind friendly first."""

REFRESH_MIN_INTERVAL_S = 0.75
"""A refresh starts at least this long after the last one ended, however fast runs
write: a value logged reaches the screen within about 0.8 s (the live budget is 1 s)."""
FIRST_PAINT_WAIT_S = 3.0
"""The metric load waits this long at most for the run table to be on screen first."""
LIVE_CHECK_S = 10.0
"""While runs are live, rescan this often (a killed writer changes no file)."""
SETTLE_GC_S = 0.5
"""Once every run is loaded, the collector's one full pass waits this long (see
``TrackApp._settle_gc``): the loaded state reaches the screen a tenth of a second sooner."""


class TrackApp(App[int]):
    """Runs, live curves, run detail and compare, over one root of run directories."""

    CSS_PATH = "app.tcss"
    TITLE = "trackui"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+p", "command_palette", "Commands", show=False),
    ]

    def __init__(
        self,
        root: Path,
        *,
        index: Index | None = None,
        open_index: Callable[[], Index] | None = None,
        watch: bool = True,
        poll: bool = False,
        now: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.root = root
        """The directory of runs."""
        if index is None and open_index is None:
            raise TypeError("TrackApp needs an index or a way to open one")
        self._index = index
        self._open_index = open_index
        self._index_ready = threading.Event()
        """Set once the index is open (or could not be)."""
        self._index_error: BaseException | None = None
        if index is not None:
            self._index_ready.set()
        self.now = now
        """The clock (frozen in snapshot tests)."""
        self.prefs: Prefs = load_prefs(root)
        """Per-root preferences."""
        self.x_range: tuple[float, float] | None = None
        """The zoomed step range, or None for everything."""
        self.loaded: tuple[int, int] = (0, 0)
        """Runs with metrics loaded, and runs."""
        self.scanned = False
        """Whether the first scan finished (the table can be trusted)."""
        self._settled = False
        """Whether every run's metrics were loaded once (see ``_store_refreshed``)."""
        self._frozen = False
        """Whether what existed then was moved out of the collector's sight (``_settle_gc``)."""
        self.closing = False
        """Set while the app shuts down: late store messages are dropped."""
        self.generation = 0
        """Counts index refreshes, so that a screen can tell new data from old."""
        # Loading metrics holds the GIL in long stretches: it waits until the
        # table is on screen, so that the first paint does not wait for it.
        self._painted = threading.Event()
        self.watcher: RootWatcher | None = None
        self._watch = watch
        self._poll = poll
        self._colours: dict[str, int] = {}
        self._pending: set[str] = set()
        """Run directories the watcher reported since the last refresh."""
        self._full_refresh = False
        """The next refresh looks at every run (a rescan, not only reported ones)."""
        self.snapshot_rows: list[RunRow] | None = None
        """The rows the last viewer of this root left (``store.snapshot``), until the first scan."""
        self._refreshing = False
        self._again = False
        self._last_refresh = 0.0
        self._refresh_timer: Any = None
        self.live_dirs: frozenset[str] = frozenset()
        """The directories of the runs shown as running (set by the runs screen)."""
        self.read_ahead = True
        """Whether the runs screen reads long curves ahead (``CurvesPanel.read_ahead``)."""
        self.sub_title = clean(str(root))

    @property
    def index(self) -> Index:
        """The store's index of ``root``; called only from worker threads (it is
        thread-safe: one refresh at a time, queries alongside).

        When the app was given ``open_index``, a thread opens it as the app
        starts (DuckDB's import and the cache's load overlap the UI's start);
        a worker that needs it sooner waits.
        """
        if self._index is None:
            self._index_ready.wait()
            if self._index is None:
                raise RuntimeError(f"cannot open the index: {self._index_error}")
        return self._index

    def on_load(self) -> None:
        # Before the driver starts and the screen is composed: opening the
        # index (importing DuckDB, loading its cache) overlaps all of that.
        if self._index is None and self._open_index is not None:
            from trackui.store.saved_rows import read_snapshot

            # The run list the last viewer left: on screen before the index
            # is open, replaced by the index's answer when it has one.
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

    # -- lifecycle --------------------------------------------------------

    def on_mount(self) -> None:
        from trackui.tui.screens.runs import RunsScreen

        self.push_screen(RunsScreen())
        self._refreshing = True
        self._load_store(first=True)
        if self._watch:
            self._start_watcher()
        self.set_interval(LIVE_CHECK_S, self._live_check)

    def _start_watcher(self) -> None:
        from trackui.store.watch import RootWatcher

        def changed(paths: Iterable[Any]) -> None:
            # Called on the watcher's thread: post_message is the thread-safe way in.
            self.post_message(RunFilesChanged(frozenset(str(p) for p in paths)))

        def failed(err: BaseException | str) -> None:
            self.post_message(WatchError(str(err)))

        try:
            self.watcher = RootWatcher(
                self.root, on_change=changed, on_error=failed, poll=self._poll
            )
            self.watcher.start()
        except Exception as e:  # the UI still works without live updates
            self.watcher = None
            self.notify(f"Not watching for changes: {clean(e)}", severity="warning", markup=False)

    def on_unmount(self) -> None:
        self.closing = True
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        for worker in self.workers:
            worker.cancel()
        # Closing waits for a refresh in flight (cancelled above: it stops
        # at its next batch) and keeps the cache file for the next start.
        self._index_ready.wait(30)
        close = getattr(self._index, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                pass
        if self._frozen:
            gc.unfreeze()  # (what this app kept alive may be collected again)
            self._frozen = False
        gc.set_threshold(*GC_THRESHOLDS)

    # -- the store worker ---------------------------------------------------

    @work(thread=True, group="store-refresh", exit_on_error=False, description="refresh index")
    def _load_store(self, first: bool, dirs: frozenset[str] | None = None) -> None:
        worker = get_current_worker()
        cancel = worker.cancelled_event
        try:
            if first:
                changed = self.index.scan()
                loaded = self.index.loaded
                self.post_message(StoreRefreshed(frozenset(changed), loaded, scan=True))
                self._painted.wait(FIRST_PAINT_WAIT_S)

                def progress(done: int, total: int) -> None:
                    self.post_message(IngestProgress(done, total))

                changed = self.index.ingest(cancel=cancel, progress=progress)
                loaded = self.index.loaded
            else:
                changed = self.index.refresh(dirs)
                loaded = self.index.loaded
            if not cancel.is_set():
                self.post_message(StoreRefreshed(frozenset(changed), loaded))
        finally:
            self.call_from_thread_safe(self._refresh_done)

    def table_painted(self) -> None:
        """The run table is on screen: the metric load may start."""
        self._painted.set()

    def call_from_thread_safe(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the event loop soon, without waiting (safe while the app closes)."""
        self.post_message(RunOnLoop(fn))

    @on(RunOnLoop)
    def _run_on_loop(self, event: RunOnLoop) -> None:
        event.fn()

    def _refresh_done(self) -> None:
        self._refreshing = False
        self._last_refresh = time.monotonic()
        if self._again:
            self._again = False
            self.schedule_refresh()

    def schedule_refresh(self, *, full: bool = False) -> None:
        """Bring the index up to date soon (coalescing bursts, never overlapping).

        The run directories the watcher reported are looked at; with ``full``
        every run is (a rescan).
        """
        if full:
            self._full_refresh = True
        if self._refreshing:
            self._again = True
            return
        if self._refresh_timer is not None:
            return
        wait = max(0.0, REFRESH_MIN_INTERVAL_S - (time.monotonic() - self._last_refresh))

        def go() -> None:
            self._refresh_timer = None
            self._refreshing = True
            # Only the run directories the watcher reported, unless a full
            # rescan was asked for: a thousand quiet runs cost nothing then.
            dirs = None if self._full_refresh else frozenset(self._pending)
            self._pending = set()
            self._full_refresh = False
            self._load_store(first=False, dirs=dirs)

        if wait <= 0:
            go()
        else:
            self._refresh_timer = self.set_timer(wait, go)

    @on(RunFilesChanged)
    def _files_changed(self, event: RunFilesChanged) -> None:
        self._pending |= event.paths
        self.schedule_refresh()

    @on(WatchError)
    def _watch_error(self, event: WatchError) -> None:
        self.notify(clean(event.text), title="Watcher", severity="warning", markup=False)

    @on(IngestProgress)
    def _ingest_progress(self, event: IngestProgress) -> None:
        if self.closing:
            return
        self.loaded = (event.done, event.total)
        for screen in self.screen_stack:
            hook = getattr(screen, "ingest_progress", None)
            if hook is not None:
                hook(event.done, event.total)

    @on(StoreRefreshed)
    def _store_refreshed(self, event: StoreRefreshed) -> None:
        if self.closing:
            return
        self.loaded = event.loaded
        self.generation += 1
        if event.scan:
            self.scanned = True
        elif not self._settled and event.loaded[0] >= event.loaded[1]:
            self._settled = True
            # Once this refresh is on screen: the collection holds the loop.
            self.set_timer(SETTLE_GC_S, self._settle_gc)
        for screen in self.screen_stack:
            hook = getattr(screen, "store_changed", None)
            if hook is not None:
                hook(event.changed, screen is self.screen)

    def _settle_gc(self) -> None:
        """Everything is loaded: move what exists now out of the collector's sight.

        What exists now (the app, the index's state of every run) lives as
        long as the app: frozen, it is not walked again by every full
        collection (a tenth of a second each, on a thousand runs).
        """
        if self.closing or self._frozen:
            return
        gc.collect()
        gc.freeze()
        self._frozen = True
        gc.set_threshold(*GC_THRESHOLDS)  # (raised while the viewer started)

    def _live_check(self) -> None:
        # Ages move with the clock; a run killed by SIGKILL writes nothing, so
        # its crash shows only when its state is derived again: do that for
        # the running runs.
        for screen in self.screen_stack:
            hook = getattr(screen, "clock_tick", None)
            if hook is not None:
                hook()
        if self.live_dirs:
            # Only the running runs can end unseen; the watcher's own rescan
            # catches changes to the others.
            self._pending |= self.live_dirs
            self.schedule_refresh()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.report_error(event.worker.error)

    def report_error(self, err: BaseException) -> None:
        """Show an error from a worker as a notification (one line, literal)."""
        text = str(err) or type(err).__name__
        if not isinstance(err, (LookupError, ValueError, OSError)):
            text = f"{type(err).__name__}: {text}"
        self.notify(
            clean(" ".join(text.split()))[:300],
            title="Store error",
            severity="error",
            markup=False,
            timeout=8,
        )

    # -- shared state -------------------------------------------------------

    def colours_for(self, run_ids: Sequence[str]) -> dict[str, tuple[int, int, int]]:
        """A colour per run: a run keeps its colour, runs drawn together differ where possible."""
        taken: set[int] = set()
        out: dict[str, int] = {}
        for rid in run_ids:
            c = self._colours.get(rid)
            if c is not None and c not in taken:
                out[rid] = c
                taken.add(c)
        for rid in run_ids:
            if rid in out:
                continue
            free = [i for i in range(len(PALETTE)) if i not in taken]
            c = free[0] if free else len(out) % len(PALETTE)
            out[rid] = c
            taken.add(c)
            self._colours[rid] = c
        return {rid: PALETTE[c] for rid, c in out.items()}

    def plot_background(self) -> tuple[int, int, int]:
        """The chart background, for fading colours towards it."""
        try:
            c = Color.parse(self.theme_variables.get("surface", "#000000"))
        except Exception:
            return (0, 0, 0)
        return (c.r, c.g, c.b)

    def save_prefs(self) -> None:
        """Persist the preferences (silently kept in memory on a read-only root)."""
        save_prefs(self.root, self.prefs)

    def set_smoothing(self, smoothing: str | None = None, strength: float | None = None) -> None:
        """Change the smoothing (cycling when ``smoothing`` is None and ``strength`` too)."""
        p = self.prefs
        if smoothing is None and strength is None:
            smoothing = SMOOTHINGS[(SMOOTHINGS.index(p.smoothing) + 1) % len(SMOOTHINGS)]
        if smoothing is not None:
            p.smoothing = smoothing
        if strength is not None:
            p.strength = round(min(0.99, max(0.0, strength)), 2)
        self.save_prefs()
        self.curves_changed()
        self.notify(
            "Smoothing off"
            if p.smoothing == "none"
            else f"Smoothing: {p.smoothing}, strength {p.strength:.2f}",
            timeout=2,
        )

    def set_x_axis(self, x: str) -> None:
        """Plot against ``x``: step, relative, wall, or a metric's name."""
        self.prefs.x_axis = x
        self.save_prefs()
        self.curves_changed()
        self.notify(f"x axis: {clean(x)}", timeout=2, markup=False)

    def cycle_x_axis(self, extra: Sequence[str] = ()) -> None:
        """Move to the next x axis: step, relative time, wall time, then ``extra`` metrics."""
        choices = ["step", "relative", "wall", *extra]
        cur = self.prefs.x_axis
        self.set_x_axis(
            choices[(choices.index(cur) + 1) % len(choices)] if cur in choices else "step"
        )

    def set_x_range(self, rng: tuple[float, float] | None) -> None:
        """Zoom every chart to an x range (None: everything)."""
        self.x_range = rng
        self.curves_changed()

    def toggle_log(self, metric: str, log: bool) -> None:
        """Draw ``metric`` on a log (or linear) y axis."""
        logs = [m for m in self.prefs.log_metrics if m != metric]
        if log:
            logs.append(metric)
        self.prefs.log_metrics = logs
        self.save_prefs()
        self.curves_changed()

    def curves_changed(self) -> None:
        """Settings changed: every curves panel asks again."""
        from trackui.tui.widgets.curves import CurvesPanel

        for screen in self.screen_stack:
            for panel in screen.query(CurvesPanel):
                panel.request()

    # -- actions --------------------------------------------------------------

    def action_help(self) -> None:
        """Show every key binding."""
        from trackui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help: key bindings", "Every key and what it does", self.action_help)
        yield SystemCommand(
            "Smoothing: cycle", "Time-weighted EMA, EMA, none", lambda: self.set_smoothing()
        )
        for s in SMOOTHINGS:
            yield SystemCommand(
                f"Smoothing: {s}",
                "How curves are smoothed",
                lambda s=s: self.set_smoothing(s),
            )
        for x in ("step", "relative", "wall"):
            yield SystemCommand(
                f"X axis: {x}", "Plot curves against it", lambda x=x: self.set_x_axis(x)
            )
        yield SystemCommand("Reset zoom", "Show every step", lambda: self.set_x_range(None))
        extra = getattr(screen, "system_commands", None)
        if extra is not None:
            yield from extra()


def make_app(
    root: Path,
    *,
    watch: bool = True,
    poll: bool = False,
    now: Callable[[], float] = time.time,
) -> TrackApp:
    """Build the app for ``root`` (the CLI, tests and the screenshot script all come here).

    Args:
        root: The directory of runs.
        watch: Follow changes on disk (off in tests that post messages themselves).
        poll: Watch by polling (shared filesystems, where inotify sees no remote writes).
        now: The clock, for ages and runtimes.

    Returns:
        The app, not yet running.
    """
    root = Path(root)

    def open_index() -> Index:
        from trackui.store.index import Index

        return Index(root, cache=True, now=now)

    return TrackApp(root, open_index=open_index, watch=watch, poll=poll, now=now)


def run_app(root: Path, *, poll: bool = False) -> int:
    """Open the UI on ``root``; returns the process exit code.

    A root that does not exist yet is watched until a run creates it (so the
    UI can be opened before the training job starts). A root that is not a
    directory is a one-line error on stderr (exit 2), never a traceback; an
    index that cannot be opened at all (not even in memory) is a
    notification in the UI.
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        print(f"trackui: {root}: not a directory", file=sys.stderr)
        return 2
    try:
        app = make_app(root, poll=poll)
    except Exception as e:
        print(f"trackui: cannot open {root}: {clean(e)}", file=sys.stderr)
        return 2
    result = app.run()
    return int(result or 0) if app.return_code in (None, 0) else int(app.return_code or 1)
