"""A table wider than its pane: the name and project columns give up width, the short ones stay whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_support import settle

from trackui.tui.widgets.run_cells import NAME_WIDTH, SHRINKABLE, fit_widths
from trackui.tui.widgets.run_table import PAD, RunTable

KEYS = ("sel", "state", "name", "project", "created", "runtime", "step")


def total(widths: tuple[int, ...]) -> int:
    return sum(w + 2 * PAD for w in widths)


@pytest.mark.parametrize("room", [200, 80, 60, 50, 40, 10])
def test_fit_widths(room: int) -> None:
    natural = (1, 5, 30, 24, 6, 7, 6)
    got = fit_widths(natural, KEYS, room, PAD)
    for k, n, g in zip(KEYS, natural, got, strict=True):
        if k in SHRINKABLE:
            assert SHRINKABLE[k] <= g <= n or g == n
        else:
            assert g == n, k  # the short columns never give up width
    floor = total(tuple(SHRINKABLE.get(k, n) for k, n in zip(KEYS, natural, strict=True)))
    assert total(got) == max(min(total(natural), room), floor)
    # The project gives up width first: the name only once the project is at its least.
    if got[2] < natural[2]:
        assert got[3] == SHRINKABLE["project"]


async def test_the_step_column_stays_whole_in_a_narrow_pane(
    root: Path, write_run, app_factory
) -> None:
    long = "a-run-with-a-rather-long-descriptive-name-indeed"
    write_run(
        root, "r1", name=long, group="a-group-with-a-long-name-too",
        records=[(s, 1_700_000_000.0 + s, {"loss": 1.0}) for s in range(0, 123457, 1000)]
        + [(123456, 1_700_200_000.0, {"loss": 0.5})],
    )  # fmt: skip
    app = app_factory(root)
    async with app.run_test(size=(70, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        assert table.size.width <= 70
        row = table.render_line(1).text
        assert row.rstrip().endswith("123456"), row
        assert "…" in row  # the name gave up width (cut with an ellipsis)
        assert "step" in table.render_line(0).text
        narrow = table.column_width("name")
        # Wider again, the name takes its own width back (at most NAME_WIDTH).
        await pilot.resize_terminal(300, 24)
        await settle(pilot)
        assert table.column_width("name") == NAME_WIDTH > narrow
        assert long[: NAME_WIDTH - 1] in table.render_line(1).text
