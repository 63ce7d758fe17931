"""Live updates: a real writer process logs through the public API while the app watches."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tui_support import settle

from trackui.tui.messages import RunFilesChanged
from trackui.tui.screens.run_detail import RunDetailScreen
from trackui.tui.widgets.curves import CurvesPanel
from trackui.tui.widgets.metric_plot import MetricPlot
from trackui.tui.widgets.run_table import RunTable

WRITER = textwrap.dedent(
    """
    import math, sys, time
    from pathlib import Path
    import trackui

    root, stop = sys.argv[1], Path(sys.argv[2])
    run = trackui.init(project="live", name="writer", dir=root, config={"lr": 0.01})
    step = 0
    deadline = time.time() + 60
    while not stop.exists() and time.time() < deadline:
        run.log({"loss": math.exp(-step / 50), "acc": step / 1000}, step=step)
        print(f"step {step}", flush=True)
        step += 1
        time.sleep(0.05)
    run.finish()
    """
)


def live_root(tmp_path: Path, writer: str = WRITER) -> tuple[Path, Path, Path]:
    """An empty root, the path whose existence stops ``WRITER``, and the writer script."""
    root = tmp_path / "live"
    root.mkdir()
    script = tmp_path / "writer.py"
    script.write_text(writer)
    return root, tmp_path / "stop", script


async def wait_for(pilot, predicate, timeout: float = 20.0) -> float:
    """Seconds until ``predicate()`` holds (pausing the app between checks)."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)
    return time.monotonic() - start


def test_files_changed_messages_coalesce() -> None:
    a = RunFilesChanged(frozenset({"r1"}))
    b = RunFilesChanged(frozenset({"r2"}))
    assert b.can_replace(a)
    assert b.paths == {"r1", "r2"}


async def test_live_writer_updates_table_and_curves(tmp_path: Path, app_factory) -> None:
    root, stop, script = live_root(tmp_path)
    app = app_factory(root, watch=True, frozen=False)
    seen: list[object] = []
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        assert table.rows_shown == ()
        proc = subprocess.Popen(
            [sys.executable, str(script), str(root), str(stop)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # Console capture on (the suite turns it off for runs made in-process).
            env={k: v for k, v in os.environ.items() if k != "TRACKUI_CONSOLE"},
        )
        try:
            await wait_for(pilot, lambda: len(table.rows_shown) == 1)
            row = table.rows_shown[0]
            assert row.name == "writer" and row.state == "running"
            # The table's step count keeps growing while the run writes.
            await wait_for(pilot, lambda: table.rows_shown[0].steps >= 5)
            first = table.rows_shown[0].steps
            await wait_for(pilot, lambda: table.rows_shown[0].steps >= first + 10)
            # So do the curves of the highlighted run.
            panel = app.screen.query_one(CurvesPanel)

            def points() -> int:
                plots = [p for p in panel.query(MetricPlot) if p.metric == "loss"]
                return plots[0].spec.series[0].points if plots and plots[0].spec.series else 0

            await wait_for(pilot, lambda: points() > 0)
            p0 = points()
            await wait_for(pilot, lambda: points() > p0 + 5)
            assert any(isinstance(m, RunFilesChanged) for m in seen)
            # The detail screen follows the console output live.
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, RunDetailScreen))
            await pilot.press("7")
            log = app.screen.query_one("#output-log")

            def last_step_shown() -> int:
                lines = [ln for ln in log.lines if ln.startswith("step ")]
                return int(lines[-1].split()[1]) if lines else -1

            await wait_for(pilot, lambda: last_step_shown() >= 0)
            s0 = last_step_shown()
            await wait_for(pilot, lambda: last_step_shown() > s0)
            await pilot.press("escape")
            stop.write_text("")
            # finish() is seen too: the state turns to finished.
            await asyncio.to_thread(proc.wait, 20)
            await wait_for(pilot, lambda: table.rows_shown[0].state == "finished")
        finally:
            stop.write_text("")
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""


