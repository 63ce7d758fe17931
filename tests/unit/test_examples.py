"""The wandb-style examples run as written and leave complete runs."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trackui.store import layout, reader

REPO = Path(__file__).resolve().parents[2]
pytest.importorskip("torchvision")


def _run_example(name: str, cwd: Path, *args: str) -> None:
    env = {**os.environ, "TRACKUI_DIR": str(cwd / "runs"), "TRACKUI_SILENT": "1"}
    out = subprocess.run(
        [sys.executable, str(REPO / "examples" / name), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]


def _only_run(root: Path):
    (run_dir,) = reader.list_run_dirs(root)
    info = reader.read_run(run_dir)
    assert info is not None
    records, _, warnings = reader.read_records(run_dir)
    assert warnings == []
    return info, reader.merge_steps(records)


def test_mnist_tutorial(tmp_path: Path, mnist_dir: Path) -> None:
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for gz in mnist_dir.glob("*-ubyte.gz"):
        (raw / gz.name[:-3]).write_bytes(gzip.decompress(gz.read_bytes()))
    _run_example(
        "mnist_tutorial.py",
        tmp_path,
        "--data",
        str(tmp_path / "data"),
        "--epochs",
        "2",
        "--limit",
        "1000",
    )
    info, history = _only_run(tmp_path / "runs")
    assert info.state == "finished" and info.meta["project"] == "mnist-tutorial"
    assert info.config == {
        "learning_rate": 1e-3,
        "epochs": 2,
        "batch_size": 64,
        "architecture": "MLP",
    }
    assert sorted(history) == [0, 1]
    assert set(history[1]) >= {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy"}
    assert history[1]["val_accuracy"] > 0.6
    assert info.summary["val_accuracy"] == history[1]["val_accuracy"]
    assert (info.path / layout.FILES_DIR / "model.pth").stat().st_size > 100_000


def test_quickstart(tmp_path: Path) -> None:
    _run_example("quickstart.py", tmp_path)
    info, history = _only_run(tmp_path / "runs")
    assert info.state == "finished" and info.config == {"learning_rate": 0.01}
    assert sorted(history) == list(range(50))
    assert history[49]["loss"] < history[0]["loss"]
    assert "gradients/0.weight.norm" in history[9]
