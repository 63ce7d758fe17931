"""Reading trackio's databases: trackui's trackio source, and its runs in the index, beside trackio's API.

Reads one trackio project database of R runs x S steps x M metrics (default
50 x 20,000 x 5), written by trackio itself (``SQLiteStorage.bulk_log``, in
the peers' venv): the one under ``DATA/trackio_root`` (``--data``, default
``/work/benchdata/wandbsrc``, what ``bench/sources_wandb_bench.py --keep``
leaves), written there first when it is missing. Then times, as medians of
``--reps``:

- trackio's own reader of the same points (``trackio.Api().runs`` and
  ``SQLiteStorage.get_logs`` per run, what its dashboard calls), run with the
  peers' python (``bench/peers/read_back.py``'s ``read_trackio_api``);
- ``TrackioSource`` ``find`` plus a full ``read`` of every run (in this
  process, warm page cache): the figure held to the budget, a fifth of
  trackio's time (at least 5x faster);
- the runs in the index: a fresh process, a fresh user cache (the runs read
  and mirrored from scratch), from ``Index()`` to every point loaded.

Each side counts the points it read and must find runs x steps x metrics.
The machine may be shared: compare figures of one sitting only, and note
its load (``uptime``) beside them.

    python bench/sources_trackio_bench.py [--data DIR] [--runs R --steps S --metrics M]
        [--reps K] [--peers-python /work/bench-venv/bin/python]
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
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUDGET_RATIO = 5.0
"""The trackio source reads the points at least this many times faster than trackio's API."""
PROJECT = "bench"


def write_trackio_root(root: Path, runs: int, steps: int, metrics: int, peers_python: str) -> None:
    """One trackio project db with ``runs`` runs, written by trackio (``root/trackio``)."""
    body = f"""
        import random
        from trackio.sqlite_storage import SQLiteStorage
        for r in range({runs}):
            rng = random.Random(r)
            rows = [{{f"m{{k}}": rng.random() for k in range({metrics})}} for _ in range({steps})]
            SQLiteStorage.bulk_log("{PROJECT}", f"run{{r:05d}}", rows, steps=list(range({steps})),
                                   config={{"lr": 0.001}})
    """
    env = {**os.environ, "TRACKIO_DIR": str(root / "trackio"), "HF_HOME": str(root / ".hf")}
    subprocess.run([peers_python, "-c", textwrap.dedent(body)], env=env, check=True, cwd=root)


def batch_points(batch: object) -> int:
    """Values in a batch: its rows', and its history lines' (each ``:`` but the three keys')."""
    points = sum(len(v) for _s, _t, v in batch.rows)  # type: ignore[attr-defined]
    lines: bytes = batch.lines  # type: ignore[attr-defined]
    return points + lines.count(b":") - 3 * lines.count(b"\n")


def time_source(root: Path, reps: int) -> tuple[float, int]:
    """Median seconds of ``find`` + a full read of every run, and the points read."""
    from trackui.store.sources.trackio_source import TrackioSource

    times, points = [], 0
    for _ in range(reps + 1):  # the first, untimed, warms the page cache and the imports
        source = TrackioSource()
        t0 = time.perf_counter()
        batches = [source.read(run, {})[0] for run in source.find(root)]
        times.append(time.perf_counter() - t0)
        points = sum(batch_points(b) for b in batches)
    return statistics.median(times[1:]), points


from sources_bench import OURS as INDEX_TIMER  # noqa: E402  (bench/: the same index timer)


def time_index(root: Path, reps: int) -> tuple[float, int]:
    """Median seconds from ``Index()`` to every point loaded, each in a fresh process and cache."""
    times, points = [], 0
    for _ in range(reps):
        with tempfile.TemporaryDirectory(prefix="trackui-trackio-bench-") as cache:
            env = {**os.environ, "XDG_CACHE_HOME": cache, "OPENBLAS_NUM_THREADS": "1"}
            done = subprocess.run(
                [sys.executable, "-c", INDEX_TIMER, str(root)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
        got = json.loads(done.stdout.strip().splitlines()[-1])
        times.append(got["seconds"])
        points = got["points"]
    return statistics.median(times), points


PEER_TIMER = """
import json, statistics, sys, time
from pathlib import Path
sys.path.insert(0, {peers_dir!r})
import read_back
root, reps = Path({root!r}), {reps}
points = read_back.read_trackio_api(root)
times = []
for _ in range(reps):
    t0 = time.perf_counter(); points = read_back.read_trackio_api(root)
    times.append(time.perf_counter() - t0)
print(json.dumps({{"seconds": statistics.median(times), "points": points}}))
"""


def time_trackio_api(root: Path, reps: int, peers_python: str) -> dict:
    code = PEER_TIMER.format(peers_dir=str(REPO / "bench" / "peers"), root=str(root), reps=reps)
    env = {**os.environ, "TRACKIO_DIR": str(root / "trackio"), "HF_HOME": str(root / ".hf")}
    done = subprocess.run(
        [peers_python, "-c", code], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="/work/benchdata/wandbsrc")
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--metrics", type=int, default=5)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--peers-python", default="/work/bench-venv/bin/python")
    args = p.parse_args(argv)
    sys.path.insert(0, str(REPO))

    root = Path(args.data) / "trackio_root"
    shape = f"{args.runs} runs x {args.steps} steps x {args.metrics} metrics"
    if not (root / "trackio" / f"{PROJECT}.db").exists():
        root.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        write_trackio_root(root, args.runs, args.steps, args.metrics, args.peers_python)
        print(f"wrote the trackio db of {shape} with trackio in {time.perf_counter() - t0:.1f} s")
    points = args.runs * args.steps * args.metrics
    api = time_trackio_api(root, args.reps, args.peers_python)
    source_s, source_points = time_source(root, args.reps)
    index_s, index_points = time_index(root, args.reps)
    assert api["points"] == source_points == index_points == points, (
        api["points"],
        source_points,
        index_points,
        points,
    )
    budget = api["seconds"] / BUDGET_RATIO
    verdict = "within" if source_s <= budget else "OVER"
    print(f"\n{shape} = {points:,} points ({root}), medians of {args.reps}:")
    print(f"  trackio's API (Api().runs + get_logs)  {api['seconds']:8.3f} s")
    print(
        f"  {'TrackioSource find+read':<38} {source_s:8.3f} s  {api['seconds'] / source_s:5.2f}x"
        f" trackio's API  (budget {budget:.3f} s = {BUDGET_RATIO:g}x: {verdict})"
    )
    print(
        f"  {'runs in the index (cold, fresh cache)':<38} {index_s:8.3f} s"
        f"  {api['seconds'] / index_s:5.2f}x trackio's API"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
