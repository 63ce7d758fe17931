"""Opening, loading and querying a large root, each figure beside its DESIGN section 7 budget.

Usage::

    python bench/index_bench.py [--data /work/benchdata] [--reps 3] [--cold-reps 1]

Generates (once, with ``bench/gen_root.py``) a root of 1,000 runs x 10,000
steps x 5 metrics and one of 10 runs x 1,000,000 steps x 1 metric under
``--data`` (outside the repository: about 2.5 GB), then measures, each in a
fresh process so that imports count:

* cold open: the run table ready (scan, no cache), and all metrics loaded;
  after each, DuckDB's own ``read_json`` reads the same files (every value
  converted, nothing kept): the reference DESIGN's cold budget was set
  from (4.5M points/s), measured at the same moment as a yardstick of the
  machine's speed;
* warm open: the same with the index cached by the previous open;
* ``trackui ls --json`` on the root (warm cache);
* a series query (smoothing + bucketing) of 10 runs x 1,000,000 points: the
  first after opening the index, and then with a new smoothing strength;
* live latency: a writer process's ``log()`` to the value being queryable
  through the watcher and ``Index.refresh()`` (median and p95);
* peak memory (RSS) of the cold-open process, and its page faults (memory
  handed back and faulted in again costs CPU time in the kernel);
* peers (TensorBoard's event reader, MLflow, trackio) reading back their own
  files, through ``bench/peers/read_back.py`` in ``/work/bench-venv``, as
  ratios to trackui's cold load rate.

Figures are medians over the repetitions. The files are in the page cache
(they were just written or read): this measures decoding and indexing, not
the disk. The machine is shared; compare figures from one sitting only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bytecode import compile_sources  # (bench/ is the script's directory)
from gen_root import metric_names

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
VIEWER_ENV = {"OPENBLAS_NUM_THREADS": "1", **os.environ}
"""The index as the viewer and the CLI run it (see ``trackui.tui``)."""
PEER_PY = Path(os.environ.get("TRACKUI_BENCH_VENV", "/work/bench-venv")) / "bin" / "python"

OPEN_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, time
    t0 = time.perf_counter()
    c0 = time.process_time()
    from pathlib import Path
    from trackui.store.index import Index
    ix = Index(Path(sys.argv[1]), cache=True)
    ix.scan()
    rows = ix.runs()
    t_table = time.perf_counter() - t0
    c_table = time.process_time() - c0
    ix.ingest()
    t_all = time.perf_counter() - t0
    c_all = time.process_time() - c0
    done, total = ix.loaded
    points = sum(s.n for d in ix._st.mstats.values() for s in d.values())
    ix.close()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    rss = ru.ru_maxrss / 1024
    print(json.dumps({"table_s": t_table, "all_s": t_all, "table_cpu": c_table, "all_cpu": c_all,
                      "faults": ru.ru_minflt + ru.ru_majflt, "runs": len(rows),
                      "loaded": done, "points": points, "rss_mb": rss, "storage": ix.storage}))
    """
)

