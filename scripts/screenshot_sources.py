"""Other trackers' runs for ``sources.svg``: each written by the real library, as a user's script would.

Usage (``screenshots.py`` does this)::

    python scripts/screenshot_sources.py ROOT

makes ``ROOT`` hold a few of trackui's own runs (copied from the demo root by
the caller) beside one short run of each other tracker, every one logging
``loss`` and ``accuracy``: ``torch.utils.tensorboard.SummaryWriter`` into
``ROOT/tb/``, wandb offline into ``ROOT/wandb/``, MLflow's file store into
``ROOT/mlruns/`` and trackio into ``ROOT/trackio/``. Each writer is its own
process, one after the other (so the runs' start times, and the table's
order, are the same from one regeneration to the next); a writer whose
library is missing is skipped with the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

STEPS = 200

CURVE = """
import math, random
rng = random.Random(NAME)
def values(step):
    decay = math.exp(-step * SPEED / 60.0)
    loss = 2.3 * decay + 0.08 + rng.gauss(0, 0.03 + 0.08 * decay)
    return max(loss, 0.001), min(0.99, 0.98 - 0.85 * decay + rng.gauss(0, 0.01))
"""
"""What every writer logs: a falling ``loss`` and a rising ``accuracy``, per step."""

WRITERS: dict[str, tuple[str, str]] = {
    "tensorboard": (
        "torch",
        """
        from torch.utils.tensorboard import SummaryWriter
        w = SummaryWriter(log_dir=os.path.join(ROOT, "tb", "resnet-tb"))
        for step in range(STEPS):
            loss, acc = values(step)
            w.add_scalar("loss", loss, step)
            w.add_scalar("accuracy", acc, step)
        w.close()
        """,
    ),
    "wandb": (
        "wandb",
        """
        import wandb
        run = wandb.init(project="mnist", name="wandb-offline", config={"lr": 0.003},
                         settings=wandb.Settings(x_disable_stats=True))
        for step in range(STEPS):
            loss, acc = values(step)
            run.log({"loss": loss, "accuracy": acc}, step=step)
        run.finish()
        """,
    ),
    "mlflow": (
        "mlflow",
        """
        import mlflow
        mlflow.set_tracking_uri("file:" + os.path.join(ROOT, "mlruns"))
        mlflow.set_experiment("mnist")
        with mlflow.start_run(run_name="mlflow-run"):
            mlflow.log_params({"lr": 0.001, "batch_size": 64})
            for step in range(STEPS):
                loss, acc = values(step)
                mlflow.log_metrics({"loss": loss, "accuracy": acc}, step=step)
        """,
    ),
    "trackio": (
        "trackio",
        """
        import trackio
        trackio.init(project="mnist", name="trackio-run", config={"lr": 0.002})
        for step in range(STEPS):
            loss, acc = values(step)
            trackio.log({"loss": loss, "accuracy": acc}, step=step)
        trackio.finish()
        """,
    ),
}
"""Per tracker: the module it needs, and the body of its writer script."""


def writer_env(root: Path) -> dict[str, str]:
    """Every tracker writing under ``root``, offline and quiet."""
    env = dict(os.environ)
    env.update(
        WANDB_MODE="offline",
        WANDB_DIR=str(root),
        WANDB_SILENT="true",
        WANDB_CONFIG_DIR=str(root / ".wandb-config"),
        WANDB_CACHE_DIR=str(root / ".wandb-cache"),
        MLFLOW_ALLOW_FILE_STORE="true",
        TRACKIO_DIR=str(root / "trackio"),
        HF_HOME=str(root / ".hf"),
        HF_HUB_OFFLINE="1",
        GIT_PYTHON_REFRESH="quiet",
    )
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def write_foreign_runs(root: Path) -> None:
    """One run of each tracker under ``root``, each by its own process."""
    root.mkdir(parents=True, exist_ok=True)
    env = writer_env(root)
    for i, (name, (module, body)) in enumerate(WRITERS.items()):
        head = f"import os\nROOT = {str(root)!r}\nSTEPS = {STEPS}\nNAME = {name!r}\n"
        head += f"SPEED = {1.0 + 0.3 * i}\n"
        code = head + CURVE + textwrap.dedent(body)
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            why = done.stderr.strip().splitlines()[-1:] or ["no output"]
            print(f"skipped the {name} run ({module}): {why[0]}")


if __name__ == "__main__":
    write_foreign_runs(Path(sys.argv[1]))
