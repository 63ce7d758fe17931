"""Generate a run root of N runs x S steps x M metrics in the real run-directory format.

Used by the index benchmark and handy for trying the UI on a large root::

    python bench/gen_root.py /work/benchdata/root-1000x10000x5 --runs 1000 --steps 10000 --metrics 5

Each run gets ``meta.json`` (state ``finished``), ``config.json``,
``summary.json`` and ``history.jsonl`` with one record per step, written the way
``trackui.log`` writes them (one JSON line per step, floats in shortest repr).
Runs are written by a pool of processes; an existing complete root is left as is.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

_NAMES = ["loss", "accuracy", "val_loss", "val_accuracy", "lr", "grad_norm", "epoch", "throughput"]


def metric_names(m: int) -> list[str]:
    """The ``m`` metric names a generated run logs."""
    return [_NAMES[i] if i < len(_NAMES) else f"metric_{i}" for i in range(m)]


def write_run(root: Path, index: int, steps: int, metrics: int, t0: float, seed: int) -> Path:
    """Write one finished run directory and return its path."""
    rng = random.Random(seed * 1_000_003 + index)
    run_id = f"b{index:07d}"
    start = t0 + index * 60.0
    stamp = time.strftime("%Y%m%d_%H%M%S", time.gmtime(start))
    run_dir = root / f"run-{stamp}-{run_id}"
    run_dir.mkdir(parents=True, exist_ok=True)
    names = metric_names(metrics)
    lr = rng.choice([1e-4, 3e-4, 1e-3, 3e-3])
    config = {
        "lr": lr,
        "batch_size": rng.choice([32, 64, 128]),
        "optimizer": {"name": rng.choice(["adam", "sgd"]), "momentum": 0.9},
        "seed": index,
    }
    lines = []
    last: dict[str, float] = {}
    decay = rng.uniform(1e-4, 1e-3)
    for s in range(steps):
        base = math.exp(-decay * s)
        vals = {}
        for j, name in enumerate(names):
            v = base * (1.0 + 0.1 * j) + rng.random() * 0.05
            vals[name] = v
        last = vals
        m = ",".join(f'"{k}":{v!r}' for k, v in vals.items())
        lines.append(f'{{"s":{s},"t":{start + s * 0.5!r},"m":{{{m}}}}}\n')
    (run_dir / "history.jsonl").write_text("".join(lines))
    end = start + steps * 0.5
    meta = {
        "format": 1,
        "id": run_id,
        "name": f"bench-{index}",
        "project": "bench",
        "group": f"sweep-{index % 10}",
        "job_type": None,
        "notes": None,
        "tags": ["bench", f"lr{lr}"],
        "state": "finished",
        "host": "benchhost",
        "user": "bench",
        "pid": 1,
        "command": ["python", "train.py"],
        "cwd": "/tmp",
        "python": "3.11",
        "git": None,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(start)),
        "start_time": start,
        "end_time": end,
        "exit_code": 0,
        "heartbeat_s": 15.0,
    }
    (run_dir / "config.json").write_text(json.dumps(config))
    (run_dir / "summary.json").write_text(json.dumps(last))
    # meta.json last: a reader only picks up a run once its meta exists.
    (run_dir / "meta.json").write_text(json.dumps(meta))
    return run_dir


def generate(
    root: Path, runs: int, steps: int, metrics: int, *, seed: int = 0, jobs: int | None = None
) -> float:
    """Write ``runs`` runs under ``root``; returns the seconds it took."""
    root.mkdir(parents=True, exist_ok=True)
    t0 = 1_764_000_000.0
    began = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        futs = [pool.submit(write_run, root, i, steps, metrics, t0, seed) for i in range(runs)]
        for f in futs:
            f.result()
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    """Command line: ``gen_root.py ROOT --runs N --steps S --metrics M``."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("root", type=Path)
    p.add_argument("--runs", type=int, default=1000)
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--metrics", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=None)
    a = p.parse_args(argv)
    marker = a.root / ".generated"
    spec = f"{a.runs}x{a.steps}x{a.metrics} seed={a.seed}"
    if marker.exists() and marker.read_text() == spec:
        print(f"{a.root}: already generated ({spec})")
        return 0
    secs = generate(a.root, a.runs, a.steps, a.metrics, seed=a.seed, jobs=a.jobs)
    marker.write_text(spec)
    print(f"{a.root}: {a.runs} runs x {a.steps} steps x {a.metrics} metrics in {secs:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
