"""Time from start to the first chart: trackui beside W&B's ``wandb leet``, both in tmux.

Each viewer is started in a detached 120x36 tmux session on the same folder of
wandb runs; the pane is captured every 50 ms until it shows a braille chart
(more than 40 braille cells), and the time from the session's start is kept.
trackui is timed cold (an empty cache folder: every run mirrored from its
``.wandb`` log) and warm (the cache its last start left); leet has no cache.
Prints the median of each beside the others.

The folder: ``--root`` (a folder holding ``wandb/offline-run-*``), or, by
default, three offline runs of 2,000 steps written here by wandb itself with
the peers' python (``wandb.init`` in offline mode, four metrics, one of them
every 100 steps).

    python bench/ttfc_bench.py [--root DIR] [--reps 5]
        [--peers-python /work/bench-venv/bin/python] [--trackui "PYTHON -m trackui"]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

WIDTH, HEIGHT = 120, 36
BRAILLE_CELLS = 40
"""A pane showing more braille cells than this shows a chart."""
POLL_S = 0.05
TIMEOUT_S = 120.0

WRITER = """
import math, random, wandb
for i, lr in enumerate([0.001, 0.003, 0.01]):
    run = wandb.init(project="sbs", name=f"lr-{lr}", config={"lr": lr, "seed": i},
                     settings=wandb.Settings(x_disable_stats=True))
    rnd = random.Random(i)
    for s in range(2000):
        loss = 2.5 * math.exp(-s * lr / 3) + 0.05 * rnd.random()
        d = {"loss": loss, "val_accuracy": 1 - loss / 3, "lr": lr * (1 - s / 2000)}
        if s % 100 == 99:
            d["epoch"] = (s + 1) // 100
        run.log(d, step=s)
    run.finish()
"""


def write_root(root: Path, peers_python: str) -> None:
    """Three wandb offline runs of 2,000 steps under ``root/wandb``, written by wandb."""
    root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(root), "WANDB_SILENT": "true"}
    subprocess.run([peers_python, "-c", textwrap.dedent(WRITER)], env=env, check=True, cwd=root)


def first_chart(name: str, command: str) -> float | None:
    """Seconds from starting ``command`` in a fresh tmux session to a chart on screen."""
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    t0 = time.perf_counter()
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT), command],
        check=True,
    )
    try:
        while time.perf_counter() - t0 < TIMEOUT_S:
            out = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True
            ).stdout
            if sum(1 for ch in out if "\u2801" <= ch <= "\u28ff") > BRAILLE_CELLS:
                return time.perf_counter() - t0
            time.sleep(POLL_S)
        return None
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def load() -> str:
    """The 1-minute load average, to print beside the figures."""
    return f"{os.getloadavg()[0]:.2f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root", help="a folder holding wandb/offline-run-* (default: write one)")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--peers-python", default="/work/bench-venv/bin/python")
    p.add_argument("--trackui", default=f"{shlex.quote(sys.executable)} -m trackui")
    args = p.parse_args(argv)
    if shutil.which("tmux") is None:
        print("tmux is needed", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="ttfc-bench-"))
    try:
        root = Path(args.root) if args.root else tmp / "root"
        if not args.root:
            write_root(root, args.peers_python)
        wandb_dir = root / "wandb"
        leet = Path(args.peers_python).with_name("wandb")
        cache = tmp / "cache"
        env = f"env XDG_CACHE_HOME={shlex.quote(str(cache))} TERM=xterm-256color"
        trackui = f"{env} {args.trackui} {shlex.quote(str(root))}"
        peer = f"{shlex.quote(str(leet))} beta leet {shlex.quote(str(wandb_dir))}"
        times: dict[str, list[float]] = {"wandb leet": [], "trackui cold": [], "trackui warm": []}
        loads: list[str] = []
        for _ in range(args.reps):
            loads.append(load())
            for name, command, cold in (
                ("wandb leet", peer, False),
                ("trackui cold", trackui, True),
                ("trackui warm", trackui, False),
            ):
                if cold:
                    shutil.rmtree(cache, ignore_errors=True)
                t = first_chart("ttfc-" + name.replace(" ", "-"), command)
                if t is None:
                    print(f"{name}: no chart in {TIMEOUT_S:g} s")
                else:
                    times[name].append(t)
        print(f"first chart in a {WIDTH}x{HEIGHT} tmux, {root}, medians of {args.reps}"
              f" (load at each rep: {', '.join(loads)}):")  # fmt: skip
        for name, ts in times.items():
            if ts:
                spread = f"{min(ts):.2f}-{max(ts):.2f}"
                print(f"  {name:<14} {statistics.median(ts):6.2f} s  ({spread} s)")
        leet_s = statistics.median(times["wandb leet"]) if times["wandb leet"] else None
        for name in ("trackui cold", "trackui warm"):
            if leet_s and times[name]:
                ratio = leet_s / statistics.median(times[name])
                print(f"  {name} vs wandb leet: {ratio:.2f}x"
                      f" ({'before' if ratio > 1 else 'after'} leet's first chart)")  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
