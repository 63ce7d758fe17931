"""Charts in sections by key prefix, the metrics people look for first, pins and folds kept per
root, Tab and Escape back to the table, and compare colouring by goal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sections_support import build_sections_root
from tui_support import settle

from trackui.tui.prefs import load_prefs
from trackui.tui.screens.compare import CompareScreen
from trackui.tui.widgets.chart_sections import FoldedCharts, SectionHeader
from trackui.tui.widgets.config_diff import ConfigDiff
from trackui.tui.widgets.curves import CurvesPanel
from trackui.tui.widgets.curves_query import PINNED, chart_sections
from trackui.tui.widgets.metric_plot import MetricPlot
from trackui.tui.widgets.run_table import RunTable

TRAINER = [
    "epoch_time_s",
    "loss",
    "lr",
    "samples_per_s",
    "train_accuracy",
    "train_loss",
    "val_accuracy",
    "val_loss",
    "epoch",
]
TRAINER_META = {
    "metrics": {
        "epoch": {},
        "val_accuracy": {"step_metric": "epoch", "summary": "max", "goal": "maximize"},
        "val_loss": {"step_metric": "epoch", "summary": "min", "goal": "minimize"},
        "loss": {"summary": "min", "goal": "minimize"},
    }
}


def flat(sections: list[tuple[str, list[str]]]) -> list[str]:
    return [m for _, ms in sections for m in ms]


def test_declared_and_named_goals_come_first_epoch_last() -> None:
    order = flat(chart_sections(TRAINER, [TRAINER_META]))
    assert order == [
        "loss",
        "val_accuracy",
        "val_loss",
        "epoch_time_s",
        "train_accuracy",
        "train_loss",
        "lr",
        "samples_per_s",
        "epoch",
    ]
    # Nothing declared: the names still put accuracies and losses before the rest.
    plain = flat(chart_sections(TRAINER, [{}]))
    assert plain.index("val_accuracy") < plain.index("lr") and plain[-1] == "epoch"


def test_sections_by_prefix_unprefixed_first_system_last() -> None:
    names = ["system/gpu", "val/acc", "train/loss", "lr", "aaa/x", "epoch", "train/lr"]
    meta = {"metrics": {"val/acc": {"goal": "maximize"}}}
    got = chart_sections(names, [meta])
    assert got == [
        ("", ["lr", "epoch"]),
        ("val/", ["val/acc"]),  # (a declared metric ranks its section first)
        ("train/", ["train/loss", "train/lr"]),
        ("aaa/", ["aaa/x"]),
        ("system/", ["system/gpu"]),
    ]


def test_pinned_charts_first_in_pin_order() -> None:
    names = ["lr", "train/loss", "val/acc"]
    got = chart_sections(names, [{}], pinned=["val/acc", "gone", "lr"])
    assert got[0] == (PINNED, ["val/acc", "lr"])
    assert flat(got) == ["val/acc", "lr", "train/loss"]


@pytest.fixture
def sections_root(tmp_path: Path) -> Path:
    return build_sections_root(tmp_path / "runs")


def plots(app: Any) -> list[str]:
    return [p.metric for p in app.screen.query_one(CurvesPanel).query(MetricPlot)]


def headers(app: Any) -> list[str]:
    return [h.section for h in app.screen.query(SectionHeader)]


async def test_pin_moves_a_chart_first_and_stays_after_a_restart(
    sections_root: Path, app_factory
) -> None:
    app = app_factory(sections_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert headers(app) == ["", "val/", "train/"]
        assert plots(app)[:2] == ["lr", "epoch"]
        plot = next(p for p in app.screen.query(MetricPlot) if p.metric == "train/loss")
        plot.focus()
        await pilot.press("p")
        await settle(pilot)
        assert plots(app)[0] == "train/loss" and headers(app)[0] == PINNED
        # The focus stays on the chart that moved.
        assert getattr(app.focused, "metric", None) == "train/loss"
    assert load_prefs(sections_root).pinned == ["train/loss"]
    app = app_factory(sections_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert plots(app)[0] == "train/loss" and headers(app)[0] == PINNED
        assert "train/loss" not in plots(app)[1:]


async def test_fold_a_section_and_a_chart(sections_root: Path, app_factory) -> None:
    app = app_factory(sections_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        header = next(h for h in app.screen.query(SectionHeader) if h.section == "val/")
        header.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert "val/loss" not in plots(app) and "val/accuracy" not in plots(app)
        header = next(h for h in app.screen.query(SectionHeader) if h.section == "val/")
        assert header.folded and app.focused is header
        assert load_prefs(sections_root).folded_sections == ["val/"]
        await pilot.press("enter")
        await settle(pilot)
        assert "val/loss" in plots(app)
        # One chart folds to its name on its section's folded line; enter there shows it.
        next(p for p in app.screen.query(MetricPlot) if p.metric == "lr").focus()
        await pilot.press("f")
        await settle(pilot)
        assert "lr" not in plots(app)
        line = app.screen.query_one(FoldedCharts)
        assert line.charts == ("lr",) and app.focused is line
        assert load_prefs(sections_root).folded_charts == ["lr"]
        await pilot.press("enter")
        await settle(pilot)
        assert "lr" in plots(app) and not app.screen.query(FoldedCharts)


async def test_tab_past_the_last_chart_and_escape_go_back_to_the_table(
    sections_root: Path, app_factory
) -> None:
    app = app_factory(sections_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        panel = app.screen.query_one(CurvesPanel)
        assert app.focused is table
        await pilot.press("tab")
        assert panel.has_focus_within
        await pilot.press("escape")
        assert app.focused is table
        stops = len(panel.query("SectionHeader, MetricPlot"))
        for _ in range(stops):
            await pilot.press("tab")
            assert panel.has_focus_within
        await pilot.press("tab")
        assert app.focused is table


async def test_compare_colours_a_worse_loss_red_and_a_better_accuracy_green(
    sections_root: Path, app_factory
) -> None:
    app = app_factory(sections_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("a", "c")  # select both, compare
        await settle(pilot)
        assert isinstance(app.screen, CompareScreen)
        screen = app.screen
        screen.set_baseline("sec00001")
        await settle(pilot)
        diff = screen.query_one(ConfigDiff)

        def delta_style(key: str) -> str:
            keys = [diff.get_row_at(i)[1].plain for i in range(diff.row_count)]
            i = keys.index(key)
            row = diff.get_row_at(i)
            cell = row[2 + list(diff.diff.run_ids).index("sec00002")]
            spans = [s for s in cell.spans if cell.plain[s.start : s.end].startswith(" (")]
            return str(spans[-1].style)

        # Neither declared: their names say which way is better.
        assert delta_style("val_loss") == "red"
        assert delta_style("val_accuracy") == "green"
        assert delta_style("val/accuracy") == "green"  # (declared)
        assert delta_style("grad_norm") == "dim"  # no goal: neutral whatever the sign
