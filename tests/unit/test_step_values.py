"""A step with any value is a step, and summaries show the newest value (real runs, real index)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import trackui
from trackui.cli import main
from trackui.store import loading as loading_mod
from trackui.store.index import Index


def _odd_text_run(root: Path, n: int = 999) -> str:
    """``n`` numeric steps of ``acc``, then a text value of ``acc`` at step ``n``."""
    run = trackui.init(project="p", name="odd", dir=root)
    for s in range(n):
        run.log({"acc": s / n}, step=s)
    run.log({"acc": "n/a"}, step=n)
    run.finish()
    return run.id


def _check_odd_run(ix: Index, run_id: str, n: int) -> None:
    row = ix.run(run_id)
    assert (row.steps, row.last_step) == (n + 1, n)
    assert row.summary["acc"] == "n/a"
    step, _t, v = ix.points(run_id, "acc")  # the curve stays numeric
    assert step.tolist() == list(range(n))
    assert v.tolist() == [s / n for s in range(n)]
    assert [(m.name, m.steps[run_id]) for m in ix.metrics([run_id])] == [("acc", n)]
    assert ix.text_values(run_id) == {"acc": "n/a"}


@pytest.mark.parametrize("path", ["bulk", "exact"])
def test_a_text_value_at_a_step_is_a_step(
    root: Path, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1 if path == "bulk" else 1 << 60)
    n = 999
    run_id = _odd_text_run(root, n)
    with Index(root) as ix:
        ix.refresh()
        _check_odd_run(ix, run_id, n)
    with Index(root) as ix:  # the cached index, read back
        assert ix.ingest() == set()
        _check_odd_run(ix, run_id, n)


@pytest.mark.parametrize("path", ["bulk", "exact"])
def test_text_only_steps_count_in_hand_written_histories(
    root: Path, write_run, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1 if path == "bulk" else 1 << 60)
    recs = [(s, float(s), {"a": float(s)}) for s in range(10)]
    recs += [(10, 10.0, {}, {"phase": "x"}), (10, 10.5, {}, {"phase": "y"})]  # a step twice
    recs += [(11, 11.0, {"a": 11.0}, {"phase": "z"}), (12, 12.0, {}, {"a": "done"})]
    write_run(root, "t", records=recs)
    with Index(root, cache=False) as ix:
        ix.refresh()
        row = ix.run("t")
        assert (row.steps, row.last_step) == (13, 12)
        assert row.summary["a"] == "done"  # a later text value wins over the last number
        assert row.summary["phase"] == "z"
        assert ix.points("t", "a")[2].tolist() == [*(float(s) for s in range(10)), 11.0]


def test_text_values_reach_ls_and_show(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = _odd_text_run(root, 20)
    assert main(["ls", str(root), "--json"]) == 0
    (got,) = json.loads(capsys.readouterr().out)
    assert (got["steps"], got["last_step"], got["summary"]["acc"]) == (21, 20, "n/a")
    assert main(["show", run_id, "--dir", str(root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["acc"] == "n/a"
    assert main(["show", run_id, "--dir", str(root)]) == 0
    assert "n/a" in capsys.readouterr().out


LIVE_WRITER = """
import sys
import trackui
from trackui.store import layout
layout.SUMMARY_INTERVAL_S = 1.0  # (10 s by default) so that the test need not wait long
run = trackui.init(project="p", name="live", dir=sys.argv[1])
run.define_metric("best", summary="max")
run.summary["note"] = "set by hand"
print(run.id, flush=True)
for s in range(int(sys.argv[2])):
    run.log({"v": float(s), "best": float(10 - s)})
    sys.stdin.readline()  # the test reads the index after each step
run.finish()
"""


def _wait(cond, what: str, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_live_summary_shows_the_newest_logged_values(root: Path) -> None:
    n = 6
    env = {**os.environ, "TRACKUI_SILENT": "1", "TRACKUI_CONSOLE": "off"}
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(LIVE_WRITER), str(root), str(n)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    (run_dir,) = root.glob(f"run-*-{run_id}")

    def written() -> dict:
        try:
            return json.loads((run_dir / "summary.json").read_text())
        except (OSError, ValueError):
            return {}

    stale_seen = 0
    try:
        with Index(root, cache=False) as ix:
            # The writer's summary.json knows the max and the value set by hand.
            _wait(lambda: written().get("best") == 10.0, "summary.json")

            def at_step(s: int) -> bool:
                ix.refresh()
                return run_id in ix._st.runs and ix.run(run_id).last_step == s

            for s in range(n):
                _wait(lambda s=s: at_step(s), f"step {s}")
                on_disk = written()
                summary = ix.run(run_id).summary
                # The newest record, even while summary.json still holds an older value...
                assert summary["v"] == float(s)
                stale_seen += on_disk.get("v") != float(s)
                # ...with what only summary.json knows.
                assert (summary["best"], summary["note"]) == (10.0, "set by hand")
                proc.stdin.write("\n")
                proc.stdin.flush()
            assert proc.wait(timeout=30) == 0
            ix.refresh()
            summary = ix.run(run_id).summary
            assert (summary["v"], summary["best"], summary["note"]) == (
                n - 1.0,
                10.0,
                "set by hand",
            )
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert stale_seen  # the case this is about did happen


def test_a_finished_runs_summary_json_still_overrides_the_history(root: Path) -> None:
    run = trackui.init(project="p", name="done", dir=root)
    run.define_metric("best", summary="max")
    for s in range(5):
        run.log({"acc": s / 5, "best": 10.0 - s, "phase": f"p{s}"})
    run.summary["acc"] = 0.99  # set by hand over a logged metric
    run.finish()
    with Index(root, cache=False) as ix:
        ix.refresh()
        summary = ix.run(run.id).summary
    assert (summary["acc"], summary["best"], summary["phase"]) == (0.99, 10.0, "p4")
