"""What charts and their legend say: log scales, smoothing, hidden runs, lone points."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static
from tui_support import settle

from trackui.tui.prefs import load_prefs
from trackui.tui.widgets.curves import CurvesPanel
from trackui.tui.widgets.metric_plot import MetricPlot
from trackui.tui.widgets.run_table import RunTable


def legend(app) -> str:
    return str(app.screen.query_one(".curves--legend", Static).render())


def plot(app, metric: str) -> MetricPlot:
    return next(p for p in app.screen.query(MetricPlot) if p.metric == metric)


async def test_a_log_scaled_chart_says_so_in_its_title(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert "(log)" not in plot(app, "loss")._picture[0].text
        plot(app, "loss").focus()
        await pilot.press("l")
        await settle(pilot)
        assert plot(app, "loss")._picture[0].text.strip() == "loss (log)"


async def test_log_key_acts_on_a_chart_in_view_and_names_it(
    fixture_root: Path, app_factory
) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        plots = list(screen.query(MetricPlot))
        first = plots[0]
        first.focus()
        await settle(pilot)
        scroller = screen.query_one("#runs-curves VerticalScroll")
        scroller.scroll_end(animate=False, immediate=True)
        await settle(pilot)

        def shown(p: MetricPlot) -> bool:
            return screen.find_widget(p).visible_region.area > 0

        assert app.focused is first and not shown(first)
        target = next(p for p in plots if shown(p))
        await pilot.press("l")
        await settle(pilot)
        logs = load_prefs(fixture_root).log_metrics
        assert logs == [target.metric]
        notes = [n.message for n in app._notifications]
        assert any(target.metric in n and "log" in n for n in notes), notes


async def test_legend_names_the_smoothing(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert "(time-weighted EMA 0.60; x: step)" in legend(app)
        assert "twema" not in legend(app)
        await pilot.press("s")
        await settle(pilot)
        assert "(EMA 0.60; x: step)" in legend(app)
        await pilot.press("s")
        await settle(pilot)
        assert "(no smoothing; x: step)" in legend(app)


async def test_selected_runs_the_filter_hides_are_not_charted(
    fixture_root: Path, app_factory
) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one(RunTable)
        panel = screen.query_one(CurvesPanel)
        table.cursor_to("wide0003")
        await pilot.press("space", "space")  # wide-mlp, lr-high
        await settle(pilot)
        assert {r.id for r in panel.runs} == {"wide0003", "lrhi0002"}
        await pilot.press("slash", *"wide", "enter")
        await settle(pilot)
        assert table.selected == {"wide0003", "lrhi0002"}
        assert [r.id for r in panel.runs] == ["wide0003"]
        assert [s.run_id for s in plot(app, "loss").spec.series] == ["wide0003"]
        assert "lr-high" not in legend(app)
        status = str(screen.query_one("#runs-status").render())
        assert "2 selected (1 hidden by the filter)" in status
        # The filter cleared, both are charted again.
        await pilot.press("escape")
        await settle(pilot)
        assert {r.id for r in panel.runs} == {"wide0003", "lrhi0002"}


async def test_a_single_point_series_draws_as_a_visible_marker(tmp_path: Path, app_factory) -> None:
    import trackui

    root = tmp_path / "runs"
    run = trackui.init(project="p", name="one-epoch", dir=root)
    run.log({"epoch_time_s": 12.5, "loss": 0.5})
    run.log({"loss": 0.4})
    run.finish()
    app = app_factory(root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        text = "\n".join(s.text for s in plot(app, "epoch_time_s")._picture)
        assert "●" in text
        # A curve of several points is drawn as a line, without the marker.
        text = "\n".join(s.text for s in plot(app, "loss")._picture)
        assert "●" not in text