async def test_root_created_after_the_ui_opened(tmp_path: Path, app_factory) -> None:
    """`trackui` opened before the training job: the runs appear once it creates the root."""
    root = tmp_path / "not-yet"
    app = app_factory(root, watch=True, frozen=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        assert table.rows_shown == ()
        assert not root.exists()  # the viewer never creates it
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys, trackui; r = trackui.init(dir=sys.argv[1], name='late'); "
                "r.log({'loss': 1.0}); r.finish()",
                str(root),
            ],
            check=True,
        )
        await wait_for(pilot, lambda: len(table.rows_shown) == 1)
        assert table.rows_shown[0].name == "late"


async def test_live_rows_are_put_in_place_and_sorted(
    tmp_path: Path, app_factory, write_run
) -> None:
    from trackui.tui.messages import RunsQueried

    root, stop, script = live_root(tmp_path)
    # More steps than the writer (20 a second) has logged when the table is
    # sorted, even on a loaded machine: the live run passes it later.
    old_steps = 80
    write_run(root, "old", records=[(s, float(s), {"loss": 1.0}) for s in range(old_steps)])
    app = app_factory(root, watch=True, frozen=False)
    seen: list[object] = []
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        proc = subprocess.Popen(
            [sys.executable, str(script), str(root), str(stop)], stderr=subprocess.PIPE
        )
        try:
            await wait_for(pilot, lambda: len(table.rows_shown) == 2)

            def live() -> object:
                return next(r for r in table.rows_shown if r.name == "writer")

            await wait_for(pilot, lambda: live().steps >= 3)
            queries = sum(isinstance(m, RunsQueried) for m in seen)
            s0 = live().steps
            await wait_for(pilot, lambda: live().steps >= s0 + 5)
            # The live run's row was put in place: no query of every run.
            assert sum(isinstance(m, RunsQueried) for m in seen) == queries
            assert [r.name for r in table.rows_shown] == ["writer", "old"]  # newest first
            # Sorted by steps, fewest first: the live run moves past the old
            # one as it grows.
            app.screen._sort_by("steps")
            app.screen._sort_by("steps")
            await wait_for(pilot, lambda: not table.sort_descending and live().steps < old_steps)
            assert [r.name for r in table.rows_shown] == ["writer", "old"]
            await wait_for(pilot, lambda: live().steps > old_steps + 1, timeout=30)
            assert [r.name for r in table.rows_shown] == ["old", "writer"]
            # With a filter, live rows come from queries.
            await pilot.press("slash")
            await pilot.press(*"state:running")
            await pilot.press("enter")
            await wait_for(pilot, lambda: [r.name for r in table.rows_shown] == ["writer"])
            s1 = live().steps
            await wait_for(pilot, lambda: live().steps >= s1 + 5)
        finally:
            stop.write_text("")
            await asyncio.to_thread(proc.wait, 20)
        assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""


QUIET_WRITER = textwrap.dedent(
    """
    import sys, time
    import trackui

    run = trackui.init(project="live", name="quiet", dir=sys.argv[1])
    for step in range(3):
        run.log({"loss": 1.0 / (step + 1)}, step=step)
    time.sleep(60)  # then nothing more: killed before it writes again
    """
)


async def test_a_quiet_writer_killed_shows_crashed(tmp_path: Path, monkeypatch) -> None:
    import signal

    import trackui.tui.app as app_mod

    monkeypatch.setattr(app_mod, "LIVE_CHECK_S", 0.5)
    root, _, script = live_root(tmp_path, QUIET_WRITER)
    # Polling, as on a shared filesystem: nothing tells of the kill (with
    # inotify, the kernel closing the writer's files is an event).
    from trackui.tui.app import make_app

    app = make_app(root, watch=True, poll=True)
    app.animation_level = "none"
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunTable)
        proc = subprocess.Popen([sys.executable, str(script), str(root)])
        try:
            await wait_for(pilot, lambda: len(table.rows_shown) == 1)
            await wait_for(pilot, lambda: table.rows_shown[0].steps == 3)
            await pilot.pause(1.5)  # everything written has been read
            assert table.rows_shown[0].state == "running"
        finally:
            proc.send_signal(signal.SIGKILL)
            await asyncio.to_thread(proc.wait, 20)
        # SIGKILL leaves no trace in the files: the state is derived again.
        await wait_for(pilot, lambda: table.rows_shown[0].state == "crashed", timeout=10)
        assert app.live_dirs == frozenset()
