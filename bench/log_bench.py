"""Median cost of ``log()`` with 5 scalars, beside the floor and the peers.

The floor is the least any logger that keeps our durability promise can do:
one orjson line per call, handed to the OS with a single ``os.write``.
Peers (wandb offline, tensorboardX, MLflow, trackio) run from a separate
environment (``bench/peers/setup.sh``) when it exists, on the same loop.

The system-metrics sampler: ``log()`` with it on (sampling every 0.1 s, so
that it samples during the loop, timed once it has started) beside off, in
the same process; and the
sampler's own CPU use at its default interval, as process CPU time over
``--stats-seconds`` of wall time with the main thread asleep.

    python bench/log_bench.py [--calls N] [--repeats R] [--stats-seconds S] [--peers-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

BUDGET_US = 5.0
BUDGET_RATIO = 3.0
BUDGET_STATS_RATIO = 1.10
"""log() with the sampler on: at most this times the cost with it off (noise)."""
BUDGET_STATS_CPU = 0.005
"""The sampler's CPU use at its default interval: under 0.5% of a core."""
PEERS = ("trackio", "wandb", "tensorboardX", "tensorboard", "mlflow")


def _values(i: int) -> dict[str, float]:
    return {
        "loss": 1.0 / (i + 1),
        "acc": i * 1e-6,
        "lr": 1e-3,
        "grad_norm": 0.5 + i * 1e-7,
        "epoch": i // 1000,
    }


def values_us(calls: int) -> float:
    """The loop with the values made and nothing logged: subtracted from the others.

    Each loop makes its dict right before logging it, as a training loop does
    (a dict made long before would be cold in the CPU's caches).
    """
    t0 = time.perf_counter()
    for i in range(calls):
        _values(i)
    return (time.perf_counter() - t0) / calls * 1e6


def floor_us(calls: int, path: Path) -> float:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    dumps, write, now = orjson.dumps, os.write, time.time
    t0 = time.perf_counter()
    for i in range(calls):
        write(fd, dumps({"s": i, "t": now(), "m": _values(i)}) + b"\n")
    dt = time.perf_counter() - t0
    os.close(fd)
    return dt / calls * 1e6


def trackui_us(calls: int, root: Path, stats: bool = False) -> float:
    os.environ["TRACKUI_SILENT"] = "1"
    os.environ["TRACKUI_CONSOLE"] = "off"
    os.environ["TRACKUI_STATS"] = "1" if stats else "0"
    os.environ["TRACKUI_STATS_INTERVAL"] = "0.1"
    import trackui

    run = trackui.init(project="bench", dir=root)
    if stats:
        time.sleep(0.3)  # past the sampler's one-off start (psutil, NVML): the steady state
    log = run.log
    t0 = time.perf_counter()
    for i in range(calls):
        log(_values(i))
    dt = time.perf_counter() - t0
    run.finish()
    return dt / calls * 1e6


def sampler_cpu(seconds: float, root: Path) -> tuple[float, int]:
    """The sampler's share of one core at the default interval, and the samples it took."""
    os.environ["TRACKUI_STATS"] = "1"
    os.environ.pop("TRACKUI_STATS_INTERVAL", None)
    import trackui

    run = trackui.init(project="bench-stats", dir=root)
    c0, t0 = time.process_time(), time.perf_counter()
    time.sleep(seconds)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    samples = run._sampler.samples if run._sampler is not None else 0
    run.finish()
    return cpu / wall, samples


def peer_us(python: str, peer: str, calls: int) -> float | None:
    script = Path(__file__).parent / "peers" / "log_loop.py"
    if not script.exists():
        return None
    try:
        out = subprocess.run(
            [python, str(script), peer, str(calls)],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        ).stdout
        return float(json.loads(out.strip().splitlines()[-1])["median_us"])
    except (subprocess.SubprocessError, ValueError, KeyError, IndexError, OSError):
        return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=100_000)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument(
        "--peers-python",
        default=os.environ.get("TRACKUI_BENCH_PYTHON", "/work/bench-venv/bin/python"),
    )
    p.add_argument("--peer-calls", type=int, default=2_000)
    p.add_argument("--stats-seconds", type=float, default=30.0)
    args = p.parse_args(argv)
    floors, ours, with_stats = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            base = values_us(args.calls)
            floors.append(floor_us(args.calls, Path(tmp) / f"floor{r}.jsonl") - base)
            for stats in (False, True) if r % 2 == 0 else (True, False):  # alternate the order
                base = values_us(args.calls)
                us = trackui_us(args.calls, Path(tmp) / "runs", stats=stats) - base
                (with_stats if stats else ours).append(us)
        cpu, samples = sampler_cpu(args.stats_seconds, Path(tmp) / "runs")
    f, o = statistics.median(floors), statistics.median(ours)
    st = statistics.median(with_stats)
    print(
        f"log() of 5 scalars, median of {args.repeats} x {args.calls:,} calls "
        "(making the values subtracted)"
    )
    print(f"  {'floor (orjson + os.write)':<28} {f:8.2f} us")
    ok = o <= BUDGET_US and o <= BUDGET_RATIO * f
    print(
        f"  {'trackui':<28} {o:8.2f} us   budget <= {BUDGET_US} us and <= {BUDGET_RATIO}x floor: "
        f"{o / f:.2f}x  {'OK' if ok else 'OVER'}"
    )
    stats_ok = st <= BUDGET_STATS_RATIO * o
    print(
        f"  {'trackui, sampler on':<28} {st:8.2f} us   budget <= {BUDGET_STATS_RATIO}x sampler "
        f"off: {st / o:.2f}x  {'OK' if stats_ok else 'OVER'}"
    )
    cpu_ok = cpu < BUDGET_STATS_CPU
    print(
        f"  {'sampler CPU, default interval':<28} {cpu * 100:8.3f} %    budget < "
        f"{BUDGET_STATS_CPU * 100:g}% of a core ({samples} samples in {args.stats_seconds:g} s): "
        f"{'OK' if cpu_ok else 'OVER'}"
    )
    ok = ok and stats_ok and cpu_ok
    if Path(args.peers_python).exists():
        for peer in PEERS:
            us = peer_us(args.peers_python, peer, args.peer_calls)
            if us is None:
                print(f"  {peer:<28} (unavailable)")
            else:
                print(f"  {peer:<28} {us:8.2f} us   {us / o:6.1f}x trackui")
    else:
        print(f"  peers: no bench environment at {args.peers_python} (run bench/peers/setup.sh)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
