"""A chart's cursor: keys and the mouse read each run's value at an x off the drawn curves."""

from __future__ import annotations

import time
from pathlib import Path

from tui_support import settle

from trackui.tui.chart_settings import auto_dots
from trackui.tui.widgets.chart_cursor import nearest, value_label
from trackui.tui.widgets.metric_plot import MetricPlot
from trackui.tui.widgets.run_table import RunTable
from trackui.tui.widgets.ticks import duration_label


def plot(app, metric: str) -> MetricPlot:
    return next(p for p in app.screen.query(MetricPlot) if p.metric == metric)


def expected(p: MetricPlot, at: float) -> list[tuple[str, str]]:
    """Each run's (smoothed, raw) value at the data x nearest ``at``, as the readout writes them."""
    out = []
    for x, y, raw in p.frame.curves:
        j = nearest(x, at)
        out.append((value_label(y[j]), value_label(raw[j])))
    return out


async def test_keys_move_a_cursor_that_reads_every_run(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.screen.query_one(RunTable).cursor_to("wide0003")
        await pilot.press("space", "space")  # wide-mlp and lr-high
        await settle(pilot)
        loss = plot(app, "loss")
        assert len(loss.spec.series) == 2
        # Without a cursor, the line under the chart holds each run's last value.
        line = loss.readout()
        assert line.startswith("step · last")
        for _x, y, _raw in loss.frame.curves:
            assert value_label(y[-1]) in line
        loss.focus()
        await pilot.press("right")  # the cursor comes up at the last x
        await settle(pilot)
        frame = loss.frame
        assert loss.cursor_col == frame.plot_left + frame.plot_cols - 1
        last = max(float(x[-1]) for x, _y, _r in frame.curves)
        line = loss.readout()
        assert line.startswith(f"step {int(last)} ")
        for smoothed, raw in expected(loss, last):
            assert smoothed in line and (f"({raw})" in line or f"(raw {raw})" in line)
        for _ in range(20):
            await pilot.press("left")
        await settle(pilot)
        col = loss.cursor_col
        assert col == frame.plot_left + frame.plot_cols - 21
        at = frame.x_of(col)
        xs = [float(x[nearest(x, at)]) for x, _y, _r in frame.curves]
        step = min(xs, key=lambda v: abs(v - at))
        line = loss.readout()
        assert line.startswith(f"step {int(step)} ") and step < last
        for smoothed, _raw in expected(loss, step):
            assert smoothed in line
        # Its line stands in the empty cells of its column.
        rows = [loss.render_line(y).text for y in range(1, 1 + frame.plot_rows)]
        assert any(r[col] == "│" for r in rows)
        # The chart left, the cursor goes.
        app.screen.query_one(RunTable).focus()
        await settle(pilot)
        assert loss.cursor_col is None and loss.readout().startswith("step · last")


async def test_the_mouse_over_a_chart_reads_values(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        loss = plot(app, "loss")
        frame = loss.frame
        col = frame.plot_left + frame.plot_cols // 2
        await pilot.hover(loss, offset=(col, frame.plot_top + 2))
        await settle(pilot)
        assert loss.cursor_col == col
        at = frame.x_of(col)
        x = frame.curves[0][0]
        step = float(x[nearest(x, at)])
        line = loss.readout()
        assert line.startswith(f"step {int(step)} ")
        assert expected(loss, step)[0][0] in line
        # Off the plot area, the cursor goes.
        await pilot.hover(loss, offset=(0, 0))
        await settle(pilot)
        assert loss.cursor_col is None


def test_charts_are_ascii_on_a_linux_console_and_braille_elsewhere() -> None:
    assert auto_dots({"TERM": "linux"}) == "ascii"
    assert auto_dots({"TERM": "vt100"}) == "ascii"
    assert auto_dots({"TERM": "dumb"}) == "ascii"
    assert auto_dots({"TERM": "xterm-256color"}) == "braille"
    assert auto_dots({"TERM": "tmux-256color"}) == "braille"
    assert auto_dots({}) == "braille"


async def test_the_dots_key_cycles_the_resolution_and_keeps_it(
    fixture_root: Path, app_factory, monkeypatch
) -> None:
    from trackui.tui.prefs import load_prefs

    monkeypatch.setenv("TERM", "xterm-256color")
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        loss = plot(app, "loss")
        text = "".join(s.text for s in loss._picture)
        assert any("\u2800" <= ch <= "\u28ff" for ch in text)
        loss.focus()
        await pilot.press("d")  # auto -> braille
        await pilot.press("d")  # braille -> quadrant
        await settle(pilot)
        assert load_prefs(fixture_root).chart_dots == "quadrant"
        text = "".join(s.text for s in plot(app, "loss")._picture)
        assert not any("\u2800" <= ch <= "\u28ff" for ch in text)
        assert any(ch in "▘▝▀▖▌▞▛▗▚▐▜▄▙▟█" for ch in text)
        await pilot.press("d")  # quadrant -> ascii
        await settle(pilot)
        text = "".join(s.text for s in plot(app, "loss")._picture)
        assert all(ord(ch) < 128 for ch in text), text


async def test_the_cursor_reads_the_step_and_time_of_its_point(
    fixture_root: Path, app_factory
) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        loss = plot(app, "loss")
        # Without a cursor, a step chart reads no times.
        assert all(s.t is None for s in loss.spec.series)
        loss.focus()
        await pilot.press("right")
        await settle(pilot)
        await settle(pilot)
        # The cursor asked for them: the curves came back with each point's time.
        assert all(s.t is not None for s in loss.spec.series)
        w = loss.frame.when[0]
        assert w.t is not None and w.step is not None and w.start_time is not None
        line = loss.readout()
        step = int(w.step[-1])
        clock = time.strftime("%H:%M:%S", time.localtime(float(w.t[-1])))
        since = duration_label(float(w.t[-1]) - w.start_time)
        assert line.startswith(f"step {step} · {clock} (+{since})  ")
        for smoothed, _raw in expected(loss, float(loss.frame.curves[0][0][-1])):
            assert smoothed in line


async def test_the_focused_chart_marks_its_title(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        loss = plot(app, "loss")
        other = next(p for p in app.screen.query(MetricPlot) if p is not loss)

        def marked(p: MetricPlot) -> bool:
            return any(s.style and s.style.reverse for s in p.render_line(0) if s.text.strip())

        assert not marked(loss) and not marked(other)
        loss.focus()
        await settle(pilot)
        assert marked(loss) and not marked(other)
        assert "loss" in loss.render_line(0).text
        other.focus()
        await settle(pilot)
        assert marked(other) and not marked(loss)
