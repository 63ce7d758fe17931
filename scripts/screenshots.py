"""Generate ``screenshots/*.svg``: the real app over real runs made with the logging API.

Usage::

    python scripts/screenshots.py [--out screenshots] [--root DIR] [--only NAME ...]

The runs are a small learning-rate / width sweep, each logged by its own
training-script process through ``trackui.init`` / ``log`` / ``finish`` (with
console output, a saved file, system metrics, a weight histogram, a sample
image and a precision-recall curve), from
``/tmp/trackui-demo/mnist`` into its ``trackui-runs`` (emptied first), unless
``--root`` is given. The diverged run logs a NaN and fails, which the watches
report (``alerts.svg``). The screenshots of other trackers' runs
(``sources.svg``, ``compare-sources.svg``) use a second root,
``/tmp/trackui-demo/experiments``: two of the sweep's runs beside a run written
by each of TensorBoard, wandb, MLflow and trackio (``screenshot_sources.py``).
The index and the other trackers' mirror go to a fresh ``XDG_CACHE_HOME``.
Each screenshot drives the app with ``run_test`` and key presses, waits for
every worker and chart, then calls ``save_screenshot``. ``serve-browser.png``
is the same app served by ``trackui serve`` in a headless Chromium (skipped,
with the reason, where there is none).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

REPO = Path(__file__).resolve().parents[1]
DEMO_DIR = Path("/tmp/trackui-demo")
"""Where the runs are logged (emptied first): ``mnist/`` holds the script and its ``trackui-runs``."""

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
    """Log the sweep into ``root``: one training-script process per run, as a user would."""
    import subprocess

    workdir = root.parent
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(__file__, workdir / "train.py")
    env = {**os.environ, "TRACKUI_SILENT": "1"}
    env.pop("TRACKUI_CONSOLE", None)
    for spec in SWEEP:
        argv = [sys.executable, "train.py", "--name", spec["name"], "--lr", str(spec["lr"])]
        argv += ["--hidden", str(spec["hidden"]), "--epochs", str(spec["epochs"])]
        argv += ["--arch", spec.get("arch", "mlp"), "--root", os.path.relpath(root, workdir)]
        if spec.get("fail"):
            argv.append("--diverge")
        subprocess.run(argv, cwd=workdir, env=env, check=False)
        time.sleep(1.05)  # distinct start times, so the table's order reads naturally


def train(argv: Sequence[str]) -> int:
    """One run of the sweep (this file runs as ``train.py`` for that)."""
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--arch", default="mlp")
    p.add_argument("--root", required=True)
    p.add_argument("--diverge", action="store_true")
    a = p.parse_args(argv)
    import trackui

    rng = random.Random(a.name)
    run = trackui.init(
        project="mnist",
        name=a.name,
        group="sweep-lr",
        tags=[a.arch],
        dir=a.root,
        config={
            "lr": a.lr,
            "batch_size": 64,
            "epochs": a.epochs,
            "model": {"arch": a.arch, "hidden": a.hidden},
            "optimizer": "adam",
        },
    )
    run.define_metric("val_accuracy", summary="max")
    speed = {1e-3: 1.0, 3e-3: 1.6, 1e-2: 2.2}.get(a.lr, 1.0) * (1.3 if a.hidden > 128 else 1.0)
    floor = 0.02 if a.arch == "cnn" else 0.06 + (0.03 if a.lr >= 1e-2 else 0.0)
    step = 0
    for epoch in range(a.epochs):
        for _ in range(STEPS_PER_EPOCH):
            if a.diverge and step > 420:
                run.log({"loss": float("nan")}, step=step)
                print(f"error: loss is nan at step {step}", file=sys.stderr)
                run.finish(exit_code=1)
                return 1
            decay = math.exp(-step * speed / 250.0)
            loss = 2.3 * decay + floor + rng.gauss(0, 0.04 + 0.1 * decay)
            if a.diverge:
                loss = 2.3 * math.exp(step / 300.0) + rng.gauss(0, 0.2)
            data: dict[str, Any] = {"loss": max(loss, 0.001)}
            if step % 25 == 0:
                data["system/gpu_mem_gb"] = 1.2 + a.hidden / 512 + rng.random() * 0.05
                data["system/gpu_util"] = 70 + 20 * rng.random()
                data["samples_per_s"] = 52000 * (0.97 + 0.03 * rng.random())
            if step % 100 == 99:
                width = 0.5 + 1.5 * decay
                data["weights"] = trackui.Histogram([rng.gauss(0, width) for _ in range(400)])
            run.log(data, step=step)
            step += 1
            time.sleep(0.001)
        acc = 1 - (floor + 0.5 * math.exp(-(epoch + 1) * speed * 0.9)) * 0.5
        run.log(
            {
                "epoch": epoch + 1,
                "val_loss": floor * 1.4 + 0.5 * math.exp(-(epoch + 1) * speed),
                "val_accuracy": min(0.995, acc),
                "train_accuracy": min(0.999, acc + 0.005),
                "samples": trackui.Image(sample_image(rng), caption=f"epoch {epoch + 1}"),
            },
            step=step - 1,
        )
        print(f"epoch {epoch + 1}/{a.epochs}  val_accuracy {acc:.4f}")
    # Scores that rank the true class first more often as the model is better.
    truth = [rng.randrange(3) for _ in range(60)]
    edge = 0.1 + (0.25 if a.arch == "cnn" else 0.0) + (0.1 if a.lr <= 3e-3 else 0.0)
    scores = [[rng.random() + (edge if c == t else 0.0) for c in range(3)] for t in truth]
    probs = [[v / sum(row) for v in row] for row in scores]
    labels = ["zero", "one", "two"]
    run.log({"val/pr": trackui.plot.pr_curve(truth, probs, labels=labels, title="Validation PR")})
    model = Path(f"{a.name}.pt")
    model.write_bytes(os.urandom(4096))
    run.save(str(model))
    run.finish()
    return 0


def sample_image(rng: random.Random) -> Any:
    """A small RGB picture for the Media tab: a blurred blob on a dark field."""
    import numpy as np

    y, x = np.mgrid[0:28, 0:28]
    cy, cx = 14 + rng.uniform(-5, 5), 14 + rng.uniform(-5, 5)
    blob = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / 40.0)
    img = np.stack([blob * 255, blob * 180 + 30, (1 - blob) * 90], axis=-1)
    return img.astype(np.uint8)


async def settle(app: Any, pilot: Any, timeout: float = 30.0) -> None:
    """Wait until no worker runs and every visible chart shows its current picture."""
    from textual.worker import WorkerState

    from trackui.tui.widgets.curves import CurvesPanel
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
        busy = busy or any(p.busy for p in app.screen.query(CurvesPanel))
        quiet = 0 if busy else quiet + 1


class Shot(NamedTuple):
    """One screenshot: its name, terminal size, the keys pressed, and what it starts from."""

    name: str
    size: tuple[int, int]
    keys: Sequence[str] = ()
    prefs: dict[str, Any] | None = None
    """Preferences (``ui.json``) set for this shot only, as if chosen in an earlier session."""
    root: str = "demo"
    """``demo``: the sweep's root; ``sources``: the root with other trackers' runs too."""


SHOTS: tuple[Shot, ...] = (
    Shot("runs", (120, 36), ("down", "space", "space", "down", "space", "up", "up", "up")),
    Shot("runs-wide", (200, 60), ("space", "down", "space", "down", "space", "down", "space")),
    Shot("runs-80x24", (80, 24)),
    Shot("filter", (120, 36), ("slash", *"val_accuracy>0.97", "enter")),
    Shot("run-overview", (120, 36), ("down", "enter")),
    Shot("run-charts", (120, 36), ("down", "enter", "4")),
    Shot("run-system", (120, 36), ("down", "enter", "5")),
    Shot("run-output", (120, 36), ("down", "enter", "7")),
    Shot("run-media", (120, 36), ("down", "enter", "8")),
    Shot("run-media-image", (120, 36), ("down", "enter", "8", "down")),
    Shot("run-media-plot", (120, 36), ("down", "enter", "8", "down", "down")),
    Shot("compare", (120, 36), ("space", "space", "space", "space", "c")),
    Shot("help", (120, 36), ("question_mark",)),
    # The runs grouped by learning rate: the cursor on the group of three, charted
    # as its mean with a min-max band.
    Shot("groups", (120, 36), ("down",), prefs={"group_by": ["lr"]}),
    Shot("alerts", (120, 36), ("w",)),
    # Three runs charted; Tab to the table's first chart, again to the loss chart,
    # and its cursor moved to the middle.
    Shot(
        "chart-cursor",
        (120, 36),
        ("down", "space", "down", "space", "down", "space", "tab", "tab", "home", *["right"] * 26),
    ),
    # The other trackers' runs (newest first) above trackui's own two; the four
    # selected, their curves drawn together.
    Shot("sources", (120, 36), ("space",) * 4, root="sources"),
    # The TensorBoard run (fourth row) against trackui's baseline (space moves down a row).
    Shot(
        "compare-sources",
        (120, 36),
        ("down", "down", "down", "space", "down", "space", "c"),
        root="sources",
    ),
)
"""Every screenshot, in the order they are taken."""

SOURCES_OWN_RUNS = ("baseline", "cnn")
"""The demo runs copied into the sources root beside the other trackers' runs."""


