"""The trackui terminal app: entry points, and the wiring of services, watcher and screens.

The app builds two services and hands them to every screen (and the screens
to their widgets) as constructor arguments: ``ChartSettings`` (how curves are
drawn, the saved preferences) and ``StoreRefresher`` (the index, and its
refreshes on a worker). Nothing below the app imports it.

Data reaches widgets one way only: the watcher's thread posts
``RunFilesChanged``; the refresher brings the index up to date in its worker,
which posts ``StoreRefreshed``; the refresher publishes ``refreshed`` and the
screens then query what they show in their own workers and update their
widgets from the answers on the event loop. No thread touches a widget.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from trackui.store.layout import SMOOTHERS, X_AXES
from trackui.tui import GC_THRESHOLDS
from trackui.tui.alert_watch import AlertWatcher
from trackui.tui.chart_settings import (
    DOTS_CHOICES,
    PALETTE,
    SMOOTHING_LABELS,
    ChartSettings,
    SettingsChanged,
)
from trackui.tui.errors import report_error
from trackui.tui.fmt import clean
from trackui.tui.keys import APP_BINDINGS
from trackui.tui.messages import (
    AlertsRead,
    IngestProgress,
    RunFilesChanged,
    StoreRefreshed,
    WatchError,
)
from trackui.tui.prefs import Prefs
from trackui.tui.refresher import StoreRefresher
from trackui.tui.screens.base import StoreScreen
from trackui.tui.watch_service import WatchesFired, WatchService

if TYPE_CHECKING:
    from trackui.store.index import Index
    from trackui.store.watch import RootWatcher

__all__ = ["PALETTE", "TrackApp", "make_app", "run_app"]

LIVE_CHECK_S = 10.0
"""While runs are live, rescan this often (a killed writer changes no file)."""
SETTLE_GC_S = 0.5
"""Once every run is loaded, the collector's one full pass waits this long (see
``TrackApp._settle_gc``): the loaded state reaches the screen a tenth of a second sooner."""


class TrackApp(App[int]):
    """Runs, live curves, run detail and compare, over one root of run directories."""

    CSS_PATH = "app.tcss"
    TITLE = "trackui"
    BINDINGS = APP_BINDINGS

    def __init__(
        self,
        root: Path,
        *,
        index: Index | None = None,
        open_index: Callable[[], Index] | None = None,
        watch: bool = True,
        poll: bool = False,
        now: Callable[[], float] = time.time,
        rules: Iterable[str] = (),
    ) -> None:
        super().__init__()
        self.root = root
        """The directory of runs."""
        self.settings = ChartSettings(root, self)
        """How curves are drawn; handed to every screen."""
        self.store = StoreRefresher(self, root, index=index, open_index=open_index, now=now)
        """The index and its refreshes; handed to every screen."""
        self.alerts = AlertWatcher(self, self.store)
        """Notifies alerts that runs raise while the viewer is open."""
        self.watches = WatchService(self, self.store, rules)
        """NaN, stalls, crashes and the user's rules: badges, notifications, the alerts list."""
        self.watcher: RootWatcher | None = None
        self._watch = watch
        self._poll = poll
        self._frozen = False
        """Whether what existed then was moved out of the collector's sight (``_settle_gc``)."""
        self.sub_title = clean(str(root))

    # -- what tests and benchmarks read (the services own it) -------------------

    @property
    def index(self) -> Index:
        """The store's index (worker threads only; see ``StoreRefresher.index``)."""
        return self.store.index

    @property
    def prefs(self) -> Prefs:
        return self.settings.prefs

    @property
    def x_range(self) -> tuple[float, float] | None:
        return self.settings.x_range

    @property
    def loaded(self) -> tuple[int, int]:
        return self.store.loaded

    @property
    def live_dirs(self) -> frozenset[str]:
        return self.store.live_dirs

    @property
    def read_ahead(self) -> bool:
        return self.store.read_ahead

    @read_ahead.setter
    def read_ahead(self, on: bool) -> None:
        self.store.read_ahead = on

    def schedule_refresh(self, *, full: bool = False) -> None:
        """Bring the index up to date soon (``StoreRefresher.schedule_refresh``)."""
        self.store.schedule_refresh(full=full)

    # -- lifecycle --------------------------------------------------------

    def on_load(self) -> None:
        # Before the driver starts and the screen is composed: opening the
        # index (importing DuckDB, loading its cache) overlaps all of that.
        self.store.open_soon()

    def on_mount(self) -> None:
        from trackui.tui.screens.runs import RunsScreen

        self.settings.changed.subscribe(self, self._settings_changed, immediate=True)
        self.alerts.start()
        self.watches.start()
        self.push_screen(RunsScreen(self.settings, self.store))
        self.store.load()
        if self._watch:
            self._start_watcher()
        self.set_interval(LIVE_CHECK_S, self.store.live_check)

    def _start_watcher(self) -> None:
        from trackui.store.watch import RootWatcher

        def changed(paths: Iterable[Any]) -> None:
            # Called on the watcher's thread: post_message is the thread-safe way in.
            self.post_message(RunFilesChanged(frozenset(str(p) for p in paths)))

        def failed(err: BaseException | str) -> None:
            self.post_message(WatchError(str(err)))

        try:
            self.watcher = RootWatcher(
                self.root, on_change=changed, on_error=failed, poll=self._poll,
                foreign=self.store.foreign_files,
            )  # fmt: skip
            self.watcher.start()
        except Exception as e:  # the UI still works without live updates
            self.watcher = None
            self.notify(f"Not watching for changes: {clean(e)}", severity="warning", markup=False)

    def on_unmount(self) -> None:
        self.store.closing = True
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        for worker in self.workers:
            worker.cancel()
        # Closing waits for a refresh in flight (cancelled above: it stops
        # at its next batch) and keeps the cache file for the next start.
        self.store.close()
        if self._frozen:
            gc.unfreeze()  # (what this app kept alive may be collected again)
            self._frozen = False
        gc.set_threshold(*GC_THRESHOLDS)

    # -- messages from threads ------------------------------------------------

    @on(RunFilesChanged)
    def _files_changed(self, event: RunFilesChanged) -> None:
        self.store.files_changed(event.paths)
        self.watches.files_changed(event.paths)

    @on(WatchError)
    def _watch_error(self, event: WatchError) -> None:
        self.notify(clean(event.text), title="Watcher", severity="warning", markup=False)

    @on(AlertsRead)
    def _alerts_read(self, event: AlertsRead) -> None:
        self.alerts.took_in(event)

    @on(WatchesFired)
    def _watches_fired(self, event: WatchesFired) -> None:
        self.watches.took_in(event)

    @on(IngestProgress)
    def _ingest_progress(self, event: IngestProgress) -> None:
        self.store.progressed(event)

    @on(StoreRefreshed)
    def _store_refreshed(self, event: StoreRefreshed) -> None:
        if self.store.took_in(event):
            # Everything is loaded: once this refresh is on screen, the
            # collection holds the loop.
            self.set_timer(SETTLE_GC_S, self._settle_gc)

    def _settle_gc(self) -> None:
        """Everything is loaded: move what exists now out of the collector's sight.

        What exists now (the app, the index's state of every run) lives as
        long as the app: frozen, it is not walked again by every full
        collection (a tenth of a second each, on a thousand runs).
        """
        if self.store.closing or self._frozen:
            return
        gc.collect()
        gc.freeze()
        self._frozen = True
        gc.set_threshold(*GC_THRESHOLDS)  # (raised while the viewer started)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            report_error(self, event.worker.error)

    def _settings_changed(self, change: SettingsChanged) -> None:
        if change.note is not None:
            self.notify(clean(change.note), timeout=2, markup=False)

    # -- actions --------------------------------------------------------------

    def action_help(self) -> None:
        """Show every key binding."""
        from trackui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_alerts(self) -> None:
        """List what the watches fired, and the rules."""
        from trackui.tui.screens.alerts import AlertsScreen

        if not isinstance(self.screen, AlertsScreen):
            self.push_screen(AlertsScreen(self.settings, self.store, self.watches))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        settings = self.settings
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help: key bindings", "Every key and what it does", self.action_help)
        yield SystemCommand(
            "Smoothing: cycle", "Time-weighted EMA, EMA, none", lambda: settings.set_smoothing()
        )
        for s in SMOOTHERS:
            yield SystemCommand(
                f"Smoothing: {SMOOTHING_LABELS[s]}",
                "How curves are smoothed",
                lambda s=s: settings.set_smoothing(s),
            )
        for x in X_AXES:
            yield SystemCommand(
                f"X axis: {x}", "Plot curves against it", lambda x=x: settings.set_x_axis(x)
            )
        yield SystemCommand("Reset zoom", "Show every step", lambda: settings.set_x_range(None))
        yield SystemCommand("Watches: alerts", "What fired, and the rules (w)", self.action_alerts)
        for d in DOTS_CHOICES:
            yield SystemCommand(
                f"Chart dots: {d}", "How finely curves are drawn", lambda d=d: settings.set_dots(d)
            )
        if isinstance(screen, StoreScreen):
            yield from screen.system_commands()


