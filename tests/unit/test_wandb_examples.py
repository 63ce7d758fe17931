"""W&B's own examples run unchanged with ``import wandb`` giving trackui (tests/wandb_examples)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from trackui.store import reader

EXAMPLES = Path(__file__).resolve().parents[1] / "wandb_examples"


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WANDB_", "TRACKUI_", "PYTHONPATH"))
    }
    env.update(PYTHONPATH=str(EXAMPLES / "shim"), TRACKUI_SILENT="1", **extra)
    return env


def _run(cwd: Path, script: str, *args: str, **env: str) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]


def _runs(cwd: Path) -> dict[str, tuple[reader.RunInfo, dict[int, dict]]]:
    out = {}
    for run_dir in reader.list_run_dirs(cwd / "trackui-runs"):
        info = reader.read_run(run_dir)
        assert info is not None and info.state == "finished"
        records, _, warnings = reader.read_records(run_dir)
        assert warnings == []
        out[info.id] = (info, reader.merge_steps(records))
    return out


def test_metrics_at_different_steps(tmp_path: Path) -> None:
    _run(tmp_path, "metrics-at-different-steps/train.py", "--max_epochs=4", "--validate_every=2")
    ((info, steps),) = _runs(tmp_path).values()
    assert sorted(steps) == [0, 1, 2, 3]
    assert [sorted(steps[s]) for s in (0, 1)] == [["acc", "loss", "val_acc"], ["acc", "loss"]]
    assert "val_acc" in steps[2] and info.config["max_epochs"] == 4


def test_resume_twice_with_its_environment_is_one_run(tmp_path: Path) -> None:
    script = "resume/train.py"
    _run(tmp_path, script, "--num_epochs=1", WANDB_RUN_ID="myrun1")
    _run(
        tmp_path, script, "--start_epoch=10", "--num_epochs=1",
        WANDB_RESUME="allow", WANDB_RUN_ID="myrun1",
    )  # fmt: skip
    runs = _runs(tmp_path)
    assert list(runs) == ["myrun1"]
    info, steps = runs["myrun1"]
    assert sorted(steps) == [0, 1] and info.config["start_epoch"] == 10
    assert "resumed_time" in info.meta


def test_group_and_resume(tmp_path: Path) -> None:
    group = "--group_id=experiment-g1"
    _run(tmp_path, "group-and-resume/train.py", group, "--worker_index=0")
    for epoch in (10, 20):
        _run(
            tmp_path, "group-and-resume/eval.py", group, f"--epoch={epoch}", "--phase_shift=13",
            WANDB_RESUME="allow", WANDB_RUN_ID="g1-eval",
        )  # fmt: skip
    runs = _runs(tmp_path)
    assert len(runs) == 2
    info, steps = runs["g1-eval"]
    assert info.meta["group"] == "experiment-g1" and info.meta["job_type"] == "eval"
    assert [steps[s]["epoch"] for s in sorted(steps)] == [10, 20]
    (train_info, train_steps) = next(v for k, v in runs.items() if k != "g1-eval")
    assert train_info.meta["group"] == "experiment-g1" and len(train_steps) == 50
    assert train_info.config["job_type"] == "training"
