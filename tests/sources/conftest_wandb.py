"""Helpers for the wandb and trackio source tests: runs written by the real libraries, batches applied.

The writers run in a subprocess of this interpreter (wandb offline, trackio
in a folder of the test's own), so no tracker state leaks into the tests.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from trackui.store.sources.base import ForeignRun, Source


def writer_env(tmp: Path) -> dict[str, str]:
    """An environment where wandb writes offline under ``tmp`` and trackio into ``tmp/trackio``."""
    env = dict(os.environ)
    env.update(
        WANDB_MODE="offline",
        WANDB_DIR=str(tmp),
        WANDB_SILENT="true",
        WANDB_CONFIG_DIR=str(tmp / ".wandb-config"),
        WANDB_CACHE_DIR=str(tmp / ".wandb-cache"),
        TRACKIO_DIR=str(tmp / "trackio"),
        HF_HOME=str(tmp / ".hf"),
        HF_HUB_OFFLINE="1",
    )
    return env


def script(tmp: Path, body: str, name: str = "writer.py") -> Path:
    path = tmp / name
    path.write_text("import math, os, sys, time\n" + textwrap.dedent(body))
    return path


def run_writer(tmp: Path, body: str, timeout: float = 120) -> None:
    """Run ``body`` (Python, ``math``/``os``/``sys``/``time`` imported) to its end, or fail."""
    path = script(tmp, body)
    done = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp,
        env=writer_env(tmp),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def start_writer(tmp: Path, body: str) -> subprocess.Popen[str]:
    """Start ``body`` in the background (the test waits on the files it leaves)."""
    path = script(tmp, body, "live_writer.py")
    return subprocess.Popen(
        [sys.executable, str(path)],
        cwd=tmp,
        env=writer_env(tmp),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(check: Any, timeout: float = 60.0, what: str = "") -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


def rows_of(batch: Any) -> list[tuple[int, float | None, dict[str, Any]]]:
    """A batch's rows, with those it gave as history lines read back."""
    rows = list(batch.rows)
    for line in batch.lines.splitlines():
        rec = orjson.loads(line)
        rows.append((rec["s"], rec.get("t"), rec["m"]))
    return rows


@dataclass
class Applied:
    """What a store would hold after applying every batch of a run, in order."""

    rows: list[tuple[int, float | None, dict[str, Any]]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    output: str = ""
    warnings: list[str] = field(default_factory=list)
    cursor: dict[str, Any] = field(default_factory=dict)

    def add(self, source: Source, run: ForeignRun) -> Any:
        """Read ``run`` from this cursor and apply the batch; the batch is returned."""
        batch, self.cursor = source.read(run, self.cursor)
        self.rows += rows_of(batch)
        if batch.meta is not None:
            self.meta = dict(batch.meta)
        if batch.config is not None:
            self.config = batch.config
        if batch.summary is not None:
            self.summary = batch.summary
        self.output += batch.output
        self.warnings += batch.warnings
        return batch

    def metric_rows(self) -> list[tuple[int, dict[str, Any]]]:
        """``(step, values)`` of the rows without ``system/`` values."""
        return [
            (step, v) for step, _t, v in self.rows if not any(k.startswith("system/") for k in v)
        ]


def read_all(source: Source, run: ForeignRun) -> Applied:
    applied = Applied()
    applied.add(source, run)
    return applied


def same(a: Any, b: Any) -> bool:
    """Equal, value for value, with NaN equal to NaN."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)
