"""Watching a run root: watchdog events plus a periodic rescan, as plain callbacks.

``RootWatcher`` tells its caller which run directories were touched, in
coalesced bursts, from its own thread. It knows nothing about Textual: the UI
passes an ``on_change`` that posts a message.

Three sources feed it:

* a watchdog observer (inotify on Linux) on the root, recursively, for
  files and directories created, moved, deleted or closed after writing,
  within a fraction of a second;
* a stat of the live runs (those that changed in the last :data:`LIVE_S`)
  every :data:`LIVE_POLL_S`, for appends: a run logging at 20 Hz would
  otherwise cost an inotify event, and watchdog's Python handling of it,
  per line written;
* a rescan every ``rescan_s`` that compares a cheap stat snapshot of every
  run directory, which catches what events miss: writes from other hosts on
  a network filesystem, an exhausted inotify watch limit, a root that was
  renamed or deleted and created again.

Where the observer cannot start (no inotify, too many watches) or with
``poll=True`` (network filesystems), the watcher runs on the rescan alone,
every :data:`POLL_S` seconds at most; ``mode`` then says ``"polling"``.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trackui.store import layout

# watchdog's inotify observer can meet a directory twice when it appears while
# the recursive watch is being set up (a run's ``files/``); it says so with a
# RuntimeWarning and keeps one watch. Nothing is lost: not worth a word.
warnings.filterwarnings(
    "ignore", message="Callback with id .* already exists", category=RuntimeWarning
)

POLL_S = 0.5
"""Longest interval between scans in polling mode (the live budget is 1 s)."""
HOT_S = 300.0
"""A run that changed within this many seconds is looked at on every rescan."""
SWEEP_S = 30.0
"""Every run is looked at at least this often by the inotify-mode rescan."""
POLL_SWEEP_S = 10.0
"""The same in polling mode."""

LIVE_S = 60.0
"""A run that changed within this many seconds is polled for appends (inotify mode).

The watcher's "live" runs are those written to lately, whatever their state
says (a run from another host, a resumed one): whether a run is running is
``store.liveness``'s to say, and the index's."""
LIVE_POLL_S = 0.2
"""How often live runs are stat'ed for appends in inotify mode."""

_Snap = dict[str, tuple[int, ...]]


def _stat_key(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1)
    return (st.st_mtime_ns, st.st_size)


def run_stat(run_dir: str) -> tuple[int, ...]:
    """What changes when a run changes: its directory's mtime (files created or
    replaced by rename: meta, config, summary) and the size and mtime of its
    append-only files (history, console output)."""
    try:
        mt = os.stat(run_dir).st_mtime_ns
    except OSError:
        return (-1,)
    return (
        mt,
        *_stat_key(os.path.join(run_dir, layout.HISTORY)),
        *_stat_key(os.path.join(run_dir, layout.OUTPUT)),
    )


def list_root(root: Path) -> tuple[tuple[int, int] | None, list[str]]:
    """``(root identity, run directory names)``; identity None if the root is missing."""
    try:
        rst = os.stat(root)
        names = layout.list_run_names(root)
    except OSError:
        return None, []
    return (rst.st_dev, rst.st_ino), names


def snapshot(root: Path) -> tuple[tuple[int, int] | None, _Snap]:
    """``(root identity, {run dir name: run_stat})`` of every run under ``root``."""
    root_id, names = list_root(root)
    return root_id, {n: run_stat(os.path.join(root, n)) for n in names}


