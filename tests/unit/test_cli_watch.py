"""``trackui watch``: firings printed as they happen, by a real subprocess over a live writer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import trackui
from trackui.cli import main
from trackui.cli_watch import EXIT_ALERT

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import trackui

    root, go = sys.argv[1], Path(sys.argv[2])
    run = trackui.init(project="live", name="nan-writer", dir=root)
    step = 0
    deadline = time.time() + 60
    while time.time() < deadline:
        bad = go.exists() and step > 0
        run.log({"loss": float("nan") if bad else 1.0 / (step + 1)}, step=step)
        if bad:
            break
        step += 1
        time.sleep(0.05)
    time.sleep(30)
    """
)


def watch_proc(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "trackui", "watch", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_watch_prints_a_live_nan_and_exits_with_its_code(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    go = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if k != "TRACKUI_CONSOLE"}
    writer = subprocess.Popen([sys.executable, str(script), str(root), str(go)], env=env)
    watcher = watch_proc(root, "--exit-on-alert", "--json")
    try:
        deadline = time.time() + 30
        while not list(root.glob("run-*/history.jsonl")) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        assert watcher.poll() is None  # nothing fired yet: it keeps watching
        go.write_text("")
        out, err = watcher.communicate(timeout=30)
        assert watcher.returncode == EXIT_ALERT, err
        lines = out.splitlines()
        assert len(lines) == 1
        obj = json.loads(lines[0])
        assert obj["rule"] == "nan" and obj["metric"] == "loss" and obj["value"] == "nan"
        assert obj["run_name"] == "nan-writer" and obj["step"] > 0
        assert err == ""
    finally:
        writer.kill()
        watcher.kill()


def test_existing_firings_print_once_as_lines(root: Path) -> None:
    run = trackui.init(project="p", name="spiky", dir=root)
    for s in range(10):
        run.log({"loss": 50.0 if s == 4 else 1.0}, step=s)
    run.finish()
    proc = watch_proc(root, "--watch", "loss > 10")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert run.id in line and "spiky" in line and "loss > 10" in line
        assert "loss=50" in line and "step=4" in line
        proc.send_signal(signal.SIGINT)  # Ctrl-C: exit 0, quietly
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0 and out == "" and err == ""
    finally:
        proc.kill()
    # The rule given is kept with the root.
    kept = json.loads((root / ".trackui" / "watches.json").read_text())
    assert kept["rules"] == ["loss > 10"]


def test_a_bad_rule_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    for argv in (["watch", str(root), "--watch", "loss >"], [str(root), "--watch", "state:x"]):
        rc = main(argv)
        out, err = capsys.readouterr()
        assert rc == 2 and out == ""
        assert err.count("\n") == 1 and "--watch" in err, err
    assert not (root / ".trackui" / "watches.json").exists()


def test_names_and_values_print_literally(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    run = trackui.init(project="p", name="[bold]x[/] esc\x1b[31mred\x07", dir=root)
    run.log({"loss\x1b[2J": float("inf")}, step=3)
    run.finish()
    rc = main(["watch", str(root), "--exit-on-alert"])
    out, err = capsys.readouterr()
    assert rc == EXIT_ALERT and err == ""
    assert "\x1b" not in out and "\x07" not in out
    assert "[bold]x[/] esc\\x1b[31mred\\x07" in out and "loss\\x1b[2J=inf" in out
    assert out.count("\n") == 1 and "step=3" in out
