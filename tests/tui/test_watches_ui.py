"""Watches in the UI: badges within the live budget, stalls, the alerts list, rules added by hand."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from textual.widgets import Input, Label, OptionList
from tui_support import settle

from trackui.tui.messages import RunFilesChanged
from trackui.tui.screens.alerts import AlertsScreen
from trackui.tui.screens.run_detail import RunDetailScreen
from trackui.tui.widgets.run_table import RunTable

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import trackui

    root, go, mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    run = trackui.init(project="live", name="watched", dir=root)
    step = 0
    deadline = time.time() + 60
    while time.time() < deadline:
        if go.exists():
            if mode == "nan":
                run.log({"loss": float("nan")}, step=step)
            break
        run.log({"loss": 1.0 / (step + 1)}, step=step)
        step += 1
        time.sleep(0.05)
    time.sleep(max(0.0, deadline - time.time()))  # alive, silent: a stall
    """
)


def start_writer(tmp_path: Path, mode: str) -> tuple[Path, Path, subprocess.Popen[bytes]]:
    root = tmp_path / "live"
    root.mkdir()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    go = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if k != "TRACKUI_CONSOLE"}
    proc = subprocess.Popen([sys.executable, str(script), str(root), str(go), mode], env=env)
    return root, go, proc


async def wait_for(pilot, predicate, timeout: float = 20.0) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)
    return time.monotonic() - start


def last_record(root: Path) -> dict:
    (history,) = root.glob("run-*/history.jsonl")
    return json.loads(history.read_text().splitlines()[-1])


async def test_a_live_nan_is_badged_within_the_live_budget(tmp_path: Path, app_factory) -> None:
    root, go, proc = start_writer(tmp_path, "nan")
    app = app_factory(root, watch=True, frozen=False)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            table = app.screen.query_one(RunTable)
            await wait_for(pilot, lambda: len(table.rows_shown) == 1)
            await wait_for(pilot, lambda: table.rows_shown[0].steps >= 5)
            rid = table.rows_shown[0].id
            assert rid not in table.badges
            go.write_text("")
            await wait_for(pilot, lambda: table.badges.get(rid) == "NaN")
            seen = time.time()
            record = last_record(root)
            assert record["m"]["loss"] == "nan"
            assert seen - record["t"] < 1.0, seen - record["t"]  # the live budget
            assert "NaN" in str(table.get_cell(rid, "name"))
            (f,) = app.watches.firings
            assert (f.rule, f.metric, f.step) == ("nan", "loss", record["s"])
    finally:
        proc.kill()


async def test_a_stalled_writer_is_badged_after_its_threshold(tmp_path: Path, app_factory) -> None:
    root, go, proc = start_writer(tmp_path, "stall")
    app = app_factory(root, watch=True, frozen=False)
    app.watches.stall_min_s = 2.0
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            table = app.screen.query_one(RunTable)
            await wait_for(pilot, lambda: len(table.rows_shown) == 1)
            await wait_for(pilot, lambda: table.rows_shown[0].steps >= 5)
            rid = table.rows_shown[0].id
            go.write_text("")
            await wait_for(pilot, lambda: table.badges.get(rid) == "stall", timeout=30)
            quiet = time.time() - last_record(root)["t"]
            assert quiet >= 2.0, quiet
            assert quiet < 2.0 + 6.0, quiet  # the threshold, the clock's second, a loaded machine
            # (a loaded machine may pause the writer past 2 s before: a stall that cleared)
            assert {f.rule for f in app.watches.firings} == {"stall"}
            assert app.watches.firings[0].value == pytest.approx(quiet, abs=3.0)
    finally:
        proc.kill()


async def test_the_alerts_list_newest_first_and_enter_opens_the_run(
    fixture_root: Path, app_factory
) -> None:
    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        # (the failed run's NaN and inf came back finite: only its state still fires)
        assert table.badges == {"fail0004": "fail", "live0005": "stall"}
        assert "fail" in str(table.get_cell("fail0004", "name"))
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, AlertsScreen)
        ol = app.screen.query_one(OptionList)
        shown = [str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count)]
        assert len(shown) == 4
        assert "live-run" in shown[0] and "no record for" in shown[0]  # newest first
        assert "unstable" in shown[1] and "failed (exit 1)" in shown[1]
        assert "loss = inf at step 90" in shown[2] and "loss = nan at step 60" in shown[3]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RunDetailScreen)
        assert app.screen.row.id == "fail0004"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AlertsScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.query_one(RunTable) is table


