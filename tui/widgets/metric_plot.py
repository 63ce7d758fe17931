"""One chart: one metric of one or more runs, with a cursor that reads values off it."""

from __future__ import annotations

import threading

from textual import events, on, work
from textual.binding import Binding
from textual.color import Color
from textual.dom import NoScreen
from textual.errors import NoWidget
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from trackui.tui.errors import ReportsWorkerErrors
from trackui.tui.fmt import clean
from trackui.tui.widgets.chart_cursor import cursor_strip, readout_strip
from trackui.tui.widgets.chart_draw import draw_chart
from trackui.tui.widgets.chart_frame import ChartColours, ChartFrame, focus_title
from trackui.tui.widgets.plot_spec import PlotSpec

_DRAWING = threading.Lock()
"""One chart is drawn at a time: drawing is pure Python, so charts drawn in
parallel threads only take turns at the interpreter, and each costs more."""


class MetricPlot(ReportsWorkerErrors, Widget, can_focus=True):
    """A chart of one metric for one or more runs.

    Each run's smoothed curve is drawn in the run's colour, the raw values
    faintly behind it, and where a column of the chart stands for many
    points, their minimum and maximum as a faint band (``chart_draw``). The
    picture is built in a thread and swapped in when ready, so the old
    picture stays up meanwhile: no flicker and no blocked UI. A chart whose
    data did not change is not rebuilt.

    A cursor reads values off the chart: the mouse over it, or left and
    right while it has focus. Its line and the values under the chart are
    laid over the picture as its lines are handed out, from the series the
    picture was drawn from (no query, no redraw).
    """

    BINDINGS = [
        Binding("l", "toggle_log", "Log scale"),
        Binding("left", "cursor(-1)", "Cursor left", show=False),
        Binding("right", "cursor(1)", "Cursor right", show=False),
        Binding("shift+left", "cursor(-8)", "Cursor far left", show=False),
        Binding("shift+right", "cursor(8)", "Cursor far right", show=False),
        Binding("home", "cursor_end(0)", "Cursor to first", show=False),
        Binding("end", "cursor_end(1)", "Cursor to last", show=False),
        Binding("d", "cycle_dots", "Dots", show=False),
    ]

    DEFAULT_CSS = """
    MetricPlot {
        width: 1fr;
        height: 1fr;
        min-height: 8;
    }
    """

    class _PlotMessage(Message):
        """A message from one chart (``control`` is the chart)."""

        def __init__(self, plot: MetricPlot) -> None:
            super().__init__()
            self.plot = plot

        @property
        def control(self) -> MetricPlot:
            return self.plot

    class LogToggled(_PlotMessage):
        """The user switched the chart's y axis between linear and log."""

        def __init__(self, plot: MetricPlot, metric: str, log: bool) -> None:
            super().__init__(plot)
            self.metric = metric
            self.log = log

    class DotsCycled(_PlotMessage):
        """The user asked for the charts' next resolution (the screen's settings change it)."""

    class CursorWantsTime(_PlotMessage):
        """A cursor came up on a chart whose points' times were not read (a step chart)."""

    class _Drawn(Message):
        """A picture built in the drawing thread (``strips`` None: the drawing failed)."""

        def __init__(
            self,
            key: tuple[object, ...],
            strips: list[Strip] | None,
            frame: ChartFrame | None = None,
        ) -> None:
            super().__init__()
            self.key = key
            self.strips = strips
            self.frame = frame

    def __init__(
        self,
        metric: str,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.spec = PlotSpec(metric=metric, loading=True)
        """What the chart draws; replaced with ``show``."""
        self._picture: list[Strip] | None = None
        self._picture_key: tuple[object, ...] | None = None
        self._wanted_key: tuple[object, ...] | None = None
        """The picture being built (None: none is)."""
        self._unshown = False
        """Whether a picture arrived that is not on screen yet (see ``_drawn``)."""
        self.frame: ChartFrame | None = None
        """Where the picture on screen put its plot, and the curves it drew."""
        self.builds = 0
        """How many pictures this chart has built (tests check redraws are skipped)."""
        self.cursor_col: int | None = None
        """The column of the cursor (None: no cursor)."""
        self._cursor_by_mouse = False
        self._theme_colours: tuple[str, ChartColours] | None = None
        self._readout: tuple[tuple[object, ...], Strip] | None = None
        """The values line of the cursor, kept for the cursor and picture it was made for."""

    @property
    def metric(self) -> str:
        """The metric this chart shows."""
        return self.spec.metric

    def show(self, spec: PlotSpec) -> bool:
        """Draw ``spec``; returns False (and does nothing) when it is the picture already up."""
        if spec.key() == self.spec.key():
            return False
        self.spec = spec
        if self.size.area > 0 and self._in_view():
            # On screen now: start drawing at once rather than on the next
            # repaint's first line (a frame sooner); the old picture stays up
            # until the new one arrives, so there is nothing to repaint yet.
            # Charts scrolled out of view wait until they are rendered.
            self._request_picture()
        else:
            self.refresh()
        return True

    def _in_view(self) -> bool:
        """Whether any of the chart shows now (a chart scrolled out of view is not drawn)."""
        try:
            return self.screen.find_widget(self).visible_region.area > 0
        except (NoScreen, NoWidget):
            return False

    def _request_picture(self) -> None:
        key = self._picture_wanted()
        if key != self._picture_key and key != self._wanted_key:
            self._wanted_key = key
            self._build(
                key,
                self.spec,
                self.size.width,
                self.size.height,
                self._colours(),
                self.app.no_color,
            )

    @property
    def drawn(self) -> bool:
        """Whether the picture on screen is the one for the current data and size."""
        return self._picture_key == self._picture_wanted()

    def action_toggle_log(self) -> None:
        """Switch the y axis between linear and log: of this chart if it shows, else of one that does.

        Focus stays on a chart scrolled out of view; the key then acts on the
        first chart in view, and a notification names the chart toggled.
        """
        target: MetricPlot | None = self
        if not self._in_view():
            siblings = self.parent.children if self.parent is not None else ()
            target = next((w for w in siblings if isinstance(w, MetricPlot) and w._in_view()), None)
            if target is None:
                self.notify("No chart in view to switch to a log scale.", timeout=3)
                return
        log = not target.spec.log
        self.post_message(self.LogToggled(target, target.spec.metric, log))
        if target is not self:
            self.notify(
                f"{clean(target.spec.metric)}: {'log' if log else 'linear'} scale",
                title="Log scale",
                markup=False,
                timeout=3,
            )

    def _picture_wanted(self) -> tuple[object, ...]:
        return (
            self.size.width,
            self.size.height,
            self.app.theme,
            self.app.no_color,
            *self.spec.key(),
        )

    def action_cycle_dots(self) -> None:
        """Ask for the next resolution for every chart: auto, braille, quadrant blocks, ASCII."""
        self.post_message(self.DotsCycled(self))

    def render_line(self, y: int) -> Strip:
        # The line API: the picture arrives as ready strips from the drawing
        # thread, so the event loop only hands out lines (no Text to parse
        # and wrap on every repaint of a live chart). Any line asked for
        # means the chart shows: a chart scrolled half into view has its
        # first line hidden.
        if self.size.area > 0:
            self._request_picture()
        picture = self._picture
        if picture is None or y >= len(picture):
            return Strip.blank(self.size.width, self.rich_style)
        frame = self.frame
        col = self.cursor_col
        if y == 0 and self.has_focus:
            return focus_title(picture[0])
        if col is None or frame is None:
            return picture[y]
        if y == frame.values_row:
            return self._readout_line(frame, col)
        if frame.plot_top <= y < frame.plot_top + frame.plot_rows:
            return cursor_strip(picture[y], col, self._colours())  # (cached per theme)
        return picture[y]

    @work(thread=True, exclusive=True, group="draw", exit_on_error=False, description="draw chart")
    def _build(
        self,
        key: tuple[object, ...],
        spec: PlotSpec,
        width: int,
        height: int,
        colours: ChartColours,
        no_color: bool,
    ) -> None:
        strips = frame = None
        try:
            with _DRAWING:
                picture = draw_chart(
                    spec, width, height, mode=spec.dots, colours=colours, no_color=no_color
                )
                strips, frame = picture.strips, picture.frame
                self.builds += 1
        finally:
            # Also on failure (the error is reported as the worker's): the
            # charts waiting for this one must not wait forever.
            self.post_message(self._Drawn(key, strips, frame))

    @on(_Drawn)
    def _drawn(self, event: _Drawn) -> None:
        event.stop()
        if self._wanted_key == event.key:
            self._wanted_key = None
        if event.strips is not None:
            self._picture = event.strips
            self._picture_key = event.key
            self.frame = event.frame
            self._readout = None
            self._unshown = True
        # Charts drawn for one update go on screen together, when the last
        # of them arrives: one repaint of the screen rather than one per
        # chart (with live runs, the repaints cost as much as the drawing).
        siblings = (
            [w for w in self.parent.children if isinstance(w, MetricPlot)]
            if self.parent
            else [self]
        )
        if any(w.drawing for w in siblings):
            return
        for w in siblings:
            w.reveal()

    @property
    def drawing(self) -> bool:
        """Whether a picture is being built for this chart."""
        return self._wanted_key is not None

    def reveal(self) -> None:
        """Put the picture that arrived last on screen (if it is not there yet)."""
        if self._unshown:
            self._unshown = False
            self.refresh()

    def draw_now(self, width: int, height: int) -> list[Strip]:
        """Build the picture in this thread (benchmarks, tests)."""
        picture = draw_chart(
            self.spec,
            width,
            height,
            mode=self.spec.dots,
            colours=self._colours(),
            no_color=self.app.no_color,
        )
        self.builds += 1
        return picture.strips

    def _colours(self) -> ChartColours:
        """The frame's colours from the app's theme (worked out once per theme)."""
        theme = self.app.theme
        cached = self._theme_colours
        if cached is not None and cached[0] == theme:
            return cached[1]
        variables = self.app.theme_variables

        def rgb(name: str, default: str) -> tuple[int, int, int]:
            try:
                c = Color.parse(variables.get(name, default))
            except Exception:
                c = Color.parse(default)
            return (c.r, c.g, c.b)

        return ChartColours(text=rgb("foreground", "#e0e0e0"), background=rgb("surface", "#000000"))

    # -- the cursor -------------------------------------------------------------

    def _readout_line(self, frame: ChartFrame, col: int) -> Strip:
        key = (id(frame), col, self.size.width)
        if self._readout is None or self._readout[0] != key:
            strip = readout_strip(
                self.spec, frame, col, self.size.width, self._colours(), self.app.no_color
            )
            self._readout = (key, strip)
        return self._readout[1]

    def readout(self) -> str:
        """The values line as it shows now (the cursor's values, or each curve's last)."""
        frame = self.frame
        if frame is None or frame.values_row is None or self._picture is None:
            return ""
        return self.render_line(frame.values_row).text

    def set_cursor(self, col: int | None, *, by_mouse: bool = False) -> None:
        """Put the cursor at column ``col`` of the chart (kept inside the plot; None: hide it)."""
        frame = self.frame
        if col is not None and frame is not None:
            col = min(max(col, frame.plot_left), frame.plot_left + frame.plot_cols - 1)
        if col is not None and frame is None:
            col = None
        self._cursor_by_mouse = by_mouse and col is not None
        if col != self.cursor_col:
            if col is not None and self.cursor_col is None and self._lacks_time():
                self.post_message(self.CursorWantsTime(self))
            self.cursor_col = col
            self.refresh()

    def _lacks_time(self) -> bool:
        """Whether a curve of this chart was read without its points' times."""
        return any(s.t is None and s.step is not None for s in self.spec.series)

    def action_cursor(self, cols: int) -> None:
        """Move the cursor ``cols`` columns (it appears at the last x first)."""
        frame = self.frame
        if frame is None:
            return
        if self.cursor_col is None:
            self.set_cursor(frame.plot_left + frame.plot_cols - 1)
        else:
            self.set_cursor(self.cursor_col + cols)

    def action_cursor_end(self, last: int) -> None:
        """Put the cursor at the first (0) or last (1) column of the plot."""
        frame = self.frame
        if frame is not None:
            self.set_cursor(frame.plot_left + (frame.plot_cols - 1 if last else 0))

    def on_mouse_move(self, event: events.MouseMove) -> None:
        frame = self.frame
        if frame is None:
            return
        inside = frame.plot_left <= event.x < frame.plot_left + frame.plot_cols
        if inside and frame.plot_top <= event.y < frame.plot_top + frame.plot_rows:
            self.set_cursor(event.x, by_mouse=True)
        elif self._cursor_by_mouse:
            self.set_cursor(None)

    def on_leave(self, event: events.Leave) -> None:
        if self._cursor_by_mouse:
            self.set_cursor(None)

    def on_focus(self) -> None:
        self.refresh(layout=False)  # (its title shows it)

    def on_blur(self) -> None:
        if not self._cursor_by_mouse:
            self.set_cursor(None)
        self.refresh(layout=False)

    def on_resize(self) -> None:
        self.set_cursor(None)
        self.refresh()
