"""The UI's figures beside the budgets of DESIGN section 7.

Usage::

    python bench/tui_bench.py [--data /work/benchdata] [--reps 3] [--idle-s 30] [--live-s 30]

Each measurement runs in a fresh process (imports and memory count), driving
the real app headless through ``run_test`` (a terminal adds its own output
cost, which Textual keeps to changed cells). The opens and the curves are
measured in ``--reps`` processes each: a figure is their median, printed
with every value beside it (these machines are shared, and one process's
figure can be a third off its neighbour's):

* first paint: from the start of the process (imports included) to the first
  frame written after a row of the run table was rendered, on the 1,000-run
  root, without a cache (a fresh index file, and the run list an earlier
  viewer left set aside) and with the cache and run list the previous open
  left, with the CPU seconds spent by then; then all metrics loaded;
* curves: 10 runs x 1,000,000 points selected to every chart drawn, a second
  after the first charts (the app reads long curves ahead meanwhile), and
  again with the read-ahead off and the selection at once (every point read
  from the index then), with the store query and the plotext drawing timed
  apart;
* CPU: the UI's process CPU over ``--idle-s`` on the 1,000-run root with no
  live run, and over ``--live-s`` with 3 writer processes logging 5 scalars at
  20 Hz each into a copy of a root of 1,000 finished runs (``root-1000x100x5``),
  the three live runs selected so their curves redraw; with the live
  latency of every step logged meanwhile (its ``log()`` to the first frame
  that shows it or a later step, in the run table and in the curves, p50/p95);
* peak memory (RSS) of the process that opened the 1,000-run root.

The roots come from ``bench/gen_root.py`` (``root-1000x10000x5`` and
``root-10x1000000x1`` under ``--data``), generated if missing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

T0 = time.perf_counter()
REPO = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def wait(pilot: Any, pred: Any, timeout: float, step: float = 0.01) -> bool:
    # A plain sleep, not pilot.pause: pause waits for the screen to settle
    # and forces a repaint each time, which costs the app the CPU being timed.
    end = time.perf_counter() + timeout
    while not pred():
        if time.perf_counter() > end:
            return False
        await asyncio.sleep(step)
    return True


def charts_drawn(app: Any) -> bool:
    from textual.worker import WorkerState

    from trackui.tui.widgets.metric_plot import MetricPlot

    visible = app.screen._compositor.visible_widgets
    plots = [p for p in app.screen.query(MetricPlot) if p in visible]
    working = any(
        w.state in (WorkerState.PENDING, WorkerState.RUNNING) and w.group in ("curves", "draw")
        for w in app.workers
    )
    from trackui.tui.widgets.curves import CurvesPanel

    pending = any(p.busy for p in app.screen.query(CurvesPanel))
    return bool(plots) and not working and not pending and all(p.drawn for p in plots)


# -- child processes ---------------------------------------------------------


def child_open(root: Path, cache: bool) -> dict[str, Any]:
    """First paint and full load of ``root``."""
    from trackui.tui.app import TrackApp
    from trackui.tui.widgets.run_table import RunTable

    out: dict[str, Any] = {}
    # First paint: the first frame written after a row of the table was
    # rendered (timed from the start of this process, imports included).
    row_rendered: list[float] = []
    painted: list[float] = []
    render_line = RunTable.render_line

    def probe_render_line(self: RunTable, y: int) -> Any:
        if y >= 1 and not row_rendered and int(self.scroll_y) + y - 1 < len(self.rows_shown):
            row_rendered.append(time.perf_counter())
        return render_line(self, y)

    RunTable.render_line = probe_render_line  # type: ignore[method-assign]

    def open_index() -> Any:
        from trackui.store.index import Index

        return Index(root, cache=cache)  # (where it lives is asked once it has loaded)

    async def main() -> None:
        app = TrackApp(root, open_index=open_index, watch=False)
        display = app._display

        def probe_display(screen: Any, renderable: Any) -> None:
            if row_rendered and not painted:
                painted.append(time.perf_counter())
                out["first_paint_cpu_s"] = time.process_time()
            display(screen, renderable)

        app._display = probe_display  # type: ignore[method-assign]
        async with app.run_test(size=(120, 36)) as pilot:
            ok = await wait(pilot, lambda: bool(painted), 60, 0.005)
            out["first_paint_s"] = painted[0] - T0 if ok else None
            out["runs"] = len(app.screen.query_one(RunTable).rows_shown)
            ok = await wait(
                pilot, lambda: app.loaded[1] > 0 and app.loaded[0] >= app.loaded[1], 300, 0.05
            )
            out["all_loaded_s"] = time.perf_counter() - T0 if ok else None
            out["index_storage"] = app.index.storage
            await wait(pilot, lambda: charts_drawn(app), 60)
            out["peak_rss_mb"] = peak_rss_mb()
            # Idle: nothing is live in this root.
            if IDLE_S:
                await pilot.pause(1.0)
                c0, w0 = cpu_s(), time.perf_counter()
                await pilot.pause(IDLE_S)
                out["idle_cpu_pct"] = 100 * (cpu_s() - c0) / (time.perf_counter() - w0)
            out["peak_rss_mb"] = peak_rss_mb()

    # Without a cache means a first open: no index file, and no run list
    # left by an earlier viewer either (store.snapshot), hidden meanwhile.
    hidden = []
    if not cache:
        from trackui.store.saved_rows import candidate_paths

        for path in candidate_paths(root):
            if path.exists():
                aside = path.with_name(path.name + ".bench-aside")
                path.rename(aside)
                hidden.append((aside, path))
    try:
        asyncio.run(main())
    finally:
        for aside, path in hidden:
            aside.rename(path)
    return out


def reading_ahead(app: Any) -> bool:
    from textual.worker import WorkerState

    return any(
        w.group == "read-ahead" and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
        for w in app.workers
    )


def child_curves(root: Path, ahead: bool) -> dict[str, Any]:
    """10 runs x 1M points: selection to charts drawn, and its parts.

    With ``ahead``, the selection comes a second after the first charts are
    drawn, once the app's read-ahead is done; without, the read-ahead is off
    and the selection comes at once (every curve is read from the index).
    """
    from trackui.tui.app import make_app
    from trackui.tui.widgets.curves import CurvesPanel
    from trackui.tui.widgets.metric_plot import MetricPlot
    from trackui.tui.widgets.run_table import RunTable

    out: dict[str, Any] = {}

    async def main() -> None:
        app = make_app(root, watch=False)
        app.read_ahead = ahead
        async with app.run_test(size=(120, 36)) as pilot:
            await wait(
                pilot, lambda: app.loaded[1] > 0 and app.loaded[0] >= app.loaded[1], 600, 0.05
            )
            await wait(pilot, lambda: charts_drawn(app), 60)
            if ahead:
                # A user reads the table for a moment before selecting.
                await asyncio.sleep(1.0)
                t0 = time.perf_counter()
                await wait(pilot, lambda: not reading_ahead(app), 60)
                out["read_ahead_wait_s"] = time.perf_counter() - t0
            table = app.screen.query_one(RunTable)
            panel = app.screen.query_one(CurvesPanel)
            ids = [r.id for r in table.rows_shown]
            out["points"] = int(sum(m.steps.get(i, 0) for m in app.index.metrics(ids) for i in ids))
            times = []
            for rep in range(3):
                # A new smoothing strength each time, so that each repetition
                # is a new query (the store may cache answers).
                app.prefs.smoothing = ("ema", "twema", "ema")[rep]
                app.prefs.strength = (0.41, 0.42, 0.43)[rep]
                t0 = time.perf_counter()
                # The first time the selection changes; after that the
                # smoothing does (a new query either way).
                table.set_selected(ids)
                await wait(
                    pilot,
                    lambda: (
                        panel.view is not None
                        and len(panel.view.run_ids) == len(ids)
                        and (panel.view.request.smoothing, panel.view.request.strength)
                        == (app.prefs.smoothing, app.prefs.strength)
                    ),
                    60,
                    0.005,
                )
                await wait(pilot, lambda: charts_drawn(app), 60, 0.005)
                times.append(time.perf_counter() - t0)
            out["curves_10x1M_s"] = times[0]
            out["curves_restyle_s"] = statistics.median(times[1:])
            out["curves_10x1M_all_s"] = [round(t, 3) for t in times]
            out["curves_runs"] = len(ids)
            # The parts: the store's query and one plotext build.
            metrics = [m.name for m in app.index.metrics(ids)]
            q = []
            for i in range(3):
                # A strength not asked before: the store may cache answers.
                t0 = time.perf_counter()
                app.index.series(
                    ids, metrics, smoothing="twema", strength=0.31 + i / 100, buckets=200
                )
                q.append(time.perf_counter() - t0)
            out["series_query_s"] = statistics.median(q)
            plot = next(iter(app.screen.query(MetricPlot)))
            b = []
            for _ in range(3):
                t0 = time.perf_counter()
                plot.draw_now(plot.size.width, plot.size.height)
                b.append(time.perf_counter() - t0)
            out["plot_build_s"] = statistics.median(b)
            out["peak_rss_mb"] = peak_rss_mb()

    asyncio.run(main())
    return out


WRITER = textwrap.dedent(
    """
    import math, sys, time
    import trackui
    root, name, seconds, hz = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    run = trackui.init(project="bench", name=name, dir=root)
    end = time.time() + seconds
    step = 0
    while time.time() < end:
        run.log({"loss": math.exp(-step / 500), "acc": step / 1e4, "lr": 1e-3,
                 "grad_norm": 1.0 + math.sin(step), "throughput": 1000.0 + step % 7}, step=step)
        step += 1
        time.sleep(1.0 / hz)
    run.finish()
    """
)


def child_live(seconds: float, base: Path | None = None) -> dict[str, Any]:
    """3 writers at 20 Hz: the UI's CPU and the latency of a value to the screen.

    With ``base``, the writers log into a copy of that root (finished runs
    beside the live ones, as in a real sweep directory).
    """
    import shutil

    from trackui.tui.app import make_app
    from trackui.tui.widgets.metric_plot import MetricPlot
    from trackui.tui.widgets.run_table import RunTable

    out: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="trackui-live-"))
    root = tmp / "runs"
    if base is not None:
        shutil.copytree(base, root, ignore=shutil.ignore_patterns(".trackui"))
    else:
        root.mkdir()
    quiet = len(list(root.glob("run-*")))
    out["live_root_runs"] = quiet + 3
    script = tmp / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "TRACKUI_SILENT": "1", "TRACKUI_CONSOLE": "off"}

    # What the screen shows, stamped when a frame is written: the last step
    # of each live run in the table, and in the curves (a chart's series
    # hold each bucket's last x, so the last one is the last step drawn).
    # Hooks on the frames, not a polling loop: a probe waking every few ms
    # would cost the app more CPU than is being measured.
    drawn_specs: dict[Any, Any] = {}
    build = MetricPlot._build

    def probe_build(self: MetricPlot, key: Any, spec: Any, *a: Any) -> Any:
        drawn_specs[key] = spec
        return build(self, key, spec, *a)

    MetricPlot._build = probe_build  # type: ignore[method-assign]
    seen: dict[str, dict[str, int]] = {"table": {}, "curves": {}}
    obs: dict[str, list[tuple[str, int, float]]] = {"table": [], "curves": []}
    watching: dict[str, str] = {}  # run id -> run directory, while measuring

    def observe(kind: str, run_id: str, step: int | None, now: float) -> None:
        if step is not None and step != seen[kind].get(run_id):
            seen[kind][run_id] = step
            obs[kind].append((watching[run_id], step, now))

    plots: list[MetricPlot] = []

    async def main() -> None:
        app = make_app(root, watch=True)
        display = app._display

        def probe_display(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if not watching:
                return
            now = time.time()
            for r in table.rows_shown[:3]:
                if r.id in watching:
                    observe("table", r.id, r.last_step, now)
            for plot in plots:
                spec = drawn_specs.get(plot._picture_key)
                if spec is None or spec.x_label != "step":
                    continue
                for s in spec.series:
                    if s.run_id in watching and len(s.x):
                        observe("curves", s.run_id, int(s.x[-1]), now)

        app._display = probe_display  # type: ignore[method-assign]
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause(0.5)
            procs = [
                subprocess.Popen(
                    [sys.executable, str(script), str(root), f"w{i}", str(seconds + 8), "20"],
                    env=env,
                )
                for i in range(3)
            ]
            try:
                table = app.screen.query_one(RunTable)
                await wait(pilot, lambda: len(table.rows_shown) == quiet + 3, 60, 0.05)
                await wait(
                    pilot, lambda: app.loaded[1] > 0 and app.loaded[0] >= app.loaded[1], 300, 0.05
                )

                def live_rows() -> list[Any]:
                    # Newest first: the writers' runs lead the table.
                    return [r for r in table.rows_shown[:3] if r.state == "running"]

                await wait(
                    pilot, lambda: len(live_rows()) == 3 and all(r.steps > 0 for r in live_rows()),
                    60, 0.05,
                )  # fmt: skip
                table.set_selected([r.id for r in live_rows()])
                await pilot.pause(2.0)
                # The watches' first pass reads the tail of every run once (about
                # 1.4 s of CPU for 1,000 runs): the window below is the steady state.
                await wait(pilot, lambda: app.watches.settled, 60, 0.05)
                plots[:] = list(app.screen.query(MetricPlot))
                c0, w0 = cpu_s(), time.perf_counter()
                watching.update({r.id: str(r.path) for r in live_rows()})
                # A plain sleep, not pilot.pause: the measurement must not
                # make the app do work (pause waits for it to go idle).
                await asyncio.sleep(seconds)
                out["live_cpu_pct"] = 100 * (cpu_s() - c0) / (time.perf_counter() - w0)
                watching.clear()
            finally:
                for p in procs:
                    p.wait(60)
            # Latency: for every step logged while measuring, from its log()
            # (the writer's own time) to the first frame that showed it or a
            # later step.
            import bisect

            import orjson

            first_seen = min((t for t in (o[2] for o in obs["table"])), default=0.0)
            last_seen = max((t for t in (o[2] for o in obs["table"])), default=0.0)
            for kind, got in obs.items():
                by_dir: dict[str, list[tuple[float, int]]] = {}
                for d, step, at in got:
                    by_dir.setdefault(d, []).append((at, step))
                delays = []
                for d, seen_list in by_dir.items():
                    seen_list.sort()
                    best = []  # the highest step shown by each frame
                    for _, step in seen_list:
                        best.append(max(step, best[-1]) if best else step)
                    for line in (Path(d) / "history.jsonl").read_bytes().splitlines():
                        rec = orjson.loads(line)
                        if not first_seen <= rec["t"] <= last_seen - 1.5:
                            continue  # logged before measuring, or too late to be seen
                        i = bisect.bisect_left(best, rec["s"])
                        if i < len(best):
                            delays.append(seen_list[i][0] - rec["t"])
                delays.sort()
                if delays:
                    out[f"live_{kind}_p50_s"] = delays[len(delays) // 2]
                    out[f"live_{kind}_p95_s"] = delays[int(len(delays) * 0.95) - 1]
                    out[f"live_{kind}_samples"] = len(delays)

    asyncio.run(main())
    return out


IDLE_S = 0.0


def median_of(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Per key, the median of the results' numbers (a failed process gave ``{}``)."""
    out: dict[str, Any] = {}
    for r in results:
        for k, v in r.items():
            out.setdefault(k, v)
    for k in out:
        vals = [r[k] for r in results if isinstance(r.get(k), (int, float))]
        if vals and not isinstance(out[k], bool):
            out[k] = statistics.median(vals)
    return out


