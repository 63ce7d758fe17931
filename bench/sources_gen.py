"""Generate other trackers' runs for ``bench/sources_bench.py``, written directly in their formats.

Usage (with a Python that has MLflow, for the SQLite store's schema)::

    /work/bench-venv/bin/python bench/sources_gen.py DIR [--runs 50] [--steps 20000] [--metrics 5]

Writes, under ``DIR``:

* ``tb/run-NN/events.out.tfevents.<t>.bench``: one event per scalar
  (``simple_value``), TFRecord-framed with both CRCs, as TensorBoard's
  writers write them;
* ``mlflow-files/mlruns/<experiment>/<run>/``: MLflow's file store
  (``meta.yaml``, ``params/``, ``tags/``, ``metrics/<name>`` lines);
* ``mlflow-db/mlflow.db``: MLflow's SQLite store, its schema made by MLflow
  itself, then runs, params, tags and metrics inserted with ``sqlite3``.

The encodings are built here for speed (protobuf by hand, rows in bulk);
the bench reads every point back through each format's own reader, which
checks them. Values: metric ``m<j>`` of run ``i`` at step ``s`` is
``sin(s / 1000 + i + j)``.
"""

from __future__ import annotations

import argparse
import math
import os
import sqlite3
import struct
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store" / "sources"))

import tfrecord  # noqa: E402  (framing and CRC32C, without importing trackui)

T0 = 1_700_000_000.0


def value(i: int, j: int, s: int) -> float:
    return math.sin(s / 1000 + i + j)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(tag: int, payload: bytes) -> bytes:
    return bytes([tag]) + _varint(len(payload)) + payload


def event(wall: float, step: int, tag: bytes, v: float) -> bytes:
    """``Event{wall_time, step, summary{value{tag, simple_value}}}`` in protobuf's wire format."""
    val = _field(0x0A, tag) + b"\x15" + struct.pack("<f", v)
    summ = _field(0x0A, val)
    return b"\x09" + struct.pack("<d", wall) + b"\x10" + _varint(step) + _field(0x2A, summ)


def frame(records: list[bytes]) -> bytes:
    """TFRecord framing with both masked CRC32Cs."""
    heads = [struct.pack("<Q", len(r)) for r in records]
    blob = b"".join(heads)
    hcrc = tfrecord.crcs(blob, [8 * i for i in range(len(heads))], [8] * len(heads))
    data = b"".join(records)
    starts, pos = [], 0
    for r in records:
        starts.append(pos)
        pos += len(r)
    dcrc = tfrecord.crcs(data, starts, [len(r) for r in records])
    out = bytearray()
    for h, hc, r, dc in zip(heads, hcrc, records, dcrc, strict=True):
        out += h + struct.pack("<I", tfrecord.masked(hc)) + r
        out += struct.pack("<I", tfrecord.masked(dc))
    return bytes(out)


def gen_tb(root: Path, runs: int, steps: int, metrics: int) -> None:
    for i in range(runs):
        d = root / "tb" / f"run-{i:02d}"
        d.mkdir(parents=True, exist_ok=True)
        recs = [b"\x09" + struct.pack("<d", T0) + _field(0x1A, b"brain.Event:2")]
        tags = [f"m{j}".encode() for j in range(metrics)]
        for s in range(steps):
            w = T0 + s * 0.01
            for j, tag in enumerate(tags):
                recs.append(event(w, s, tag, value(i, j, s)))
        (d / f"events.out.tfevents.{int(T0)}.bench").write_bytes(frame(recs))