async def test_a_rule_added_in_the_ui_is_checked_kept_and_fires(
    tmp_path: Path, write_run, app_factory
) -> None:
    root = tmp_path / "runs"
    d = write_run(root, "rule0001", records=[(0, 1.0, {"loss": 1.0})])
    app = app_factory(root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        for key in "loss >":
            await pilot.press(key if key != " " else "space")
        await pilot.press("enter")
        await settle(pilot)
        err = app.screen.query_one("#prompt-error", Label)
        assert str(err.render()) == "filter: missing value after '>' at 6"
        app.screen.query_one("#prompt", Input).value = "loss > 10"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AlertsScreen)
        assert "loss > 10" in str(app.screen.query_one("#watch-rules").render())
        kept = json.loads((root / ".trackui" / "watches.json").read_text())
        assert kept["rules"] == ["loss > 10"]
        # New records are read against it: a spike fires once, on the record.
        with open(d / "history.jsonl", "a") as f:
            f.write(json.dumps({"s": 1, "t": 2.0, "m": {"loss": 25.0}}) + "\n")
            f.write(json.dumps({"s": 2, "t": 3.0, "m": {"loss": 30.0}}) + "\n")
        app.post_message(RunFilesChanged(frozenset({str(d)})))
        await settle(pilot)
        assert [(f.rule, f.value, f.step) for f in app.watches.firings] == [("loss > 10", 25.0, 1)]
        assert app.watches.badges == {"rule0001": "!"}
        # Removed again: the badge goes.
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await asyncio.sleep(0)
        await settle(pilot)
        assert app.watches.settings.rules == []
        assert app.watches.badges == {}


async def test_an_alert_from_a_script_joins_the_list_and_badges_the_run(
    tmp_path: Path, write_run, app_factory
) -> None:
    root = tmp_path / "runs"
    d = write_run(root, "alrt0001", records=[(0, 1.0, {"loss": 1.0})])
    app = app_factory(root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.watches.badges == {}
        line = {"t": time.time(), "title": "loss spiked", "text": "loss 9.1", "level": "WARN"}
        (d / "alerts.jsonl").write_text(json.dumps(line) + "\n")
        app.post_message(RunFilesChanged(frozenset({str(d)})))
        await settle(pilot)
        assert [(f.rule, f.metric) for f in app.watches.firings] == [("alert", "loss spiked")]
        assert app.screen.query_one(RunTable).badges == {"alrt0001": "alert"}


async def test_rules_given_on_the_command_line_are_watched(
    tmp_path: Path, write_run, app_factory
) -> None:
    from trackui.tui.app import make_app

    root = tmp_path / "runs"
    write_run(root, "cli00001", records=[(0, 1.0, {"loss": 12.0})])
    app = make_app(root, watch=False, rules=["loss > 10"])
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.watches.badges == {"cli00001": "!"}


def test_a_group_row_gets_its_members_badges() -> None:
    from trackui.tui.widgets.watch_badges import badge_text, group_badge

    badges = {"a": badge_text(["stall"]), "b": badge_text(["nan", "loss > 1"]), "c": ""}
    assert badges["b"] == "NaN !"
    assert group_badge(badges, ["a", "b", "c"]) == "NaN stall !"
    assert group_badge(badges, ["c", "d"]) == ""


async def test_a_burst_of_file_changes_makes_few_passes(fixture_root: Path, app_factory) -> None:
    from trackui.tui.watch_service import MIN_PASS_S

    app = app_factory(fixture_root)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        w = app.watches
        for _ in range(100):  # the first pass waits for the first load
            if w._started and not w._busy:
                break
            await pilot.pause(0.05)
        passes = []
        go = w._go
        w._go = lambda *, initial: (passes.append(time.monotonic()), go(initial=initial))
        run_dir = str(next(fixture_root.glob("run-*")))
        start = time.monotonic()
        while time.monotonic() - start < 1.0:  # a writer's changes, 50 a second
            w.files_changed([run_dir])
            await pilot.pause(0.02)
        await pilot.pause(MIN_PASS_S * 2)
        assert 2 <= len(passes) <= 1.0 / MIN_PASS_S + 2  # not one per change
        gaps = [b - a for a, b in zip(passes, passes[1:], strict=False)]
        assert min(gaps) >= MIN_PASS_S * 0.9