REFERENCE_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import duckdb
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    keys = sys.argv[2].split(",")
    sums = ", ".join(f'sum(m."{k}"), count(m."{k}")' for k in keys)
    t0, c0 = time.perf_counter(), time.process_time()
    row = con.execute(
        f"SELECT count(*), sum(s), sum(t), {sums} FROM read_json(?, format='newline_delimited')",
        [sys.argv[1] + "/*/history.jsonl"],
    ).fetchone()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"s": wall, "cpu": cpu, "points": sum(row[4::2])}))
    """
)

SERIES_SCRIPT = textwrap.dedent(
    """
    import json, statistics, sys, time
    from pathlib import Path
    from trackui.store.index import Index
    root, reps = Path(sys.argv[1]), int(sys.argv[2])
    first, first_cpu = [], []
    for i in range(reps):
        # The first draw after opening: nothing of these curves in memory yet.
        ix = Index(root, cache=True)
        ix.refresh()
        ids = [r.id for r in ix.runs()][:10]
        t, c = time.perf_counter(), time.process_time()
        s = ix.series(ids, ["loss"], smoothing="twema", strength=0.6, buckets=200)
        first.append(time.perf_counter() - t)
        first_cpu.append(time.process_time() - c)
        if i < reps - 1:
            ix.close()
    times, cpu = [], []
    for i in range(reps):
        t, c = time.perf_counter(), time.process_time()
        # A new strength each time: the index caches answers for unchanged data.
        s = ix.series(ids, ["loss"], smoothing="twema", strength=0.61 + 0.01 * i, buckets=200)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    ix.close()
    print(json.dumps({"first_s": statistics.median(first), "first_cpu": statistics.median(first_cpu),
                      "series_s": statistics.median(times), "series_cpu": statistics.median(cpu),
                      "first_all": first, "all": times,
                      "points": sum(x.points for x in s), "curves": len(s)}))
    """
)

LIVE_WRITER = textwrap.dedent(
    """
    import sys, time, trackui
    run = trackui.init(project="live", name="live-bench", dir=sys.argv[1])
    print(run.id, flush=True)
    n, gap = int(sys.argv[2]), float(sys.argv[3])
    for i in range(n):
        run.log({"v": float(i)})
        time.sleep(gap)
    run.finish()
    """
)


def budget_line(
    name: str,
    value: float | None,
    unit: str,
    budget: float | None,
    note: str = "",
    cpu: float | None = None,
) -> str:
    shown = (
        "n/a"
        if value is None
        else (
            f"{value:.3f} {unit}"
            if unit == "s"
            else (f"{value:.2f} {unit}" if unit.startswith("%") else f"{value:.0f} {unit}")
        )
    )
    if budget is None or value is None:
        verdict, b = "", "-"
    else:
        verdict = "ok" if value <= budget else "OVER"
        b = f"{budget:g} {unit}"
    cpu_s = f"{cpu:8.3f} s" if cpu is not None else " " * 10
    return f"{name:<46} {shown:>12}  {cpu_s}   budget {b:>9}  {verdict:<4} {note}"


def ensure_root(data: Path, runs: int, steps: int, metrics: int) -> Path:
    root = data / f"root-{runs}x{steps}x{metrics}"
    subprocess.run(
        [PY, str(REPO / "bench" / "gen_root.py"), str(root), "--runs", str(runs),
         "--steps", str(steps), "--metrics", str(metrics)],
        check=True,
    )  # fmt: skip
    return root


def drop_cache(root: Path) -> None:
    shutil.rmtree(root / ".trackui", ignore_errors=True)


def run_json(args: list[str], env: dict[str, str] | None = None) -> dict:
    p = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{args[1] if len(args) > 1 else args}: {p.stderr.strip()[-400:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def open_root(root: Path) -> dict:
    return run_json([PY, "-c", OPEN_SCRIPT, str(root)], VIEWER_ENV)


def measure_ls(root: Path, reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        p = subprocess.run(
            [PY, "-m", "trackui", "ls", str(root), "--json"], stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, check=False,
        )  # fmt: skip
        times.append(time.perf_counter() - t)
        if p.returncode != 0:
            raise RuntimeError(f"trackui ls: {p.stderr.strip()}")
    return statistics.median(times)


def measure_live(root: Path, n: int = 60, gap: float = 0.05) -> tuple[float, float, str]:
    """Latency from a writer's log() (its record time) to the value being queryable."""
    import threading

    from trackui.store.index import Index
    from trackui.store.watch import RootWatcher

    env = {**os.environ, "TRACKUI_SILENT": "1", "TRACKUI_CONSOLE": "off"}
    ix = Index(root, cache=True)
    ix.refresh()
    wake = threading.Event()
    w = RootWatcher(root, lambda dirs: wake.set())
    w.start()
    lat: list[float] = []
    seen = 0
    proc = subprocess.Popen(
        [PY, "-c", LIVE_WRITER, str(root), str(n), str(gap)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    try:
        deadline = time.time() + n * gap + 60
        while seen < n and time.time() < deadline:
            wake.wait(1.0)
            wake.clear()
            ix.refresh()
            try:
                _step, t, _v = ix.points(run_id, "v")
            except LookupError:
                continue
            now = time.time()
            for ti in t[seen:]:
                lat.append(now - float(ti))
            seen = len(t)
        proc.wait(timeout=60)
    finally:
        w.stop()
        ix.close()
        for d in root.glob(f"run-*-{run_id}"):
            shutil.rmtree(d, ignore_errors=True)
    lat.sort()
    p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))] if lat else float("nan")
    return statistics.median(lat) if lat else float("nan"), p95, w.mode


