"""Run log_loop.py and read_back.py for every peer and print the figures as tables.

Usage (with the peer venv's python)::

    /work/bench-venv/bin/python bench/peers/run_all.py [--only log|read] [--out FILE]

Each measurement runs in a process of its own, one after another, so that no
two peers compete for the cores. The JSON lines go to ``--out`` as they come
(default: ``peers-results.jsonl`` in the current directory); Markdown tables
of the medians are printed at the end. The whole set takes about half an
hour on 2 cores, most of it MLflow.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: (peer, N, reps): MLflow's calls cost milliseconds, so fewer repetitions.
LOG_PLAN: tuple[tuple[str, int, int], ...] = (
    ("floor", 100_000, 5),
    ("trackio", 5_000, 5),
    ("wandb", 2_000, 5),
    ("tensorboardX", 2_000, 5),
    ("tensorboard", 2_000, 5),
    ("mlflow-file", 2_000, 3),
    ("mlflow-async", 1_000, 3),
    ("mlflow", 2_000, 3),
)

#: (peer, reader) pairs, each with read_back.py's default sizes.
READ_PLAN: tuple[tuple[str, str], ...] = (
    ("floor", "orjson"),
    ("trackio", "sqlite"),
    ("trackio", "api"),
    ("wandb", "records"),
    ("tensorboardX", "dataserver"),
    ("tensorboardX", "accumulator"),
    ("tensorboardX", "loader"),
    ("tensorboard", "dataserver"),
    ("tensorboard", "plugin"),
    ("mlflow", "history"),
)


def run(args: list[str], out: Path) -> dict[str, object] | None:
    """Run one script, append its JSON line to ``out`` and return it."""
    cmd = [sys.executable, *args]
    print("$", " ".join(cmd[1:]), file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        print(f"  failed ({proc.returncode}): {tail[0]}", file=sys.stderr)
        return None
    result = json.loads(lines[-1])
    with out.open("a") as fh:
        fh.write(lines[-1] + "\n")
    print("  " + lines[-1], file=sys.stderr, flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the plan and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("log", "read"), help="run one half of the plan")
    parser.add_argument("--out", type=Path, default=Path("peers-results.jsonl"))
    args = parser.parse_args(argv)

    logs: list[dict[str, object]] = []
    reads: list[dict[str, object]] = []
    if args.only in (None, "log"):
        for peer, n, reps in LOG_PLAN:
            cmd = [str(HERE / "log_loop.py"), peer, str(n), "--reps", str(reps)]
            if (result := run(cmd, args.out)) is not None:
                logs.append(result)
    if args.only in (None, "read"):
        for peer, reader in READ_PLAN:
            cmd = [str(HERE / "read_back.py"), peer, "--reader", reader]
            if (result := run(cmd, args.out)) is not None:
                reads.append(result)

    if logs:
        print("| peer | version | log() median, us | N x reps | finish, s | loop + finish, s |")
        print("| --- | --- | ---: | --- | ---: | ---: |")
        for r in logs:
            print(
                f"| {r['peer']} | {r['version']} | {r['median_us']:.1f} | "
                f"{r['n']} x {r['reps']} | {r['finish_s']:.3f} | {r['total_s']:.2f} |"
            )
        print()
    if reads:
        print("| peer | reader | points | seconds (median) | points/s |")
        print("| --- | --- | ---: | ---: | ---: |")
        for r in reads:
            print(
                f"| {r['peer']} | {r['reader']} | {r['points']} | "
                f"{r['seconds']:.3f} | {r['points_per_s']:,} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
