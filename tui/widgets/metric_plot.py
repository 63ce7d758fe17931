"""One chart: one metric of one or more runs, drawn with plotext."""

from __future__ import annotations

import itertools
import threading
from typing import Any

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.dom import NoScreen
from textual.errors import NoWidget
from textual.message import Message
from textual.strip import Strip
from textual_plotext import PlotextPlot

from trackui.store.groups import is_group_id
from trackui.tui.errors import ReportsWorkerErrors
from trackui.tui.fmt import clean, shorten
from trackui.tui.widgets.canvas import Layer, layers_fit, paint_layers, place_layers
from trackui.tui.widgets.plot_spec import (
    FAINT_LAYERS_MAX_RUNS,
    PlotSpec,
    fade,
    finite_points,
    finite_segments,
    log_ticks,
    scaled,
    y_exponent,
)

SINGLE_POINT_MARKER = "●"
"""How a curve of one point is drawn: a half-block dot alone is all but invisible."""

_DRAWING = threading.Lock()
"""One chart is drawn at a time: drawing is pure Python, so charts drawn in
parallel threads only take turns at the interpreter, and each costs more."""


class MetricPlot(ReportsWorkerErrors, PlotextPlot, can_focus=True):
    """A chart of one metric for one or more runs.

    Each run's smoothed curve is drawn in the run's colour, the raw values
    faintly behind it, and where a column of the chart stands for many
    points, their minimum and maximum as a faint envelope. The picture is
    built in a thread (plotext takes tens of milliseconds per chart) and
    swapped in when ready, so the old picture stays up meanwhile: no flicker
    and no blocked UI. A chart whose data did not change is not rebuilt.
    """

    BINDINGS = [Binding("l", "toggle_log", "Log scale")]

    DEFAULT_CSS = """
    MetricPlot {
        height: 1fr;
        min-height: 8;
    }
    """

    class LogToggled(Message):
        """The user switched the chart's y axis between linear and log."""

        def __init__(self, plot: MetricPlot, metric: str, log: bool) -> None:
            super().__init__()
            self.plot = plot
            self.metric = metric
            self.log = log

        @property
        def control(self) -> MetricPlot:
            return self.plot

    class _Drawn(Message):
        """A picture built in the drawing thread (``strips`` None: the drawing failed)."""

        def __init__(self, key: tuple[object, ...], strips: list[Strip] | None) -> None:
            super().__init__()
            self.key = key
            self.strips = strips

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
        # plotext's figure is not thread-safe; draws of one chart never overlap.
        self._plt_lock = threading.Lock()
        self.builds = 0
        """How many pictures this chart has built (tests check redraws are skipped)."""
        self._auto_yticks: tuple[list[Any], list[Any], list[Any]] | None = None
        """plotext's automatic y ticks, put back after ticks of our own."""
        self._styles: dict[tuple[object, ...], Style] = {}
        """Rich styles of plotext's colour triples, decoded once."""

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
            self._build(key, self.spec, self.size.width, self.size.height)

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
        return (self.size.width, self.size.height, self.app.theme, *self.spec.key())

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
        return picture[y]

    @work(thread=True, exclusive=True, group="draw", exit_on_error=False, description="draw chart")
    def _build(self, key: tuple[object, ...], spec: PlotSpec, width: int, height: int) -> None:
        strips = None
        try:
            with _DRAWING, self._plt_lock:
                strips = self._draw(spec, width, height)
        finally:
            # Also on failure (the error is reported as the worker's): the
            # charts waiting for this one must not wait forever.
            self.post_message(self._Drawn(key, strips))

    @on(_Drawn)
    def _drawn(self, event: _Drawn) -> None:
        event.stop()
        if self._wanted_key == event.key:
            self._wanted_key = None
        if event.strips is not None:
            self._picture = event.strips
            self._picture_key = event.key
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
        with self._plt_lock:
            return self._draw(self.spec, width, height)

    def _draw(self, spec: PlotSpec, width: int, height: int) -> list[Strip]:
        from trackui.tui.widgets.plotext_patch import install

        install()  # plotext's per-point helpers on arrays (same pictures, a third of the time)
        plt = self.plt
        plt.clear_data()
        plt.plotsize(width, height)
        plt._set_size(width, height)
        plt.theme(self._get_plotext_theme_name(self.app.theme))
        exponent = y_exponent(spec.series, log=spec.log)
        plt.title(chart_title(spec.metric, width, log=spec.log, exponent=exponent))
        plt.xlabel(clean(spec.x_label))
        plt.yscale("log" if spec.log else "linear")
        if spec.x_range is not None:
            plt.xlim(spec.x_range[0], spec.x_range[1])
        else:
            plt.xlim(None, None)
        drew = False
        layers: list[Layer] = []
        # The faint layers cost a line each; with many runs they also bury
        # the curves, so they are drawn for a few runs only.
        few = len(spec.series) <= FAINT_LAYERS_MAX_RUNS
        for s, colour, marker in zip(spec.series, spec.colours, spec.markers, strict=False):
            many = s.points > len(s.x) and len(s.x) > 0
            band = is_group_id(s.run_id)  # a group's band: always drawn, never a raw curve
            y, raw = scaled(s.y, exponent), scaled(s.raw, exponent)
            if (many and few) or band:
                # Each column's min and max: points, not lines (lines between
                # them would cross the whole range and cost far more to draw).
                # One layer for both: a cell holding a low and a high dot
                # shows both.
                lo_hi = (scaled(s.lo, exponent), scaled(s.hi, exponent))
                xs, ys = finite_points(s.x, lo_hi, log=spec.log)
                if xs:
                    faint = fade(colour, spec.background, 0.7)
                    layers.append(Layer(xs, ys, marker, faint, lines=False))
            if spec.show_raw and few and not many and not band:
                faint = fade(colour, spec.background, 0.6)
                for xs, ys in finite_segments(s.x, raw, log=spec.log):
                    layers.append(Layer(xs, ys, marker, faint, lines=True))
            for xs, ys in finite_segments(s.x, y, log=spec.log):
                # A lone point (a one-point series, or one between gaps) is
                # drawn as a whole-cell dot, so that it can be seen.
                mk = SINGLE_POINT_MARKER if len(xs) == 1 and marker == "hd" else marker
                layers.append(Layer(xs, ys, mk, colour, lines=len(xs) > 1))
                drew = True
        # plotext draws the frame; the curves themselves are drawn onto its
        # matrix on arrays (the same cells plotext would fill, in a fraction
        # of the time), unless they hold something only plotext handles.
        ticks = None
        if spec.log and drew:
            lo = min(min(la.y) for la in layers)
            hi = max(max(la.y) for la in layers)
            ticks = log_ticks(lo, hi, height)
        mon = plt.monitor
        if self._auto_yticks is None:
            self._auto_yticks = (list(mon.yticks), list(mon.ylabels), list(mon.yfrequency))
        if ticks is not None:
            plt.yticks(*ticks)
        else:  # plotext's own ticks (it has no call that puts them back)
            mon.yticks, mon.ylabels, mon.yfrequency = (list(a) for a in self._auto_yticks)
        own = drew and layers_fit(plt.monitor, layers)
        if own:
            place_layers(plt, layers, log=spec.log)
        else:
            for la in layers:
                draw = plt.plot if la.lines else plt.scatter
                draw(la.x, la.y, marker=la.marker, color=la.color)
        if not drew:
            # An empty frame with a word in it says more than a blank box.
            plt.plot([0.0, 1.0], [0.0, 0.0], marker=" ")
            plt.text("loading…" if spec.loading else "no data", 0.5, 0.0, alignment="center")
            plt.yscale("linear")
        try:
            # plotext's build() then writes the picture as ANSI text, which
            # would be parsed back into styles here; reading its character
            # and colour matrices directly costs a fifth of that.
            plt._set_sizes()
            plt._build_matrix()
            if own:
                paint_layers(plt.monitor, layers, log=spec.log)
            strips = matrix_strips(plt.monitor.matrix, width, height, self._styles)
        except (ValueError, ZeroDivisionError, OverflowError, IndexError) as e:
            # plotext has corner cases (a single point on a log axis, huge
            # ranges); a chart that cannot be drawn says so instead of failing.
            plt.clear_data()
            text = Text(f"{clean(spec.metric)}: cannot draw ({clean(e)})", style="dim")
            return to_strips(text, width, height)
        self.builds += 1
        return strips

    def on_resize(self) -> None:
        self.refresh()


