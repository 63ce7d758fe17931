"""Reading wandb's ``.wandb`` logs: trackui's wandb source beside wandb's own classes.

Generates R runs x S steps x M metrics (default 50 x 20,000 x 5) as wandb
offline run folders, written directly in wandb 0.31's format (its
LevelDB-style framing, wandb's own ``Record`` classes, the records wandb
writes for each ``log()``: a history record and two summary records), since
wandb itself takes ~0.6 ms a step to write them. One small run is also
written by wandb itself and read beside a generated one of the same size, as
the check that the generated files are what wandb writes.

Then times, as medians of ``--reps``, ``find`` plus a full ``read`` of every
run by ``WandbSource`` (in this process, warm page cache), beside the peers'
reader of the same files with wandb's ``Record`` classes read plainly
(``bench/peers/read_back.py``'s ``read_wandb_records``, run with the peers'
python). The goal: WandbSource at least as fast as the plain read. (The
issue's own measure for wandb is the time to the first chart beside
``wandb leet``: ``bench/ttfc_bench.py``.)

    python bench/sources_wandb_bench.py [--runs R --steps S --metrics M --reps K]
        [--peers-python /work/bench-venv/bin/python] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROJECT = "bench"
BLOCK = 32768


def frame(records: list[bytes]) -> bytes:
    """``records`` in wandb's LevelDB-style log: header, 32 KiB blocks, CRC-32 per chunk."""
    out = bytearray(struct.pack("<4sHB", b":W&B", 0xBEE1, 0))
    for data in records:
        first = True
        while True:
            left = BLOCK - len(out) % BLOCK
            if left < 7:
                out += b"\x00" * left
                left = BLOCK
            room = left - 7
            piece, data = data[:room], data[room:]
            kind = (1 if not data else 2) if first else (4 if not data else 3)
            crc = zlib.crc32(piece, zlib.crc32(bytes([kind])))
            out += struct.pack("<IHB", crc, len(piece), kind) + piece
            first = False
            if not data:
                break
    return bytes(out)


def wandb_records(name: str, steps: int, metrics: int, seed: int) -> list[bytes]:
    """The records wandb 0.31 writes for a run that logs ``metrics`` values ``steps`` times."""
    from wandb.proto import wandb_internal_pb2 as pb

    rng = random.Random(seed)
    num = 0

    def rec(**kw: object) -> bytes:
        nonlocal num
        num += 1
        return pb.Record(num=num, **kw).SerializeToString()

    start = time.time() - steps * 0.01
    run = pb.RunRecord(run_id=name, project=PROJECT, display_name=name, host="bench")
    run.start_time.FromSeconds(int(start))
    for key, value in (("_wandb", "{}"), ("lr", "0.001"), ("batch_size", "64")):
        run.config.update.add(key=key, value_json=value)
    out = [rec(header=pb.HeaderRecord()), rec(run=run)]
    names = [f"m{k}" for k in range(metrics)]
    for step in range(steps):
        t = start + step * 0.01
        items = [("_timestamp", repr(t)), ("_runtime", repr(step * 0.01)), ("_step", str(step))]
        items += [(n, repr(rng.random())) for n in names]
        history = pb.HistoryRecord()
        summary = pb.SummaryRecord()
        for key, value in items:
            history.item.add(nested_key=[key], value_json=value)
            summary.update.add(nested_key=[key], value_json=value)
        history.step.num = step
        runtime = pb.SummaryRecord()
        runtime.update.add(nested_key=["_wandb", "runtime"], value_json="0")
        out += [rec(summary=runtime), rec(summary=summary), rec(history=history)]
    out.append(rec(exit=pb.RunExitRecord(exit_code=0)))
    return out


def write_wandb_root(root: Path, runs: int, steps: int, metrics: int) -> None:
    """``root/wandb/offline-run-*`` folders (the layout ``read_back.py`` reads under ``root``)."""
    for r in range(runs):
        run_id = f"run{r:05d}"
        folder = root / "wandb" / f"offline-run-20260101_000000-{run_id}"
        (folder / "files").mkdir(parents=True)
        (folder / f"run-{run_id}.wandb").write_bytes(
            frame(wandb_records(run_id, steps, metrics, r))
        )


