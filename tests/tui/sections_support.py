"""A fixed root whose metrics have prefixes (``train/``, ``val/``, ``system/``) and declared goals,
for the tests of chart sections, pins, folds and goal colours."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from tui_support import NOW, fixture_run, write_json

SECTION_METRICS = (
    "lr",
    "train/loss",
    "train/accuracy",
    "val/loss",
    "val/accuracy",
    "epoch",
    "system/gpu_util",
)


def sections_run(root: Path, run_id: str, name: str, start: float, scale: float) -> Path:
    """A finished run logging ``SECTION_METRICS``; ``scale`` makes its loss worse and accuracy better."""
    d = fixture_run(root, run_id, name=name, start=start, steps=60)
    meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
    meta["metrics"] = {"val/accuracy": {"summary": "max", "goal": "maximize"}}
    write_json(d / "meta.json", meta)
    lines = []
    last: dict[str, Any] = {}
    for s in range(60):
        loss = scale * (2.0 * math.exp(-s / 15) + 0.1)
        m: dict[str, Any] = {
            "lr": 0.01 * 0.97**s,
            "train/loss": loss,
            "train/accuracy": 1.0 - loss / (2.5 * scale) * (2 - scale),
        }
        if s % 10 == 9:
            m["val/loss"] = loss * 1.1
            m["val/accuracy"] = min(0.99, 0.8 + 0.1 * scale * (1 - math.exp(-s / 20)))
            m["epoch"] = (s + 1) // 10
        if s % 5 == 0:
            m["system/gpu_util"] = 50.0 + 10 * math.sin(s / 7)
        lines.append(json.dumps({"s": s, "t": start + s * 0.5, "m": m}))
        last.update(m)
    (d / "history.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    last["val_loss"] = last["val/loss"]
    last["val_accuracy"] = last["val/accuracy"]
    last["grad_norm"] = 0.5 * scale  # (no goal: neutral)
    write_json(d / "summary.json", last)
    return d


def build_sections_root(root: Path) -> Path:
    """Two runs: ``first`` and ``second`` (a worse loss and a better accuracy)."""
    root.mkdir(parents=True, exist_ok=True)
    sections_run(root, "sec00001", "first", NOW - 7200, 1.0)
    sections_run(root, "sec00002", "second", NOW - 3600, 1.2)
    return root
