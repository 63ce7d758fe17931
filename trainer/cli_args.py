"""The command line of ``trackui train``: its options, their checks, and usage errors."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import NoReturn

PROG = "trackui train"

SWEEPABLE: dict[str, str] = {
    "epochs": "epochs",
    "lr": "lr",
    "lr_decay": "lr_decay",
    "batch_size": "batch_size",
    "test_batch_size": "test_batch_size",
    "arch": "arch",
    "hidden": "hidden",
    "seed": "seed",
    "train_limit": "train_limit",
    "test_limit": "test_limit",
    "log_every": "log_every",
    "amp": "amp",
}
"""Options ``--sweep`` accepts (``batch-size`` and ``batch_size`` both work)."""


LR_DECAY: dict[str, float] = {"mlp": 1.0, "cnn": 0.7}
"""Each network's default ``--lr-decay``: none for the reference MLP; the CNN's
as in PyTorch's MNIST example (``StepLR(step_size=1, gamma=0.7)``)."""


def lr_decay(args: argparse.Namespace) -> float:
    """The per-epoch learning-rate factor a run uses: ``--lr-decay``, else its network's default."""
    return float(args.lr_decay) if args.lr_decay is not None else LR_DECAY[args.arch]


class UsageError(Exception):
    """A bad command line; the message is one line."""


class _Parser(argparse.ArgumentParser):
    # argparse prints the whole usage and exits; the CLI contract is one line and a return code.
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``trackui train``."""
    p = _Parser(
        prog=PROG,
        description="Train MNIST and log the run into a trackui root. "
        "The defaults reproduce the reference workload (MLP 784-128-10, Adam 1e-3, "
        "batch 64, 5 epochs).",
    )
    t = p.add_argument_group("training")
    t.add_argument("--epochs", type=_positive_int, default=5, help="epochs (default: 5)")
    t.add_argument(
        "--lr", type=_positive_float, default=1e-3, help="Adam learning rate (default: 1e-3)"
    )
    t.add_argument(
        "--lr-decay",
        type=_positive_float,
        default=None,
        metavar="GAMMA",
        help="multiply the learning rate by GAMMA after each epoch "
        "(default: 1, a constant rate, for mlp as in the reference workload; "
        "0.7 for cnn, as in PyTorch's MNIST example)",
    )
    t.add_argument(
        "--batch-size", type=_positive_int, default=64, help="training batch (default: 64)"
    )
    t.add_argument(
        "--test-batch-size",
        type=_positive_int,
        default=1000,
        help="validation batch (default: 1000)",
    )
    t.add_argument("--arch", choices=("mlp", "cnn"), default="mlp", help="network (default: mlp)")
    t.add_argument("--hidden", type=_positive_int, default=128, help="hidden width (default: 128)")
    t.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    t.add_argument(
        "--device", default="auto", help="auto (CUDA when there is one), cpu, cuda, cuda:N"
    )
    t.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder with the four MNIST IDX files, .gz or not "
        "(default: $TRACKUI_DATA_DIR, else a per-user cache folder; downloaded when missing)",
    )
    t.add_argument(
        "--train-limit",
        type=_positive_int,
        default=None,
        metavar="N",
        help="train on the first N images only",
    )
    t.add_argument(
        "--test-limit",
        type=_positive_int,
        default=None,
        metavar="N",
        help="validate on the first N test images only",
    )
    t.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        metavar="N",
        help="CPU threads for torch (default: 1, the fastest for the MLP on a busy machine)",
    )
    t.add_argument("--amp", action="store_true", help="bf16 autocast for the forward pass")
    t.add_argument("--compile", action="store_true", help="torch.compile the network")
    t.add_argument(
        "--no-cuda-graph",
        dest="cuda_graph",
        action="store_false",
        help="run the step eagerly on CUDA instead of replaying a captured graph",
    )
    t.add_argument(
        "--dry-run", action="store_true", help="one batch per epoch: check that everything runs"
    )
    r = p.add_argument_group("run")
    r.add_argument(
        "--dir", default=None, help="run root (default: $TRACKUI_DIR, else ./trackui-runs)"
    )
    r.add_argument("--project", default="mnist", help="project (default: mnist)")
    r.add_argument("--name", default=None, help="run name (in a sweep: the prefix of each name)")
    r.add_argument("--group", default=None, help="run group (a sweep makes one when not given)")
    r.add_argument(
        "--tags",
        action="append",
        default=None,
        metavar="TAG[,TAG...]",
        help="tags, comma-separated",
    )
    r.add_argument(
        "--log-every",
        type=_positive_int,
        default=10,
        metavar="N",
        help="log the mean loss of every N steps (default: 10)",
    )
    r.add_argument(
        "--system-every",
        type=_positive_float,
        default=2.0,
        metavar="S",
        help="log system metrics at most every S seconds (default: 2)",
    )
    r.add_argument(
        "--sweep",
        nargs="+",
        action="extend",
        default=None,
        metavar="KEY=V1,V2",
        help="run the grid of these values, one run per combination, in one group "
        f"(keys: {', '.join(SWEEPABLE)})",
    )
    r.add_argument(
        "--sweep-method",
        choices=("grid", "random"),
        default="grid",
        help="grid: every combination; random: draws of the values (needs --sweep-count)",
    )
    r.add_argument(
        "--sweep-count",
        type=_positive_int,
        default=None,
        metavar="N",
        help="run at most N trials of the sweep (default: the whole grid)",
    )
    return p
