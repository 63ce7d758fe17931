"""Fixtures shared by every test tier."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]

# Generated cases are the same on every run (a failure reproduces, and CI does
# not pass or fail by chance); HYPOTHESIS_PROFILE=explore draws new ones.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(__import__("os").environ.get("HYPOTHESIS_PROFILE", "repeatable"))
MNIST_DIR = Path(
    __import__("os").environ.get("TRACKUI_TEST_MNIST", REPO.parent / "shared" / "mnist")
)


@pytest.fixture(autouse=True)
def _quiet_runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No console lines or console capture from runs made in tests, and no run left open."""
    monkeypatch.setenv("TRACKUI_SILENT", "1")
    monkeypatch.setenv("TRACKUI_CONSOLE", "off")
    monkeypatch.delenv("TRACKUI_DIR", raising=False)
    monkeypatch.delenv("TRACKUI_MODE", raising=False)
    yield
    import trackui.api

    for run in list(trackui.api._active):
        run.finish(quiet=True)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty run root."""
    path = tmp_path / "runs"
    path.mkdir()
    return path


@pytest.fixture
def mnist_dir() -> Path:
    """The four standard MNIST IDX files."""
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST files not found at {MNIST_DIR} (set TRACKUI_TEST_MNIST)")
    return MNIST_DIR


def _write_json(path: Path, obj: object) -> None:
    import json

    path.write_text(json.dumps(obj))


@pytest.fixture
def write_run() -> object:
    """A function that writes a run directory by hand, per docs/format.md.

    ``write_run(root, run_id, name=..., records=[(step, t, {metric: v}, {text: s})],
    history=b"raw bytes", state="finished", ...)`` returns the run directory.
    For the damaged, torn, foreign-host and hostile cases the writer never makes.
    """
    import json
    import os
    import socket
    import time

    def write(
        root: Path,
        run_id: str,
        *,
        name: str | None = None,
        project: str | None = "proj",
        group: str | None = None,
        tags: list[str] | None = None,
        state: str = "finished",
        config: dict | None = None,
        summary: dict | None = None,
        records: list | None = None,
        history: bytes | None = None,
        start: float = 1_700_000_000.0,
        end: float | None = None,
        host: str | None = None,
        pid: int | None = None,
        stamp: str = "20231114_221320",
        meta_extra: dict | None = None,
    ) -> Path:
        d = root / f"run-{stamp}-{run_id}"
        d.mkdir(parents=True, exist_ok=True)
        if history is None:
            lines = []
            for rec in records or []:
                step, t, m = rec[0], rec[1], rec[2]
                obj = {"s": step, "t": t, "m": m}
                if len(rec) > 3 and rec[3]:
                    obj["x"] = rec[3]
                lines.append(json.dumps(obj) + "\n")
            history = "".join(lines).encode()
        (d / "history.jsonl").write_bytes(history)
        _write_json(d / "config.json", config or {})
        _write_json(d / "summary.json", summary or {})
        meta = {
            "format": 1,
            "id": run_id,
            "name": name if name is not None else run_id,
            "project": project,
            "group": group,
            "job_type": None,
            "notes": None,
            "tags": tags or [],
            "state": state,
            "host": host if host is not None else socket.gethostname(),
            "user": "tester",
            "pid": pid if pid is not None else os.getpid(),
            "command": ["python", "train.py"],
            "cwd": "/tmp",
            "python": "3.11",
            "git": None,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(start)),
            "start_time": start,
            "end_time": end if end is not None else (None if state == "running" else start + 100.0),
            "exit_code": None if state == "running" else (0 if state == "finished" else 1),
            "heartbeat_s": 15.0,
            **(meta_extra or {}),
        }
        _write_json(d / "meta.json", meta)
        return d

    return write


@pytest.fixture
def point_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Each ``(rid, mid)`` whose points the index reads from DuckDB, in order, from now on."""
    from trackui.store import points

    reads: list[tuple[int, int]] = []
    fetch = points.fetch_points

    def counted(cur: object, rid: int, mid: int, **kw: object) -> object:
        reads.append((rid, mid))
        return fetch(cur, rid, mid, **kw)

    monkeypatch.setattr(points, "fetch_points", counted)
    return reads
