"""Time reading every logged point back through a peer's own reader.

Usage (with the peer venv's python, see setup.sh)::

    /work/bench-venv/bin/python bench/peers/read_back.py PEER \
        [--runs R] [--steps S] [--metrics M] [--reps K] [--reader NAME]

Writes R runs x S steps x M metrics through the peer (untimed), then times K
full read-backs of every point (as Python floats, with their steps) through
the peer's reader, checks that each read-back found exactly R*S*M points, and
prints one JSON line (an untimed read comes first, so imports are not counted)::

    {"peer": ..., "points": ..., "seconds": ..., "points_per_s": ...}

``seconds`` is the median over the K read-backs. The files were just written,
so this is a warm page cache: it measures decoding, not the disk.

Readers (``--reader``; the first is the default):

- wandb: ``records``: the offline ``.wandb`` file's LevelDB-style framing
  (CRC-checked, as wandb's former Python datastore did), each record decoded
  with wandb's own protobuf ``Record`` class, values with ``orjson.loads``.
  wandb ships no Python reader for these files any more.
- tensorboardX: ``accumulator`` (``EventAccumulator``, scalars, nothing
  sampled away), ``plugin`` (the ``plugin_event_accumulator`` of TensorBoard's
  Python server path, values through ``tensor_util.make_ndarray``),
  ``loader`` (``LegacyEventFileLoader``: events as written, no conversion to
  tensor summaries; ``simple_value`` or the tensor off each value),
  ``dataserver`` (TensorBoard's Rust data server, which ``tensorboard
  --logdir`` uses by default: the timing runs from spawning it on the logdir
  until every point has come back through its gRPC ``read_scalars``).
  Without TensorFlow the Python readers go through TensorBoard's pure-Python
  file stub (CRC32C in Python), so they are far slower than the data server.
- tensorboard (written with ``tensorboard.summary.Writer``, tensor values):
  ``dataserver``, ``plugin`` or ``loader``.
- mlflow, mlflow-file: ``history``: ``MlflowClient.search_runs``, then
  ``get_metric_history`` per run and metric.
- trackio: ``api`` (``trackio.Api().runs`` and ``SQLiteStorage.get_logs``
  per run, what its dashboard calls) or ``sqlite`` (``sqlite3`` and
  ``orjson.loads`` on its ``metrics`` table).
- floor: ``orjson``: trackui-shaped ``history.jsonl`` read line by line.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peerenv  # noqa: E402  (the script's own folder, put on the path just above)

READERS: dict[str, tuple[str, ...]] = {
    "wandb": ("records",),
    "tensorboardX": ("accumulator", "plugin", "loader", "dataserver"),
    "tensorboard": ("dataserver", "plugin", "loader"),
    "mlflow": ("history",),
    "mlflow-file": ("history",),
    "trackio": ("api", "sqlite"),
    "floor": ("orjson",),
}

#: mlflow.log_batch takes at most 1000 metrics per call.
MLFLOW_BATCH = 1000

Reader = Callable[[Path], int]

#: How long the data server may take to start and to load everything.
DATASERVER_TIMEOUT_S = 300.0


# --------------------------------------------------------------------- writing


def write_runs(peer: str, root: Path, runs: int, steps: int, metrics: int) -> None:
    """Log ``runs`` x ``steps`` x ``metrics`` points through ``peer`` (untimed)."""
    data = peerenv.rows(steps, metrics)
    for r in range(runs):
        name = f"run{r:03d}"
        if peer in ("mlflow", "mlflow-file"):
            _write_mlflow(peer, root, name, data)
            continue
        writer = peerenv.open_writer(peer, root, name)
        log = writer.log
        for step, row in enumerate(data):
            log(step, row)
        writer.finish()


def _write_mlflow(peer: str, root: Path, name: str, data: list[dict[str, float]]) -> None:
    # One log_metrics call per step costs tens of milliseconds on SQLite; the
    # batch API writes the same rows, so the untimed write stays short.
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    writer = peerenv.open_writer(peer, root, name)
    client = MlflowClient()
    now = int(time.time() * 1000)
    batch: list[Metric] = []
    for step, row in enumerate(data):
        for key, value in row.items():
            batch.append(Metric(key, value, now + step, step))
            if len(batch) == MLFLOW_BATCH:
                client.log_batch(writer.run_id, metrics=batch, synchronous=True)
                batch = []
    if batch:
        client.log_batch(writer.run_id, metrics=batch, synchronous=True)
    writer.finish()


# --------------------------------------------------------------------- reading


def read_wandb_records(root: Path) -> int:
    """Decode every history value of every offline ``.wandb`` file under ``root``."""
    import orjson
    from wandb.proto import wandb_internal_pb2 as pb

    record_cls = pb.Record
    loads = orjson.loads
    points = 0
    files = sorted((root / "wandb").glob("wandb/offline-run-*/run-*.wandb"))
    for path in files:
        series: dict[str, tuple[list[int], list[float]]] = {}
        for payload in _wandb_payloads(path.read_bytes(), path):
            rec = record_cls()
            rec.ParseFromString(payload)
            if rec.WhichOneof("record_type") != "history":
                continue
            history = rec.history
            step = history.step.num
            for item in history.item:
                nested = item.nested_key
                key = item.key or (nested[0] if len(nested) == 1 else "/".join(nested))
                if key.startswith("_"):  # _step, _runtime, _timestamp
                    continue
                steps, values = series.setdefault(key, ([], []))
                steps.append(step)
                values.append(loads(item.value_json))
        points += sum(len(v) for _, v in series.values())
    return points


_WANDB_BLOCK = 32768
_WANDB_HEADER = struct.Struct("<4sHB")  # ident ":W&B", magic 0xBEE1, version 0
_WANDB_RECORD = struct.Struct("<IHB")  # crc32, length, type
_WANDB_CRC = {t: zlib.crc32(bytes([t])) for t in range(1, 5)}


def _wandb_payloads(data: bytes, path: Path) -> list[bytes]:
    """Split a ``.wandb`` file into record payloads (LevelDB log framing)."""
    ident, magic, version = _WANDB_HEADER.unpack_from(data, 0)
    if ident != b":W&B" or magic != 0xBEE1 or version != 0:
        raise SystemExit(f"error: {path} is not a wandb data file")
    out: list[bytes] = []
    pending = b""
    pos = _WANDB_HEADER.size
    end = len(data)
    unpack = _WANDB_RECORD.unpack_from
    crc32 = zlib.crc32
    while pos + _WANDB_RECORD.size <= end:
        left = _WANDB_BLOCK - pos % _WANDB_BLOCK
        if left < _WANDB_RECORD.size:  # block trailer: zero padding
            pos += left
            continue
        checksum, length, kind = unpack(data, pos)
        if kind == 0:
            pos += left
            continue
        chunk = data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if crc32(chunk, _WANDB_CRC[kind]) != checksum:
            raise SystemExit(f"error: {path}: bad checksum at byte {pos}")
        if kind == 1:  # FULL
            out.append(chunk)
        elif kind == 2:  # FIRST
            pending = chunk
        elif kind == 3:  # MIDDLE
            pending += chunk
        else:  # LAST
            out.append(pending + chunk)
            pending = b""
    return out


def _tb_run_dirs(root: Path) -> list[Path]:
    return sorted(p for p in (root / "tb").iterdir() if p.is_dir())


def read_tb_accumulator(root: Path) -> int:
    """TensorBoard's classic EventAccumulator, keeping every scalar."""
    from tensorboard.backend.event_processing.event_accumulator import (
        SCALARS,
        EventAccumulator,
    )

    points = 0
    for run_dir in _tb_run_dirs(root):
        acc = EventAccumulator(str(run_dir), size_guidance={SCALARS: 0})
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            events = acc.Scalars(tag)
            steps = [e.step for e in events]
            values = [e.value for e in events]
            points += min(len(steps), len(values))
    return points


