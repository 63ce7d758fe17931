"""SVG snapshots of the Media tab: an image, a histogram heatmap, a table (images as half
blocks, so the picture is the same on every terminal).

Update after reading the report:
``pytest tests/tui/test_media_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from media_support import PLOT_KEYS, build_media_root, build_plots_root
from test_snapshots import SIZE, steps

from trackui.tui.widgets.media import IMAGE_RENDERER_ENV


def snap(snap_compare, app, keys, *, size=SIZE) -> bool:
    """As ``test_snapshots.snap``, with a pause for the images to be drawn."""
    before = steps(*keys)

    async def run_before(pilot) -> None:
        await before(pilot)
        await pilot.pause(0.3)

    return snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.fixture
def media_root(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv(IMAGE_RENDERER_ENV, "halfcell")
    return build_media_root(tmp_path / "media")


def test_media_image(snap_compare, media_root: Path, app_factory) -> None:
    assert snap(snap_compare, app_factory(media_root), ["enter", "8", "left_square_bracket"])


def test_media_histogram_heatmap_80x24(snap_compare, media_root: Path, app_factory) -> None:
    assert snap(snap_compare, app_factory(media_root), ["enter", "8", "down"], size=(80, 24))


def test_media_table_no_color(snap_compare, media_root: Path, app_factory, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    keys = ["enter", "8", "down", "down", "down", "o"]
    assert snap(snap_compare, app_factory(media_root), keys)


def test_media_image_grid_80x24(snap_compare, media_root: Path, app_factory) -> None:
    assert snap(
        snap_compare, app_factory(media_root), ["enter", "8", "down", "down"], size=(80, 24)
    )


@pytest.fixture
def plots_root(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv(IMAGE_RENDERER_ENV, "halfcell")
    return build_plots_root(tmp_path / "plots")


def test_media_image_step_no_color_80x24(
    snap_compare, media_root: Path, app_factory, monkeypatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    keys = ["enter", "8", "left_square_bracket", "left_square_bracket"]
    assert snap(snap_compare, app_factory(media_root), keys, size=(80, 24))


def test_media_histogram_heatmap_no_color(
    snap_compare, media_root: Path, app_factory, monkeypatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap(snap_compare, app_factory(media_root), ["enter", "8", "down"])


def test_media_table_80x24(snap_compare, media_root: Path, app_factory) -> None:
    keys = ["enter", "8", "down", "down", "down"]
    assert snap(snap_compare, app_factory(media_root), keys, size=(80, 24))


def test_media_plot_lines(snap_compare, plots_root: Path, app_factory) -> None:
    assert snap(snap_compare, app_factory(plots_root), ["enter", "8"])


def test_media_plot_lines_no_color_80x24(
    snap_compare, plots_root: Path, app_factory, monkeypatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    keys = ["enter", "8", *["down"] * PLOT_KEYS.index("plots/pr")]
    assert snap(snap_compare, app_factory(plots_root), keys, size=(80, 24))


def test_media_plot_confusion_matrix_80x24(snap_compare, plots_root: Path, app_factory) -> None:
    keys = ["enter", "8", *["down"] * PLOT_KEYS.index("plots/confusion")]
    assert snap(snap_compare, app_factory(plots_root), keys, size=(80, 24))


def test_media_image_cell_opened(snap_compare, plots_root: Path, app_factory) -> None:
    keys = ["enter", "8", *["down"] * PLOT_KEYS.index("gallery"), "tab", "tab", "right", "enter"]
    assert snap(snap_compare, app_factory(plots_root), keys)


def test_media_image_cell_opened_80x24(snap_compare, plots_root: Path, app_factory) -> None:
    keys = ["enter", "8", *["down"] * PLOT_KEYS.index("gallery"), "tab", "tab", "right", "enter"]
    assert snap(snap_compare, app_factory(plots_root), keys, size=(80, 24))
