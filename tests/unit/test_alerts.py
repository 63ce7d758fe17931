"""Alerts: events in the run's ``alerts.jsonl``, throttled by title as wandb does."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import trackui
from trackui.store.artifact_store import read_alerts


def test_alerts_are_appended_and_read_back(root: Path) -> None:
    run = trackui.init(dir=root)
    trackui.alert(title="loss spiked", text="loss 9.1", level=trackui.AlertLevel.WARN)
    run.alert("done", "all good")
    run.alert("failed", "oom", level="ERROR")
    run.finish()
    got = read_alerts(run.run_dir)
    assert [(a.level, a.title, a.text) for a in got] == [
        ("WARN", "loss spiked", "loss 9.1"),
        ("INFO", "done", "all good"),
        ("ERROR", "failed", "oom"),
    ]
    lines = (run.run_dir / "alerts.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["level"] == "WARN"
    assert all(a.time > 0 for a in got)


def test_same_title_within_wait_duration_is_dropped(root: Path) -> None:
    run = trackui.init(dir=root)
    for _ in range(3):
        run.alert("nan", "loss is nan")  # default wait: one minute
    run.alert("other", "x", wait_duration=0.2)
    run.alert("other", "y", wait_duration=dt.timedelta(seconds=0.2))
    time.sleep(0.25)
    run.alert("other", "z", wait_duration=0.2)
    run.finish()
    assert [(a.title, a.text) for a in read_alerts(run.run_dir)] == [
        ("nan", "loss is nan"),
        ("other", "x"),
        ("other", "z"),
    ]


def test_bad_level_or_duration_raise(root: Path) -> None:
    run = trackui.init(dir=root)
    with pytest.raises(ValueError):
        run.alert("t", "x", level="LOUD")
    with pytest.raises(TypeError):
        run.alert("t", "x", wait_duration="soon")
    run.finish()


def test_io_trouble_is_one_warning_never_an_exception(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text(
        "import os, shutil, trackui\n"
        f"run = trackui.init(dir={str(tmp_path / 'runs')!r})\n"
        "os.mkdir(run.run_dir / 'alerts.jsonl')\n"  # a directory where the file should be
        "for i in range(3):\n"
        "    trackui.alert(title=f't{i}', text='x')\n"
        "trackui.finish()\n"
        "print('survived')\n"
    )
    env = {**__import__("os").environ, "TRACKUI_SILENT": "1", "TRACKUI_CONSOLE": "off"}
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env)
    assert p.returncode == 0 and "survived" in p.stdout
    assert p.stderr.count("could not record alerts") == 1


def test_show_lists_alerts(root: Path) -> None:
    run = trackui.init(dir=root)
    run.alert("loss spiked", "loss 9.1", level="WARN")
    run.finish()
    cmd = [sys.executable, "-m", "trackui", "show", run.id, "--dir", str(root)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    assert "alerts" in out and "WARN  loss spiked: loss 9.1" in out
    assert read_alerts(root / "nothing-here") == []
