"""Hostile names, small terminals, NO_COLOR, and charts that must not crash."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from rich.text import Text
from tui_support import HOSTILE_NAMES, settle

from trackui.store.models import Series
from trackui.tui.fmt import clean, fmt_number, literal
from trackui.tui.screens.run_detail import RunDetailScreen
from trackui.tui.screens.runs import RunsScreen
from trackui.tui.widgets.curves import CurvesPanel
from trackui.tui.widgets.metric_plot import MetricPlot
from trackui.tui.widgets.plot_spec import PlotSpec, finite_segments, series_digest
from trackui.tui.widgets.run_table import RunTable

ESC = "\x1b"


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_clean_leaves_no_control_characters(name: str) -> None:
    out = clean(name)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in out)
    t = literal(name)
    assert isinstance(t, Text) and t.plain == out and not t.spans


def test_clean_removes_whole_escape_sequences() -> None:
    assert clean("\x1b[31mred\x1b[0m") == "red"
    assert clean("a\x1b]0;title\x07b") == "ab"
    assert clean("[bold]x[/]") == "[bold]x[/]"  # markup stays text
    assert clean("a\tb\nc", keep_newlines=True) == "a    b\nc"


def test_fmt_number() -> None:
    assert fmt_number(float("nan")) == "nan"
    assert fmt_number(float("-inf")) == "-inf"
    assert fmt_number(3.0) == "3"
    assert fmt_number(0.0003) == "0.0003"
    assert fmt_number(0.123456) == "0.1235"


async def test_hostile_names_show_literally(hostile_root: Path, app_factory) -> None:
    app = app_factory(hostile_root)
    # Wide enough for the names whole (a narrower table cuts them with an ellipsis).
    async with app.run_test(size=(180, 40)) as pilot:
        await settle(pilot)
        assert app.is_running  # [@click=app.quit] did not quit
        table = app.screen.query_one(RunTable)
        shown = {table.get_row(r.id)[2].plain for r in table.rows_shown}
        assert {clean(n) for n in HOSTILE_NAMES} == shown
        assert "[@click=app.quit]quit" in shown and "[/]" in shown
        svg = app.export_screenshot()
        assert "[@click=app.quit]quit" in svg.replace("&#160;", " ")
        assert ESC not in svg and "\x07" not in svg
        # Legend and detail too.
        await pilot.press("space", "space", "space", "space", "space")
        await settle(pilot)
        legend = str(app.screen.query_one(CurvesPanel).query_one(".curves--legend").render())
        assert "[bold]bold[/]" in legend and ESC not in legend
        table.cursor_to("evil0003")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunDetailScreen)
        overview = str(app.screen.query_one("#overview-body").render())
        assert "red" in overview and ESC not in overview and "[red]proj[/]" in overview
        await pilot.press("7")
        lines = list(app.screen.query_one("#output-log").lines)
        assert lines == ["line  cleared?", "bell [bold]markup[/]"]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RunsScreen) and app.is_running


async def test_usable_at_80x24(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.has_class("-narrow")
        table = screen.query_one(RunTable)
        panel = screen.query_one(CurvesPanel)
        assert table.region.height >= 6 and table.region.width == 80
        assert panel.region.height >= 8 and panel.region.y > table.region.y
        plots = [p for p in panel.query(MetricPlot) if p.region.height]
        assert plots and plots[0].drawn and plots[0].region.width >= 60
        # Keys work at this size too.
        await pilot.press("down", "space", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RunDetailScreen)


async def test_wide_terminal_puts_curves_beside_table(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert not screen.has_class("-narrow")
        table = screen.query_one(RunTable)
        panel = screen.query_one(CurvesPanel)
        assert panel.region.x >= table.region.right - 1
        assert panel.region.height > 40


async def test_no_color_tells_runs_apart_by_marker(
    fixture_root: Path, app_factory, monkeypatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.no_color
        await pilot.press("space", "space")
        await settle(pilot)
        loss = next(p for p in app.screen.query(MetricPlot) if p.metric == "loss")
        assert len(set(loss.spec.markers)) == 2


def series(y: list[float], points: int | None = None) -> Series:
    a = np.asarray(y, dtype=float)
    x = np.arange(len(a), dtype=float)
    return Series("r1", "m", x, a, a, a, a, points if points is not None else len(a))


def test_finite_segments_split_at_nan_inf_and_nonpositive_on_log() -> None:
    x = np.arange(8.0)
    y = np.array([1, 2, math.nan, 3, math.inf, 4, -1, 5])
    assert finite_segments(x, y) == [([0, 1], [1, 2]), ([3], [3]), ([5, 6, 7], [4, -1, 5])]
    assert finite_segments(x, y, log=True) == [([0, 1], [1, 2]), ([3], [3]), ([5], [4]), ([7], [5])]
    assert finite_segments(x, np.full(8, math.nan)) == []


@pytest.mark.parametrize(
    "values,log",
    [
        ([1, 2, math.nan, math.inf, -math.inf, 3], False),
        ([math.nan] * 5, False),
        ([0.0, -1.0, 1e-300, 1e300], True),
        ([5.0], True),
        ([], False),
        ([1.0, 1.0, 1.0], False),
    ],
)
async def test_metric_plot_never_crashes(values, log) -> None:
    from textual.app import App, ComposeResult

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield MetricPlot("m")

    app = One()
    async with app.run_test(size=(60, 16)) as pilot:
        plot = app.query_one(MetricPlot)
        ss = (series(values, points=len(values) * 10),)
        plot.show(PlotSpec("m", ss, ((200, 0, 0),), ("hd",), log=log, digest=series_digest(ss)))
        await pilot.pause(0.3)
        strips = plot.draw_now(60, 16)
        assert len(strips) == 16 and all(s.cell_length == 60 for s in strips)
        text = "".join(s.text for s in strips)
        assert text.strip() and ESC not in text


async def test_unchanged_data_is_not_redrawn(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        plots = list(app.screen.query(MetricPlot))
        builds = {p.metric: p.builds for p in plots}
        assert all(b >= 1 for b in builds.values())
        # A store refresh with no new data re-queries but draws nothing new.
        app.schedule_refresh(full=True)
        await settle(pilot)
        assert {p.metric: p.builds for p in app.screen.query(MetricPlot)} == builds


_SCREEN_IN_256_COLOURS = """
import asyncio, sys
from pathlib import Path
from tui_support import settle
from trackui.tui.app import make_app

