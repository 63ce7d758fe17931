"""What the runs, run detail and compare screens share: following the store, and chart keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from trackui.tui.errors import ReportsWorkerErrors

if TYPE_CHECKING:
    from trackui.tui.app import TrackApp
    from trackui.tui.widgets.metric_plot import MetricPlot


class StoreScreen(ReportsWorkerErrors, Screen[None]):
    """A screen that shows store data and asks again when the index changes.

    The app calls ``store_changed`` on every screen of the stack after each
    refresh. A screen that is not mounted yet, or not on top, remembers that
    it is behind and catches up when it is shown (``mark_ready``, resume);
    the one on top calls ``reload`` at once. Subclasses say which changes
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

    def __init__(self) -> None:
        super().__init__()
        self._dirty = False
        self._ready = False

    @property
    def track(self) -> TrackApp:
        return self.app  # type: ignore[return-value]

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
        if self._dirty or catch_up:
            self._dirty = False
            self.store_changed(frozenset(), True)

    def on_screen_resume(self) -> None:
        if self._dirty:
            self._dirty = False
            self.store_changed(frozenset(), True)

    # -- chart keys every screen with charts has ----------------------------

    def action_smoothing(self) -> None:
        """Cycle smoothing: time-weighted EMA, EMA, none."""
        self.track.set_smoothing()

    def action_x_axis(self) -> None:
        """Cycle the x axis: step, relative time, wall time."""
        self.track.cycle_x_axis()

    def on_metric_plot_log_toggled(self, event: MetricPlot.LogToggled) -> None:
        # Named for the message rather than decorated with it: the chart
        # module (and plotext) need not be imported to lay this screen out.
        self.track.toggle_log(event.metric, event.log)
