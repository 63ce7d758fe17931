"""The watches while the viewer is open: firings, badges, notifications and the bell.

One ``WatchService`` per app. It keeps a ``store.watches.Watches`` over the
root and feeds it in a worker (never on the event loop): the watcher's
reports of changed run directories (``files_changed``, straight from the
watcher, without waiting for the index: a NaN is badged well within the
live budget) and a one-second clock (``tick``: stalls, crashes). The first
pass over every run starts once the index has loaded the runs, so it never
competes with the first paint; the firings it finds are listed and badged
but not notified. Every later firing pops a notification and, with the
setting on, rings the terminal bell (on by default: one ring per firing
batch, which tmux and terminals turn into a highlighted window over SSH).
``alert()`` events from scripts join the list and badge their run (their
notification is ``AlertWatcher``'s).

The worker posts ``WatchesFired``; the app hands it to ``took_in``, which
publishes ``changed`` for the runs screen (badges) and the alerts screen.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.message import Message
from textual.signal import Signal

from trackui.store.watch_rules import check_rule, load_settings, parse_rule, save_settings
from trackui.store.watches import ALERT, CRASHED, FAILED, NAN, STALL_MIN_S, Firing, Watches
from trackui.tui.fmt import clean, fmt_duration, fmt_value, shorten
from trackui.tui.refresher import StoreRefresher
from trackui.tui.widgets.watch_badges import badge_text

TICK_S = 1.0
"""How often stalls and crashes are looked for."""
MIN_PASS_S = 0.25
"""At most one pass of the watches this often: live writers change files many times a second
(the live budget is 1 s)."""
NOTIFY_TIMEOUT_S = 8.0
MAX_KEPT = 2000
"""Firings kept in the list (the oldest go first)."""


class WatchesFired(Message):
    """A pass of the watches ended (posted from the worker)."""

    def __init__(
        self,
        firings: tuple[Firing, ...],
        active: dict[str, tuple[str, ...]],
        initial: bool,
        live: bool = True,
    ) -> None:
        super().__init__()
        self.live = live
        """Whether a run says it is running (the clock is looked at only then)."""
        self.firings = firings
        self.active = active
        """Run id -> the rules firing now."""
        self.initial = initial
        """Whether this was the first pass (what held when the viewer opened)."""


def describe(f: Firing) -> str:
    """A firing in a few words: what fired, on which metric, at what value and step."""
    at = f" at step {f.step}" if f.step is not None else ""
    if f.rule == "nan":
        return f"{f.metric} = {fmt_value(f.value)}{at}"
    if f.rule == "stall":
        return f"no record for {fmt_duration(f.value if isinstance(f.value, float) else None)}"
    if f.rule in (CRASHED, FAILED):
        return f.rule + (f" (exit {f.value})" if f.value is not None else "")
    if f.rule == ALERT:
        return f"alert {f.metric}: {f.value}"
    return f"{f.metric} = {fmt_value(f.value)}{at}: {f.rule}"


class WatchService:
    """Runs the watches of one root in the background; holds what fired."""

    def __init__(self, app: App[Any], store: StoreRefresher, rules: Iterable[str] = ()) -> None:
        self._app = app
        self._store = store
        self.root: Path = store.root
        self.settings = load_settings(self.root)
        for r in rules:
            if r not in self.settings.rules and check_rule(r) is None:
                self.settings.rules.append(r)
        self.stall_min_s = STALL_MIN_S
        """The shortest stall (tests shorten it before the app runs)."""
        self.firings: list[Firing] = []
        """Every firing seen, newest first."""
        self.badges: dict[str, str] = {}
        """Run id -> its mark (``watch_badges.badge_text``)."""
        self.changed: Signal[None] = Signal(app, "watches-changed")
        """Published after the firings or badges changed."""
        self.opened_at = time.time()
        self._active: dict[str, tuple[str, ...]] = {}
        self._alerted: set[str] = set()
        """Runs that raised an ``alert()`` while the viewer was open."""
        self._watches: Watches | None = None
        self._lock = threading.Lock()
        self._started = False
        self._busy = False
        self._last_pass = 0.0
        self._waiting = False
        """A pass is due once ``MIN_PASS_S`` has passed since the last one began."""
        self._dirs: set[str] = set()
        self._tick = False
        self._rules_dirty = False
        self._live = False
        """Whether the last pass saw a run that says it is running."""

    @property
    def settled(self) -> bool:
        """Whether the first pass over the root is done and no pass is running."""
        return self._started and not self._busy and self._watches is not None

    # -- feeding the worker ------------------------------------------------------

    def start(self) -> None:
        """Follow the store (the first pass waits for its first load) and the clock."""
        self.opened_at = time.time()
        self._store.refreshed.subscribe(self._app, self._refreshed)
        self._app.set_interval(TICK_S, self.tick)

    def _refreshed(self, changed: frozenset[str]) -> None:
        if self._started or self._store.closing or not self._store.scanned:
            return
        done, total = self._store.loaded
        if done >= total:
            self._started = True
            self._go(initial=True)

    def files_changed(self, paths: Iterable[str]) -> None:
        """The watcher reported these run directories."""
        if self._started:
            self._dirs.update(paths)
            self._kick()

    def tick(self) -> None:
        """The clock: look for stalls and crashes (while a run says it is running)."""
        if self._started and self._live:
            self._tick = True
            self._kick()

    def _kick(self) -> None:
        if self._busy or self._waiting or self._store.closing:
            return
        wait = self._last_pass + MIN_PASS_S - time.monotonic()
        if wait > 0:
            self._waiting = True
            self._app.set_timer(wait, self._due)
        else:
            self._go(initial=False)

    def _due(self) -> None:
        self._waiting = False
        self._kick()

    def _go(self, *, initial: bool) -> None:
        dirs, self._dirs = self._dirs, set()
        tick, self._tick = self._tick, False
        rules = None
        if self._rules_dirty or initial:
            self._rules_dirty = False
            rules = [parse_rule(r) for r in self.settings.rules]
        self._busy = True
        self._last_pass = time.monotonic()
        self._app.run_worker(
            lambda: self._pass(initial, dirs, tick, rules),
            thread=True,
            group="watches",
            exit_on_error=False,
            description="watches",
        )

    def _pass(self, initial: bool, dirs: set[str], tick: bool, rules: list[Any] | None) -> None:
        """In the worker: one pass of the watches, handed to the event loop."""
        fired: list[Firing] = []
        active: dict[str, tuple[str, ...]] = {}
        live = True
        try:
            with self._lock:
                w = self._watches
                if w is None:
                    w = self._watches = Watches(
                        self.root, rules or (), now=self._store.now, stall_min_s=self.stall_min_s
                    )
                elif rules is not None:
                    w.set_rules(rules)
                if initial:
                    fired += w.update()
                elif dirs:
                    fired += w.update(dirs)
                if tick or initial:
                    fired += w.tick()
                active = w.active()
                live = w.live
        finally:
            self._app.post_message(WatchesFired(tuple(fired), active, initial, live))

    # -- answers, on the event loop ----------------------------------------------

    def took_in(self, event: WatchesFired) -> None:
        """A pass ended: keep its firings, update the badges, notify the new ones."""
        self._busy = False
        self._live = event.live
        if self._store.closing:
            return
        new = [f for f in event.firings if f.rule != ALERT or f.time >= self.opened_at]
        self._alerted |= {f.run_id for f in new if f.rule == ALERT}
        changed = bool(event.firings) or event.active != self._active
        self._active = event.active
        if event.firings:
            # (newest first whatever order they were seen in: a run first seen
            # late brings older records)
            both = list(event.firings) + self.firings
            self.firings = sorted(both, key=lambda f: f.time, reverse=True)[:MAX_KEPT]
        if changed:
            ids = set(self._active) | self._alerted
            self.badges = {
                rid: badge_text(
                    self._active.get(rid, ()) + ((ALERT,) if rid in self._alerted else ())
                )
                for rid in ids
            }
            self.changed.publish(None)
        if not event.initial and new:
            self._announce(new)
        if self._dirs or self._tick or self._rules_dirty:
            self._kick()

    def _announce(self, firings: list[Firing]) -> None:
        for f in firings:
            if f.rule == ALERT:
                continue  # (AlertWatcher notifies it, at its own level)
            self._app.notify(
                shorten(clean(describe(f)), 200) + "   (w: alerts)",
                title=f"{shorten(clean(f.run_name), 40)}: {f.badge}",
                severity="error" if f.rule in (NAN, CRASHED, FAILED) else "warning",
                timeout=NOTIFY_TIMEOUT_S,
                markup=False,
            )
        if self.settings.bell:
            self._app.bell()

    # -- the user's rules and the bell ---------------------------------------------

    def add_rule(self, text: str) -> str | None:
        """Add a rule (kept with the root); the one-line error of a bad one."""
        text = text.strip()
        err = check_rule(text)
        if err is not None:
            return err
        if text not in self.settings.rules:
            self.settings.rules.append(text)
            self._rules_changed()
        return None

    def remove_rule(self, text: str) -> None:
        if text in self.settings.rules:
            self.settings.rules.remove(text)
            self._rules_changed()

    def toggle_bell(self) -> bool:
        self.settings.bell = not self.settings.bell
        save_settings(self.root, self.settings)
        self.changed.publish(None)
        return self.settings.bell

    def _rules_changed(self) -> None:
        save_settings(self.root, self.settings)
        self._rules_dirty = True
        if self._started:
            self._kick()
        self.changed.publish(None)