def measure_idle(root: Path, seconds: float = 10.0) -> dict[str, float]:
    """CPU share of one core used by the watcher on an idle root, per mode."""
    from trackui.store.watch import RootWatcher

    out = {}
    for poll in (False, True):
        w = RootWatcher(root, lambda dirs: None, poll=poll)
        w.start()
        time.sleep(1.0)
        c = time.process_time()
        time.sleep(seconds)
        out[w.mode] = (time.process_time() - c) / seconds * 100
        w.stop()
    return out


def measure_peers(runs: int, steps: int, metrics: int) -> dict[str, dict]:
    out: dict[str, dict] = {}
    script = REPO / "bench" / "peers" / "read_back.py"
    if not script.exists() or not PEER_PY.exists():
        return out
    # MLflow writes about 100 points/s through its client: a smaller set for it.
    sizes = {"tensorboardX": (runs, steps, metrics), "trackio": (runs, steps, metrics),
             "mlflow": (2, 500, metrics)}  # fmt: skip
    for peer, reader in (
        ("tensorboardX", "loader"),  # TensorBoard's raw event-file reader
        ("tensorboardX", "accumulator"),  # what TensorBoard's scalar view uses
        ("trackio", "api"),
        ("mlflow", "history"),
    ):
        r, s, m = sizes[peer]
        try:
            out[f"{peer} {reader}"] = run_json(
                [str(PEER_PY), str(script), peer, "--reader", reader, "--runs", str(r),
                 "--steps", str(s), "--metrics", str(m), "--reps", "1"]
            )  # fmt: skip
        except (RuntimeError, json.JSONDecodeError, OSError) as e:
            out[f"{peer} {reader}"] = {"error": " ".join(str(e).split())[:200]}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("/work/benchdata"))
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--cold-reps", type=int, default=1, help="cold opens (each takes a while)")
    p.add_argument("--skip-peers", action="store_true")
    p.add_argument(
        "--only-peers",
        type=float,
        default=None,
        metavar="POINTS_PER_S",
        help="only the peers, against this trackui cold load rate",
    )
    p.add_argument(
        "--peer-size", default="10x5000x5", help="RxSxM points per peer (MLflow: 2x500xM)"
    )
    p.add_argument(
        "--only-series",
        type=Path,
        default=None,
        metavar="ROOT",
        help="only the series figures, on ROOT (10 runs x 1M steps of 'loss')",
    )
    a = p.parse_args(argv)
    a.data.mkdir(parents=True, exist_ok=True)
    compile_sources()  # (each figure is a process's start, as on a second start)
    if a.only_peers is not None:
        return print_peers(a.only_peers, a.peer_size)
    if a.only_series is not None:
        print(
            f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; root {a.only_series}"
        )
        series = run_json(
            [PY, "-c", SERIES_SCRIPT, str(a.only_series), str(max(a.reps, 3))], VIEWER_ENV
        )
        print_series(series)
        print(
            f"(reps {max(a.reps, 3)}; load average now {os.getloadavg()[0]:.1f}; CPU = process CPU time)"
        )
        return 0
    big = ensure_root(a.data, 1000, 10_000, 5)
    wide = ensure_root(a.data, 10, 1_000_000, 1)
    print(
        f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; python {sys.version.split()[0]}"
    )
    print(f"root: {big}")

    cold, ref = [], []
    for _ in range(a.cold_reps):
        drop_cache(big)
        cold.append(open_root(big))
        ref.append(run_json([PY, "-c", REFERENCE_SCRIPT, str(big), ",".join(metric_names(5))]))
    warm = [open_root(big) for _ in range(a.reps)]
    c_table = statistics.median(r["table_s"] for r in cold)
    c_all = statistics.median(r["all_s"] for r in cold)
    w_table = statistics.median(r["table_s"] for r in warm)
    w_all = statistics.median(r["all_s"] for r in warm)
    points = cold[0]["points"]
    rss = max(r["rss_mb"] for r in cold + warm)
    ls_s = measure_ls(big, a.reps)
    series = run_json([PY, "-c", SERIES_SCRIPT, str(wide), str(max(a.reps, 3))], VIEWER_ENV)
    live_med, live_p95, mode = measure_live(big)
    idle = measure_idle(big)

    print()
    cpu = {
        "c_table": statistics.median(r["table_cpu"] for r in cold),
        "c_all": statistics.median(r["all_cpu"] for r in cold),
        "w_table": statistics.median(r["table_cpu"] for r in warm),
        "w_all": statistics.median(r["all_cpu"] for r in warm),
    }
    print(f"{'figure':<46} {'wall':>12}  {'CPU':>10}")
    print(
        budget_line("cold open: run table ready (1000 runs)", c_table, "s", 1.0, cpu=cpu["c_table"])
    )
    print(budget_line(f"cold open: all metrics loaded ({points / 1e6:.0f}M points)", c_all, "s", 12.0,
                      f"{points / c_all / 1e6:.2f}M points/s", cpu=cpu["c_all"]))  # fmt: skip
    ref_s = statistics.median(r["s"] for r in ref)
    ratio = statistics.median(c["all_s"] / r["s"] for c, r in zip(cold, ref, strict=True))
    print(budget_line("  reference: DuckDB read_json of the same files", ref_s, "s", None,
                      f"{ref[0]['points'] / ref_s / 1e6:.2f}M points/s; the cold load takes "
                      f"{ratio:.2f}x its time", cpu=statistics.median(r["cpu"] for r in ref)))  # fmt: skip
    faults = statistics.median(r["faults"] for r in cold)
    print(f"{'cold open: page faults (DuckDB memory churn)':<46} {faults / 1e6:>10.2f} M")
    print(budget_line("warm open: run table ready", w_table, "s", 1.0, cpu=cpu["w_table"]))
    print(budget_line("warm open: all metrics loaded", w_all, "s", 1.0, cpu=cpu["w_all"]))
    print(budget_line("trackui ls --json (warm)", ls_s, "s", None))
    print_series(series)
    print(budget_line(f"live: log() to queryable, median ({mode})", live_med, "s", None))
    print(budget_line("live: log() to queryable, p95", live_p95, "s", 1.0))
    print(budget_line("peak RSS (index process, cold or warm open)", rss, "MB", 500))
    for m, pct in idle.items():
        print(
            budget_line(
                f"idle watcher on 1000 runs ({m})", pct, "% core", 1.0 if m == "inotify" else None
            )
        )
    print(f"(cold reps {a.cold_reps}, warm/ls/series reps {a.reps}; index in {cold[0]['storage']}; "
          f"load average now {os.getloadavg()[0]:.1f}; CPU = process CPU time, all threads)")  # fmt: skip

    if a.skip_peers:
        return 0
    return print_peers(points / c_all, a.peer_size)


