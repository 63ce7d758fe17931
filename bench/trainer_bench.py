"""Time ``trackui train`` against the reference workload and against the floor.

Three measurements of the same work (the reference workload of DESIGN section
8, or a slice of it with ``--train-limit`` / ``--epochs``), in one session on
one device:

* **reference**: ``bench/reference_mnist.py``, the tutorial way (torchvision
  dataset, ``ToTensor`` + ``Normalize``, ``DataLoader``, ``.item()`` per step);
* **trackui train**: the trainer with its defaults, logging into a temporary root;
* **floor**: the trainer's own step replayed on one fixed batch as many times
  as the run takes steps, plus the same validation passes, with nothing else in
  the loop (no shuffling, no logging, no readback).

Each is reported as training time, validation time, their sum, and the whole
process from the command to the finished run; then the ratios. Runs anywhere:
on the CPU (slow, use a slice) and on CUDA (the figures the budget is about).

    python bench/trainer_bench.py                          # full workload, auto device
    python bench/trainer_bench.py --train-limit 10000 --epochs 1 --threads 1
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

BUDGET_SPEEDUP = 30.0
"""The trainer's train+val time must be at most the reference's divided by this."""
BUDGET_VAL_ACC = 0.965
"""The default run's val_accuracy after epoch 5 (MLP)."""
BUDGET_CNN_ACC = 0.99
"""``--arch cnn``'s val_accuracy after epoch 5."""


def _data_dir(arg: Path | None) -> Path:
    if arg is not None:
        return arg
    env = os.environ.get("TRACKUI_DATA_DIR")
    return Path(env) if env else (REPO.parent / "shared" / "mnist").resolve()


def _common(args: argparse.Namespace, data_dir: Path) -> list[str]:
    out = ["--data-dir", str(data_dir), "--epochs", str(args.epochs), "--device", args.device]
    if args.train_limit:
        out += ["--train-limit", str(args.train_limit)]
    if args.threads:
        out += ["--threads", str(args.threads)]
    return out


def run_reference(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """The tutorial-style script in its own process; its JSON line plus the process time."""
    cmd = [sys.executable, str(HERE / "reference_mnist.py"), *_common(args, data_dir)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"reference failed: {proc.stderr.strip().splitlines()[-1:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_s"] = wall
    return result


def run_trainer(args: argparse.Namespace, data_dir: Path, extra: list[str]) -> dict[str, Any]:
    """``trackui train`` in its own process, then its run read back from the store."""
    from trackui.store import reader

    with tempfile.TemporaryDirectory(prefix="trainer-bench-") as root:
        cmd = [
            sys.executable,
            "-m",
            "trackui.trainer.train",
            *_common(args, data_dir),
            "--dir",
            root,
            *extra,
        ]
        env = {**os.environ, "TRACKUI_SILENT": "1", "TRACKUI_NO_DOWNLOAD": "1"}
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"trackui train failed: {proc.stderr.strip()}")
        (run_dir,) = reader.list_run_dirs(Path(root))
        info = reader.read_run(run_dir)
        assert info is not None
        records, _, _ = reader.read_records(run_dir)
        epochs = [r.metrics for r in records if "val_accuracy" in r.metrics]
        return {
            "device": info.config.get("device"),
            "cuda_graph": info.config.get("cuda_graph"),
            "train_size": info.config.get("train_size"),
            "setup_s": info.summary.get("setup_time_s"),
            "train_s": info.summary.get("train_time_s"),
            "val_s": info.summary.get("val_time_s"),
            "val_accuracy": epochs[-1]["val_accuracy"] if epochs else math.nan,
            "samples_per_s": epochs[-1].get("samples_per_s") if epochs else math.nan,
            "process_s": wall,
            "loss_points": sum(1 for r in records if "loss" in r.metrics),
        }


