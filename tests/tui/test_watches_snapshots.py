"""SVG snapshots of the watches: rows with their badges, and the alerts list (frozen clock, UTC).

Update after reading the report:
``pytest tests/tui/test_watches_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from test_snapshots import snap
from tui_support import NOW, fixture_run


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch):
    """The alerts list shows local times: the snapshots are taken in UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def watched_root(fixture_root: Path) -> Path:
    """The fixture runs, one that ends in NaN and a rule of the user's own that fires."""
    d = fixture_run(fixture_root, "nan00006", name="diverged", start=NOW - 1800, lr=0.5, steps=80)
    with open(d / "history.jsonl", "a") as f:
        f.write(json.dumps({"s": 80, "t": NOW - 1700, "m": {"loss": "nan", "accuracy": 0.1}}))
        f.write("\n")
    keep = fixture_root / ".trackui"
    keep.mkdir()
    (keep / "watches.json").write_text(
        json.dumps({"rules": ["accuracy < 0.2 and step > 50"], "bell": False})
    )
    return fixture_root


def test_rows_with_badges(snap_compare, watched_root: Path, app_factory) -> None:
    assert snap(snap_compare, app_factory(watched_root))


def test_rows_with_badges_80x24(snap_compare, watched_root: Path, app_factory) -> None:
    assert snap(snap_compare, app_factory(watched_root), size=(80, 24))


def test_alerts_list(snap_compare, watched_root: Path, app_factory) -> None:
    assert snap(snap_compare, app_factory(watched_root), ["w"])


def test_alerts_list_80x24(snap_compare, watched_root: Path, app_factory) -> None:
    assert snap(snap_compare, app_factory(watched_root), ["w"], size=(80, 24))