def gen_mlflow_files(root: Path, runs: int, steps: int, metrics: int) -> None:
    store = root / "mlflow-files" / "mlruns"
    exp = store / "1"
    exp.mkdir(parents=True, exist_ok=True)
    (exp / "meta.yaml").write_text(
        f"artifact_location: file://{exp}\ncreation_time: {int(T0 * 1000)}\nexperiment_id: '1'\n"
        f"last_update_time: {int(T0 * 1000)}\nlifecycle_stage: active\nname: bench\n"
    )
    (store / "0").mkdir(exist_ok=True)
    (store / "0" / "meta.yaml").write_text(
        f"artifact_location: file://{store / '0'}\ncreation_time: {int(T0 * 1000)}\n"
        "experiment_id: '0'\nlifecycle_stage: active\nname: Default\n"
    )
    for i in range(runs):
        rid = uuid.UUID(int=i + 1).hex
        d = exp / rid
        for sub in ("metrics", "params", "tags", "artifacts"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        (d / "meta.yaml").write_text(
            f"artifact_uri: file://{d / 'artifacts'}\nend_time: {int(T0 * 1000) + steps * 10}\n"
            f"entry_point_name: ''\nexperiment_id: '1'\nlifecycle_stage: active\nrun_id: '{rid}'\n"
            f"run_name: run-{i:02d}\nrun_uuid: '{rid}'\nsource_name: ''\nsource_type: 4\n"
            f"source_version: ''\nstart_time: {int(T0 * 1000)}\nstatus: 3\ntags: []\n"
            "user_id: bench\n"
        )
        (d / "params" / "lr").write_text(str(0.001 * (i + 1)))
        (d / "tags" / "mlflow.runName").write_text(f"run-{i:02d}")
        for j in range(metrics):
            lines = [f"{int(T0 * 1000) + s * 10} {value(i, j, s)!r} {s}\n" for s in range(steps)]
            (d / "metrics" / f"m{j}").write_text("".join(lines))


def gen_mlflow_db(root: Path, runs: int, steps: int, metrics: int) -> None:
    folder = root / "mlflow-db"
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "mlflow.db"
    if db.exists():
        db.unlink()
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{db}")
    exp_id = mlflow.create_experiment("bench")
    con = sqlite3.connect(db)
    cols = {r[1] for r in con.execute("PRAGMA table_info(runs)")}
    for i in range(runs):
        rid = uuid.UUID(int=i + 1).hex
        row = {
            "run_uuid": rid, "name": f"run-{i:02d}", "source_type": "LOCAL", "source_name": "",
            "entry_point_name": "", "user_id": "bench", "status": "FINISHED",
            "start_time": int(T0 * 1000), "end_time": int(T0 * 1000) + steps * 10,
            "source_version": "", "lifecycle_stage": "active", "artifact_uri": "",
            "experiment_id": int(exp_id),
        }  # fmt: skip
        row = {k: v for k, v in row.items() if k in cols}
        con.execute(
            f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
        con.execute("INSERT INTO params (key, value, run_uuid) VALUES ('lr', ?, ?)",
                    [str(0.001 * (i + 1)), rid])  # fmt: skip
        con.execute("INSERT INTO tags (key, value, run_uuid) VALUES ('mlflow.runName', ?, ?)",
                    [f"run-{i:02d}", rid])  # fmt: skip
        con.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
            "VALUES (?, ?, ?, ?, ?, 0)",
            (
                (f"m{j}", value(i, j, s), int(T0 * 1000) + s * 10, rid, s)
                for s in range(steps)
                for j in range(metrics)
            ),
        )
        # (what search_runs lists a run's metrics from)
        con.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
            "VALUES (?, ?, ?, ?, 0, ?)",
            [(f"m{j}", value(i, j, steps - 1), int(T0 * 1000) + (steps - 1) * 10, steps - 1, rid)
             for j in range(metrics)],
        )  # fmt: skip
        con.commit()
    con.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dir", type=Path)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--steps", type=int, default=20_000)
    p.add_argument("--metrics", type=int, default=5)
    p.add_argument("--only", choices=("tb", "mlflow-files", "mlflow-db"), action="append")
    a = p.parse_args(argv)
    a.dir.mkdir(parents=True, exist_ok=True)
    gens = {"tb": gen_tb, "mlflow-files": gen_mlflow_files, "mlflow-db": gen_mlflow_db}
    for name in a.only or list(gens):
        gens[name](a.dir, a.runs, a.steps, a.metrics)
        print(f"{name}: {a.runs} runs x {a.steps} steps x {a.metrics} metrics", file=sys.stderr)
    os.sync()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
