"""The footer's key hints fit the terminal: whole hints drop out, none is cut mid-word."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Footer
from textual.widgets._footer import FooterKey
from tui_support import settle

from trackui.tui.widgets.metric_plot import MetricPlot
from trackui.tui.widgets.run_table import RunTable


def footer_line(app) -> str:
    footer = app.screen.query_one(Footer)
    return app.screen._compositor.render_strips()[footer.region.y].text


def shown(app) -> list[FooterKey]:
    return [k for k in app.screen.query_one(Footer).query(FooterKey) if k.display]


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("focus", ["table", "chart"])
async def test_footer_hints_are_whole(
    fixture_root: Path, app_factory, width: int, focus: str
) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(width, 36 if width == 120 else 24)) as pilot:
        await settle(pilot)
        if focus == "chart":
            next(iter(app.screen.query(MetricPlot))).focus()
        else:
            app.screen.query_one(RunTable).focus()
        await settle(pilot)
        line = footer_line(app)
        keys = shown(app)
        assert keys
        for k in keys:
            text = f"{k.key_display} {k.description}".strip()
            assert text in " ".join(line.split()), (text, line)
        # Every key shown lies inside the screen.
        assert all(k.region.right <= width for k in keys), line


async def test_footer_hints_follow_a_resize(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        next(iter(app.screen.query(MetricPlot))).focus()
        await settle(pilot)
        wide = len(shown(app))
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        line = footer_line(app)
        keys = shown(app)
        assert 0 < len(keys) < wide
        assert all(k.region.right <= 80 for k in keys), line
        for k in keys:
            assert f"{k.key_display} {k.description}".strip() in " ".join(line.split())
        # The chart's own keys come first.
        assert [k.description for k in keys[:3]] == ["Log scale", "Pin", "Fold"]
