"""The run detail's Media tab over a run that logged rich values through the public API."""

from __future__ import annotations

from pathlib import Path

import pytest
from media_support import HOSTILE_CAPTION, HOSTILE_CELL, build_media_root
from rich.text import Text
from textual.widgets import DataTable, OptionList, Static
from tui_support import settle

from trackui.tui.fmt import clean
from trackui.tui.widgets.media import IMAGE_RENDERER_ENV, MediaPanel


@pytest.fixture
def media_root(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv(IMAGE_RENDERER_ENV, "halfcell")
    return build_media_root(tmp_path / "media")


def head(panel: MediaPanel) -> str:
    return str(panel.query_one("#media-head", Static).render())


async def open_media(pilot) -> MediaPanel:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("8")
    await settle(pilot)
    return pilot.app.screen.query_one(MediaPanel)


async def pick(pilot, panel: MediaPanel, key: str) -> None:
    opts = panel.query_one("#media-keys", OptionList)
    opts.highlighted = [k.key for k in panel.keys].index(key)
    await settle(pilot)


async def test_media_tab_lists_keys_and_steps_through_images(media_root: Path, app_factory) -> None:
    from textual_image.widget import HalfcellImage

    app = app_factory(media_root)
    async with app.run_test(size=(120, 36)) as pilot:
        panel = await open_media(pilot)
        assert [k.key for k in panel.keys] == [
            "samples/picture",
            "weights",
            "grid",
            "preds",
            "evil",
            "page",
        ]
        opts = panel.query_one("#media-keys", OptionList)
        first = opts.get_option_at_index(0).prompt
        assert isinstance(first, Text) and "image ×4" in first.plain
        # The last step is shown first; [ and left go back, ] and right forward.
        assert "step 3" in head(panel) and "(4/4)" in head(panel)
        assert len(panel.query(HalfcellImage)) == 1
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert "step 2" in head(panel) and "step 2 picture" in head(panel)
        panel.query_one("#media-keys").focus()
        await pilot.press("left", "left", "left")
        await settle(pilot)
        assert "step 0" in head(panel) and "(1/4)" in head(panel)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "step 1" in head(panel)
        await pick(pilot, panel, "grid")
        assert len(panel.query(HalfcellImage)) == 3
        await pick(pilot, panel, "evil")
        assert clean(HOSTILE_CAPTION) in head(panel)
        assert not app.screen.query("ErrorDialog")


async def test_media_tab_shows_the_histogram_heatmap_and_bars(
    media_root: Path, app_factory
) -> None:
    app = app_factory(media_root)
    async with app.run_test(size=(120, 36)) as pilot:
        panel = await open_media(pilot)
        await pick(pilot, panel, "weights")
        heat = str(panel.query_one("#media-heatmap", Static).render())
        assert "█" in heat and "steps 0 to 3" in heat
        assert "▲" in heat
        bars = str(panel.query_one("#media-bars", Static).render())
        assert "█" in bars
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert "step 2" in head(panel)


async def test_media_tab_shows_the_table_sortable_with_literal_cells(
    media_root: Path, app_factory
) -> None:
    app = app_factory(media_root)
    async with app.run_test(size=(120, 36)) as pilot:
        panel = await open_media(pilot)
        await pick(pilot, panel, "preds")
        table = panel.query_one("#media-table", DataTable)
        assert table.row_count == 3
        cells = [table.get_row_at(i) for i in range(3)]
        assert [c[0].plain for c in cells] == ["3", "1", "2"]
        assert HOSTILE_CELL in [c[1].plain for c in cells]
        await pilot.press("o")
        await settle(pilot)
        assert [table.get_row_at(i)[0].plain for i in range(3)] == ["1", "2", "3"]
        await pick(pilot, panel, "page")
        meta = str(panel.query_one("#media-meta", Static).render())
        assert "html" in meta and "media" in meta


async def test_media_tab_at_80x24_and_on_a_run_without_media(
    media_root: Path, fixture_root: Path, app_factory
) -> None:
    app = app_factory(media_root)
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await open_media(pilot)
        for key in ("samples/picture", "weights", "grid", "preds", "page"):
            await pick(pilot, panel, key)
            await pilot.press("left")
            await settle(pilot)
        assert not [n for n in app._notifications if n.severity == "error"]
    app = app_factory(fixture_root)
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await open_media(pilot)
        assert panel.keys == []
        assert "no images" in head(panel)
