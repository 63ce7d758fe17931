"""Support for the UI tests: deterministic run roots, and waiting for the app to settle.

The fixture runs are written file by file (not through ``trackui.init``) so
that every time, pid and value is fixed: snapshots must not change between
runs of the suite. Tests of live behaviour use the public API instead.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input
from textual.worker import WorkerState

from trackui.tui.app import TrackApp
from trackui.tui.widgets.curves import CurvesPanel
from trackui.tui.widgets.metric_plot import MetricPlot

NOW = 1764072000.0
"""The frozen clock of every fixture app (2025-11-25 12:00 UTC)."""

OTHER_HOST = "fixture-host"
"""The host fixture runs claim, so that no local pid decides their state."""

HOSTILE_NAMES = (
    "[bold]bold[/]",
    "[/]",
    "[@click=app.quit]quit",
    "\x1b[31mred\x1b[0m \x1b]0;title\x07",
    "tab\there\x07bell\x00nul",
)
"""Run names that must show literally (no markup, no control characters)."""


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=1), encoding="utf-8")


def fixture_run(
    root: Path,
    run_id: str,
    *,
    name: str,
    start: float,
    state: str = "finished",
    steps: int = 200,
    lr: float = 0.001,
    hidden: int = 128,
    decay: float = 40.0,
    project: str = "mnist",
    group: str | None = "sweep-1",
    tags: tuple[str, ...] = ("mlp",),
    gaps: bool = False,
    output: str | None = None,
    saved: dict[str, str] | None = None,
) -> Path:
    """One run directory with fixed times and values (a smooth loss, accuracy, epoch, GPU memory)."""
    stamp = (
        "20251125_"
        + f"{int(start) % 86400 // 3600:02d}{int(start) % 3600 // 60:02d}{int(start) % 60:02d}"
    )
    d = root / f"run-{stamp}-{run_id}"
    d.mkdir(parents=True)
    end = start + steps * 0.5 if state != "running" else None
    write_json(
        d / "meta.json",
        {
            "format": 1,
            "id": run_id,
            "name": name,
            "project": project,
            "group": group,
            "job_type": "train",
            "notes": None,
            "tags": list(tags),
            "state": state,
            "host": OTHER_HOST,
            "user": "alice",
            "pid": 4242,
            "command": ["python", "train.py", f"--lr={lr}"],
            "cwd": "/home/alice/mnist",
            "python": "3.11.7",
            "git": {"commit": "0123456789abcdef0123", "dirty": False, "branch": "main"},
            "created": "2025-11-25T10:00:00+00:00",
            "start_time": start,
            "end_time": end,
            "exit_code": None if state == "running" else (0 if state == "finished" else 1),
            "heartbeat_s": 15.0,
        },
    )
    write_json(
        d / "config.json",
        {"lr": lr, "batch_size": 64, "epochs": 5, "model": {"hidden": hidden, "act": "relu"}},
    )
    lines = []
    last: dict[str, float] = {}
    for s in range(steps):
        loss = 2.3 * math.exp(-s / decay) + 0.05 + 0.04 * math.sin(s * 0.7)
        m: dict[str, Any] = {"loss": loss, "accuracy": 1.0 - loss / 2.5}
        if gaps and 60 <= s < 70:
            m["loss"] = "nan"
        if gaps and s == 90:
            m["loss"] = "inf"
        if s % 40 == 39:
            m["epoch"] = (s + 1) // 40
            m["val_accuracy"] = 0.9 + 0.08 * (1 - math.exp(-s / 60.0)) - lr
        if s % 10 == 0:
            m["system/gpu_mem_mb"] = 800.0 + hidden + s * 0.5
            m["system/gpu_util"] = 50.0 + 40.0 * math.sin(s / 15.0) ** 2
        rec: dict[str, Any] = {"s": s, "t": start + s * 0.5, "m": m}
        if s == steps - 1:
            rec["x"] = {"phase": "done"}
        lines.append(json.dumps(rec))
        for k, v in m.items():
            if isinstance(v, (int, float)):
                last[k] = v
    (d / "history.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if state != "running":
        write_json(d / "summary.json", {**last, "best_val_accuracy": last.get("val_accuracy", 0.0)})
    if output is not None:
        (d / "output.log").write_text(output, encoding="utf-8")
    (d / "files").mkdir()
    for rel, text in (saved or {}).items():
        p = d / "files" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    beat = d / "heartbeat"
    beat.write_text("")
    # A live run on another host is "running" while its heartbeat is fresh
    # by the frozen clock; the finished ones do not look at it.
    os.utime(beat, (NOW - 5.0, NOW - 5.0))
    return d


def build_root(root: Path) -> Path:
    """Five runs of a small sweep: finished, failed and running, with gaps and console output."""
    root.mkdir(parents=True, exist_ok=True)
    fixture_run(
        root,
        "base0001",
        name="baseline",
        start=NOW - 7200,
        lr=0.001,
        output="epoch 1 loss 0.41\nepoch 2 loss 0.22\n\x1b[32mdone\x1b[0m\nprogress 10%\rprogress 100%\n",
        saved={"model.pt": "x" * 2048, "plots/curve.txt": "1 2 3\n"},
    )
    fixture_run(root, "lrhi0002", name="lr-high", start=NOW - 6000, lr=0.01, decay=25.0)
    fixture_run(root, "wide0003", name="wide-mlp", start=NOW - 4800, hidden=512, decay=55.0)
    fixture_run(
        root,
        "fail0004",
        name="unstable",
        start=NOW - 3600,
        state="failed",
        lr=0.1,
        steps=120,
        gaps=True,
    )
    fixture_run(
        root, "live0005", name="live-run", start=NOW - 600, state="running", steps=150, decay=30.0
    )
    return root


def build_hostile_root(root: Path) -> Path:
    """Runs whose names and keys are markup, actions and escape sequences."""
    root.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(HOSTILE_NAMES):
        fixture_run(
            root,
            f"evil{i:04d}",
            name=name,
            start=NOW - 1000 * (i + 1),
            project="[red]proj[/]",
            group="\x1b[2Jgrp",
            steps=50,
            output="line \x1b[2J\x1b[H cleared?\n\x07bell [bold]markup[/]\n",
        )
    return root


async def settle(pilot: Pilot[Any], *, timeout: float = 15.0) -> None:
    """Wait until no worker runs and every chart shows its current picture."""
    import asyncio

    app = pilot.app
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet = 0
    while loop.time() < deadline:
        await pilot.pause(0.05)
        # Exclusive groups cancel superseded workers, so poll states rather
        # than wait_for_complete (which raises on a cancelled one).
        # Charts scrolled out of view are not rendered, hence not drawn: skip them.
        visible = app.screen._compositor.visible_widgets
        working = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers)
        stale = any(
            not p.drawn for p in app.screen.query(MetricPlot) if p in visible and p.size.area
        )
        panels = any(p.busy for p in app.screen.query(CurvesPanel))
        busy = working or stale or panels
        quiet = 0 if busy else quiet + 1
        if quiet >= 3:
            return
    raise AssertionError("the app did not settle")


def freeze_for_snapshot(app: TrackApp) -> None:
    """Remove what differs between runs of the suite: the tmp path in the title, blinking."""
    app.sub_title = "runs"
    for inp in app.screen.query(Input):
        inp.cursor_blink = False
