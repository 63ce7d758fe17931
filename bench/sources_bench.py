"""Other trackers' runs loaded into the index, each format beside its own reader, in one sitting.

Usage::

    python bench/sources_bench.py DATA [--runs 50] [--steps 20000] [--metrics 5] [--reps 3]

Generates (once, with ``bench/sources_gen.py`` run by the peers' Python,
``/work/bench-venv`` or ``$TRACKUI_BENCH_VENV``) 50 runs x 20,000 steps x 5
metrics of TensorBoard event files, of MLflow's file store and of its SQLite
store under ``DATA`` (outside the repository), then measures, each in a fresh
process so that imports count:

* trackui: a cold load of the format's folder as a root (a fresh user
  cache, so the runs are read and mirrored from scratch, and no index file):
  from ``Index()`` to every point loaded;
* the format's own reader, in the peers' venv, on the same files:
  TensorBoard's ``EventAccumulator`` (``size_guidance`` 0 for scalars: it keeps
  every point) reloading every run folder, and the MLflow client's
  ``get_metric_history`` for every run and metric (after ``search_runs``).

Each side counts the points it read and must find runs x steps x metrics.
Prints medians over ``--reps``, the budget (the peer's time over 5: trackui
must be at least 5x faster) and the ratios. The files are in the page cache
(just written or read): this measures decoding and indexing, not the disk.
The machine is shared: compare figures from one sitting only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
PEER_PY = Path(os.environ.get("TRACKUI_BENCH_VENV", "/work/bench-venv")) / "bin" / "python"
FORMATS = ("tb", "mlflow-files", "mlflow-db")
FACTOR = 5.0
"""trackui must load each format at least this many times faster than its own reader."""

OURS = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    from pathlib import Path
    from trackui.store.index import Index
    ix = Index(Path(sys.argv[1]), cache=False)
    ix.refresh()
    ids = [r.id for r in ix.runs(sort=None)]
    points = sum(sum(m.steps.values()) for m in ix.metrics(ids))
    took = time.perf_counter() - t0
    ix.close()
    print(json.dumps({"seconds": took, "points": points, "runs": len(ids)}))
    """
)

PEER_TB = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    t0 = time.perf_counter()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    points = 0
    runs = sorted(p for p in Path(sys.argv[1]).iterdir() if p.is_dir())
    for d in runs:
        acc = EventAccumulator(str(d), size_guidance={"scalars": 0})
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            points += len([(e.step, float(e.value)) for e in acc.Scalars(tag)])
    print(json.dumps({"seconds": time.perf_counter() - t0, "points": points, "runs": len(runs)}))
    """
)

PEER_MLFLOW = textwrap.dedent(
    """
    import json, os, sys, time
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    t0 = time.perf_counter()
    from mlflow.tracking import MlflowClient
    c = MlflowClient(tracking_uri=sys.argv[1])
    exps = [e.experiment_id for e in c.search_experiments()]
    runs = c.search_runs(exps, max_results=50000)
    points = 0
    for r in runs:
        for key in r.data.metrics:
            points += len([(m.step, m.value) for m in c.get_metric_history(r.info.run_id, key)])
    print(json.dumps({"seconds": time.perf_counter() - t0, "points": points, "runs": len(runs)}))
    """
)


def run_json(args: list[str], env: dict[str, str] | None = None) -> dict:
    p = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {p.stderr.strip()[-600:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def ours(folder: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="trackui-sources-bench-") as cache:
        env = {**os.environ, "XDG_CACHE_HOME": cache, "OPENBLAS_NUM_THREADS": "1"}
        return run_json([PY, "-c", OURS, str(folder)], env)


def peer(fmt: str, folder: Path) -> dict:
    if fmt == "tb":
        return run_json([str(PEER_PY), "-c", PEER_TB, str(folder / "tb")])
    if fmt == "mlflow-files":
        return run_json([str(PEER_PY), "-c", PEER_MLFLOW, f"file://{folder / 'mlruns'}"])
    return run_json([str(PEER_PY), "-c", PEER_MLFLOW, f"sqlite:///{folder / 'mlflow.db'}"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", type=Path)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--steps", type=int, default=20_000)
    p.add_argument("--metrics", type=int, default=5)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--peer-reps", type=int, default=1, help="the peers are slow: fewer reps")
    p.add_argument("--only", choices=FORMATS, action="append")
    a = p.parse_args(argv)
    data = a.data / f"{a.runs}x{a.steps}x{a.metrics}"
    stamp = data / ".done"
    if not stamp.exists():
        subprocess.run(
            [str(PEER_PY), str(REPO / "bench" / "sources_gen.py"), str(data), "--runs",
             str(a.runs), "--steps", str(a.steps), "--metrics", str(a.metrics)],
            check=True,
        )  # fmt: skip
        stamp.write_text("")
    want = a.runs * a.steps * a.metrics
    failed = False
    print(f"{a.runs} runs x {a.steps} steps x {a.metrics} metrics = {want:,} points per format")
    for fmt in a.only or FORMATS:
        folder = data / ("tb" if fmt == "tb" else fmt)
        root = folder if fmt != "tb" else data / "tb"
        mine = [ours(root) for _ in range(a.reps)]
        theirs = [peer(fmt, folder if fmt != "tb" else data) for _ in range(a.peer_reps)]
        for got, who in ((mine, "trackui"), (theirs, "peer")):
            if any(g["points"] != want for g in got):
                print(f"  {fmt}: {who} read {[g['points'] for g in got]} points, not {want}")
                failed = True
        t_ours = statistics.median(g["seconds"] for g in mine)
        t_peer = statistics.median(g["seconds"] for g in theirs)
        budget = t_peer / FACTOR
        ok = t_ours <= budget
        failed |= not ok
        reader = "EventAccumulator" if fmt == "tb" else "MlflowClient.get_metric_history"
        print(
            f"{fmt:13} trackui {t_ours:8.2f} s ({want / t_ours / 1e6:5.2f} M points/s)   "
            f"{reader} {t_peer:8.2f} s   budget {budget:7.2f} s   "
            f"ratio {t_peer / t_ours:5.1f}x   {'ok' if ok else 'OVER BUDGET'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
