"""MLflow's file store (``mlruns/<experiment id>/<run id>/``) as runs, read without importing MLflow.

A run folder holds ``meta.yaml`` (its name, status, times), ``params/<name>``
(one value per file), ``tags/<name>`` and ``metrics/<name>`` (names with
``/`` are folders), whose lines are ``<timestamp ms> <value> <step>``,
appended as logged. Metric files are read from the byte offset the last read
stopped at; a line not yet ended waits, a line that does not parse is skipped
with a warning. Params become the config; tags map as :func:`run_meta` says.
"""

from __future__ import annotations

import math
import os
import sys
from operator import itemgetter
from pathlib import Path
from typing import Any

from trackui.store.sources.base import MLFLOW, Batch, ForeignRun
from trackui.store.sources.walk import walk_root

STORE_DIR = "mlruns"
_STATUS = {"1": "running", "2": "running", "3": "finished", "4": "failed", "5": "failed",
           "RUNNING": "running", "SCHEDULED": "running", "FINISHED": "finished",
           "FAILED": "failed", "KILLED": "failed"}  # fmt: skip
"""MLflow's run status (a number in the file store, a name in SQL) as a trackui state."""
MAX_BYTES_PER_READ = 256 << 20


def state_of(status: Any) -> str | None:
    """A trackui state for an MLflow run status (None: unknown)."""
    return _STATUS.get(str(status).strip().upper()) if status is not None else None


def metric_value(v: float) -> float:
    """A stored value as logged: MLflow's SQL store keeps ±inf as ±the largest double."""
    if v == sys.float_info.max:
        return math.inf
    if v == -sys.float_info.max:
        return -math.inf
    return v


def run_meta(tags: dict[str, str], name: str | None, status: Any, start_ms: Any, end_ms: Any,
             experiment: str | None) -> dict[str, Any]:  # fmt: skip
    """``meta.json`` keys of an MLflow run.

    ``mlflow.runName`` names it (else the run's own name), ``mlflow.note.content``
    is its notes, ``mlflow.user`` its user, ``mlflow.parentRunId`` its group,
    the experiment its project; the other ``mlflow.*`` tags are left out and
    every other tag becomes a trackui tag ``key=value`` (``key`` alone when empty).
    """
    meta: dict[str, Any] = {
        "name": tags.get("mlflow.runName") or name or None,
        "notes": tags.get("mlflow.note.content"),
        "user": tags.get("mlflow.user"),
        "group": tags.get("mlflow.parentRunId"),
        "project": experiment,
        "tags": [
            f"{k}={v}" if v else k for k, v in sorted(tags.items()) if not k.startswith("mlflow.")
        ],  # fmt: skip
    }
    st = state_of(status)
    if st is not None:
        meta["state"] = st
    if isinstance(start_ms, (int, float)) and start_ms:
        meta["start_time"] = start_ms / 1000.0
    if isinstance(end_ms, (int, float)) and end_ms:
        meta["end_time"] = end_ms / 1000.0
    return meta


def read_yaml(path: Path) -> dict[str, Any]:
    """A flat ``meta.yaml`` (``key: value`` lines), without a YAML library."""
    out: dict[str, Any] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        if not line or line[0] in " #-" or ":" not in line:
            continue
        k, _, v = line.partition(":")
        v = v.strip()
        if len(v) >= 2 and v[0] == v[-1] == "'":
            v = v[1:-1].replace("''", "'")
        elif len(v) >= 2 and v[0] == v[-1] == '"':
            v = v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        elif v in ("null", "~", ""):
            v = None
        out[k.strip()] = v
    return out


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _read_values(folder: Path) -> dict[str, str]:
    """``params/`` or ``tags/``: each file's name (below the folder) and text."""
    out: dict[str, str] = {}
    base = str(folder)
    for dirpath, _dirs, files in os.walk(base):
        for f in files:
            p = os.path.join(dirpath, f)
            try:
                with open(p, encoding="utf-8", errors="replace") as fh:
                    out[os.path.relpath(p, base).replace(os.sep, "/")] = fh.read()
            except OSError:
                continue
    return out


def parse_value(text: str) -> Any:
    """A param's text as a config value: MLflow keeps every param as a string; one
    that an int or a float prints back exactly becomes that number."""
    t = text.strip()
    if t != text or not t:
        return text
    try:
        return int(t) if str(int(t)) == t else text
    except ValueError:
        pass
    try:
        f = float(t)
    except ValueError:
        return text
    return f if repr(f) == t else text


def stores_under(root: Path) -> list[Path]:
    """The ``mlruns`` folders a walk of ``root`` finds (the root itself when it is one)."""
    if root.name == STORE_DIR and root.is_dir():
        return [root]
    return [f.path / STORE_DIR for f in walk_root(root) if STORE_DIR in f.dirs]


