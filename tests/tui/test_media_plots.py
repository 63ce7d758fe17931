"""Charts logged with ``trackui.plot`` and plotly figures, drawn in the Media tab by the
curves' renderer (lines, points), as bars, or as a grid of counts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from media_support import PLOT_KEYS, build_plots_root
from test_media_tab import open_media, pick
from textual.widgets import DataTable, Static
from tui_support import settle

from trackui.tui.widgets.media import IMAGE_RENDERER_ENV
from trackui.tui.widgets.media_charts import Lines, plotly_chart
from trackui.tui.widgets.metric_plot import MetricPlot


@pytest.fixture
def plots_root(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv(IMAGE_RENDERER_ENV, "halfcell")
    return build_plots_root(tmp_path / "plots")


def picture(plot: MetricPlot) -> str:
    return "\n".join(s.text for s in plot._picture or [])


def static_text(panel, selector: str) -> str:
    return str(panel.query_one(selector, Static).render())


async def test_line_specs_are_drawn_by_the_curves_renderer(plots_root: Path, app_factory) -> None:
    app = app_factory(plots_root)
    async with app.run_test(size=(120, 36)) as pilot:
        panel = await open_media(pilot)
        assert [k.key for k in panel.keys] == PLOT_KEYS
        for key, lines in [
            ("plots/line", ["train", "val"]),
            ("plots/series", ["sq", "lin"]),
            ("plots/pr", ["cat", "dog", "bird"]),
            ("plots/roc", ["cat", "dog", "bird"]),
            ("figures/lines", ["saw"]),
        ]:
            await pick(pilot, panel, key)
            plot = panel.query_one("#media-chart", MetricPlot)
            assert [s.run_id for s in plot.spec.series] == lines, key
            assert plot.drawn and plot.builds >= 1, key
            # (the curves' dots: braille where the terminal has it, quadrant blocks else)
            assert any("\u2801" <= ch <= "\u28ff" or ch in "▘▝▀▖▌▞▛▗▚▐▜▄▙▟█"
                       for ch in picture(plot)), key  # fmt: skip
            for name in lines:
                assert name in static_text(panel, "#media-legend"), key
        await pick(pilot, panel, "plots/line")
        plot = panel.query_one("#media-chart", MetricPlot)
        assert "Loss" in picture(plot) and "epoch" in picture(plot)
        # The chart's data stays below it as a table.
        assert panel.query_one("#media-table", DataTable).row_count == 40
        assert not app.screen.query("ErrorDialog")


async def test_scatter_points_are_not_joined(plots_root: Path, app_factory) -> None:
    app = app_factory(plots_root)
    async with app.run_test(size=(120, 36)) as pilot:
        panel = await open_media(pilot)
        await pick(pilot, panel, "plots/scatter")
        plot = panel.query_one("#media-chart", MetricPlot)
        (s,) = plot.spec.series
        # 15 points kept apart by 14 gaps: the renderer draws 15 lone dots.
        assert len(s.x) == 29 and int((s.x == s.x).sum()) == 15
        assert picture(plot).count("●") == 15
        assert not panel.query("#media-legend")


async def test_bars_histogram_and_confusion_matrix_as_text(plots_root: Path, app_factory) -> None:
    app = app_factory(plots_root)
    async with app.run_test(size=(120, 36)) as pilot:
        panel = await open_media(pilot)
        await pick(pilot, panel, "plots/bar")
        text = static_text(panel, "#media-drawn")
        assert "Classes" in text
        dog = next(line for line in text.splitlines() if "dog" in line)
        cat = next(line for line in text.splitlines() if "cat" in line)
        assert dog.count("█") > cat.count("█") > 0 and dog.rstrip().endswith("30")
        await pick(pilot, panel, "plots/histogram")
        assert "Scores" in static_text(panel, "#media-drawn")
        assert "█" in static_text(panel, "#media-drawn")
        await pick(pilot, panel, "plots/confusion")
        grid = static_text(panel, "#media-drawn").splitlines()
        assert "predicted" in grid[1] and grid[2].split() == ["cat", "dog", "bird"]
        # Rows of (actual, predicted) counts, the diagonal the largest.
        assert re.findall(r"\d+", grid[4]) == ["1", "3", "1"] and grid[4].split()[0] == "dog"
        await pick(pilot, panel, "figures/bars")
        assert "█" in static_text(panel, "#media-drawn")


async def test_a_plotly_figure_not_drawn_says_so(plots_root: Path, app_factory) -> None:
    app = app_factory(plots_root)
    async with app.run_test(size=(120, 36)) as pilot:
        panel = await open_media(pilot)
        await pick(pilot, panel, "figures/contour")
        assert "media/plotly/" in static_text(panel, "#media-meta")
        assert "contour traces are not drawn" in static_text(panel, "#media-not-drawn")
        assert not panel.query(MetricPlot)


def test_plotly_typed_arrays_and_lone_x_are_read() -> None:
    # plotly 6 writes NumPy arrays as base64 with their dtype; W&B's example logs x alone.
    doc = {
        "data": [
            {"type": "scatter", "y": {"dtype": "f8", "bdata": "AAAAAAAA+D8AAAAAAAAAQA=="}},
            {"type": "scatter", "x": [0, 1, 2], "mode": "markers", "name": "lone"},
        ],
        "layout": {"title": {"text": "T"}},
    }
    chart = plotly_chart(doc)
    assert isinstance(chart, Lines) and chart.title == "T"
    assert chart.ys == ((1.5, 2.0), (0.0, 1.0, 2.0)) and chart.names == ("trace 0", "lone")


async def test_an_image_cell_opens_and_escape_returns(plots_root: Path, app_factory) -> None:
    from textual_image.widget import HalfcellImage

    from trackui.tui.widgets.media_image import ImageModal

    app = app_factory(plots_root)
    async with app.run_test(size=(120, 36)) as pilot:
        panel = await open_media(pilot)
        await pick(pilot, panel, "gallery")
        table = panel.query_one("#media-table", DataTable)
        assert "▣ first picture" in str(table.get_cell_at((0, 1)))
        table.focus()
        table.move_cursor(row=0, column=0)
        await pilot.press("enter")  # a number cell: nothing opens
        await settle(pilot)
        assert not isinstance(app.screen, ImageModal)
        await pilot.press("right", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ImageModal)
        assert len(app.screen.query(HalfcellImage)) == 1
        assert "first picture" in str(app.screen.query_one("#media-open-caption", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ImageModal)
        assert app.screen.query_one("#media-table", DataTable) is table
        # A click on an image cell opens it too.
        first = table.ordered_columns[0].get_render_width(table)
        await pilot.click(table, offset=(first + 2, 2))
        await settle(pilot)
        assert table.cursor_coordinate == (1, 1)
        await settle(pilot)
        assert isinstance(app.screen, ImageModal)
        await pilot.press("escape")
        await settle(pilot)


@pytest.mark.parametrize(("size", "columns"), [((120, 36), 5), ((80, 24), 2)])
async def test_a_row_of_images_wraps_to_the_width(
    plots_root: Path, app_factory, size: tuple[int, int], columns: int
) -> None:
    from textual_image.widget import HalfcellImage

    app = app_factory(plots_root)
    async with app.run_test(size=size) as pilot:
        panel = await open_media(pilot)
        await pick(pilot, panel, "row")
        images = list(panel.query(HalfcellImage))
        assert len(images) == 6
        body = panel.query_one("#media-body")
        lefts = sorted({i.region.x for i in images})
        assert len(lefts) == columns
        assert all(i.region.right <= body.region.right for i in images)
        assert all(i.size.width >= 16 and i.size.height >= 8 for i in images)


async def test_a_video_shows_its_first_frame_and_frame_count(plots_root: Path, app_factory) -> None:
    from textual_image.widget import HalfcellImage

    app = app_factory(plots_root)
    async with app.run_test(size=(120, 36)) as pilot:
        panel = await open_media(pilot)
        await pick(pilot, panel, "clip")
        assert "first frame of 3 (at 2 fps)" in static_text(panel, "#media-frames")
        assert ".gif" in static_text(panel, "#media-meta")
        (image,) = panel.query(HalfcellImage)
        assert image.size.width >= 16