def run_child(args: list[str]) -> dict[str, Any]:
    r = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, timeout=1800
    )
    if r.returncode != 0:
        print(r.stderr[-3000:], file=sys.stderr)
        return {}
    return json.loads(r.stdout.strip().splitlines()[-1])


def ensure_root(data: Path, runs: int, steps: int, metrics: int) -> Path:
    root = data / f"root-{runs}x{steps}x{metrics}"
    if not root.exists() or len(list(root.glob("run-*"))) < runs:
        subprocess.run(
            [sys.executable, str(REPO / "bench" / "gen_root.py"), str(root),
             "--runs", str(runs), "--steps", str(steps), "--metrics", str(metrics)],
            check=True,
        )  # fmt: skip
    return root


def main() -> int:
    global IDLE_S
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("/work/benchdata"))
    p.add_argument("--reps", type=int, default=3, help="processes per open and curves figure")
    p.add_argument("--idle-s", type=float, default=30.0)
    p.add_argument("--live-s", type=float, default=30.0)
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        kind = a.child[0]
        if kind == "open":
            IDLE_S = float(a.child[3])
            res = child_open(Path(a.child[1]), a.child[2] == "cache")
        elif kind == "curves":
            res = child_curves(Path(a.child[1]), a.child[2] == "ahead")
        else:
            res = child_live(float(a.child[1]), Path(a.child[2]) if len(a.child) > 2 else None)
        print(json.dumps(res))
        return 0

    big = ensure_root(a.data, 1000, 10000, 5)
    wide = ensure_root(a.data, 10, 1000000, 1)
    from bytecode import compile_sources  # (bench/; here: the timed children import none of it)

    compile_sources()  # (each figure is a process's start, as on a second start)
    print(f"roots: {big} and {wide}; machine: {os.cpu_count()} cores", flush=True)
    reps = max(1, a.reps)
    colds = [run_child(["open", str(big), "nocache", "0"]) for _ in range(reps)]
    warm_prep = run_child(["open", str(big), "cache", "0"])  # leaves (or refreshes) the cache
    warms = [run_child(["open", str(big), "cache", "0"]) for _ in range(reps - 1)]
    warms.append(run_child(["open", str(big), "cache", str(a.idle_s)]))  # and the idle CPU
    curves_all = [run_child(["curves", str(wide), "ahead"]) for _ in range(reps)]
    firsts = [run_child(["curves", str(wide), "first"]) for _ in range(reps)]
    small = ensure_root(a.data, 1000, 100, 5)
    live = run_child(["live", str(a.live_s), str(small)])
    cold, warm, curves, first = (median_of(rs) for rs in (colds, warms, curves_all, firsts))
    warm["idle_cpu_pct"] = warms[-1].get("idle_cpu_pct")

    def row(
        label: str, value: float | None, budget: float | None, unit: str, note: str = ""
    ) -> None:
        v = "-" if value is None else f"{value:.3f}" if value < 10 else f"{value:.1f}"
        b = "" if budget is None else f"budget {budget:g} {unit}"
        ok = "" if value is None or budget is None else ("ok" if value <= budget else "OVER")
        print(f"{label:<46} {v:>9} {unit:<3} {b:<15} {ok:<4} {note}".rstrip())

    def each(results: list[dict[str, Any]], key: str) -> str:
        vals = [r[key] for r in results if r.get(key) is not None]
        return "each " + " ".join(f"{v:.3f}" if v < 10 else f"{v:.1f}" for v in vals)

    print(f"\nmedians of {reps} processes each for the opens and the curves")
    row("first paint, 1,000 runs, no cache", cold.get("first_paint_s"), 1.0, "s",
        f"({each(colds, 'first_paint_s')}; {cold.get('runs')} runs, index in "
        f"{cold.get('index_storage')}, CPU {cold.get('first_paint_cpu_s', 0):.2f} s)")  # fmt: skip
    row("first paint, 1,000 runs, cached index", warm.get("first_paint_s"), 1.0, "s",
        f"({each(warms, 'first_paint_s')}; index in {warm.get('index_storage')}, "
        f"CPU {warm.get('first_paint_cpu_s', 0):.2f} s)")  # fmt: skip
    row("all metrics loaded, no cache (50M points)", cold.get("all_loaded_s"), 12.0, "s",
        f"({each(colds, 'all_loaded_s')})")  # fmt: skip
    row("all metrics loaded, cached index", warm.get("all_loaded_s"), 1.0, "s",
        f"({each(warms, 'all_loaded_s')}; includes process start)")  # fmt: skip
    row("curves of 10 runs x 1M points: select to drawn", curves.get("curves_10x1M_s"), 0.2, "s",
        f"({each(curves_all, 'curves_10x1M_s')}; {curves.get('points')} points, "
        "selected 1 s after the first charts, read ahead by then)")  # fmt: skip
    row("  the same, nothing read ahead", first.get("curves_10x1M_s"), None, "s",
        f"({each(firsts, 'curves_10x1M_s')}; read-ahead off, every point "
        "read from the index on selection)")  # fmt: skip
    row("  the same, new smoothing strength", curves.get("curves_restyle_s"), 0.2, "s",
        f"({each(curves_all, 'curves_restyle_s')})")  # fmt: skip
    row("  of which: store series query", curves.get("series_query_s"), None, "s")
    row("  of which: one plotext build", curves.get("plot_build_s"), None, "s")
    row(f"idle CPU over {a.idle_s:g} s, 1,000-run root", warm.get("idle_cpu_pct"), 1.0, "%")
    row(f"CPU over {a.live_s:g} s, 3 live runs at 20 Hz", live.get("live_cpu_pct"), 10.0, "%",
        f"({live.get('live_root_runs')} runs in the root)")  # fmt: skip
    for kind in ("table", "curves"):
        row(f"live latency p50 (every step, log to {kind})", live.get(f"live_{kind}_p50_s"), None,
            "s", f"({live.get(f'live_{kind}_samples')} samples)")  # fmt: skip
        row(f"live latency p95 (every step, log to {kind})", live.get(f"live_{kind}_p95_s"), 1.0,
            "s")  # fmt: skip
    peak = max(r.get("peak_rss_mb") or 0 for r in [*colds, *warms, warm_prep])
    row("peak RSS, UI on the 1,000-run root", peak or None, 500.0, "MB", "(the largest)")
    peak = max(r.get("peak_rss_mb") or 0 for r in [*curves_all, *firsts])
    row("peak RSS, UI with 10 x 1M-point curves", peak or None, 500.0, "MB", "(the largest)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