def print_series(series: dict) -> None:
    print(budget_line(f"series: {series['curves']} runs x 1M points, first draw",
                      series["first_s"], "s", 0.2, "twema, 200 buckets", cpu=series["first_cpu"]))  # fmt: skip
    print(budget_line("series: the same, new smoothing strength",
                      series["series_s"], "s", 0.2, "points kept", cpu=series["series_cpu"]))  # fmt: skip


def print_peers(ours: float, peer_size: str) -> int:
    """Read back through each peer; print its rate and trackui's cold load rate over it."""
    r, s, m = (int(x) for x in peer_size.split("x"))
    peers = measure_peers(r, s, m)
    if not peers:
        print("\npeers: bench/peers/read_back.py or /work/bench-venv missing; no peer figures")
        return 0
    print("\npeers: every point read back through each peer's own reader (points in brackets)")
    print(f"{'reader':<36} {'points/s':>10}   trackui cold load rate / peer")
    print(f"{'trackui (cold index load)':<36} {ours / 1e6:>9.3f}M   1.00")
    for name, res in peers.items():
        if "error" in res:
            print(f"{name:<36} {'error':>10}   {res['error']}")
            continue
        pps = res["points_per_s"]
        label = f"{name} [{res.get('points')}]"
        print(f"{label:<36} {pps / 1e6:>9.3f}M   {ours / pps:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
