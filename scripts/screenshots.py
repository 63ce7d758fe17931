"""Generate ``screenshots/*.svg``: the real app over real runs made with the logging API.

Usage::

    python scripts/screenshots.py [--out screenshots] [--root DIR]

The runs are a small learning-rate / width sweep logged through
``trackui.init`` / ``log`` / ``finish`` (with console output, saved files and
system metrics), written into a temporary root unless ``--root`` is given.
Each screenshot drives the app with ``run_test`` and key presses, waits for
every worker and chart, then calls ``save_screenshot``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

SWEEP: tuple[dict[str, Any], ...] = (
    {"name": "baseline", "lr": 1e-3, "hidden": 128, "epochs": 5},
    {"name": "lr-3e-3", "lr": 3e-3, "hidden": 128, "epochs": 5},
    {"name": "lr-1e-2", "lr": 1e-2, "hidden": 128, "epochs": 5},
    {"name": "wide-512", "lr": 1e-3, "hidden": 512, "epochs": 5},
    {"name": "cnn", "lr": 1e-3, "hidden": 128, "epochs": 5, "arch": "cnn"},
    {"name": "diverged", "lr": 0.5, "hidden": 128, "epochs": 2, "fail": True},
)
STEPS_PER_EPOCH = 300


def make_runs(root: Path) -> None:
    """Log the sweep into ``root`` through the public API."""
    os.environ["TRACKUI_SILENT"] = "1"
    import trackui

    rng = random.Random(7)
    for spec in SWEEP:
        arch = spec.get("arch", "mlp")
        run = trackui.init(
            project="mnist",
            name=spec["name"],
            group="sweep-lr",
            tags=[arch],
            dir=str(root),
            config={
                "lr": spec["lr"],
                "batch_size": 64,
                "epochs": spec["epochs"],
                "model": {"arch": arch, "hidden": spec["hidden"]},
                "optimizer": "adam",
            },
        )
        run.define_metric("val_accuracy", summary="max")
        speed = {1e-3: 1.0, 3e-3: 1.6, 1e-2: 2.2}.get(spec["lr"], 1.0) * (
            1.3 if spec["hidden"] > 128 else 1.0
        )
        floor = 0.02 if arch == "cnn" else 0.06 + (0.03 if spec["lr"] >= 1e-2 else 0.0)
        try:
            step = 0
            for epoch in range(spec["epochs"]):
                for _ in range(STEPS_PER_EPOCH):
                    if spec.get("fail") and step > 420:
                        raise FloatingPointError("loss is nan")
                    decay = math.exp(-step * speed / 250.0)
                    loss = 2.3 * decay + floor + rng.gauss(0, 0.04 + 0.1 * decay)
                    if spec.get("fail"):
                        loss = 2.3 * math.exp(step / 300.0) + rng.gauss(0, 0.2)
                    data: dict[str, Any] = {"loss": max(loss, 0.001)}
                    if step % 25 == 0:
                        data["system/gpu_mem_gb"] = 1.2 + spec["hidden"] / 512 + rng.random() * 0.05
                        data["system/gpu_util"] = 70 + 20 * rng.random()
                        data["samples_per_s"] = 52000 * (0.9 + 0.2 * rng.random())
                    run.log(data, step=step)
                    step += 1
                acc = 1 - (floor + 0.5 * math.exp(-(epoch + 1) * speed * 0.9)) * 0.5
                run.log(
                    {
                        "epoch": epoch + 1,
                        "val_loss": floor * 1.4 + 0.5 * math.exp(-(epoch + 1) * speed),
                        "val_accuracy": min(0.995, acc),
                        "train_accuracy": min(0.999, acc + 0.005),
                    },
                    step=step - 1,
                )
                print(f"epoch {epoch + 1}/{spec['epochs']}  val_accuracy {acc:.4f}")
            model = root / f"{spec['name']}.pt"
            model.write_bytes(os.urandom(4096))
            run.save(str(model), base_path=str(root))
            run.finish()
        except FloatingPointError as e:
            print(f"error: {e}", file=sys.stderr)
            run.finish(exit_code=1)
        time.sleep(1.05)  # distinct start times, so the table's order reads naturally


async def settle(app: Any, pilot: Any, timeout: float = 30.0) -> None:
    """Wait until no worker runs and every visible chart shows its current picture."""
    from textual.worker import WorkerState

    from trackui.tui.widgets.metric_plot import MetricPlot

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet = 0
    while loop.time() < deadline and quiet < 3:
        await pilot.pause(0.05)
        visible = app.screen._compositor.visible_widgets
        busy = any(
            w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers
        ) or any(not p.drawn for p in app.screen.query(MetricPlot) if p in visible)
        quiet = 0 if busy else quiet + 1


SHOTS: tuple[tuple[str, tuple[int, int], Sequence[str]], ...] = (
    ("runs", (120, 36), ("down", "space", "space", "down", "space", "up", "up", "up")),
    ("runs-wide", (200, 60), ("space", "down", "space", "down", "space", "down", "space")),
    ("runs-80x24", (80, 24), ()),
    ("filter", (120, 36), ("slash", *"val_accuracy>0.97", "enter")),
    ("run-overview", (120, 36), ("down", "enter")),
    ("run-charts", (120, 36), ("down", "enter", "4")),
    ("run-system", (120, 36), ("down", "enter", "5")),
    ("run-output", (120, 36), ("down", "enter", "7")),
    ("compare", (120, 36), ("space", "space", "space", "space", "c")),
    ("help", (120, 36), ("question_mark",)),
)


async def shoot(
    root: Path, out: Path, name: str, size: tuple[int, int], keys: Sequence[str]
) -> None:
    from trackui.tui.app import make_app

    app = make_app(root, watch=False)
    app.animation_level = "none"
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        for key in keys:
            await pilot.press(key)
            await settle(app, pilot)
        app.sub_title = "~/mnist/trackui-runs"
        await settle(app, pilot)
        app.save_screenshot(f"{name}.svg", path=str(out))
    print(f"wrote {out / (name + '.svg')}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    parser.add_argument("--root", type=Path, default=None, help="reuse this root (made if missing)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root or Path(tmp) / "trackui-runs"
        if not root.exists() or not any(root.glob("run-*")):
            make_runs(root)
        for name, size, keys in SHOTS:
            asyncio.run(shoot(root, args.out, name, size, keys))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
