"""The viewer honours what the script declared with ``define_metric``: goals colour deltas,
``step_metric`` sets a metric's x axis."""

from __future__ import annotations

from pathlib import Path

from test_live import wait_for
from textual.widgets import Static
from tui_support import settle

import trackui
from trackui.tui.messages import RunFilesChanged
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


def str_of(widget: Static) -> str:
    return str(widget.render())


async def test_detail_overview_lists_alerts_and_artifacts(tmp_path: Path, app_factory) -> None:
    root = tmp_path / "runs"
    run = trackui.init(project="events", name="events", dir=root)
    run.log({"loss": 1.0})
    run.alert(title="loss spiked", text="loss went to 9", level=trackui.AlertLevel.WARN)
    run.alert(title="diverged", text="nan loss", level="ERROR")
    data = tmp_path / "data.txt"
    data.write_text("x")
    art = trackui.Artifact("mnist", type="dataset")
    art.add_file(str(data))
    run.log_artifact(art, aliases=["best"])
    run.finish()
    app = app_factory(root, frozen=False)
    async with app.run_test(size=(140, 44)) as pilot:
        await settle(pilot)
        app.screen.query_one(RunTable).cursor_to(run.id)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunDetailScreen)
        alerts = str_of(app.screen.query_one("#overview-alerts", Static))
        assert "alerts (2)" in alerts
        assert alerts.index("diverged") < alerts.index("loss spiked")  # newest first
        assert "ERROR" in alerts and "WARN" in alerts and "nan loss" in alerts
        artifacts = str_of(app.screen.query_one("#overview-artifacts", Static))
        assert "artifacts (1)" in artifacts
        assert "logged" in artifacts and "mnist:v0" in artifacts and "best" in artifacts
        # Tab numbers are as they were.
        await pilot.press("7")
        assert app.screen.query_one("#detail-tabs").active == "output"


async def test_a_new_alert_on_a_live_run_is_notified_once(tmp_path: Path, app_factory) -> None:
    root = tmp_path / "runs"
    run = trackui.init(project="events", name="live-one", dir=root)
    try:
        run.log({"loss": 1.0})
        run.alert(title="before", text="raised before the viewer opened", level="WARN")
        app = app_factory(root, frozen=False)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)

            def alert_notes() -> list[tuple[str, str]]:
                return [(str(n.title), n.severity) for n in app._notifications]

            run.alert(title="diverged", text="nan loss", level="ERROR")
            run.alert(title="slow", text="epoch took long", level="WARN")
            run.alert(title="halfway", text="50%", level="INFO")
            run.log({"loss": 2.0})
            app.post_message(RunFilesChanged(frozenset({str(run.run_dir)})))
            await wait_for(pilot, lambda: len(alert_notes()) >= 3)
            # Another change to the run notifies nothing again.
            run.log({"loss": 3.0})
            app.post_message(RunFilesChanged(frozenset({str(run.run_dir)})))
            await wait_for(pilot, lambda: app.loaded[0] == app.loaded[1])
            await settle(pilot)
            await pilot.pause(1.0)
            await settle(pilot)
            assert sorted(alert_notes()) == [
                ("live-one: diverged", "error"),
                ("live-one: halfway", "information"),
                ("live-one: slow", "warning"),
            ]
    finally:
        run.finish()


def test_hidden_metrics_chart_only_when_picked(tmp_path: Path) -> None:
    from trackui.store.index import Index
    from trackui.tui.messages import CurvesRequest
    from trackui.tui.widgets.curves_query import query_curves

    root = tmp_path / "runs"
    run = trackui.init(project="hidden", name="h", dir=root)
    run.define_metric("lr", hidden=True)
    for step in range(3):
        run.log({"loss": 1.0 / (step + 1), "lr": 0.1})
    run.finish()

    def shown(chosen: tuple[str, ...]) -> tuple[str, ...]:
        req = CurvesRequest((run.id,), chosen, "main", None, "step", "none", 0.0, 120, None)
        return query_curves(ix, req).shown

    with Index(root, cache=False) as ix:
        ix.refresh()
        assert shown(()) == ("loss",)
        assert shown(("loss", "lr")) == ("loss", "lr")
