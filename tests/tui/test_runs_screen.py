"""Pilot tests of the runs screen: table, sort, filter, selection, columns, curves."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from textual.widgets import Input, Label
from tui_support import settle

from trackui.tui.messages import CurvesQueried, RunsQueried, StoreRefreshed
from trackui.tui.prefs import load_prefs, prefs_path, save_prefs
from trackui.tui.screens.pickers import ChooseManyScreen, ChooseOneScreen
from trackui.tui.screens.runs import RunsScreen, parse_step_range
from trackui.tui.widgets.curves import CurvesPanel
from trackui.tui.widgets.metric_plot import MetricPlot
from trackui.tui.widgets.run_table import RunTable


def names(table: RunTable) -> list[str]:
    return [r.name for r in table.rows_shown]


async def test_table_lists_runs_newest_first_with_status(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    seen: list[object] = []
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        table = screen.query_one(RunTable)
        assert names(table) == ["live-run", "unstable", "wide-mlp", "lr-high", "baseline"]
        states = [r.state for r in table.rows_shown]
        assert states == ["running", "failed", "finished", "finished", "finished"]
        status = str(screen.query_one("#runs-status").render())
        assert "5 of 5 runs" in status
        # The store spoke through messages: a scan, then the queries.
        assert any(isinstance(m, StoreRefreshed) and m.scan for m in seen)
        assert any(isinstance(m, RunsQueried) for m in seen)
        assert any(isinstance(m, CurvesQueried) for m in seen)
        # The highlighted run is charted, one chart per metric it has (system ones apart).
        panel = screen.query_one(CurvesPanel)
        assert [r.name for r in panel.runs] == ["live-run"]
        charts = {p.metric for p in panel.query(MetricPlot)}
        assert charts == {"accuracy", "epoch", "loss", "val_accuracy"}


async def test_cursor_moves_the_charted_run(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down")
        await settle(pilot)
        panel = app.screen.query_one(CurvesPanel)
        assert [r.name for r in panel.runs] == ["wide-mlp"]
        assert {s.run_id for s in panel.view.series} == {"wide0003"}


async def test_sort_by_picked_column_and_reverse(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, ChooseOneScreen)
        # Options: state, name, project, age, ...; the current (age) is highlighted.
        await pilot.press("up", "up", "enter")
        await settle(pilot)
        assert table.sort_column == "name"
        assert names(table) == ["baseline", "live-run", "lr-high", "unstable", "wide-mlp"]
        await pilot.press("O")
        await settle(pilot)
        assert names(table) == ["wide-mlp", "unstable", "lr-high", "live-run", "baseline"]
        # Steps: the failed run has fewest.
        await app.screen.run_action("sort")
        await pilot.pause()
        app.screen.dismiss("steps")
        await settle(pilot)
        assert table.sort_column == "steps"
        assert names(table)[-1] == "unstable"
        # The choice is remembered for this root.
        assert load_prefs(fixture_root).sort == "steps"


async def test_filter_narrows_and_bad_filter_shows_error(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one(RunTable)
        await pilot.press("slash")
        assert screen.query_one("#filter", Input).has_focus
        await pilot.press(*"lr>=0.01")
        await settle(pilot)
        assert sorted(names(table)) == ["lr-high", "unstable"]
        assert "2 of 5 runs" in str(screen.query_one("#runs-status").render())
        # A malformed filter: an inline error, the last good rows stay.
        await pilot.press("backspace", "backspace", "backspace")
        await settle(pilot)
        err = screen.query_one("#filter-error", Label)
        assert not err.display
        good = names(table)  # "lr>=0": every run
        assert len(good) == 5
        await pilot.press("(")
        await settle(pilot)
        assert err.display
        assert "Filter:" in str(err.render())
        assert names(table) == good
        # Fixing it clears the error.
        await pilot.press(*["backspace"] * 6)
        await pilot.press(*"state:running")
        await settle(pilot)
        assert not err.display
        assert names(table) == ["live-run"]
        # Enter goes back to the table; Escape clears the filter.
        await pilot.press("enter")
        assert table.has_focus
        await pilot.press("escape")
        await settle(pilot)
        assert len(names(table)) == 5


async def test_space_selects_and_curves_overlay_selection(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one(RunTable)
        await pilot.press("space", "down", "space")
        await settle(pilot)
        assert table.selected == {"live0005", "wide0003"}
        assert "2 selected" in str(screen.query_one("#runs-status").render())
        panel = screen.query_one(CurvesPanel)
        assert [r.id for r in panel.runs] == ["live0005", "wide0003"]
        loss = next(p for p in panel.query(MetricPlot) if p.metric == "loss")
        assert [s.run_id for s in loss.spec.series] == ["live0005", "wide0003"]
        # Distinct, stable colours.
        assert loss.spec.colours[0] != loss.spec.colours[1]
        first = loss.spec.colours
        # Selection survives a filter that hides one of them.
        await pilot.press("slash", *"wide")
        await settle(pilot)
        assert names(table) == ["wide-mlp"]
        assert table.selected == {"live0005", "wide0003"}
        await pilot.press("escape", "escape")
        await settle(pilot)
        loss = next(p for p in panel.query(MetricPlot) if p.metric == "loss")
        assert loss.spec.colours == first
        # Escape with no filter clears the selection.
        await pilot.press("escape")
        await settle(pilot)
        assert table.selected == set()


async def test_columns_chooser_adds_columns_and_persists(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ChooseManyScreen)
        dialog.dismiss(["summary:val_accuracy", "config:lr"])
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        assert table.columns_shown[-2:] == ("summary:val_accuracy", "config:lr")
        row = table.get_row("lrhi0002")
        assert row[-1].plain == "0.01"
    saved = json.loads(prefs_path(fixture_root).read_text())
    assert saved["columns"] == ["summary:val_accuracy", "config:lr"]
    # A new app on the same root shows them at once.
    app2 = app_factory(fixture_root)
    async with app2.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        table = app2.screen.query_one(RunTable)
        assert "config:lr" in table.columns_shown


def test_prefs_tolerate_unwritable_and_damaged_files(tmp_path: Path) -> None:
    root = tmp_path / "ro"
    root.mkdir()
    (root / ".trackui").write_text("a file where the folder should be")
    prefs = load_prefs(root)
    prefs.columns = ["config:lr"]
    assert save_prefs(root, prefs) is False  # kept in memory, nothing raised
    ok = tmp_path / "ok"
    (ok / ".trackui").mkdir(parents=True)
    prefs_path(ok).write_text("{not json")
    assert load_prefs(ok).columns == []
    prefs_path(ok).write_text(
        json.dumps({"columns": [1, 2], "strength": "x", "smoothing": "bogus"})
    )
    p = load_prefs(ok)
    assert p.columns == [] and p.strength == 0.6 and p.smoothing == "twema"


async def test_smoothing_xaxis_and_zoom_keys(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        panel = app.screen.query_one(CurvesPanel)
        before = next(p for p in panel.query(MetricPlot) if p.metric == "loss").spec
        await pilot.press("s")  # twema -> ema
        await settle(pilot)
        assert app.prefs.smoothing == "ema"
        await pilot.press("s")  # ema -> none
        await settle(pilot)
        loss = next(p for p in panel.query(MetricPlot) if p.metric == "loss")
        s = loss.spec.series[0]
        assert app.prefs.smoothing == "none" and not loss.spec.show_raw
        import numpy as np

        assert np.allclose(s.y, s.raw, equal_nan=True)
        assert loss.spec.digest != before.digest
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert app.prefs.strength == 0.7
        await pilot.press("x")
        await settle(pilot)
        assert app.prefs.x_axis == "relative"
        loss = next(p for p in panel.query(MetricPlot) if p.metric == "loss")
        assert loss.spec.series[0].x[-1] <= 150 * 0.5  # seconds since start, not steps
        await pilot.press("x", "x")  # wall, then epoch
        await settle(pilot)
        assert app.prefs.x_axis == "epoch"
        await pilot.press("x")
        await pilot.press("z")
        await pilot.pause()
        await pilot.press(*"20:60", "enter")
        await settle(pilot)
        assert app.x_range == (20.0, 60.0)
        loss = next(p for p in panel.query(MetricPlot) if p.metric == "loss")
        xs = loss.spec.series[0].x
        xs = xs[~np.isnan(xs)]
        assert xs.min() >= 20 and xs.max() <= 60


def test_parse_step_range() -> None:
    assert parse_step_range("") is None
    assert parse_step_range("10:20") == (10.0, 20.0)
    assert parse_step_range("10:")[1] == float("inf")
    assert isinstance(parse_step_range("20:10"), str)
    assert isinstance(parse_step_range("abc"), str)


async def test_log_scale_toggles_on_focused_chart(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        panel = app.screen.query_one(CurvesPanel)
        loss = next(p for p in panel.query(MetricPlot) if p.metric == "loss")
        loss.focus()
        await pilot.press("l")
        await settle(pilot)
        loss = next(p for p in panel.query(MetricPlot) if p.metric == "loss")
        assert loss.spec.log
        assert "loss" in load_prefs(fixture_root).log_metrics
        others = [p for p in panel.query(MetricPlot) if p.metric != "loss"]
        assert not any(p.spec.log for p in others)


async def test_command_palette_sorts_by_any_column(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"Sort by name")
        await pilot.pause(0.6)
        await pilot.press("enter")
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        assert table.sort_column == "name"
        assert names(table)[0] == "baseline"


async def test_age_column_grows_with_its_text(tmp_path: Path) -> None:
    """`59s` becoming `1h02m` widens the column instead of cutting the text."""
    import time

    import trackui
    from trackui.tui.app import make_app

    run = trackui.init(dir=tmp_path, name="x")
    run.log({"a": 1.0})
    run.finish()
    clock = [time.time() + 50]
    app = make_app(tmp_path, watch=False, now=lambda: clock[0])
    app.animation_level = "none"
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.screen.query_one(RunTable)
        while not table.rows_shown:
            await pilot.pause(0.05)
        assert str(table.get_cell(run.id, "created")) == "50s"
        clock[0] += 3700
        table.refresh_ages(clock[0])
        await pilot.pause()
        assert str(table.get_cell(run.id, "created")) == "1h02m"
        assert table.column_width("created") >= len("1h02m")


async def test_charts_out_of_view_are_drawn_when_scrolled_to(
    fixture_root: Path, app_factory
) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen

        def shown(p: MetricPlot) -> bool:
            return screen.find_widget(p).visible_region.area > 0

        plots = list(screen.query(MetricPlot))
        hidden = [p for p in plots if not shown(p)]
        assert hidden and len(hidden) < len(plots)  # charts stacked below the fold
        # Only the charts in view were built.
        assert all(p.builds == 0 for p in hidden)
        assert all(p.drawn for p in plots if shown(p))
        # Scrolled into view (half of it, then all): drawn then.
        last = hidden[-1]
        scroller = screen.query_one("#runs-curves VerticalScroll")
        scroller.scroll_to(y=last.virtual_region.y - scroller.size.height + 3, animate=False)
        await settle(pilot)
        assert shown(last) and last.drawn and last.builds == 1


async def test_the_last_run_list_shows_until_the_index_answers(fixture_root: Path) -> None:
    import shutil
    import threading

    from trackui.store.index import Index
    from trackui.tui.app import TrackApp

    with Index(fixture_root) as ix:  # a viewer that came and went: it leaves its run list
        ix.refresh()
    shutil.rmtree(next(fixture_root.glob("run-*-base0001")))  # gone since
    release = threading.Event()

    def open_index() -> Index:
        release.wait(30)  # the index takes its time to open
        return Index(fixture_root)

    app = TrackApp(fixture_root, open_index=open_index, watch=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.3)
        table = app.screen.query_one(RunTable)
        assert "baseline" in names(table) and len(names(table)) == 5
        assert "as last seen" in str(app.screen.query_one("#runs-status").render())
        assert not list(app.screen.query(MetricPlot))  # curves wait for the index
        release.set()
        await settle(pilot)
        assert names(table) == ["live-run", "unstable", "wide-mlp", "lr-high"]
        assert "4 of 4 runs" in str(app.screen.query_one("#runs-status").render())
        assert {p.metric for p in app.screen.query(MetricPlot)}


async def test_the_footer_is_rebuilt_only_when_its_keys_change(
    fixture_root: Path, app_factory
) -> None:
    from trackui.tui.widgets.keys_footer import KeysFooter

    app = app_factory(fixture_root)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(KeysFooter)
        built: list[int] = []
        compose = footer.compose

        def counting() -> Any:
            built.append(1)
            return compose()

        footer.compose = counting  # type: ignore[method-assign]

        def keys() -> str:
            return " ".join(str(k.render()) for k in footer.query("FooterKey"))

        assert "Log scale" not in keys()
        app.screen.refresh_bindings()  # as on every change of focus
        await settle(pilot)
        assert built == []
        app.screen.query_one(MetricPlot).focus()  # a chart has a key of its own
        await settle(pilot)
        assert built == [1] and "Log scale" in keys()
        app.screen.query_one(RunTable).focus()
        await settle(pilot)
        assert built == [1, 1] and "Log scale" not in keys()


async def test_the_collector_settles_after_the_load_is_on_screen(
    fixture_root: Path, app_factory, monkeypatch
) -> None:
    # Once everything is loaded, one full collection and a freeze, timed
    # after the refresh that finished the load was handled (it holds the
    # loop); undone when the app closes.
    import gc
    import inspect

    from trackui.tui import GC_THRESHOLDS
    from trackui.tui import app as app_mod

    calls: list[tuple[str, bool]] = []
    real_collect = gc.collect

    class Gc:
        def __getattr__(self, name: str) -> Any:
            return getattr(gc, name)

        def collect(self, *args: Any) -> int:
            inside = any(f.function == "_store_refreshed" for f in inspect.stack())
            calls.append(("collect", inside))
            return real_collect(*args)

    monkeypatch.setattr(app_mod, "gc", Gc())
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.pause(app_mod.SETTLE_GC_S + 0.2)
        assert calls == [("collect", False)]
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == GC_THRESHOLDS
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == GC_THRESHOLDS


def test_a_store_screen_without_reload_is_refused_when_defined() -> None:
    import pytest

    from trackui.tui.screens.base import StoreScreen

    with pytest.raises(TypeError, match="defines reload"):

        class Forgetful(StoreScreen):
            pass

    class Fine(StoreScreen):
        def reload(self, changed: frozenset[str]) -> None:
            pass

    assert Fine.reload is not None


async def test_long_curves_of_the_table_are_read_ahead_once_loaded(
    fixture_root: Path, app_factory, monkeypatch, point_reads
) -> None:
    from trackui.store import index as index_mod

    # The fixture's curves are short: count 100 points as long.
    monkeypatch.setattr(index_mod, "READ_AHEAD_MIN_POINTS", 100)
    asked: list[tuple[object, ...]] = []
    real = index_mod.Index.read_ahead

    def spy(self, run_ids, metrics, **kw):
        asked.append((tuple(run_ids), tuple(metrics), kw["x"]))
        return real(self, run_ids, metrics, **kw)

    monkeypatch.setattr(index_mod.Index, "read_ahead", spy)
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        panel = app.screen.query_one(CurvesPanel)
        # Once, for the finished runs in table order (not the live one) and
        # the metrics charted.
        assert asked == [
            (("fail0004", "wide0003", "lrhi0002", "base0001"), panel.view.shown, "step")
        ]
        # Selecting them now reads only their short curves (epoch and
        # val_accuracy, a point per 40 steps) from the index.
        point_reads.clear()
        await pilot.press("down", "space", "space", "space")  # (space moves on)
        await settle(pilot)
        assert panel.view.run_ids == ("fail0004", "wide0003", "lrhi0002")
        mids = app.index._mids
        assert {"loss", "accuracy"} <= set(panel.view.shown)
        assert {m for _, m in point_reads} == {mids["epoch"], mids["val_accuracy"]}
        assert len(asked) == 1

    # Off, nothing is read ahead.
    asked.clear()
    app = app_factory(fixture_root)
    app.read_ahead = False
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert asked == []


async def test_a_query_cancels_the_read_ahead_and_it_starts_again_after(
    fixture_root: Path, app_factory, monkeypatch
) -> None:
    from trackui.store import index as index_mod

    calls: list[tuple[str, ...]] = []
    cancelled: list[bool] = []
    events: list[str] = []

    def blocking_first(self, run_ids, metrics, *, cancel, **kw):
        calls.append(tuple(run_ids))
        if len(calls) == 1:
            cancelled.append(cancel.wait(10))
            events.append("read-ahead cancelled")
        return 0

    series = index_mod.Index.series

    def slow_series(self, *a, **kw):
        got = series(self, *a, **kw)
        time.sleep(0.3)
        events.append("curves read")
        return got

    monkeypatch.setattr(index_mod.Index, "read_ahead", blocking_first)
    monkeypatch.setattr(index_mod.Index, "series", slow_series)
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(200):
            if calls:
                break
            await pilot.pause(0.05)
        assert calls and not cancelled
        await pilot.press("down")  # the cursor moves: a curves query
        await settle(pilot)
        # Cancelled as the query started, not once it was answered; asked
        # again after it.
        assert cancelled == [True]
        assert events[-2:] == ["read-ahead cancelled", "curves read"]
        assert len(calls) == 2 and calls[1] == calls[0]


async def test_an_empty_root_says_how_to_start_a_run(tmp_path: Path, app_factory) -> None:
    from tui_support import fixture_run

    root = tmp_path / "runs"
    root.mkdir()
    app = app_factory(root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        legend = str(app.screen.query_one(".curves--legend").render())
        assert f"No runs in {root} yet" in legend and "trackui train" in legend
        assert "trackui.init()" in legend
        fixture_run(root, "frst0001", name="first", start=time.time() - 60)
        await pilot.press("r")  # rescan (no watcher in this test)
        for _ in range(100):  # the run appears: the hint goes
            await pilot.pause(0.05)
            if app.screen.query_one(RunTable).rows_shown:
                break
        await settle(pilot)
        legend = str(app.screen.query_one(".curves--legend").render())
        assert "No runs in" not in legend


def test_sort_labels_read_as_the_headers() -> None:
    from trackui.tui.screens.runs_actions import sort_label

    assert sort_label("created") == "age"  # the header's word, not the key's
    assert sort_label("summary:val_accuracy") == "val_accuracy (summary)"
    assert sort_label("config:lr") == "lr (config)"
    assert sort_label("best:val/acc") == "best val/acc"


async def test_command_palette_sorts_by_the_age_header(fixture_root: Path, app_factory) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"Sort by age")
        await pilot.pause(0.6)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one(RunTable).sort_column == "created"
