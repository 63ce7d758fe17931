"""A number never shows with digits silently lost: columns fit their values, the pane's edges mark a cut."""

from __future__ import annotations

from pathlib import Path

from tui_support import settle

from trackui.store.text import delta_text, fit_value
from trackui.tui.widgets.run_table import RunTable


async def test_numbers_cut_at_the_pane_edge_end_in_an_ellipsis(
    fixture_root: Path, app_factory
) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        await pilot.press("e")
        await pilot.pause()
        app.screen.dismiss(
            [
                "summary:val_accuracy",
                "summary:loss",
                "summary:accuracy",
                "config:model/hidden",
                "config:batch_size",
                "config:lr",
                "config:epochs",
                "summary:best_val_accuracy",
                "summary:system/gpu_util",
                "summary:epoch",
            ]
        )
        await settle(pilot)
        table.cursor_to("base0001")
        await settle(pilot)
        row = table.get_row_index("base0001")
        col = table.columns_shown.index("config:lr")
        _, spans = table._row_strip(row)
        a, b = spans[col]
        assert b - a == len("0.001")  # the column is as wide as its widest value
        width = table.size.width
        assert b - 1 - width >= 0, "the table should be wider than its pane here"
        # The pane's right edge inside "0.001": it must not read "0.00".
        table.scroll_to(x=b - 1 - width, animate=False, immediate=True)
        await pilot.pause()
        line = table.render_line(row + 1).text
        assert len(line) == width
        assert line.endswith("0.0…") and not line.rstrip().endswith("0.00")
        # The left edge inside a number: "…761" for 0.9761, never "761".
        key = next(
            k
            for k, (a2, b2) in zip(table.columns_shown, spans, strict=True)
            if k.startswith("summary:") and b2 - a2 > 3 and a2 + 2 <= table.max_scroll_x
        )
        value = table.get_cell("base0001", key).plain
        a2, _ = spans[table.columns_shown.index(key)]
        table.scroll_to(x=a2 + 2, animate=False, immediate=True)
        await pilot.pause()
        line = table.render_line(row + 1).text
        assert line.startswith("…" + value[3:] + " ")
        # Whole, it reads whole.
        table.scroll_to(x=b - width + 1, animate=False, immediate=True)
        await pilot.pause()
        line = table.render_line(row + 1).text
        assert "0.001" in line and not line.rstrip().endswith("…")


def test_long_numbers_fit_their_width_without_losing_digits_silently() -> None:
    assert fit_value(0.001, 14) == "0.001"
    assert fit_value(2**70, 14) == "1.181e+21"
    assert fit_value(2**70, 6) == "1e+21"
    assert fit_value(-(2**70), 4) == "-11…"  # cannot fit even in e-notation: marked cut
    assert fit_value(None, 14) == "None"
    assert fit_value(float("inf"), 14) == "inf"
    assert delta_text(1e308, -1e308, float("inf")) == "+2e+308"
    assert delta_text(-1e308, 1e308, float("-inf")) == "-2e+308"
    assert delta_text(float("inf"), 0.5, float("inf")) == ""
    assert delta_text(2**70, 7, 2**70 - 7) == "+1.181e+21"
    assert delta_text(0.01, 0.001, 0.009) == "+0.009"
