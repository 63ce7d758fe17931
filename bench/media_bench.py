"""The cost of ``log()`` of rich values, beside wandb (offline) doing the same.

Usage::

    .venv/bin/python bench/media_bench.py [--n 200] [--reps 3] [--peer-python /work/bench-venv/bin/python]

Times, per call, in a fresh run each repetition (median over repetitions):

- ``scalars``: ``log()`` of 5 scalars (the rows built before the clock starts);
- ``image``: ``log({"img": Image(a)})`` of a 28x28 uint8 array;
- ``images16``: ``log({"imgs": [Image(a) for a in 16 arrays]})``;
- ``histogram``: ``log({"h": Histogram(v)})`` of 1,000 values.

The media cases include making the value (what a script pays per call); each
call logs different pixels and values, so nothing is skipped as already
written. wandb runs in a subprocess with the peer venv's python
(``bench/peers/setup.sh``), in offline mode, its state in a temporary
directory (``bench/peers/peerenv.py``). The budget of each media case is a
fifth of wandb's figure; ``scalars`` is held to ``bench/log_bench.py``'s
budget and shown beside wandb's for scale. Prints a table, then one JSON line.
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
from typing import Any

HERE = Path(__file__).resolve().parent
CASES = ("scalars", "image", "images16", "histogram")
METRICS = ("loss", "accuracy", "lr", "grad_norm", "epoch")
SCALAR_BUDGET_US = 10.0
"""log() of 5 scalars (the design's per-call budget)."""


def _payloads(case: str, n: int, seed: int) -> list[Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    if case == "scalars":
        return [{k: float(rng.random()) for k in METRICS} for _ in range(n)]
    if case == "image":
        return list(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
    if case == "images16":
        return list(rng.integers(0, 256, (n, 16, 28, 28), dtype=np.uint8))
    return list(rng.normal(size=(n, 1000)))


def _loop(mod: Any, log: Any, case: str, data: list[Any]) -> float:
    """Seconds per call of ``n`` calls of one case."""
    if case == "scalars":
        t0 = time.perf_counter()
        for row in data:
            log(row)
    elif case == "image":
        Image = mod.Image
        t0 = time.perf_counter()
        for a in data:
            log({"img": Image(a)})
    elif case == "images16":
        Image = mod.Image
        t0 = time.perf_counter()
        for batch in data:
            log({"imgs": [Image(a) for a in batch]})
    else:
        Histogram = mod.Histogram
        t0 = time.perf_counter()
        for v in data:
            log({"h": Histogram(v)})
    return (time.perf_counter() - t0) / len(data)


def measure(peer: str, n: int, reps: int) -> dict[str, float]:
    """Median µs per call of each case, for ``trackui`` (in this process) or ``wandb``."""
    if peer == "wandb":
        sys.path.insert(0, str(HERE / "peers"))
        import peerenv

        root = peerenv.prepare()
        import wandb as mod

        def start() -> Any:
            with peerenv.quiet():
                return mod.init(project="media-bench", dir=str(root / "wandb"))
    else:
        import trackui as mod

        root = Path(tempfile.mkdtemp(prefix="trackui-media-bench-"))
        os.environ["TRACKUI_CONSOLE"] = "off"

        def start() -> Any:
            return mod.init(dir=str(root), project="media-bench")

    out = {}
    for case in CASES:
        runs = []
        for rep in range(reps + 1):  # the first repetition warms up (imports, first files)
            data = _payloads(case, n if rep else min(n, 20), seed=rep)
            run = start()
            per = _loop(mod, run.log, case, data)
            run.finish(quiet=True) if peer == "trackui" else run.finish()
            if rep:
                runs.append(per)
        out[case] = statistics.median(runs) * 1e6
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200, help="calls per repetition (media cases)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--peer-python", default="/work/bench-venv/bin/python")
    ap.add_argument("--peer", choices=("trackui", "wandb"), default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.peer:  # one side, as a subprocess: its figures as JSON on stdout
        print(json.dumps(measure(args.peer, args.n, args.reps)))
        return
    ours = measure("trackui", args.n, args.reps)
    theirs: dict[str, float] = {}
    if Path(args.peer_python).exists():
        got = subprocess.run(
            [args.peer_python, __file__, "--peer", "wandb", "--n", str(args.n)]
            + ["--reps", str(args.reps)],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if got.returncode == 0:
            theirs = json.loads(got.stdout.strip().splitlines()[-1])
        else:
            print(f"wandb failed: {got.stderr[-1000:]}", file=sys.stderr)
    else:
        print(f"no peer venv at {args.peer_python}: trackui's figures only", file=sys.stderr)
    print(f"{'case':<10} {'trackui µs':>11} {'wandb µs':>10} {'ratio':>7} {'budget µs':>10}  ok")
    ok_all = True
    for case in CASES:
        w = theirs.get(case)
        budget = SCALAR_BUDGET_US if case == "scalars" else (w / 5 if w else float("nan"))
        ok = ours[case] <= budget
        ok_all &= ok
        ratio = f"{w / ours[case]:.1f}x" if w else "-"
        wtxt = f"{w:10.1f}" if w else f"{'-':>10}"
        print(
            f"{case:<10} {ours[case]:11.1f} {wtxt} {ratio:>7} {budget:10.1f}  {'yes' if ok else 'NO'}"
        )
    print(json.dumps({"trackui_us": ours, "wandb_us": theirs, "ok": ok_all}))


if __name__ == "__main__":
    main()
