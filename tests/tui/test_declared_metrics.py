"""The viewer honours what the script declared with ``define_metric``: goals colour deltas."""

from __future__ import annotations

from pathlib import Path

from tui_support import settle

import trackui
from trackui.tui.screens.compare import CompareScreen
from trackui.tui.widgets.config_diff import ConfigDiff
from trackui.tui.widgets.run_table import RunTable


def declared_run(root: Path, name: str, loss: float, acc: float, other: float) -> str:
    """A finished run whose script declared loss minimized and acc maximized (by summary)."""
    run = trackui.init(project="goals", name=name, dir=root, config={"lr": loss / 10})
    run.define_metric("loss", goal="minimize")
    run.define_metric("acc", summary="max")
    for step in range(3):
        run.log({"loss": loss + (2 - step), "acc": acc - (2 - step) / 10, "other": other})
    run.finish()
    return run.id


def delta_styles(diff: ConfigDiff, key: str) -> list[str]:
    """The style of each delta on ``key``'s row ("" for a cell without one)."""
    row = next(
        diff.get_row_at(i) for i in range(diff.row_count) if diff.get_row_at(i)[1].plain == key
    )
    out = []
    for cell in row[2:]:
        spans = [s for s in cell.spans if cell.plain[s.start : s.end].startswith(" (")]
        out.append(str(spans[-1].style) if spans else "")
    return out


async def test_compare_colours_deltas_by_goal(tmp_path: Path, app_factory) -> None:
    root = tmp_path / "runs"
    good = declared_run(root, "good", loss=1.0, acc=0.5, other=1.0)
    bad = declared_run(root, "bad", loss=2.0, acc=0.9, other=2.0)
    app = app_factory(root, frozen=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        table.selected = {good, bad}
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        diff = screen.query_one(ConfigDiff)
        base = screen.baseline
        i = list(diff.diff.run_ids).index(good if base == bad else bad)
        # loss: lower is better; acc: a summary of max means higher is better.
        loss_better = base == bad  # the other run is good: its loss is lower
        assert delta_styles(diff, "loss")[i] == ("green" if loss_better else "red")
        acc_better = base == good  # the other run is bad: its acc is higher
        assert delta_styles(diff, "acc")[i] == ("green" if acc_better else "red")
        # No goal known: neutral, whatever the sign.
        assert delta_styles(diff, "other")[i] == "dim"
        assert delta_styles(diff, "lr")[i] == "dim"