def run_floor(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """The floor in its own process, like the other two."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *_common(args, data_dir), "--floor-only"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"floor failed: {proc.stderr.strip()}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def floor(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """The bare step replayed, and the bare validation passes, in this process."""
    import torch

    from trackui.trainer import data as mnist
    from trackui.trainer.engine import Stepper, evaluate, make_optimizer
    from trackui.trainer.model import Net

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(
        ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    )
    data = mnist.to_device(
        mnist.load_arrays(data_dir, download=False), device, train_limit=args.train_limit
    )
    torch.manual_seed(1)
    net = Net("mlp").to(device)
    stepper = Stepper(net, make_optimizer(net, 1e-3, device), data, 64)
    steps = args.epochs * math.ceil(data.n_train / 64)
    idx = torch.arange(64, device=device) % data.n_train

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        stepper.replay_only(idx)
    sync()
    t1 = time.perf_counter()
    for _ in range(args.epochs):
        evaluate(net, data.x_test, data.y_test, 1000)
    t2 = time.perf_counter()
    return {
        "device": str(device),
        "cuda_graph": stepper.uses_graph,
        "steps": steps,
        "train_s": t1 - t0,
        "val_s": t2 - t1,
    }


def _fmt(v: Any, spec: str = ".2f") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return format(v, spec)


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and print them with their budgets."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--train-limit", type=int, default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--skip-reference", action="store_true")
    p.add_argument("--repeat", type=int, default=1, help="rounds; each figure is the fastest round")
    p.add_argument("--cnn", action="store_true", help="also run --arch cnn (on by default on CUDA)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--floor-only", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    data_dir = _data_dir(args.data_dir)
    if args.floor_only:
        print(json.dumps(floor(args, data_dir)))
        return 0

    import torch

    cuda = (
        torch.cuda.is_available()
        and args.device in ("auto", "cuda")
        or args.device.startswith("cuda")
    )
    device_name = torch.cuda.get_device_name() if cuda else f"CPU ({os.cpu_count()} cores)"
    print(
        f"trainer benchmark: {device_name}, torch {torch.__version__}, "
        f"{args.epochs} epochs, train images: {args.train_limit or 60000}, "
        f"threads: {args.threads or torch.get_num_threads()}",
        flush=True,
    )
    results: dict[str, Any] = {
        "device_name": device_name,
        "torch": torch.__version__,
        "epochs": args.epochs,
        "train_limit": args.train_limit,
    }

    def best(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
        if old is None or new["train_s"] + new["val_s"] < old["train_s"] + old["val_s"]:
            return new
        return old

    # Interleaved repeats, keeping each one's fastest: a busy machine slows
    # whichever runs during a burst, not one of them always.
    for i in range(args.repeat):
        results["trainer"] = best(results.get("trainer"), run_trainer(args, data_dir, []))
        if not args.skip_reference:
            results["reference"] = best(results.get("reference"), run_reference(args, data_dir))
        results["floor"] = best(results.get("floor"), run_floor(args, data_dir))
        print(f"  round {i + 1}/{args.repeat} done", flush=True)
    if args.cnn or cuda:
        results["cnn"] = run_trainer(args, data_dir, ["--arch", "cnn"])

    rows = [
        ("reference (DataLoader)", results.get("reference")),
        ("trackui train", results["trainer"]),
    ]
    rows.append(("floor (step replay)", results["floor"]))
    if "cnn" in results:
        rows.append(("trackui train --arch cnn", results["cnn"]))
    print()
    print(f"{'':26} {'train s':>9} {'val s':>8} {'train+val':>10} {'process s':>10} {'val_acc':>8}")
    for label, r in rows:
        if r is None:
            continue
        both = (r["train_s"] or 0) + (r["val_s"] or 0)
        print(
            f"{label:26} {_fmt(r['train_s'], '.3f'):>9} {_fmt(r['val_s'], '.3f'):>8} "
            f"{both:>10.3f} {_fmt(r.get('process_s')):>10} {_fmt(r.get('val_accuracy'), '.4f'):>8}"
        )
    t = results["trainer"]
    t_both = t["train_s"] + t["val_s"]
    f = results["floor"]
    f_both = f["train_s"] + f["val_s"]
    print()
    print(f"trainer vs floor: {t_both / f_both:.2f}x the floor's time (train+val)")
    ref = results.get("reference")
    if ref is not None:
        r_both = ref["train_s"] + ref["val_s"]
        speedup = r_both / t_both
        results["speedup"] = speedup
        verdict = "meets" if speedup >= BUDGET_SPEEDUP else "misses"
        print(
            f"reference vs trainer: {speedup:.1f}x less time (train+val) "
            f"[budget: {BUDGET_SPEEDUP:.0f}x, {verdict}]; "
            f"whole process {ref['process_s'] / t['process_s']:.1f}x"
        )
    if args.epochs >= 5 and not args.train_limit:
        ok = t["val_accuracy"] >= BUDGET_VAL_ACC
        print(
            f"val_accuracy at epoch 5: {t['val_accuracy']:.4f} [budget >= {BUDGET_VAL_ACC}, {'meets' if ok else 'misses'}]"
        )
        if "cnn" in results:
            ok = results["cnn"]["val_accuracy"] > BUDGET_CNN_ACC
            print(
                f"--arch cnn val_accuracy: {results['cnn']['val_accuracy']:.4f} "
                f"[budget > {BUDGET_CNN_ACC}, {'meets' if ok else 'misses'}]"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
