"""The framework examples run as written and leave the runs they promise."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fwhelpers import only_run, series

REPO = Path(__file__).resolve().parents[2]


def needs(*modules: str) -> None:
    """Skip unless one of ``modules`` is installed (found, not imported: the example imports it)."""
    if all(importlib.util.find_spec(m) is None for m in modules):
        pytest.skip(f"{' or '.join(modules)} is not installed (pip install 'trackui[frameworks]')")


def run_example(name: str, tmp_path: Path) -> Path:
    """Run ``examples/<name>`` in ``tmp_path``; returns the run root it wrote to."""
    root = tmp_path / "runs"
    env = {
        **os.environ,
        "TRACKUI_DIR": str(root),
        "TRACKUI_SILENT": "1",
        "KERAS_BACKEND": "torch",
        "CUDA_VISIBLE_DEVICES": "",
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("TRACKUI_PROJECT", None)
    env.pop("TRACKUI_CONSOLE", None)  # the examples run with console capture on, as for a user
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / name)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return root


def test_hf_trainer_example(tmp_path: Path) -> None:
    needs("transformers")
    info = only_run(run_example("hf_trainer.py", tmp_path))
    assert info.state == "finished"
    assert info.name == "gpt-3-base-high-lr" and info.meta["project"] == "gpt-3"
    assert info.config["dataset"] == "random-tokens"
    assert info.config["learning_rate"] == pytest.approx(1e-3)
    assert info.config["model"]["n_layer"] == 2
    assert [s for s, _ in series(info, "train/loss")] == [5, 10, 15, 20]
    assert [s for s, _ in series(info, "eval/loss")] == [10, 20]
    assert (info.path / "output.log").is_file(), "console output captured"


def test_lightning_example(tmp_path: Path) -> None:
    needs("lightning", "pytorch_lightning")
    info = only_run(run_example("lightning_fit.py", tmp_path))
    assert info.state == "finished"
    assert info.meta["project"] == "lightning-demo" and info.name == "sine"
    assert info.config == {"lr": 0.05, "hidden": 16}
    assert len(series(info, "val_loss")) == 3
    assert {v for _, v in series(info, "epoch")} == {0.0, 1.0, 2.0}
    assert list((info.path / "files" / "checkpoints").glob("*.ckpt")), (
        "log_model=True kept the checkpoint"
    )


def test_keras_example(tmp_path: Path) -> None:
    needs("keras")
    info = only_run(run_example("keras_fit.py", tmp_path))
    assert info.state == "finished"
    assert info.meta["project"] == "keras-demo"
    assert info.config["batch_size"] == 32
    assert info.config["fit"]["epochs"] == 4
    assert len(series(info, "val_accuracy")) == 4
    assert series(info, "val_accuracy")[-1][1] > 0.8, "three well-separated blobs are learnt"
    assert len(series(info, "batch/loss")) == 12  # 15 batches an epoch, every 5th
