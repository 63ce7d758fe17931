"""Reading wandb's ``.wandb`` logs and trackio's databases: trackui's sources beside trackio's API.

Generates R runs x S steps x M metrics (default 50 x 20,000 x 5) twice:

- as wandb offline run folders, written directly in wandb 0.31's format (its
  LevelDB-style framing, wandb's own ``Record`` classes, the records wandb
  writes for each ``log()``: a history record and two summary records), since
  wandb itself takes ~0.6 ms a step to write them. One small run is also
  written by wandb itself and read beside a generated one of the same size,
  as the check that the generated files are what wandb writes;
- as one trackio project database, written by trackio itself
  (``SQLiteStorage.bulk_log``, in the peers' venv).

Then times, as medians of ``--reps``, ``find`` plus a full ``read`` of every
run by ``WandbSource`` and ``TrackioSource`` (in this process, warm page
cache), beside trackio's own reader of the same points (``trackio.Api().runs``
and ``SQLiteStorage.get_logs`` per run, what its dashboard calls) and the
peers' reader of the ``.wandb`` files with wandb's classes
(``bench/peers/read_back.py``'s ``records``), both run with the peers' python.
The budget of each source is a fifth of trackio's time on the same points.

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
BUDGET_RATIO = 5.0
"""Each source reads the points at least this many times faster than trackio's API."""
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
root, reps, which = Path({root!r}), {reps}, {which!r}
read = read_back.read_trackio_api if which == "trackio" else read_back.read_wandb_records
points = read(root)
times = []
for _ in range(reps):
    t0 = time.perf_counter(); points = read(root); times.append(time.perf_counter() - t0)
print(json.dumps({{"seconds": statistics.median(times), "points": points}}))
"""


def time_peer(which: str, root: Path, reps: int, peers_python: str, env: dict[str, str]) -> dict:
    code = PEER_TIMER.format(
        peers_dir=str(REPO / "bench" / "peers"), root=str(root), reps=reps, which=which
    )
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
    from trackui.store.sources.trackio_source import TrackioSource
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
        t0 = time.perf_counter()
        troot = tmp / "trackio_root"
        troot.mkdir()
        write_trackio_root(troot, args.runs, args.steps, args.metrics, args.peers_python)
        print(f"wrote the trackio db of {shape} with trackio in {time.perf_counter() - t0:.1f} s")
        points = args.runs * args.steps * args.metrics
        env = {**os.environ, "TRACKIO_DIR": str(troot / "trackio"), "HF_HOME": str(troot / ".hf")}
        trackio_api = time_peer("trackio", troot, args.reps, args.peers_python, env)
        wandb_records = time_peer("wandb", wroot, args.reps, args.peers_python, dict(os.environ))
        assert trackio_api["points"] == points == wandb_records["points"], (trackio_api, points)
        wandb_s, wandb_points = time_source(WandbSource(), wroot, args.reps)
        trackio_s, trackio_points = time_source(TrackioSource(), troot, args.reps)
        assert wandb_points == trackio_points == points, (wandb_points, trackio_points, points)
        budget = trackio_api["seconds"] / BUDGET_RATIO
        print(f"\n{shape} = {points:,} points, medians of {args.reps}:")
        print(f"  trackio's API (Api().runs + get_logs)  {trackio_api['seconds']:8.3f} s")
        print(f"  wandb Record classes (peers' reader)   {wandb_records['seconds']:8.3f} s")
        for name, s in (("WandbSource find+read", wandb_s), ("TrackioSource find+read", trackio_s)):
            verdict = "within" if s <= budget else "OVER"
            print(
                f"  {name:<38} {s:8.3f} s  {trackio_api['seconds'] / s:5.2f}x trackio's API"
                f"  (budget {budget:.3f} s = {BUDGET_RATIO:g}x: {verdict})"
            )
        print(
            f"  WandbSource vs wandb's classes read plainly: {wandb_records['seconds'] / wandb_s:.2f}x"
        )
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
