"""Read back what an integration wrote, through the store's reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trackui.store import reader
from trackui.store.models import Record, RunInfo


def runs_under(root: Path) -> list[RunInfo]:
    """Every readable run under ``root``, oldest first."""
    out = []
    for path in reader.list_run_dirs(root):
        info = reader.read_run(path)
        assert info is not None, f"unreadable run {path}"
        out.append(info)
    return out


def only_run(root: Path) -> RunInfo:
    """The one run under ``root`` (fails if there are more or none)."""
    runs = runs_under(root)
    assert len(runs) == 1, f"expected one run under {root}, found {[r.path.name for r in runs]}"
    return runs[0]


def records(info: RunInfo) -> list[Record]:
    """All history records of a run, with no damaged line among them."""
    recs, _, warnings = reader.read_records(info.path)
    assert warnings == [], warnings
    return recs


def series(info: RunInfo, metric: str) -> list[tuple[int, float]]:
    """``(step, value)`` of one metric, in file order."""
    return [(r.step, r.metrics[metric]) for r in records(info) if metric in r.metrics]


def metric_names(info: RunInfo) -> set[str]:
    """Every metric name in a run's history."""
    names: set[str] = set()
    for r in records(info):
        names.update(r.metrics)
    return names


def flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested config flattened to ``a/b`` keys."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flat(v, f"{prefix}{k}/"))
        else:
            out[prefix + k] = v
    return out
