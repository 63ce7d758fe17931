"""A foreign run's state when its tracker records none: quiet files (TensorBoard) or rows (trackio)."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest
from conftest_wandb import run_writer

from trackui.store.index import Index
from trackui.store.sources import tensorboard, trackio_source


def _states(root: Path, query: str, at: float) -> dict[str, str]:
    with Index(root, now=lambda: at) as ix:
        ix.refresh()
        return {r.name: r.state for r in ix.runs(query)}


def test_a_tensorboard_run_is_finished_once_its_files_are_a_minute_quiet(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    root = tmp_path / "root"
    w = SummaryWriter(str(root / "exp"))
    w.add_scalar("loss", 1.0, 0)
    w.close()
    (events,) = (root / "exp").iterdir()
    wrote = events.stat().st_mtime
    assert tensorboard.QUIET_S == 60.0
    assert _states(root, "source:tensorboard", wrote + 20) == {"exp": "running"}
    assert _states(root, "source:tensorboard", wrote + 61) == {"exp": "finished"}


def test_a_trackio_run_follows_its_own_rows_not_its_database(tmp_path: Path) -> None:
    pytest.importorskip("trackio")
    root = tmp_path / "root"
    (root / "trackio").mkdir(parents=True)
    run_writer(
        root,
        """
        import trackio
        for name in ("old", "new"):
            trackio.init(project="p", name=name)
            trackio.log({"loss": 1.0})
            trackio.finish()
        """,
    )
    db = root / "trackio" / "p.db"
    conn = sqlite3.connect(db)
    conn.execute("UPDATE metrics SET timestamp = '2020-01-01T00:00:00+00:00' WHERE run_name='old'")
    conn.commit()
    conn.close()
    for p in db.parent.glob("p.db-*"):
        os.remove(p)
    now = time.time()
    # The database was just written (for both runs): "old" logged nothing for years.
    assert _states(root, "source:trackio", now) == {"old": "finished", "new": "running"}
    # trackio records no end: "new" is finished once its newest row is QUIET_S old.
    later = now + trackio_source.QUIET_S + 1
    assert _states(root, "source:trackio", later) == {"old": "finished", "new": "finished"}