async def main():
    app = make_app(Path(sys.argv[1]), watch=False)
    app.animation_level = "none"
    assert app.console.color_system == "256", app.console.color_system
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "space")
        await settle(pilot)
        update = app.screen._compositor.render_update(full=True)
        with app.console.capture() as cap:
            app.console.print(update)
    sys.stdout.write(cap.get())

asyncio.run(main())
"""


def test_256_colours_keep_text_readable_and_runs_apart(fixture_root: Path) -> None:
    # In a 256-colour terminal every colour is rounded to the palette: the run
    # colours must stay apart, and no text may land on its own background.
    # A process of its own: rich caches a style's codes for the first colour
    # system it was printed in, so earlier tests would leak true colour here.
    import os
    import subprocess
    import sys

    from rich.color import Color, ColorSystem

    from trackui.tui.app import PALETTE

    def to_256(c: Color | None) -> int | None:
        if c is None or c.is_default:
            return None
        return c.downgrade(ColorSystem.EIGHT_BIT).number

    assert len({to_256(Color.from_rgb(*rgb)) for rgb in PALETTE}) == len(PALETTE)
    env = {k: v for k, v in os.environ.items() if k not in ("COLORTERM", "NO_COLOR")}
    env["TERM"] = "xterm-256color"
    env["PYTHONPATH"] = str(Path(__file__).parent)
    proc = subprocess.run(
        [sys.executable, "-c", _SCREEN_IN_256_COLOURS, str(fixture_root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "\x1b[38;2;" not in out and "\x1b[38;5;" in out
    text = Text.from_ansi(out)
    assert "baseline" in text.plain and "3 selected" in text.plain
    fgs: set[int] = set()
    checked = 0
    for span in text.spans:
        style = span.style
        if isinstance(style, str) or not text.plain[span.start : span.end].strip():
            continue
        fg, bg = to_256(style.color), to_256(style.bgcolor)
        if fg is not None:
            fgs.add(fg)
        if fg is not None and bg is not None and not style.reverse:
            assert fg != bg, f"{text.plain[span.start : span.end]!r} in its background colour"
            checked += 1
    assert checked > 50
    # The three charted runs, the state glyphs and the footer keys differ.
    assert len(fgs) >= 6


async def test_charts_of_one_update_go_on_screen_together(fixture_root: Path, app_factory) -> None:
    # One repaint for all the charts an update redraws, not one per chart.
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        a, b = list(app.screen.query(MetricPlot))[:2]
        assert a.parent is b.parent
        strips = a.draw_now(a.size.width, a.size.height)
        a._wanted_key, b._wanted_key = ("a",), ("b",)  # both being drawn again
        a._drawn(MetricPlot._Drawn(("a",), strips))
        assert a._picture_key == ("a",) and a._unshown  # held until b's arrives
        b._drawn(MetricPlot._Drawn(("b",), None))  # b's drawing failed
        assert not a._unshown and b._wanted_key is None  # a goes up, b keeps its picture
        assert b._picture_key != ("b",)
        # A chart with nothing pending beside it goes up at once.
        a._wanted_key = ("a2",)
        a._drawn(MetricPlot._Drawn(("a2",), strips))
        assert not a._unshown and a._picture_key == ("a2",)