def read_tb_plugin(root: Path) -> int:
    """The plugin EventAccumulator that TensorBoard's server reads with."""
    from tensorboard.backend.event_processing.plugin_event_accumulator import (
        EventAccumulator,
    )
    from tensorboard.backend.event_processing.tag_types import TENSORS
    from tensorboard.util import tensor_util

    make_ndarray = tensor_util.make_ndarray
    points = 0
    for run_dir in _tb_run_dirs(root):
        acc = EventAccumulator(str(run_dir), size_guidance={TENSORS: 0})
        acc.Reload()
        for tag in acc.Tags()[TENSORS]:
            events = acc.Tensors(tag)
            steps = [e.step for e in events]
            values = [float(make_ndarray(e.tensor_proto)) for e in events]
            points += min(len(steps), len(values))
    return points


def read_tb_loader(root: Path) -> int:
    """The event-file loader without migration: every event, values off the protos."""
    from tensorboard.backend.event_processing.event_file_loader import (
        LegacyEventFileLoader,
    )
    from tensorboard.util import tensor_util

    make_ndarray = tensor_util.make_ndarray
    points = 0
    for run_dir in _tb_run_dirs(root):
        series: dict[str, tuple[list[int], list[float]]] = {}
        for path in sorted(run_dir.glob("events.out.tfevents.*")):
            for event in LegacyEventFileLoader(str(path)).Load():
                if not event.HasField("summary"):
                    continue
                step = event.step
                for value in event.summary.value:
                    if value.HasField("tensor"):
                        number = float(make_ndarray(value.tensor))
                    else:
                        number = value.simple_value
                    steps, values = series.setdefault(value.tag, ([], []))
                    steps.append(step)
                    values.append(number)
        points += sum(len(v) for _, v in series.values())
    return points


