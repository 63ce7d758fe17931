"""Groups drawn as bands: from choosing the grouping to every group's band on screen.

A root of 20 groups x 10 runs x 100,000 points (one metric), the runs of a
group equal on ``arch`` and differing in ``seed``; the runs are grouped by
``arch`` and every group row selected, so that the charts draw 20 means with
their bands. Each repetition asks a new smoothing strength (a new query: the
store caches answers), the first one reads the points from the index::

    python bench/groups_bench.py                      # the full root (budget 300 ms)
    python bench/groups_bench.py --groups 4 --runs 3 --steps 2000 --data /tmp/gb   # a small check

The figure is the median of the repetitions, printed beside the budget.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from gen_root import write_run  # noqa: E402  (bench/)

BUDGET_S = 0.3
"""From choosing the grouping to the bands drawn (issue 23)."""


def _one(root: Path, i: int, runs: int, steps: int) -> None:
    d = write_run(root, i, steps, 1, 1_764_000_000.0, 0)
    (d / "config.json").write_text(json.dumps({"arch": f"arch-{i // runs:02d}", "seed": i % runs}))


def ensure_root(data: Path, groups: int, runs: int, steps: int) -> Path:
    """The bench root (written once; an existing complete one is reused)."""
    root = data / f"groups-{groups}x{runs}x{steps}"
    marker = root / ".generated"
    if marker.exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor() as pool:
        for f in [pool.submit(_one, root, i, runs, steps) for i in range(groups * runs)]:
            f.result()
    marker.write_text("ok")
    return root


async def _wait(pilot: Any, pred: Any, timeout: float, step: float = 0.005) -> bool:
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        if pred():
            return True
        await pilot.pause(step)
    return False


def _drawn(app: Any) -> bool:
    from trackui.tui.widgets.metric_plot import MetricPlot

    plots = list(app.screen.query(MetricPlot))
    return bool(plots) and all(p.drawn and not p.drawing for p in plots)


TIMEOUT_S = 120.0
"""A repetition whose bands are not drawn by then is reported as timed out."""


def measure(root: Path, groups: int, reps: int) -> list[float]:
    """Seconds from choosing the grouping to the bands drawn, per repetition.

    A repetition that timed out counts as ``TIMEOUT_S`` or more, and the
    figure printed says how many did.
    """
    from trackui.tui.app import make_app
    from trackui.tui.widgets.curves import CurvesPanel
    from trackui.tui.widgets.run_table import RunTable

    times: list[float] = []

    async def main() -> None:
        app = make_app(root, watch=False)
        async with app.run_test(size=(120, 36)) as pilot:
            loaded = lambda: app.loaded[1] > 0 and app.loaded[0] >= app.loaded[1]  # noqa: E731
            await _wait(pilot, loaded, 1200, 0.05)
            await _wait(pilot, lambda: _drawn(app), 120, 0.05)
            screen = app.screen
            table = screen.query_one(RunTable)
            panel = screen.query_one(CurvesPanel)
            for rep in range(reps):
                screen.set_group_by([])
                table.set_selected(())
                await pilot.pause(0.2)
                await _wait(pilot, lambda: not panel.busy and _drawn(app), 120, 0.05)
                app.prefs.strength = round(0.41 + rep / 100, 2)
                asked = screen.settings.strength  # (as queries ask it: rounded)
                t0 = time.perf_counter()
                screen.set_group_by(["arch"])
                table.set_selected([r.id for r in table.rows_shown])

                def bands(asked: float = asked) -> bool:
                    v = panel.view
                    return (
                        v is not None
                        and len(v.request.groups) == groups
                        and v.request.strength == asked
                        and sum(s.run_id.startswith("group:") for s in v.series) >= groups
                    )

                ok = await _wait(pilot, bands, TIMEOUT_S)
                ok = ok and await _wait(pilot, lambda: _drawn(app), TIMEOUT_S)
                times.append(
                    time.perf_counter() - t0 if ok else max(TIMEOUT_S, time.perf_counter() - t0)
                )

    asyncio.run(main())
    return times


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("/work/benchdata"))
    p.add_argument("--groups", type=int, default=20)
    p.add_argument("--runs", type=int, default=10, help="runs per group")
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()
    root = ensure_root(a.data, a.groups, a.runs, a.steps)
    times = measure(root, a.groups, a.reps)
    med = statistics.median(times)
    ok = "ok" if med <= BUDGET_S else "OVER"
    label = f"groups as bands, {a.groups} groups x {a.runs} runs x {a.steps:,} points"
    each = " ".join(f"{t:.3f}" for t in times)
    late = sum(t >= TIMEOUT_S for t in times)
    note = f"; {late} timed out" if late else ""
    print(f"{label:<58} {med:.3f} s  budget {BUDGET_S:g} s  {ok}  (each {each}; first reads{note})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
