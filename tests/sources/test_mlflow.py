"""MLflow runs written by mlflow itself, in its file store and its SQLite store, read through the index."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from trackui.store.index import Index

STEPS = [0, 1, 3, 2, 2]
"""Logged in this order: 3 before 2, and 2 twice (the second value wins)."""


def _values(i: int, s: int) -> dict[str, float]:
    return {"loss": 1.0 / (s + 1) + i, "acc": math.nan if s == 1 else s / 10, "val/top1": s * 2.5}


def _log(uri: str, name: str = "first") -> str:
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("exp-a")
    with mlflow.start_run(run_name=name) as run:
        mlflow.log_params({"lr": 0.001, "opt": "adam", "layers": 3})
        mlflow.set_tags({"team": "nlp", "mlflow.note.content": "a note"})
        for i, s in enumerate(STEPS):
            mlflow.log_metrics(_values(i, s), step=s)
        return run.info.run_id


def _expected() -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {}
    for i, s in enumerate(STEPS):
        for k, v in _values(i, s).items():
            out.setdefault(k, {})[s] = v
    return out


@pytest.fixture(params=["file", "sqlite"])
def store(request: pytest.FixtureRequest, root: Path) -> tuple[str, Path]:
    """``(tracking URI, the folder or file it writes)`` under the root."""
    if request.param == "file":
        return f"file://{root / 'mlruns'}", root / "mlruns"
    return f"sqlite:///{root / 'mlflow.db'}", root / "mlflow.db"


def _listing(h, p: Path) -> dict:
    return h.listing(p) if p.is_dir() else {p.name: (p.stat().st_size, p.stat().st_mtime_ns)}


def test_runs_read_back_value_for_value(store: tuple[str, Path], root: Path, h) -> None:
    uri, where = store
    run_id = _log(uri)
    before = _listing(h, where)
    with Index(root) as ix:
        ix.refresh()
        (row,) = ix.runs("source:mlflow")
        assert row.name == "first"
        assert row.state == "finished"
        assert row.project == "exp-a"
        assert row.meta["notes"] == "a note"
        assert row.meta["source_run_id"] == run_id
        assert "team=nlp" in row.tags
        assert row.config == {"lr": 0.001, "opt": "adam", "layers": 3}
        for metric, want in _expected().items():
            assert h.same(h.read_back(ix, row.id, metric), want), metric
        # several metrics logged at one step are one record
        assert row.steps == 4
    assert _listing(h, where) == before


def test_a_live_run_is_running_then_its_new_rows_are_read(root: Path, h) -> None:
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
    mlflow.set_experiment("exp-live")
    with mlflow.start_run(run_name="live"):
        mlflow.log_metric("loss", 1.0, step=0)
        with Index(root) as ix:
            ix.refresh()
            (row,) = ix.runs("source:mlflow")
            assert row.state == "running"
            mlflow.log_metric("loss", 0.5, step=1)
            ix.refresh([root / "mlflow.db"])
            assert h.read_back(ix, row.id, "loss") == {0: 1.0, 1: 0.5}
    with Index(root) as ix:
        ix.refresh()
        assert ix.runs("source:mlflow")[0].state == "finished"


def test_a_damaged_metric_line_is_skipped_with_a_warning(root: Path, h) -> None:
    _log(f"file://{root / 'mlruns'}")
    (loss,) = root.glob("mlruns/*/*/metrics/loss")
    text = loss.read_bytes()
    lines = text.splitlines(keepends=True)
    lines[1] = b"12x34 garbage\n"
    loss.write_bytes(b"".join(lines) + b"99 1.5")  # and a torn last line: waits
    with Index(root) as ix:
        ix.refresh()
        (row,) = ix.runs("source:mlflow")
        got = h.read_back(ix, row.id, "loss")
        assert 1 not in got and got[0] == 1.0
        assert any("does not parse" in w for w in row.warnings)


def test_source_filter_and_a_mixed_root(root: Path, write_run) -> None:
    _log(f"sqlite:///{root / 'mlflow.db'}")
    write_run(root, "own1", name="mine", records=[(0, 1.0, {"loss": 1.0}, {})])
    with Index(root) as ix:
        ix.refresh()
        assert [r.id for r in ix.runs("source:trackui")] == ["own1"]
        assert [r.name for r in ix.runs("source:mlflow")] == ["first"]
        assert [r.id for r in ix.runs("source!=mlflow")] == ["own1"]
        assert len(ix.runs()) == 2
