"""The footer shows whole hints: where they do not all fit, the last ones are left out."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_support import settle

from trackui.tui.widgets.keys_footer import KeysFooter
from trackui.tui.widgets.metric_plot import MetricPlot
from trackui.tui.widgets.run_table import RunTable


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
async def test_no_hint_is_cut(fixture_root: Path, app_factory, size) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for focus in (RunTable, MetricPlot):
            app.screen.query(focus).first().focus()
            await settle(pilot)
            footer = app.screen.query_one(KeysFooter)
            keys = list(footer.query("FooterKey"))
            *hints, palette = keys
            assert palette.has_class("-command-palette") and hints, focus
            # Every hint shown fits whole, left of the palette's key.
            for k in hints:
                assert k.region.width > 0 and k.region.right <= palette.region.x, k.description
                assert k.description in str(k.render())
            # They are the first ones, in order: only the last are left out.
            wanted = list(
                dict.fromkeys(
                    b.action for _, b, _, _ in app.screen.active_bindings.values() if b.show
                )
            )
            assert [k.action for k in hints] == wanted[: len(hints)]
            if focus is MetricPlot:
                assert "Log scale" in [k.description for k in hints]
        # A wider terminal shows more of them again.
        await pilot.resize_terminal(200, size[1])
        await settle(pilot)
        assert len(app.screen.query_one(KeysFooter).query("FooterKey")) >= len(keys)
