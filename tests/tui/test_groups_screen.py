"""Pilot tests of groups: grouping by a config key, the band, expanding a group, compare."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from tui_support import settle

from trackui.tui.prefs import Prefs, load_prefs, save_prefs
from trackui.tui.screens.compare import CompareScreen
from trackui.tui.screens.pickers import ChooseManyScreen
from trackui.tui.widgets.config_diff import ConfigDiff
from trackui.tui.widgets.curves import CurvesPanel
from trackui.tui.widgets.run_table import RunTable

# The fixture root's runs by lr, newest first: live-run, wide-mlp and baseline
# share 0.001 (the running one shorter), unstable has 0.1, lr-high 0.01.
BY_LR = ["▸ 0.001 (3)", "▸ 0.1 (1)", "▸ 0.01 (1)"]


def names(table: RunTable) -> list[str]:
    return [r.name for r in table.rows_shown]


def grouped_by_lr(root: Path) -> Path:
    save_prefs(root, Prefs(group_by=["lr"]))
    return root


def group_series(panel: CurvesPanel, metric: str = "loss"):
    (s,) = [s for s in panel.view.series if s.metric == metric and s.run_id.startswith("group:")]
    return s


async def test_grouping_by_a_config_key_from_the_picker(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("G")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, ChooseManyScreen)
        values = [v for v, _ in picker._items]
        assert values[:3] == ["group", "job_type", "sweep"] and "lr" in values
        for _ in range(values.index("lr")):
            await pilot.press("down")
        await pilot.press("space", "enter")
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        assert names(table) == BY_LR
        first = table.rows_shown[0]
        assert first.state == "running"  # a member runs
        assert first.project == "1 running 2 finished"
        cells = [c.plain for c in table.get_row(first.id)]
        assert "1 running 2 finished" in cells
        assert load_prefs(fixture_root).group_by == ["lr"]
        # The highlighted group is charted as one mean with its band.
        panel = app.screen.query_one(CurvesPanel)
        assert [r.id for r in panel.runs] == [first.id]
        s = group_series(panel)
        ok = np.isfinite(s.y)
        assert ok.sum() > 20
        assert (s.lo[ok] <= s.y[ok] + 1e-12).all() and (s.y[ok] <= s.hi[ok] + 1e-12).all()
        assert (s.hi[ok] - s.lo[ok]).max() > 0  # the members differ: a band
        # lr unticked, none ticked: a row per run again.
        await pilot.press("G")
        await settle(pilot)
        for _ in range(values.index("lr")):
            await pilot.press("down")
        await pilot.press("space", "enter")
        await settle(pilot)
        assert names(table) == ["live-run", "unstable", "wide-mlp", "lr-high", "baseline"]
    assert load_prefs(fixture_root).group_by == []


async def test_the_grouping_is_kept_for_the_root(fixture_root: Path, app_factory) -> None:
    app = app_factory(grouped_by_lr(fixture_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        assert names(table) == BY_LR  # remembered for the root
        app.screen.set_group_by([])
        await settle(pilot)
        assert names(table) == ["live-run", "unstable", "wide-mlp", "lr-high", "baseline"]
    assert load_prefs(fixture_root).group_by == []


async def test_band_toggle_between_min_max_and_std(fixture_root: Path, app_factory) -> None:
    app = app_factory(grouped_by_lr(fixture_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        panel = app.screen.query_one(CurvesPanel)
        minmax = group_series(panel)
        await pilot.press("B")
        await settle(pilot)
        assert load_prefs(fixture_root).band == "std"
        std = group_series(panel)
        ok = np.isfinite(std.y)
        assert np.allclose(std.y, minmax.y, equal_nan=True)  # the same mean
        assert np.allclose((std.hi - std.y)[ok], (std.y - std.lo)[ok])  # ±1 std: symmetric
        assert not np.allclose(std.hi[ok], minmax.hi[ok])
        await pilot.press("B")
        await settle(pilot)
        assert load_prefs(fixture_root).band == "minmax"
        assert np.allclose(group_series(panel).hi, minmax.hi, equal_nan=True)


async def test_expanding_a_group_and_charting_a_member_alone(
    fixture_root: Path, app_factory
) -> None:
    app = app_factory(grouped_by_lr(fixture_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        await pilot.press("enter")  # Enter on a group expands it
        await settle(pilot)
        assert names(table) == [
            "▾ 0.001 (3)",
            "live-run",
            "wide-mlp",
            "baseline",
            "▸ 0.1 (1)",
            "▸ 0.01 (1)",
        ]
        assert table.highlighted.name == "▾ 0.001 (3)"
        await pilot.press("down", "down")
        await settle(pilot)
        panel = app.screen.query_one(CurvesPanel)
        assert {s.run_id for s in panel.view.series} == {"wide0003"}  # the member alone
        await pilot.press("g")  # on a member: its group folds
        await settle(pilot)
        assert names(table) == BY_LR
        assert table.highlighted.name == "▸ 0.001 (3)"
        await pilot.press("g")
        await settle(pilot)
        assert len(table.rows_shown) == 6


async def test_compare_groups_shows_the_keys_that_differ_between_them(
    fixture_root: Path, app_factory
) -> None:
    app = app_factory(grouped_by_lr(fixture_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        diff = screen.query_one(ConfigDiff).diff
        differing = {r.key: r.values for r in diff.rows if r.differs and r.section == "config"}
        # hidden differs within the first group (wide-mlp): not a group's key.
        assert differing == {"lr": (0.001, 0.1)}
        panel = screen.query_one(CurvesPanel)
        ids = {s.run_id for s in panel.view.series}
        assert ids == {"group:0.001", "group:0.1"}


def test_group_colours_come_from_the_id_and_differ_when_drawn_together() -> None:
    from trackui.tui.widgets.group_rows import group_colour, with_group_colours

    ids = [f"group:{v}" for v in ("0.1", "0.01", "0.001", "a", "b", "c")]
    one = with_group_colours({}, ids)
    other = with_group_colours({}, list(reversed(ids)))
    assert one == other  # not the order they come in
    assert len(set(one.values())) == len(ids)  # drawn together: all different
    alone = {i: with_group_colours({}, [i])[i] for i in ids}
    assert all(alone[i] == group_colour(i) for i in ids)  # the same colour each time alone
    # A run drawn beside a group keeps its colour; the group avoids it.
    runs = with_group_colours({"r1": group_colour(ids[0])}, ["r1", ids[0]])
    assert runs["r1"] == group_colour(ids[0]) and runs[ids[0]] != runs["r1"]


async def test_a_group_row_shows_the_watches_marks_of_its_members(
    fixture_root: Path, app_factory
) -> None:
    app = app_factory(grouped_by_lr(fixture_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for _ in range(50):  # the watches' first pass runs in a worker
            if app.watches.badges.get("fail0004"):
                break
            await pilot.pause(0.05)
        assert "fail" in app.watches.badges["fail0004"]  # "unstable", the only run of lr 0.1
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        group = next(r for r in table.rows_shown if r.name == "▸ 0.1 (1)")
        name = table.get_row(group.id)[table.columns_shown.index("name")].plain
        assert name.endswith(" fail")
        app.screen.set_group_by([])  # back to runs: the run's own row has it
        await settle(pilot)
        assert table.get_row("fail0004")[table.columns_shown.index("name")].plain.endswith("fail")


def count_queries(monkeypatch, hold=None) -> list[tuple[int, int]]:
    """Each curves query the panels make, as (groups, runs) asked: the real query, counted.

    ``hold``: a query with groups waits for this event before it runs.
    """
    import trackui.tui.widgets.curves as curves

    asked: list[tuple[int, int]] = []
    real = curves.query_with_groups

    def counted(index, req):
        asked.append((len(req.groups), len(req.run_ids)))
        if hold is not None and req.groups:
            hold.wait(10)
        return real(index, req)

    monkeypatch.setattr(curves, "query_with_groups", counted)
    return asked


async def test_choosing_the_grouping_and_selecting_its_groups_asks_the_store_once(
    fixture_root: Path, app_factory, monkeypatch
) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        asked = count_queries(monkeypatch)
        screen = app.screen
        table = screen.query_one(RunTable)
        screen.set_group_by(["lr"])
        table.set_selected([r.id for r in table.rows_shown])
        await settle(pilot)
        assert asked == [(3, 3)]  # the grouping and the selection: one query
        panel = screen.query_one(CurvesPanel)
        groups = {s.run_id for s in panel.view.series if s.run_id.startswith("group:")}
        assert groups == {"group:0.001", "group:0.1", "group:0.01"}


async def test_ungrouping_before_the_grouped_answer_shows_the_runs_not_the_groups(
    fixture_root: Path, app_factory, monkeypatch
) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        panel = screen.query_one(CurvesPanel)
        before = panel.view.request
        hold = threading.Event()
        asked = count_queries(monkeypatch, hold)
        screen.set_group_by(["lr"])  # its query starts...
        for _ in range(100):
            if asked:
                break
            await pilot.pause(0.02)
        assert asked == [(1, 1)]
        screen.set_group_by([])  # ...and the runs are back before it answers
        await pilot.pause(0.2)
        hold.set()
        await settle(pilot)
        assert panel.view.request == before  # what is asked last is what is shown
        assert not any(s.run_id.startswith("group:") for s in panel.view.series)