def read_tb_dataserver(root: Path, runs: int, steps: int, metrics: int) -> int:
    """TensorBoard's Rust data server: spawn it, wait until loaded, read every scalar."""
    from tensorboard.data import grpc_provider, server_ingester
    from tensorboard.util import grpc_util

    binary = server_ingester.get_server_binary()
    port_file = root / "dataserver.port"
    port_file.unlink(missing_ok=True)
    args = [
        binary.path,
        f"--logdir={root / 'tb'}",
        "--reload=once",
        "--samples-per-plugin=scalars=all",
        "--host=localhost",
        "--port=0",
        f"--port-file={port_file}",
        "--die-after-stdin",
    ]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + DATASERVER_TIMEOUT_S
    try:
        port = _wait_for_port(proc, port_file, deadline)
        addr = f"localhost:{port}"
        stub = server_ingester._make_stub(addr, grpc_util.ChannelCredsType.LOCAL)
        provider = grpc_provider.GrpcDataProvider(addr, stub)
        expected = runs * steps * metrics
        while True:
            listing = provider.list_scalars(None, experiment_id="", plugin_name="scalars")
            loaded = len(listing) == runs and all(
                len(tags) == metrics and all(ts.max_step == steps - 1 for ts in tags.values())
                for tags in listing.values()
            )
            if loaded:
                data = provider.read_scalars(
                    None, experiment_id="", plugin_name="scalars", downsample=steps
                )
                points = 0
                for tags in data.values():
                    for series in tags.values():
                        values = [(d.step, d.value) for d in series]
                        points += len(values)
                if points >= expected:
                    return points
            if time.monotonic() > deadline:
                raise SystemExit("error: the TensorBoard data server did not load in time")
            time.sleep(0.005)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()  # --die-after-stdin: closing stdin stops it
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_for_port(proc: subprocess.Popen[bytes], port_file: Path, deadline: float) -> int:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"error: the TensorBoard data server exited with {proc.returncode}")
        try:
            text = port_file.read_text()
        except FileNotFoundError:
            text = ""
        if text.endswith("\n"):
            return int(text)
        time.sleep(0.002)
    raise SystemExit("error: the TensorBoard data server did not start in time")


def read_mlflow_history(root: Path) -> int:
    """MlflowClient: find the runs, then each metric's full history."""
    from mlflow import MlflowClient

    client = MlflowClient()
    experiment = client.get_experiment_by_name(peerenv.PROJECT)
    if experiment is None:
        raise SystemExit("error: no MLflow experiment was written")
    points = 0
    for run in client.search_runs([experiment.experiment_id], max_results=50000):
        for key in run.data.metrics:
            history = client.get_metric_history(run.info.run_id, key)
            steps = [m.step for m in history]
            values = [m.value for m in history]
            points += min(len(steps), len(values))
    return points


def read_trackio_api(root: Path) -> int:
    """trackio's own API: list the project's runs, then each run's logs."""
    import trackio
    from trackio.sqlite_storage import SQLiteStorage

    points = 0
    for run in trackio.Api().runs(peerenv.PROJECT):
        logs = SQLiteStorage.get_logs(peerenv.PROJECT, run=run.name, run_id=run.id)
        for entry in logs:
            points += sum(1 for k in entry if k not in ("step", "timestamp"))
    return points


def read_trackio_sqlite(root: Path) -> int:
    """trackio's SQLite file read directly: one JSON object per step."""
    import sqlite3

    import orjson

    db = root / "trackio" / f"{peerenv.PROJECT}.db"
    loads = orjson.loads
    points = 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        series: dict[tuple[str, str], tuple[list[int], list[float]]] = {}
        for run_name, step, blob in conn.execute(
            "SELECT run_name, step, metrics FROM metrics ORDER BY run_name, id"
        ):
            for key, value in loads(blob).items():
                steps, values = series.setdefault((run_name, key), ([], []))
                steps.append(step)
                values.append(value)
        points = sum(len(v) for _, v in series.values())
    finally:
        conn.close()
    return points