def chart_title(metric: str, width: int, *, log: bool = False, exponent: int = 0) -> str:
    """A chart's title: the metric, ``(log)`` on a log axis, the unit of huge or tiny values."""
    notes = (" (log)" if log else "") + (f" (×1e{exponent:+d})" if exponent else "")
    room = max(1, width - 4 - len(notes))
    return shorten(clean(metric), room) + notes


def matrix_strips(
    matrix: Any, width: int, height: int, styles: dict[tuple[object, ...], Style]
) -> list[Strip]:
    """plotext's character and colour matrices as one ``Strip`` per line.

    ``styles`` caches the rich style of each (foreground, style, background)
    that plotext uses (a chart has a dozen): the ANSI code plotext would
    print for it, decoded once.
    """
    from plotext._utility import colors_to_ansi

    def style_of(key: tuple[object, ...]) -> Style:
        st = styles.get(key)
        if st is None:
            ansi = colors_to_ansi(*key)
            decoded = Text.from_ansi(ansi + "x")
            st = decoded.spans[0].style if decoded.spans else Style()
            if isinstance(st, str):
                st = Style.parse(st)
            styles[key] = st
        return st

    def hashable(v: object) -> object:
        return tuple(v) if isinstance(v, list) else v

    strips = []
    for row in list(matrix.Rows)[::-1][:height]:
        chars = matrix.marker[row]
        # (foreground, style, background) of each cell; a segment per run of equal ones.
        keys = zip(matrix.fullground[row], matrix.style[row], matrix.background[row], strict=True)
        segments = []
        a = 0
        for key, run in itertools.groupby(keys):
            b = a + sum(1 for _ in run)
            try:
                style = styles[key]
            except (KeyError, TypeError):  # (new, or holding a list)
                style = style_of(tuple(hashable(v) for v in key))
            segments.append(Segment("".join(chars[a:b]), style))
            a = b
        strips.append(Strip(segments).adjust_cell_length(width))
    while len(strips) < height:
        strips.append(Strip.blank(width))
    return strips


def to_strips(text: Text, width: int, height: int) -> list[Strip]:
    """A picture as one ``Strip`` per line, exactly ``width`` cells wide."""
    console = Console(
        width=width,
        height=height,
        color_system="truecolor",
        force_terminal=True,
        legacy_windows=False,
        markup=False,
        emoji=False,
        highlight=False,
    )
    strips = []
    for line in text.split("\n", allow_blank=True)[:height]:
        segments = [s for s in line.render(console, end="") if s.text]
        strips.append(Strip(segments).adjust_cell_length(width))
    return strips
