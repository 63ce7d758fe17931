"""What the runs, run detail and compare screens share: following the store, and chart keys."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.screen import Screen

from trackui.tui.chart_settings import ChartSettings
from trackui.tui.errors import ReportsWorkerErrors
from trackui.tui.refresher import StoreRefresher

if TYPE_CHECKING:
    from trackui.tui.widgets.metric_plot import MetricPlot


class StoreScreen(ReportsWorkerErrors, Screen[None]):
    """A screen that shows store data and asks again when the index changes.

    Each screen is given the app's chart settings and store refresher, and
    from ``mark_ready`` on follows the refresher's ``refreshed`` signal
    (``store_changed``). A screen that is not mounted yet, or not on top,
    remembers that it is behind and catches up when it is shown
    (``mark_ready``, resume); the one on top calls ``reload`` at once. Subclasses say which changes
    concern them (``concerns``) and what reloading means: each defines
    ``reload(changed)``, which asks the store again (only called on the
    screen on top, once mounted). A subclass without one is refused when
    it is defined, not when the store first changes.
    """

    reload: Callable[[frozenset[str]], None]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not callable(getattr(cls, "reload", None)):
            raise TypeError(f"{cls.__name__}: a StoreScreen defines reload(changed)")

    def __init__(self, settings: ChartSettings, store: StoreRefresher) -> None:
        super().__init__()
        self.settings = settings
        """How curves are drawn (shared by every screen)."""
        self.store = store
        """The index and its refreshes (shared by every screen)."""
        self._dirty = False
        self._ready = False
        self._generation = store.generation
        """The refreshes seen when built: any after it, before ``mark_ready``, are caught up."""

    def concerns(self, changed: frozenset[str]) -> bool:
        """Whether a change of these run ids matters here (all of them by default)."""
        return True

    def store_changed(self, changed: frozenset[str], active: bool) -> None:
        """The index changed (``changed``: run ids; empty means anything may have)."""
        if not self._ready:
            self._dirty = True
            return
        if not self.is_attached or not self.children:
            return  # being torn down
        if changed and not self.concerns(changed):
            return
        if not active:
            self._dirty = True
            return
        self.reload(changed)

    def mark_ready(self, *, catch_up: bool = False) -> None:
        """The screen is mounted: changes from now on reload it (and missed ones now)."""
        self._ready = True
        self.store.refreshed.subscribe(self, self._refreshed, immediate=True)
        if self._dirty or catch_up or self.store.generation != self._generation:
            self._dirty = False
            self.store_changed(frozenset(), True)

    def _refreshed(self, changed: frozenset[str]) -> None:
        self.store_changed(changed, self.app.screen is self)

    def on_screen_resume(self) -> None:
        if self._dirty:
            self._dirty = False
            self.store_changed(frozenset(), True)

    # -- chart keys every screen with charts has ----------------------------

    def action_smoothing(self) -> None:
        """Cycle smoothing: time-weighted EMA, EMA, none."""
        self.settings.set_smoothing()

    def action_x_axis(self) -> None:
        """Cycle the x axis: step, relative time, wall time."""
        self.settings.cycle_x_axis()

    def on_metric_plot_log_toggled(self, event: MetricPlot.LogToggled) -> None:
        # Named for the message rather than decorated with it: the chart
        # module (and plotext) need not be imported to lay this screen out.
        self.settings.toggle_log(event.metric, event.log)

    def on_metric_plot_dots_cycled(self, event: MetricPlot.DotsCycled) -> None:
        self.settings.cycle_dots()

    def system_commands(self) -> Iterable[SystemCommand]:
        """Commands for the palette that act on this screen (the app adds them to its own)."""
        return ()
