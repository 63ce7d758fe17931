"""``trackui train``: train MNIST and log the run into a trackui root.

The shape is that of PyTorch's MNIST example (``Net``, ``train()``,
``test()``, ``main()`` with argparse and ``--dry-run``), with the data held on
the device and batches cut there by index, the step replayed from a CUDA graph
on CUDA, and metrics read back once per logging interval. It logs only through
the public trackui API, like any training script.

The defaults are the reference workload: an MLP 784-128-10, Adam at 1e-3,
batch 64 reshuffled each epoch (the last short batch kept), normalisation
(0.5, 0.5), 5 epochs, validation on the 10,000 test images after each epoch.

This module runs the command: one run per configuration, started before the
data is read so that any failure is a ``failed`` run with its error in
``output.log``. The options are in ``cli_args``, the sweep (through
``trackui.sweep``/``trackui.agent``) in ``sweeps``, the
loop in ``loop``, the console output in ``progress``.

Run ``trackui train --help`` (or ``python -m trackui.trainer.train --help``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import trackui
from trackui.console import escape as _safe
from trackui.trainer.cli_args import (
    LR_DECAY,
    PROG,
    SWEEPABLE,
    UsageError,
    build_parser,
    lr_decay,
)
from trackui.trainer.loop import LoopState, Timings, fit, test, train
from trackui.trainer.progress import Progress
from trackui.trainer.sweeps import check_sweep_options, parse_axes, parse_sweep, run_sweep

if TYPE_CHECKING:
    import torch

    from trackui.trainer.data import DeviceData

__all__ = [
    "LR_DECAY",
    "PROG",
    "SWEEPABLE",
    "LoopState",
    "Progress",
    "Timings",
    "UsageError",
    "build_parser",
    "lr_decay",
    "main",
    "parse_sweep",
    "run_config",
    "run_one",
    "test",
    "train",
]

DEFAULT_THREADS = 1
"""CPU threads for torch when ``--threads`` is not given (see docs/trainer.md for
the measurement): the MLP's steps are too small to gain from more, and on a
busy machine more threads cost far more than they give."""

LoadData = Callable[[], "tuple[DeviceData, float]"]
"""Reads MNIST onto the device (once for a whole sweep); returns it and the seconds it took."""


class _Reported(Exception):
    """A failure already told on stderr (and so in the run's ``output.log``)."""


def _resolve_device(spec: str) -> torch.device:
    import torch

    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(spec)
    except (RuntimeError, ValueError):
        raise UsageError(
            f"--device: unknown device {spec!r} (use auto, cpu, cuda or cuda:N)"
        ) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError("--device: CUDA is not available here; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(
                f"--device: there is no {spec} ({torch.cuda.device_count()} CUDA devices)"
            )
    elif device.type != "cpu":
        raise UsageError(f"--device: {spec!r} is not supported (use auto, cpu, cuda or cuda:N)")
    return device


def run_config(
    args: argparse.Namespace,
    device: torch.device,
    data: DeviceData | None = None,
    cuda_graph: bool | None = None,
) -> dict[str, Any]:
    """The config a run logs: the workload first, then how it ran.

    Without ``data`` (before it is read) the sizes are None, and without
    ``cuda_graph`` so is that: the run starts with them and fills them in.
    """
    return {
        "arch": args.arch,
        "hidden": args.hidden,
        "epochs": args.epochs,
        "lr": args.lr,
        "lr_decay": lr_decay(args),
        "batch_size": args.batch_size,
        "test_batch_size": args.test_batch_size,
        "optimizer": "adam",
        "loss": "cross_entropy",
        "shuffle": True,
        "drop_last": False,
        "normalize": {"mean": 0.5, "std": 0.5},
        "train_size": data.n_train if data is not None else None,
        "test_size": data.n_test if data is not None else None,
        "seed": args.seed,
        "train_limit": args.train_limit,
        "test_limit": args.test_limit,
        "device": str(device),
        "amp": args.amp,
        "compile": args.compile,
        "cuda_graph": cuda_graph,
        "log_every": args.log_every,
        "dry_run": args.dry_run,
    }


def run_one(
    args: argparse.Namespace,
    load_data: LoadData,
    device: torch.device,
    *,
    name: str | None,
    group: str | None,
    tags: list[str],
    out: TextIO | None = None,
) -> dict[str, Any]:
    """Train and validate one configuration as one run; returns its final figures.

    The run starts first, so that reading the data, building the model and
    training all happen inside it: a failure is told on stderr (and so lands
    in ``output.log``) and leaves the run ``failed``.

    Raises:
        DataError: the data could not be read (told already).
        _Reported: training failed (told already).
    """
    from trackui.trainer.data import DataError

    with trackui.init(
        project=args.project,
        name=name,
        config=run_config(args, device),
        dir=args.dir,
        tags=tags,
        group=group,
        job_type="train",
        reinit=True,
        settings={"x_disable_stats": True},  # sampled between steps instead (sysmetrics)
    ) as run:
        try:
            return _train_run(args, run, load_data, device, name=name, out=out)
        except DataError as e:
            print(f"{PROG}: error: {_safe(e)}", file=sys.stderr)
            raise
        except Exception as e:
            if os.environ.get("TRACKUI_DEBUG"):
                raise
            line = f"{PROG}: error: training failed: {_safe(type(e).__name__)}: {_safe(e)}"
            print(line.splitlines()[0], file=sys.stderr)
            raise _Reported from e


def _train_run(
    args: argparse.Namespace,
    run: trackui.Run,
    load_data: LoadData,
    device: torch.device,
    *,
    name: str | None,
    out: TextIO | None,
) -> dict[str, Any]:
    import math

    import torch

    from trackui.trainer.data import DeviceData
    from trackui.trainer.engine import Stepper, make_optimizer
    from trackui.trainer.model import Net

    full_data, data_s = load_data()
    t_setup = time.perf_counter()
    limit, test_limit = args.train_limit, args.test_limit
    data = DeviceData(
        full_data.x_train[:limit],
        full_data.y_train[:limit],
        full_data.x_test[:test_limit],
        full_data.y_test[:test_limit],
    )
    torch.manual_seed(args.seed)
    net = Net(args.arch, hidden=args.hidden).to(device)
    model: torch.nn.Module = torch.compile(net) if args.compile else net  # type: ignore[assignment]
    optimizer = make_optimizer(net, args.lr, device)
    stepper = Stepper(
        model, optimizer, data, args.batch_size, amp=args.amp, cuda_graph=args.cuda_graph
    )
    steps_per_epoch = 1 if args.dry_run else math.ceil(data.n_train / args.batch_size)
    timings = Timings(setup=time.perf_counter() - t_setup)
    full_config = run_config(args, device, data, stepper.uses_graph)
    run.config.update({k: full_config[k] for k in ("train_size", "test_size", "cuda_graph")})

    progress = Progress(out, args.epochs, steps_per_epoch)
    mode = "CUDA graph" if stepper.uses_graph else "eager"
    progress.line(
        f"{PROG}: {args.arch} on {device} ({mode}), {data.n_train} train / {data.n_test} test "
        f"images, batch {args.batch_size}, {args.epochs} epoch{'' if args.epochs == 1 else 's'}"
        + (f" [{_safe(name)}]" if name else "")
    )
    if stepper.graph_error:
        progress.line(
            f"{PROG}: CUDA graph capture failed, running eagerly ({_safe(stepper.graph_error)})"
        )
    run.define_metric("epoch")
    per_epoch = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "samples_per_s")
    for key in (*per_epoch, "lr"):
        run.define_metric(key, step_metric="epoch")
    run.define_metric("val_accuracy", step_metric="epoch", summary="max", goal="maximize")
    run.define_metric("val_loss", step_metric="epoch", summary="min", goal="minimize")
    run.define_metric("loss", summary="min", goal="minimize")
    final, best = fit(args, run, device, stepper, model, optimizer, data, progress, timings)
    run.summary["train_time_s"] = timings.train
    run.summary["val_time_s"] = timings.val
    run.summary["setup_time_s"] = timings.setup
    run.summary["data_time_s"] = data_s
    run.summary["best_val_accuracy"] = best
    with tempfile.TemporaryDirectory(prefix="trackui-train-") as tmp:
        path = Path(tmp) / "model.pt"
        torch.save(net.state_dict(), path)
        run.save(str(path), base_path=tmp, policy="now")
    progress.line(
        f"{PROG}: done: val_accuracy {final.get('val_accuracy', float('nan')):.4f}, "
        f"train {timings.train:.2f} s, validation {timings.val:.2f} s, "
        f"setup {timings.setup:.2f} s; run {_safe(run.name)} in {_safe(run.root or '')}"
    )
    return {
        **final,
        "run_id": run.id,
        "train_time_s": timings.train,
        "val_time_s": timings.val,
        "setup_time_s": timings.setup,
        "cuda_graph": stepper.uses_graph,
    }


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run ``trackui train`` with ``argv`` (default: ``sys.argv[1:]``).

    Args:
        argv: the command-line arguments after ``train``.
        out: where progress goes (default: ``sys.stdout`` as it is when each
            line is written, so that a run's console capture sees it).

    Returns:
        0 on success; 2 on a usage error or missing data (one line on stderr);
        1 if training failed; 130 if interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
        axes = parse_axes(args.sweep, parser)
        check_sweep_options(args)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else 0
    try:
        import torch
    except ImportError:
        print(
            f"{PROG}: error: needs PyTorch; install it with pip install 'trackui[train]'"
            " (in a clone of trackui: pip install -e '.[train]')",
            file=sys.stderr,
        )
        return 2
    from trackui.trainer import data as mnist

    torch.set_num_threads(args.threads or DEFAULT_THREADS)
    try:
        device = _resolve_device(args.device)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    data_dir = args.data_dir if args.data_dir is not None else mnist.default_data_dir()
    try:
        # Files missing with downloads off: a usage error, told before any run starts.
        mnist.check_available(data_dir)
    except mnist.DataError as e:
        print(f"{PROG}: error: {_safe(e)}", file=sys.stderr)
        return 2
    loaded: list[tuple[DeviceData, float]] = []

    def load_data() -> tuple[DeviceData, float]:
        if not loaded:
            t_data = time.perf_counter()
            arrays = mnist.load_arrays(
                data_dir, note=lambda text: print(f"{PROG}: {_safe(text)}", file=sys.stderr)
            )
            full = mnist.to_device(arrays, device)
            loaded.append((full, time.perf_counter() - t_data))
        return loaded[0]

    tags = [t.strip() for item in (args.tags or []) for t in item.split(",") if t.strip()]

    def attempt(run_args: argparse.Namespace, name: str | None, group: str | None) -> int:
        try:
            run_one(run_args, load_data, device, name=name, group=group, tags=tags, out=out)
        except mnist.DataError:
            return 2
        except _Reported:
            return 1
        return 0

    try:
        if axes:
            return run_sweep(args, axes, attempt)
        return attempt(args, args.name, args.group)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