def read_floor(root: Path) -> int:
    """trackui-shaped history.jsonl, orjson.loads per line."""
    import orjson

    loads = orjson.loads
    points = 0
    for path in sorted((root / "floor").glob("*/history.jsonl")):
        series: dict[str, tuple[list[int], list[float]]] = {}
        with path.open("rb") as fh:
            for line in fh:
                record = loads(line)
                step = record["s"]
                for key, value in record["m"].items():
                    steps, values = series.setdefault(key, ([], []))
                    steps.append(step)
                    values.append(value)
        points += sum(len(v) for _, v in series.values())
    return points


def reader_for(peer: str, name: str, runs: int, steps: int, metrics: int) -> Reader:
    """Return the read function for ``peer`` and reader ``name``."""
    if name == "dataserver":
        return functools.partial(read_tb_dataserver, runs=runs, steps=steps, metrics=metrics)
    table: dict[tuple[str, str], Reader] = {
        ("wandb", "records"): read_wandb_records,
        ("tensorboardX", "accumulator"): read_tb_accumulator,
        ("tensorboardX", "plugin"): read_tb_plugin,
        ("tensorboardX", "loader"): read_tb_loader,
        ("tensorboard", "plugin"): read_tb_plugin,
        ("tensorboard", "loader"): read_tb_loader,
        ("mlflow", "history"): read_mlflow_history,
        ("mlflow-file", "history"): read_mlflow_history,
        ("trackio", "api"): read_trackio_api,
        ("trackio", "sqlite"): read_trackio_sqlite,
        ("floor", "orjson"): read_floor,
    }
    return table[(peer, name)]


def main(argv: list[str] | None = None) -> int:
    """Write, read back, check the count and print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peer", help=f"one of: {', '.join(READERS)}")
    parser.add_argument("--runs", type=int, default=10, help="runs (default 10)")
    parser.add_argument("--steps", type=int, default=2000, help="steps per run (default 2000)")
    parser.add_argument("--metrics", type=int, default=5, help="metrics per step (default 5)")
    parser.add_argument("--reps", type=int, default=3, help="timed read-backs (default 3)")
    parser.add_argument("--reader", help="which reader (default: the peer's first)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary root")
    args = parser.parse_args(argv)
    if args.peer not in READERS:
        parser.error(f"peer must be one of: {', '.join(READERS)}")
    if min(args.runs, args.steps, args.metrics, args.reps) < 1:
        parser.error("--runs, --steps, --metrics and --reps must be at least 1")
    reader_name = args.reader or READERS[args.peer][0]
    if reader_name not in READERS[args.peer]:
        parser.error(f"--reader for {args.peer} must be one of: {', '.join(READERS[args.peer])}")
    peerenv.check_peer(args.peer)
    read = reader_for(args.peer, reader_name, args.runs, args.steps, args.metrics)
    expected = args.runs * args.steps * args.metrics

    cwd = os.getcwd()
    root = peerenv.prepare(keep=args.keep)
    try:
        t0 = time.perf_counter()
        write_runs(args.peer, root, args.runs, args.steps, args.metrics)
        write_s = time.perf_counter() - t0
        # One untimed read first, so that imports and first-use costs are not
        # counted in the timed ones.
        with peerenv.quiet():
            read(root)
        seconds: list[float] = []
        for _ in range(args.reps):
            start = time.perf_counter()
            with peerenv.quiet():
                points = read(root)
            seconds.append(time.perf_counter() - start)
            if points != expected:
                print(
                    f"error: {args.peer}/{reader_name} read {points} points, expected {expected}",
                    file=sys.stderr,
                )
                return 1
    finally:
        os.chdir(cwd)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    median = statistics.median(seconds)
    result = {
        "peer": args.peer,
        "reader": reader_name,
        "points": expected,
        "seconds": round(median, 4),
        "points_per_s": round(expected / median),
        "runs": args.runs,
        "steps": args.steps,
        "metrics": args.metrics,
        "reps": args.reps,
        "seconds_all": [round(s, 4) for s in seconds],
        "seconds_min": round(min(seconds), 4),
        "write_s": round(write_s, 2),
        "version": peerenv.peer_version(args.peer),
        "python": platform.python_version(),
        # Other work on the machine inflates every figure: say how busy it was.
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
