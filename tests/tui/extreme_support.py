"""A root of runs with non-finite and extreme values, written through the public API."""

from __future__ import annotations

import json
import math
from pathlib import Path

HUGE_INT = 2**70


def build_extreme_root(root: Path) -> Path:
    """Five runs whose ``loss`` and summaries hold inf, NaN, ±1e308, one point and huge ints."""
    import trackui

    root.mkdir(parents=True, exist_ok=True)
    curves: dict[str, list[float]] = {
        "all-inf": [math.inf] * 20,
        "span-1e308": [(-1e308 if s % 2 else 1e308) for s in range(20)],
        "nan-only": [math.nan] * 20,
        "one-point": [0.5],
        "plain": [1.0 / (s + 1) for s in range(20)],
    }
    summaries = {
        "all-inf": {"score": math.inf, "big": 1e308},
        "span-1e308": {"score": -math.inf, "big": -1e308},
        "nan-only": {"score": math.nan, "big": 1e308},
        "one-point": {"score": 1e308, "big": 7},
        "plain": {"score": 0.5, "big": -1e308},
    }
    for name, ys in curves.items():
        run = trackui.init(
            project="extreme",
            name=name,
            dir=root,
            config={"tiny": 5e-324, "none": None, "neg": -1e308},
        )
        for s, y in enumerate(ys):
            run.log({"loss": y, "other": y * 2 if math.isfinite(y) else y}, step=s)
        for k, v in summaries[name].items():
            run.summary[k] = v
        run.finish()
        # The writer refuses integers beyond 64 bits (orjson), yet a config
        # or summary file written by any other tool may hold one.
        add_huge_ints(Path(run.run_dir))
    return root


def add_huge_ints(run_dir: Path) -> None:
    """Put ``HUGE_INT`` into a run's config and summary files, as another writer could."""
    for name in ("config.json", "summary.json"):
        path = run_dir / name
        obj = json.loads(path.read_text(encoding="utf-8"))
        obj["huge"] = HUGE_INT
        path.write_text(json.dumps(obj), encoding="utf-8")
