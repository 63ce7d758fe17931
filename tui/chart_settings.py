"""How curves are drawn: smoothing, x axis and range, log scales, run colours, saved prefs.

One ``ChartSettings`` per app, built by the app and handed to the screens
and curves panels that read or change it. A change is saved with the root's
preferences and announced on ``changed`` (a ``textual.signal.Signal``): each
curves panel subscribes and asks the store again; the app subscribes to
tell the user. A panel's query copies what it needs (smoothing, x axis,
range) into its request, and the curves are drawn from the request they
were computed for; only display choices (log scales, colours) are read
here at drawing time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from textual.dom import DOMNode
from textual.signal import Signal

from trackui.store.layout import SMOOTH_EMA, SMOOTH_NONE, SMOOTH_TWEMA, SMOOTHERS, X_AXES, X_STEP
from trackui.tui.prefs import Prefs, load_prefs, save_prefs

RGB = tuple[int, int, int]

PALETTE: tuple[RGB, ...] = (
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


SMOOTHING_LABELS: dict[str, str] = {
    SMOOTH_TWEMA: "time-weighted EMA",
    SMOOTH_EMA: "EMA",
    SMOOTH_NONE: "no smoothing",
}
"""How each smoother is named on screen (the stored names are short)."""


DOTS_AUTO = "auto"
DOTS_CHOICES = (DOTS_AUTO, "braille", "quadrant", "ascii")
"""The chart resolutions a user picks from, in the order the key cycles (see ``dots``)."""

PLAIN_TERMS = frozenset(("linux", "vt100", "vt102", "vt220", "vt320", "dumb", "cons25", "ansi"))
"""Terminals whose fonts lack braille and quadrant blocks: charts in ASCII there."""


def auto_dots(env: Mapping[str, str] | None = None) -> str:
    """The resolution for this terminal: ASCII on a Linux console or a plain terminal, else braille.

    A ``TERM`` of ``linux`` (the Linux virtual console, whose font has no
    braille), a VT100-class or ``dumb`` terminal (or any ``TERM`` starting
    with ``linux``) gets ASCII; every other terminal gets braille.
    """
    term = (os.environ if env is None else env).get("TERM", "").lower()
    if term in PLAIN_TERMS or term.startswith("linux"):
        return "ascii"
    return "braille"


def smoothing_label(smoothing: str, strength: float) -> str:
    """``time-weighted EMA 0.60``, ``EMA 0.60`` or ``no smoothing``."""
    if smoothing == SMOOTH_NONE:
        return SMOOTHING_LABELS[SMOOTH_NONE]
    return f"{SMOOTHING_LABELS.get(smoothing, smoothing)} {strength:.2f}"


@dataclass(frozen=True)
class SettingsChanged:
    """What ``ChartSettings.changed`` carries."""

    note: str | None = None
    """A line for the user (None: nothing to say, as for a log scale or a zoom)."""


class ChartSettings:
    """The chart settings of one root, and the colour each run keeps."""

    def __init__(self, root: Path, owner: DOMNode) -> None:
        self.root = root
        self.prefs: Prefs = load_prefs(root)
        """Per-root preferences (the table's columns and sort are kept here too)."""
        self.x_range: tuple[float, float] | None = None
        """The zoomed x range, or None for everything (not saved)."""
        self.changed: Signal[SettingsChanged] = Signal(owner, "chart-settings-changed")
        """Published after every change of what curves show."""
        self._colours: dict[str, int] = {}

    # -- what a query needs -------------------------------------------------

    @property
    def smoothing(self) -> str:
        return self.prefs.smoothing

    @property
    def strength(self) -> float:
        """The smoothing strength, rounded as queries ask for it."""
        return round(self.prefs.strength, 2)

    @property
    def x_axis(self) -> str:
        return self.prefs.x_axis

    def dots_mode(self) -> str:
        """The resolution charts are drawn at: the chosen one, or ``auto_dots()``."""
        chosen = self.prefs.chart_dots
        if chosen in DOTS_CHOICES and chosen != DOTS_AUTO:
            return chosen
        return auto_dots()

    def is_log(self, metric: str) -> bool:
        """Whether ``metric`` is drawn on a log y axis."""
        return metric in self.prefs.log_metrics

    # -- changes ----------------------------------------------------------------

    def save(self) -> None:
        """Persist the preferences (silently kept in memory on a read-only root)."""
        save_prefs(self.root, self.prefs)

    def set_smoothing(self, smoothing: str | None = None, strength: float | None = None) -> None:
        """Change the smoothing (cycling when ``smoothing`` is None and ``strength`` too)."""
        p = self.prefs
        if smoothing is None and strength is None:
            smoothing = SMOOTHERS[(SMOOTHERS.index(p.smoothing) + 1) % len(SMOOTHERS)]
        if smoothing is not None:
            p.smoothing = smoothing
        if strength is not None:
            p.strength = round(min(0.99, max(0.0, strength)), 2)
        self._changed(
            "Smoothing off"
            if p.smoothing == SMOOTH_NONE
            else f"Smoothing: {SMOOTHING_LABELS.get(p.smoothing, p.smoothing)}, "
            f"strength {p.strength:.2f}"
        )

    def set_x_axis(self, x: str) -> None:
        """Plot against ``x``: step, relative, wall, or a metric's name."""
        self.prefs.x_axis = x
        self._changed(f"x axis: {x}")

    def cycle_x_axis(self, extra: Sequence[str] = ()) -> None:
        """Move to the next x axis: step, relative time, wall time, then ``extra`` metrics."""
        choices = [*X_AXES, *extra]
        cur = self.prefs.x_axis
        self.set_x_axis(
            choices[(choices.index(cur) + 1) % len(choices)] if cur in choices else X_STEP
        )

    def set_x_range(self, rng: tuple[float, float] | None) -> None:
        """Zoom every chart to an x range (None: everything)."""
        self.x_range = rng
        self.changed.publish(SettingsChanged())

    def toggle_log(self, metric: str, log: bool) -> None:
        """Draw ``metric`` on a log (or linear) y axis."""
        logs = [m for m in self.prefs.log_metrics if m != metric]
        if log:
            logs.append(metric)
        self.prefs.log_metrics = logs
        self._changed(None)

    def toggle_pin(self, metric: str) -> None:
        """Pin ``metric``'s chart first (after those pinned before it), or unpin it."""
        p = self.prefs
        pinned = metric not in p.pinned
        p.pinned = [m for m in p.pinned if m != metric] + ([metric] if pinned else [])
        self._changed(f"Pinned {metric}" if pinned else f"Unpinned {metric}")

    def toggle_fold(self, *, section: str | None = None, chart: str | None = None) -> None:
        """Fold a chart section to its header (or unfold it), or one chart to its name."""
        p = self.prefs
        if section is not None:
            fs = p.folded_sections
            p.folded_sections = [s for s in fs if s != section] + (
                [] if section in fs else [section]
            )
        if chart is not None:
            fc = p.folded_charts
            p.folded_charts = [c for c in fc if c != chart] + ([] if chart in fc else [chart])
        self._changed(None)

    def unfold_charts(self, charts: Sequence[str]) -> None:
        """Show these folded charts again."""
        self.prefs.folded_charts = [c for c in self.prefs.folded_charts if c not in set(charts)]
        self._changed(None)

    def set_dots(self, dots: str) -> None:
        """Draw charts in braille, quadrant blocks, ASCII, or ``auto`` (by the terminal)."""
        if dots not in DOTS_CHOICES:
            raise ValueError(f"chart dots: {dots!r} is not one of {', '.join(DOTS_CHOICES)}")
        self.prefs.chart_dots = dots
        note = f"Charts: {dots}" + (f" ({self.dots_mode()} here)" if dots == DOTS_AUTO else "")
        self._changed(note)

    def cycle_dots(self) -> None:
        """Move to the next resolution: auto, braille, quadrant, ASCII."""
        cur = self.prefs.chart_dots
        i = DOTS_CHOICES.index(cur) if cur in DOTS_CHOICES else 0
        self.set_dots(DOTS_CHOICES[(i + 1) % len(DOTS_CHOICES)])

    def set_metrics(self, metrics: Sequence[str]) -> None:
        """Chart these metrics (empty: the ones the runs share)."""
        self.prefs.metrics = list(metrics)
        self._changed(None)

    def _changed(self, note: str | None) -> None:
        self.save()
        self.changed.publish(SettingsChanged(note))

    # -- run colours ----------------------------------------------------------

    def colours_for(self, run_ids: Sequence[str]) -> dict[str, RGB]:
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
