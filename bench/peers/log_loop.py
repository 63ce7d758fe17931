"""Time a peer's log() of 5 scalars, N calls per repetition.

Usage (with the peer venv's python, see setup.sh)::

    /work/bench-venv/bin/python bench/peers/log_loop.py PEER N [--reps R]

Each repetition opens a fresh run, times N calls of the peer's log (one call
per step, 5 scalars, the rows built before the clock starts), then times the
peer's finish/close separately: the per-call figure excludes it, ``total_s``
includes it. One warm-up run (up to 200 calls, untimed) comes first so that
first-call costs (imports, a service process, schema creation) stay out.

Prints one JSON line::

    {"peer": ..., "median_us": ..., "n": ..., ...}

``median_us`` is the median over repetitions of (loop time / N).

Some peers take tens of milliseconds per call (MLflow on SQLite). So that a
caller asking for N calls gets an answer within ``--budget-s`` (default 240),
the warm-up's per-call cost estimates the whole run first; where N x reps
would overrun the budget, reps drop to 3 and then N shrinks. The JSON line
then says so: ``n`` is what was timed, ``n_requested`` what was asked.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peerenv  # noqa: E402  (the script's own folder, put on the path just above)

METRICS = ("loss", "accuracy", "lr", "grad_norm", "epoch")
WARMUP_CALLS = 200
MIN_REPS = 3


def one_rep(peer: str, root: Path, name: str, n: int) -> dict[str, float]:
    """Open a run, time ``n`` log calls and the finish; return the timings."""
    data = peerenv.rows(n, len(METRICS), METRICS)
    t0 = time.perf_counter()
    writer = peerenv.open_writer(peer, root, name)
    t1 = time.perf_counter()
    log = writer.log
    start = time.perf_counter()
    for step, row in enumerate(data):
        log(step, row)
    loop = time.perf_counter() - start
    t2 = time.perf_counter()
    writer.finish()
    finish = time.perf_counter() - t2
    return {"init_s": t1 - t0, "loop_s": loop, "finish_s": finish}


def fit_budget(n: int, reps: int, per_call_s: float, budget_s: float) -> tuple[int, int]:
    """Shrink reps (to 3 at least), then N, so that N x reps x per-call fits the budget.

    Args:
        n: Calls per repetition asked for.
        reps: Repetitions asked for.
        per_call_s: Seconds per call, from the warm-up.
        budget_s: Seconds the timed loops may take in all.

    Returns:
        The (n, reps) to run.
    """
    if n * reps * per_call_s <= budget_s:
        return n, reps
    reps = min(reps, MIN_REPS)
    fitting = int(budget_s / (reps * per_call_s)) if per_call_s > 0 else n
    return max(min(n, fitting), min(n, WARMUP_CALLS)), reps


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peer", help=f"one of: {', '.join(peerenv.PEERS)}")
    parser.add_argument("n", type=int, help="log calls per repetition")
    parser.add_argument("--reps", type=int, default=5, help="timed repetitions (default 5)")
    parser.add_argument(
        "--budget-s",
        type=float,
        default=240.0,
        help="cap on the estimated timed loop seconds, all reps (default 240)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary root")
    args = parser.parse_args(argv)
    if args.n < 1 or args.reps < 1 or args.budget_s <= 0:
        parser.error("N and --reps must be at least 1, --budget-s above 0")
    peerenv.check_peer(args.peer)

    cwd = os.getcwd()
    root = peerenv.prepare(keep=args.keep)
    try:
        warm_calls = min(args.n, WARMUP_CALLS)
        warm = one_rep(args.peer, root, "warmup", warm_calls)
        n, n_reps = fit_budget(args.n, args.reps, warm["loop_s"] / warm_calls, args.budget_s)
        reps = [one_rep(args.peer, root, f"rep{i}", n) for i in range(n_reps)]
    finally:
        os.chdir(cwd)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    per_call = [r["loop_s"] / n * 1e6 for r in reps]
    result = {
        "peer": args.peer,
        "median_us": round(statistics.median(per_call), 3),
        "n": n,
        "reps": n_reps,
        "n_requested": args.n,
        "reps_requested": args.reps,
        "per_call_us": [round(x, 3) for x in per_call],
        "min_us": round(min(per_call), 3),
        "finish_s": round(statistics.median(r["finish_s"] for r in reps), 4),
        "total_s": round(statistics.median(r["loop_s"] + r["finish_s"] for r in reps), 4),
        "init_s": round(statistics.median(r["init_s"] for r in reps), 4),
        "version": peerenv.peer_version(args.peer),
        "python": platform.python_version(),
        # Other work on the machine inflates every figure: say how busy it was.
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