def make_app(
    root: Path,
    *,
    watch: bool = True,
    poll: bool = False,
    now: Callable[[], float] = time.time,
    rules: Iterable[str] = (),
) -> TrackApp:
    """Build the app for ``root`` (the CLI, tests and the screenshot script all come here).

    Args:
        root: The directory of runs.
        watch: Follow changes on disk (off in tests that post messages themselves).
        poll: Watch by polling (shared filesystems, where inotify sees no remote writes).
        now: The clock, for ages and runtimes.
        rules: Watch rules to add to the root's own (``--watch``).

    Returns:
        The app, not yet running.
    """
    root = Path(root)

    def open_index() -> Index:
        from trackui.store.index import Index

        return Index(root, cache=True, now=now)

    return TrackApp(root, open_index=open_index, watch=watch, poll=poll, now=now, rules=rules)


def prepare_images() -> None:
    """Ask the terminal which image protocol it speaks (Kitty, Sixel or none) and its
    cell size: ``textual_image`` does it on import, which must come before Textual
    takes the terminal over."""
    import logging

    # A terminal that does not answer is not an error: the sizes default, images
    # fall back to half blocks (the library would log a traceback).
    log = logging.getLogger("textual_image")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        import textual_image.widget  # noqa: F401
    except Exception:
        pass
    finally:
        log.setLevel(level)


def run_app(root: Path, *, poll: bool = False, rules: Iterable[str] = ()) -> int:
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
        app = make_app(root, poll=poll, rules=rules)
    except Exception as e:
        print(f"trackui: cannot open {root}: {clean(e)}", file=sys.stderr)
        return 2
    app.store.open_soon()  # the index opens while the terminal is asked about images
    from trackui.tui.widgets.media import IMAGE_RENDERER_ENV

    if os.environ.get(IMAGE_RENDERER_ENV) != "halfcell":  # (half blocks need no answer)
        prepare_images()
    result = app.run()
    return int(result or 0) if app.return_code in (None, 0) else int(app.return_code or 1)