async def shoot(root: Path, out: Path, shot: Shot, shown_as: str) -> None:
    from trackui.tui.app import make_app
    from trackui.tui.prefs import prefs_path

    saved = prefs_path(root)
    before = saved.read_bytes() if saved.exists() else None
    if shot.prefs is not None:
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps({**json.loads(before or b"{}"), **shot.prefs}))
    try:
        app = make_app(root, watch=False)
        app.animation_level = "none"
        async with app.run_test(size=shot.size) as pilot:
            await settle(app, pilot)
            for key in shot.keys:
                await pilot.press(key)
                await settle(app, pilot)
            app.sub_title = shown_as
            await settle(app, pilot)
            app.save_screenshot(f"{shot.name}.svg", path=str(out))
    finally:
        # Later shots start from the root's preferences as they were.
        if before is None:
            saved.unlink(missing_ok=True)
        else:
            saved.write_bytes(before)
    print(f"wrote {out / (shot.name + '.svg')}")


def make_sources_root(demo_root: Path, root: Path) -> None:
    """``root``: a few of the demo's runs beside a run of each other tracker."""
    from screenshot_sources import write_foreign_runs

    from trackui.store.layout import META

    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for run_dir in sorted(demo_root.glob("run-*")):
        meta = json.loads((run_dir / META).read_text())
        if meta.get("name") in SOURCES_OWN_RUNS:
            shutil.copytree(run_dir, root / run_dir.name)
    write_foreign_runs(root)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--name" in argv:
        return train(argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    parser.add_argument("--root", type=Path, default=None, help="reuse this root (made if missing)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="take only these screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    # Images as half blocks: an SVG cannot hold Kitty or Sixel graphics.
    os.environ["TRACKUI_IMAGES"] = "halfcell"
    if args.root is not None:
        root = args.root
    else:
        # A fixed place rather than a random temporary one: the pictures show
        # the root, the runs' command and working directory, which then read
        # as a user's would (``cd mnist; python train.py``) and stay the same
        # from one regeneration to the next.
        shutil.rmtree(DEMO_DIR, ignore_errors=True)
        root = DEMO_DIR / "mnist" / "trackui-runs"
    if not root.exists() or not any(root.glob("run-*")):
        make_runs(root)
    shots = [s for s in SHOTS if not args.only or s.name in args.only]
    # A fresh cache, so the index and the other trackers' mirror are made anew.
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="trackui-shots-cache-")
    sources_root = DEMO_DIR / "experiments"
    if any(s.root == "sources" for s in shots):
        make_sources_root(root, sources_root)
    for shot in shots:
        if shot.root == "sources":
            asyncio.run(shoot(sources_root, args.out, shot, "~/experiments"))
        else:
            asyncio.run(shoot(root, args.out, shot, "~/mnist/trackui-runs"))
    if not args.only or "serve-browser" in args.only:
        browser_shot(root, args.out)
    return 0


def browser_shot(root: Path, out: Path) -> None:
    """``serve-browser.png``: the runs table as a browser shows ``trackui serve``."""
    sys.path.insert(0, str(REPO / "tests" / "browser"))
    from browser_support import browser, free_port, missing, served, wait_for_text

    why = missing()
    if why is not None:
        print(f"skipped serve-browser.png: {why}")
        return
    port = free_port()
    with served(root, port), browser() as page:
        page.get(f"http://localhost:{port}")
        wait_for_text(page, [spec["name"] for spec in SWEEP])
        time.sleep(4.0)  # the page fades the terminal in; the charts are drawn
        page.save_screenshot(str(out / "serve-browser.png"))
    print(f"wrote {out / 'serve-browser.png'}")


if __name__ == "__main__":
    raise SystemExit(main())
