"""The viewer honours what the script declared with ``define_metric``: goals colour deltas,
``step_metric`` sets a metric's x axis."""

from __future__ import annotations

from pathlib import Path

from tui_support import settle

import trackui
from trackui.tui.screens.compare import CompareScreen
from trackui.tui.screens.run_detail import RunDetailScreen
from trackui.tui.widgets.config_diff import ConfigDiff
from trackui.tui.widgets.metric_plot import MetricPlot
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


def epoch_run(root: Path) -> str:
    """A finished run that logs loss every step and val/acc once an epoch, against ``epoch``."""
    run = trackui.init(project="epochs", name="epochs", dir=root)
    run.define_metric("val/*", step_metric="epoch")
    for step in range(12):
        run.log({"loss": 1.0 / (step + 1)})
        if step % 4 == 3:
            run.log({"epoch": 10 + step // 4, "val/acc": 0.5 + step / 100})
    run.finish()
    return run.id


def plot_of(app, metric: str) -> MetricPlot:
    return next(p for p in app.screen.query(MetricPlot) if p.metric == metric)


async def test_step_metric_sets_the_x_axis_in_runs_view_and_detail(
    tmp_path: Path, app_factory
) -> None:
    root = tmp_path / "runs"
    rid = epoch_run(root)
    app = app_factory(root, frozen=False)
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        for where in ("runs", "detail"):
            if where == "detail":
                app.screen.query_one(RunTable).cursor_to(rid)
                await pilot.press("enter")
                await settle(pilot)
                assert isinstance(app.screen, RunDetailScreen)
            acc = plot_of(app, "val/acc").spec
            assert acc.x_label == "epoch (step_metric)", where
            assert [float(v) for v in acc.series[0].x] == [10.0, 11.0, 12.0], where
            # An undeclared metric keeps the chosen axis.
            loss = plot_of(app, "loss").spec
            assert loss.x_label == "step" and float(loss.series[0].x[-1]) > 12, where