def _lines(data: bytes, name: str, warnings: list[str]) -> tuple[list[int], list[int], list[float]]:
    """``(steps, timestamps in ms, values)`` of the complete metric lines; damaged lines skipped."""
    tokens = data.split()
    if len(tokens) == 3 * data.count(b"\n"):
        try:  # (every line has three fields: converted all at once)
            return (
                list(map(int, tokens[2::3])),
                list(map(int, tokens[0::3])),
                list(map(float, tokens[1::3])),
            )
        except (ValueError, OverflowError):
            pass
    steps: list[int] = []
    times: list[int] = []
    values: list[float] = []
    for raw in data.splitlines():
        parts = raw.split()
        try:
            ts_ = int(parts[0])
            v = float(parts[1])
            s = int(parts[2]) if len(parts) > 2 else 0
            if len(parts) > 3:
                raise ValueError
        except (ValueError, IndexError):
            warnings.append(
                f"metrics/{name}: line {raw[:60].decode('utf-8', 'replace')!r} does not parse; skipped"
            )
            continue
        steps.append(s)
        times.append(ts_)
        values.append(v)
    return steps, times, values


def _rows(
    parsed: list[tuple[str, list[int], list[int], list[float]]],
) -> list[tuple[int, float | None, dict[str, Any]]]:
    """Rows in step order: several metrics logged at one step are one row; a metric
    logged again at a step starts a row of its own, after (its value wins)."""
    if parsed:
        steps = parsed[0][1]
        if all(p[1] == steps for p in parsed) and steps == sorted(set(steps)):
            # The common case: every metric logged at the same steps, each once.
            names = [p[0] for p in parsed]
            walls = [t / 1000.0 for t in parsed[0][2]]
            return [
                (s, w, dict(zip(names, vs, strict=True)))
                for s, w, *vs in zip(steps, walls, *(p[3] for p in parsed), strict=True)
            ]
    by_step: dict[int, tuple[float | None, dict[str, Any]]] = {}
    rows: list[tuple[int, float | None, dict[str, Any]]] = []
    for name, steps, times, values in parsed:
        for step, ts, val in zip(steps, times, values, strict=True):
            got = by_step.get(step)
            if got is None or name in got[1]:
                got = (ts / 1000.0, {})
                by_step[step] = got
                rows.append((step, got[0], got[1]))
            got[1][name] = val
    rows.sort(key=itemgetter(0))  # (stable: a repeated step stays after its first)
    return rows


class MlflowFilesSource:
    """Runs of MLflow's file store (``mlruns/``)."""

    name = MLFLOW

    def find(self, root: Path) -> list[ForeignRun]:
        out = []
        for store in stores_under(root):
            try:
                exps = [e for e in os.scandir(store) if e.is_dir() and e.name[0] != "."]
            except OSError:
                continue
            for exp in sorted(exps, key=lambda e: e.name):
                try:
                    runs = sorted(e.name for e in os.scandir(exp.path) if e.is_dir())
                except OSError:
                    continue
                for name in runs:
                    run_dir = Path(exp.path) / name
                    meta = run_dir / "meta.yaml"
                    if not meta.is_file():
                        continue
                    y = read_yaml(meta)
                    if y.get("lifecycle_stage") == "deleted" or not y.get(
                        "run_id", y.get("run_uuid")
                    ):
                        continue
                    key = os.path.relpath(run_dir, root).replace(os.sep, "/")
                    out.append(ForeignRun(MLFLOW, key, run_dir, name))
        return out

    def read(self, run: ForeignRun, cursor: dict[str, Any]) -> tuple[Batch, dict[str, Any]]:
        batch = Batch()
        offsets: dict[str, int] = dict(cursor.get("offsets", {}))
        y = read_yaml(run.path / "meta.yaml")
        exp = read_yaml(run.path.parent / "meta.yaml").get("name")
        tags = _read_values(run.path / "tags")
        batch.meta = run_meta(tags, y.get("run_name"), y.get("status"), _int(y.get("start_time")),
                              _int(y.get("end_time")), exp)  # fmt: skip
        params = _read_values(run.path / "params")
        batch.config = {k: parse_value(v) for k, v in sorted(params.items())}
        mdir = str(run.path / "metrics")
        files = []
        for dirpath, _dirs, fnames in os.walk(mdir):
            files += [os.path.join(dirpath, f) for f in fnames]
        parsed: list[tuple[str, list[int], list[int], list[float]]] = []
        for path in sorted(files):
            name = os.path.relpath(path, mdir).replace(os.sep, "/")
            off = offsets.get(name, 0)
            try:
                with open(path, "rb") as f:
                    f.seek(off)
                    data = f.read(MAX_BYTES_PER_READ)
            except OSError:
                continue
            end = data.rfind(b"\n") + 1
            offsets[name] = off + end
            parsed.append((name, *_lines(data[:end], name, batch.warnings)))
        batch.rows = _rows(parsed)
        return batch, {"offsets": offsets}