def check_against_wandb(tmp: Path, peers_python: str, steps: int = 300) -> str:
    """Write one run with wandb itself and one generated; both must read the same shape."""
    from trackui.store.sources.wandb_source import WandbSource

    real = tmp / "real"
    real.mkdir(parents=True)
    body = f"""
        import wandb
        run = wandb.init(project="{PROJECT}", name="real",
                         settings=wandb.Settings(x_disable_stats=True, console="off"))
        for i in range({steps}):
            run.log({{f"m{{k}}": i + k / 10 for k in range(5)}})
        run.finish()
    """
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(real), "WANDB_SILENT": "true"}
    subprocess.run([peers_python, "-c", textwrap.dedent(body)], env=env, check=True, cwd=real)
    generated = tmp / "generated"
    write_wandb_root(generated, 1, steps, 5)
    shapes = []
    for root in (real, generated):
        (run,) = WandbSource().find(root)
        batch, _ = WandbSource().read(run, {})
        steps_read = [s for s, _t, _v in batch.rows]
        names = sorted(set().union(*(v for _s, _t, v in batch.rows)))
        shapes.append((steps_read, names, (batch.meta or {}).get("state"), bool(batch.summary)))
    assert shapes[0] == shapes[1], f"generated files differ from wandb's: {shapes}"
    return f"generated .wandb read like wandb's own ({steps} steps): ok"


def time_source(source: object, root: Path, reps: int) -> tuple[float, int]:
    """Median seconds of ``find`` + a full read of every run, and the points read."""
    times, points = [], 0
    for _ in range(reps + 1):  # the first, untimed, imports the readers
        t0 = time.perf_counter()
        points = 0
        for run in source.find(root):  # type: ignore[attr-defined]
            batch, _ = source.read(run, {})  # type: ignore[attr-defined]
            points += sum(len(v) for _s, _t, v in batch.rows)
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:]), points


PEER_TIMER = """
import json, statistics, sys, time
from pathlib import Path
sys.path.insert(0, {peers_dir!r})
import read_back
root, reps = Path({root!r}), {reps}
read = read_back.read_wandb_records
points = read(root)
times = []
for _ in range(reps):
    t0 = time.perf_counter(); points = read(root); times.append(time.perf_counter() - t0)
print(json.dumps({{"seconds": statistics.median(times), "points": points}}))
"""


def time_peer(root: Path, reps: int, peers_python: str, env: dict[str, str]) -> dict:
    """Median seconds of the peers' plain read of ``root`` with wandb's classes, and its points."""
    code = PEER_TIMER.format(peers_dir=str(REPO / "bench" / "peers"), root=str(root), reps=reps)
    done = subprocess.run(
        [peers_python, "-c", code], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--metrics", type=int, default=5)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--peers-python", default="/work/bench-venv/bin/python")
    p.add_argument("--keep", help="write the roots here and keep them")
    args = p.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from trackui.store.sources.wandb_source import WandbSource

    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="sources-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        print(check_against_wandb(tmp / "check", args.peers_python))
        shape = f"{args.runs} runs x {args.steps} steps x {args.metrics} metrics"
        t0 = time.perf_counter()
        wroot = tmp / "wandb_root"
        write_wandb_root(wroot / "wandb", args.runs, args.steps, args.metrics)
        print(f"wrote .wandb logs of {shape} in {time.perf_counter() - t0:.1f} s")
        points = args.runs * args.steps * args.metrics
        wandb_records = time_peer(wroot, args.reps, args.peers_python, dict(os.environ))
        assert wandb_records["points"] == points, (wandb_records, points)
        wandb_s, wandb_points = time_source(WandbSource(), wroot, args.reps)
        assert wandb_points == points, (wandb_points, points)
        plain = wandb_records["seconds"]
        verdict = "at least as fast" if wandb_s <= plain else "SLOWER"
        print(f"\n{shape} = {points:,} points, medians of {args.reps}:")
        print(f"  wandb Record classes read plainly (peers)  {plain:8.3f} s")
        print(f"  WandbSource find+read                      {wandb_s:8.3f} s")
        print(f"  WandbSource vs wandb's classes: {plain / wandb_s:.2f}x ({verdict})")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