class RootWatcher:
    """Calls ``on_change(run_dirs)`` when run directories under ``root`` change.

    Args:
        root: The run root (it may not exist yet; it is picked up when it does).
        on_change: Called from the watcher's thread with the set of run
            directories touched since the last call (never empty).
        on_error: Called with exceptions raised by ``on_change`` or by the
            observer; without it they are dropped (the watcher keeps going).
        poll: Never use inotify; rescan instead (for network filesystems).
        foreign: ``{path of another tracker's run: its files}`` (``Index.foreign_files``):
            those runs are stat'ed like run directories and reported by that path;
            any other path under the root (not hidden) is reported as it is, for
            the index to find new runs of other trackers there.
        rescan_s: Interval of the safety-net rescan.
        debounce_s: How long a burst of events is gathered before one call.
    """

    def __init__(
        self,
        root: Path,
        on_change: Callable[[set[Path]], None],
        on_error: Callable[[BaseException], None] | None = None,
        *,
        poll: bool = False,
        foreign: Callable[[], dict[str, list[str]]] | None = None,
        rescan_s: float = 2.0,
        debounce_s: float = 0.05,
    ) -> None:
        self.root = Path(root)
        self._foreign = foreign
        self._ffiles: dict[str, list[str]] = {}
        """The last answer of ``foreign``."""
        self._on_change = on_change
        self._on_error = on_error
        self._poll = poll
        self.rescan_s = rescan_s
        self.debounce_s = debounce_s
        self.mode: str = "polling" if poll else "inotify"
        """``inotify`` or ``polling`` (automatic fallback when inotify fails)."""
        self._cv = threading.Condition()
        self._pending: set[Path] = set()
        self._first_pending: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._observer: Any = None
        self._root_id: tuple[int, int] | None = None
        self._snap: _Snap = {}
        self._hot: dict[str, float] = {}
        self._live: dict[str, float] = {}
        """Run dir name -> when it last changed, for runs polled every LIVE_POLL_S."""
        self._cursor = 0

    # --------------------------------------------------------------- events

    def _run_dir_of(self, path: str) -> Path | None:
        try:
            rel = os.path.relpath(path, self.root)
        except ValueError:
            return None
        if rel.startswith(".."):
            return None
        first = rel.split(os.sep, 1)[0]
        if layout.parse_run_dir_name(first) is None:
            if (
                self._foreign is None
                or rel == "."
                or any(c.startswith(".") for c in rel.split(os.sep))
            ):
                return None  # the root itself, the index cache, anything hidden
            return Path(path)  # maybe another tracker's files (the index tells)
        return self.root / first

    def _stat(self, n: str) -> tuple[int, ...]:
        """``run_stat`` of a run directory, or the stat of another tracker's run's files."""
        files = self._ffiles.get(n)
        if files is None:
            return run_stat(os.path.join(self.root, n))
        out: list[int] = [len(files)]
        for f in files:
            out += _stat_key(f)
        return tuple(out)

    def _live_key(self, d: Path) -> str:
        """The name a reported path is polled under (a run dir's name, a foreign run's path)."""
        if d.parent == self.root:
            return d.name
        p = str(d)
        for rp in self._ffiles:
            if p == rp or p.startswith(rp + os.sep) or p.startswith(rp + "-"):
                return rp
        return p

    def _touch(self, dirs: set[Path]) -> None:
        if not dirs:
            return
        with self._cv:
            self._pending |= dirs
            if self._first_pending is None:
                self._first_pending = time.monotonic()
            self._cv.notify()

    def _event(self, event: Any) -> None:
        dirs = set()
        for p in (getattr(event, "src_path", None), getattr(event, "dest_path", None)):
            if p:
                d = self._run_dir_of(os.fsdecode(p))
                if d is not None:
                    dirs.add(d)
        self._touch(dirs)

    def _start_observer(self) -> None:
        """Start inotify on the root; on failure switch to polling for good."""
        if self._poll or self.mode == "polling":
            return
        if not self.root.is_dir():
            return  # started by the rescan once the root exists
        try:
            from watchdog.events import (
                DirCreatedEvent,
                DirDeletedEvent,
                DirMovedEvent,
                FileClosedEvent,
                FileCreatedEvent,
                FileDeletedEvent,
                FileMovedEvent,
                FileSystemEventHandler,
            )
            from watchdog.observers import Observer

            watcher = self

            class _Handler(FileSystemEventHandler):
                def on_any_event(self, event: Any) -> None:
                    if event.event_type in ("opened", "closed_no_write"):
                        return
                    watcher._event(event)

            # No modify events: appends are found by stat'ing live runs.
            # The filter narrows inotify's own mask, so the kernel does not
            # even queue an event per line a writer appends.
            kinds = [
                FileCreatedEvent,
                DirCreatedEvent,
                FileMovedEvent,
                DirMovedEvent,
                FileDeletedEvent,
                DirDeletedEvent,
                FileClosedEvent,
            ]
            obs = Observer()
            obs.daemon = True
            obs.schedule(_Handler(), str(self.root), recursive=True, event_filter=kinds)
            obs.start()
            self._observer = obs
        except Exception:
            # inotify unavailable or out of watches: the rescan does all the work.
            self.mode = "polling"
            self._observer = None

    def _stop_observer(self) -> None:
        obs, self._observer = self._observer, None
        if obs is not None:
            with contextlib.suppress(Exception):
                obs.stop()
                obs.join(timeout=5)

    # ----------------------------------------------------------------- loop

    def _rescan(self) -> None:
        root_id, names = list_root(self.root)
        if self._foreign is not None:
            self._ffiles = self._foreign()
            names = names + sorted(self._ffiles)
        if root_id != self._root_id:
            # Root created, deleted, or replaced (renamed and made again): the
            # old inotify watch is on the old directory.
            self._root_id = root_id
            if self.mode == "inotify":
                self._stop_observer()
                if root_id is not None:
                    self._start_observer()
        elif self.mode == "inotify" and root_id is not None:
            obs = self._observer
            if obs is None or not obs.is_alive():
                self._stop_observer()
                self._start_observer()
        # Stat the runs that changed lately every time, and the quiet ones in
        # turns (each at least every SWEEP_S): a root of a thousand finished
        # runs then costs almost nothing to watch.
        now = time.monotonic()
        old = self._snap
        sweep = SWEEP_S if self.mode == "inotify" else POLL_SWEEP_S
        k = max(1, math.ceil(len(names) * self._interval() / sweep)) if names else 0
        turn: set[str] = set()
        if names:
            start = self._cursor % len(names)
            turn = set(names[start : start + k]) | set(names[: max(0, start + k - len(names))])
            self._cursor = start + k
        snap: _Snap = {}
        for n in names:
            prev = old.get(n)
            if prev is None or n in turn or now - self._hot.get(n, -math.inf) < HOT_S:
                snap[n] = self._stat(n)
            else:
                snap[n] = prev
        self._snap = snap
        changed = {n for n, st in snap.items() if old.get(n) != st}
        changed |= {n for n in old if n not in snap}
        for n in changed:
            self._hot[n] = now
            self._live[n] = now
        for n in [n for n in self._hot if n not in snap]:
            del self._hot[n]
        self._touch({self.root / n for n in changed})

    def _poll_live(self) -> None:
        """Stat the runs that changed lately; report those that grew."""
        now = time.monotonic()
        changed = set()
        for n, since in list(self._live.items()):
            if now - since > LIVE_S:
                del self._live[n]
                continue
            st = self._stat(n)
            if self._snap.get(n) != st:
                self._snap[n] = st
                self._live[n] = now
                self._hot[n] = now
                changed.add(n)
        self._touch({self.root / n for n in changed})

    def _interval(self) -> float:
        return min(self.rescan_s, POLL_S) if self.mode == "polling" else self.rescan_s

    def _loop(self) -> None:
        next_scan = time.monotonic() + self._interval()
        next_live = time.monotonic() + LIVE_POLL_S
        while not self._stop.is_set():
            batch: set[Path] = set()
            with self._cv:
                now = time.monotonic()
                wait = next_scan - now
                if self.mode == "inotify" and self._live:
                    wait = min(wait, next_live - now)
                if self._first_pending is not None:
                    wait = min(wait, self._first_pending + self.debounce_s - now)
                if wait > 0:
                    self._cv.wait(wait)
                now = time.monotonic()
                if self._stop.is_set():
                    break
                if self._first_pending is not None and now >= self._first_pending + self.debounce_s:
                    batch, self._pending = self._pending, set()
                    self._first_pending = None
            if batch:
                now = time.monotonic()
                for d in batch:
                    self._live[self._live_key(d)] = now  # created, moved: watch it for appends
                self._call(batch)
            if self.mode == "inotify" and time.monotonic() >= next_live:
                try:
                    self._poll_live()
                except Exception as e:
                    self._report(e)
                next_live = time.monotonic() + LIVE_POLL_S
            if time.monotonic() >= next_scan:
                try:
                    self._rescan()
                except Exception as e:  # never let the thread die
                    self._report(e)
                next_scan = time.monotonic() + self._interval()

    def _call(self, batch: set[Path]) -> None:
        try:
            self._on_change(batch)
        except Exception as e:
            self._report(e)

    def _report(self, e: BaseException) -> None:
        if self._on_error is not None:
            with contextlib.suppress(Exception):
                self._on_error(e)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start watching (returns at once; callbacks come from a daemon thread)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._root_id, self._snap = snapshot(self.root)
        if self._foreign is not None:
            self._ffiles = self._foreign()
            self._snap.update({n: self._stat(n) for n in self._ffiles})
        # Runs written to lately (live ones) are watched closely from the start.
        recent = (time.time() - HOT_S) * 1e9
        now = time.monotonic()
        self._hot = {n: now for n, st in self._snap.items() if len(st) > 1 and st[1] >= recent}
        live = (time.time() - LIVE_S) * 1e9
        self._live = {n: now for n, st in self._snap.items() if len(st) > 1 and st[1] >= live}
        self._start_observer()
        self._thread = threading.Thread(target=self._loop, name="trackui-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and join the threads; no callback runs after this returns."""
        self._stop.set()
        with self._cv:
            self._cv.notify_all()
        self._stop_observer()
        t, self._thread = self._thread, None
        if t is not None and t is not threading.current_thread():
            t.join(timeout=10)
