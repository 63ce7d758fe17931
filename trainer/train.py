"""``trackui train``: train MNIST and log the run into a trackui root.

The shape is that of PyTorch's MNIST example (``Net``, ``train()``,
``test()``, ``main()`` with argparse and ``--dry-run``), with the data held on
the device and batches cut there by index, the step replayed from a CUDA graph
on CUDA, and metrics read back once per logging interval. It logs only through
the public trackui API, like any training script.

The defaults are the reference workload: an MLP 784-128-10, Adam at 1e-3,
batch 64 reshuffled each epoch (the last short batch kept), normalisation
(0.5, 0.5), 5 epochs, validation on the 10,000 test images after each epoch.

Run ``trackui train --help`` (or ``python -m trackui.trainer.train --help``).
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import trackui

if TYPE_CHECKING:
    import torch

    from trackui.trainer.data import DeviceData
    from trackui.trainer.engine import Readback, ShuffleOrder, Stepper
    from trackui.trainer.sysmetrics import SystemMetrics

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


def _bool(text: str) -> bool:
    t = text.strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {text!r}")


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
        help="CPU threads for torch (default: torch's choice; 1 is often fastest for the MLP)",
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
    return p


def parse_sweep(
    items: Sequence[str] | None, parser: argparse.ArgumentParser
) -> list[dict[str, Any]]:
    """The grid of ``--sweep key=v1,v2 ...`` as a list of option overrides.

    Each value goes through the option's own type check, so a sweep accepts
    what the option accepts. No ``--sweep`` gives one empty override.

    Raises:
        UsageError: a malformed item, an unknown key, or a bad value.
    """
    if not items:
        return [{}]
    actions = {a.dest: a for a in parser._actions}
    axes: list[tuple[str, list[Any]]] = []
    seen = set()
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip().lstrip("-").replace("-", "_")
        if not sep or not key or not values:
            raise UsageError(f"--sweep: expected KEY=V1,V2,... but got {item!r}")
        if key not in SWEEPABLE:
            raise UsageError(f"--sweep: cannot sweep {key!r} (choose from {', '.join(SWEEPABLE)})")
        if key in seen:
            raise UsageError(f"--sweep: {key!r} given twice")
        seen.add(key)
        action = actions[SWEEPABLE[key]]
        convert = _bool if key == "amp" else (action.type or str)
        parsed = []
        for text in values.split(","):
            text = text.strip()
            try:
                value = convert(text)  # type: ignore[operator]
            except (argparse.ArgumentTypeError, ValueError) as e:
                raise UsageError(f"--sweep {key}: {e}") from None
            if action.choices is not None and value not in action.choices:
                raise UsageError(
                    f"--sweep {key}: {text!r} is not one of {', '.join(action.choices)}"
                )
            parsed.append(value)
        axes.append((SWEEPABLE[key], parsed))
    return [
        dict(zip([k for k, _ in axes], combo, strict=True))
        for combo in itertools.product(*[v for _, v in axes])
    ]


def _sweep_label(overrides: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in overrides.items())


def _safe(text: object) -> str:
    """Text for the console with control characters (escape sequences included) made visible."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


# Console progress


class Progress:
    """A progress bar on a terminal; one line per epoch anywhere else.

    On a terminal the bar redraws in place at most ``1 / min_interval_s``
    times a second. When the stream is a file or a pipe, nothing is written
    but the per-epoch lines, so a log file does not fill with bars.

    Args:
        stream: where to write (default: ``sys.stdout``).
        epochs: the number of epochs.
        steps_per_epoch: the number of steps in each.
        tty: whether to draw the bar (default: whether ``stream`` is a terminal).
        min_interval_s: the shortest time between two redraws.
    """

    def __init__(
        self,
        stream: TextIO | None,
        epochs: int,
        steps_per_epoch: int,
        *,
        tty: bool | None = None,
        min_interval_s: float = 0.1,
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.epochs = epochs
        self.steps = steps_per_epoch
        if tty is None:
            try:
                tty = bool(self.stream.isatty())
            except (AttributeError, ValueError, OSError):
                tty = False
        self.tty = tty
        self.min_interval_s = min_interval_s
        self._last = -math.inf
        self._drawn = False

    def update(self, epoch: int, step: int, loss: float | None) -> None:
        """Redraw the bar for ``step`` of ``epoch`` (a no-op off a terminal or too soon)."""
        if not self.tty:
            return
        now = time.monotonic()
        if now - self._last < self.min_interval_s and step < self.steps:
            return
        self._last = now
        width = 24
        filled = int(width * step / max(self.steps, 1))
        bar = "#" * filled + "." * (width - filled)
        tail = f" loss {loss:.4f}" if loss is not None else ""
        self._write(f"\r\x1b[2Kepoch {epoch}/{self.epochs} [{bar}] {step}/{self.steps}{tail}")
        self._drawn = True

    def line(self, text: str) -> None:
        """Print one line (clearing the bar first on a terminal)."""
        if self._drawn:
            self._write("\r\x1b[2K")
            self._drawn = False
        self._write(text + "\n")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed or broken stdout must not stop training


# Training


@dataclass
class Timings:
    """Seconds spent in each phase of one run."""

    setup: float = 0.0
    train: float = 0.0
    val: float = 0.0
    epochs: list[float] = field(default_factory=list)


@dataclass
class LoopState:
    """What the training loop carries from step to step and epoch to epoch."""

    global_step: int = 0
    last_loss: float | None = None


def _log_ready(
    run: trackui.Run,
    readback: Readback,
    sysm: SystemMetrics,
    state: LoopState,
    steps_per_epoch: int,
    *,
    wait: bool = False,
) -> None:
    """Log each per-interval loss whose value has reached the host, with system metrics when due."""
    for step, loss in readback.ready(wait=wait):
        state.last_loss = loss
        record: dict[str, float] = {"loss": loss, "epoch": step / steps_per_epoch}
        record.update(sysm.maybe_sample())
        run.log(record, step=step)


def train(
    args: argparse.Namespace,
    stepper: Stepper,
    data: DeviceData,
    epoch: int,
    order: ShuffleOrder,
    *,
    run: trackui.Run,
    readback: Readback,
    sysm: SystemMetrics,
    progress: Progress,
    state: LoopState,
) -> None:
    """Train one epoch: reshuffle, then one step per batch, the last short batch kept."""
    n = data.n_train
    bs = args.batch_size
    steps = math.ceil(n / bs)
    perm = order.epoch(n).to(data.x_train.device)
    per_epoch = 1 if args.dry_run else steps  # for the fractional epoch logged beside the loss
    for i in range(steps):
        stepper.step(perm[i * bs : (i + 1) * bs])
        state.global_step += 1
        if state.global_step % args.log_every == 0:
            total, count = stepper.take_interval()
            readback.push(state.global_step, count, total)
            _log_ready(run, readback, sysm, state, per_epoch)
        progress.update(epoch, i + 1, state.last_loss)
        if args.dry_run:
            break
    if stepper.interval_steps:
        # Close the interval at the epoch's end so each epoch's loss records are complete.
        total, count = stepper.take_interval()
        readback.push(state.global_step, count, total)
    _log_ready(run, readback, sysm, state, per_epoch, wait=True)


def test(args: argparse.Namespace, model: torch.nn.Module, data: DeviceData) -> tuple[float, float]:
    """Validation loss and accuracy on the test images."""
    from trackui.trainer.engine import evaluate

    x, y = data.x_test, data.y_test
    if args.dry_run:
        x, y = x[: args.test_batch_size], y[: args.test_batch_size]
    return evaluate(model, x, y, args.test_batch_size, amp=args.amp)


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
    args: argparse.Namespace, device: torch.device, data: DeviceData, cuda_graph: bool
) -> dict[str, Any]:
    """The config a run logs: the workload first, then how it ran."""
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
        "train_size": data.n_train,
        "test_size": data.n_test,
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
    full_data: DeviceData,
    device: torch.device,
    *,
    name: str | None,
    group: str | None,
    tags: list[str],
    out: TextIO,
    data_s: float = 0.0,
) -> dict[str, Any]:
    """Train and validate one configuration as one run; returns its final figures."""
    import torch

    from trackui.trainer.data import DeviceData
    from trackui.trainer.engine import Readback, ShuffleOrder, Stepper, make_optimizer, set_lr
    from trackui.trainer.model import Net
    from trackui.trainer.sysmetrics import SystemMetrics

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
    order = ShuffleOrder()
    steps_per_epoch = 1 if args.dry_run else math.ceil(data.n_train / args.batch_size)
    timings = Timings(setup=time.perf_counter() - t_setup)

    progress = Progress(out, args.epochs, steps_per_epoch)
    mode = "CUDA graph" if stepper.uses_graph else "eager"
    progress.line(
        f"{PROG}: {args.arch} on {device} ({mode}), {data.n_train} train / {data.n_test} test "
        f"images, batch {args.batch_size}, {args.epochs} epochs"
        + (f" [{_safe(name)}]" if name else "")
    )
    if stepper.graph_error:
        progress.line(
            f"{PROG}: CUDA graph capture failed, running eagerly ({_safe(stepper.graph_error)})"
        )

    config = run_config(args, device, data, stepper.uses_graph)
    best = -1.0
    final: dict[str, Any] = {}
    with trackui.init(
        project=args.project,
        name=name,
        config=config,
        dir=args.dir,
        tags=tags,
        group=group,
        job_type="train",
        reinit=True,
    ) as run:
        run.define_metric("epoch")
        per_epoch = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "samples_per_s")
        for key in (*per_epoch, "lr"):
            run.define_metric(key, step_metric="epoch")
        run.define_metric("val_accuracy", step_metric="epoch", summary="max", goal="maximize")
        run.define_metric("val_loss", step_metric="epoch", summary="min", goal="minimize")
        run.define_metric("loss", summary="min", goal="minimize")
        sysm = SystemMetrics(device, interval_s=args.system_every)
        readback = Readback(device)
        state = LoopState()
        decay = lr_decay(args)
        for epoch in range(1, args.epochs + 1):
            lr = args.lr * decay ** (epoch - 1)
            if epoch > 1 and decay != 1.0:
                set_lr(optimizer, lr)
            t0 = time.perf_counter()
            train(
                args, stepper, data, epoch, order,
                run=run, readback=readback, sysm=sysm, progress=progress, state=state,
            )  # fmt: skip
            stats = stepper.take_epoch()  # reads back from the device: the epoch's work is done
            t1 = time.perf_counter()
            val_loss, val_acc = test(args, model, data)
            order.validation()
            t2 = time.perf_counter()
            timings.train += t1 - t0
            timings.val += t2 - t1
            timings.epochs.append(t2 - t0)
            best = max(best, val_acc)
            record = {
                "epoch": epoch,
                "train_loss": stats.loss,
                "train_accuracy": stats.accuracy,
                "val_loss": val_loss,
                "val_accuracy": val_acc,
                "samples_per_s": stats.samples / max(t1 - t0, 1e-9),
                "epoch_time_s": t2 - t0,
                "lr": lr,
            }
            record.update(sysm.maybe_sample())
            run.log(record, step=state.global_step)
            progress.line(
                f"epoch {epoch}/{args.epochs}  train_loss {stats.loss:.4f}  "
                f"train_acc {stats.accuracy:.4f}  val_loss {val_loss:.4f}  val_acc {val_acc:.4f}  "
                f"{t2 - t0:.2f} s  {record['samples_per_s']:,.0f} samples/s"
            )
            final = record
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
        final = {
            **final,
            "run_id": run.id,
            "train_time_s": timings.train,
            "val_time_s": timings.val,
            "setup_time_s": timings.setup,
            "cuda_graph": stepper.uses_graph,
        }
    return final


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run ``trackui train`` with ``argv`` (default: ``sys.argv[1:]``).

    Args:
        argv: the command-line arguments after ``train``.
        out: where progress goes (default: ``sys.stdout``).

    Returns:
        0 on success; 2 on a usage error or missing data (one line on stderr);
        1 if training failed; 130 if interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
        grid = parse_sweep(args.sweep, parser)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else 0
    try:
        import torch
    except ImportError:
        print(
            f"{PROG}: error: needs PyTorch; install it with pip install 'trackui[train]'",
            file=sys.stderr,
        )
        return 2
    from trackui.trainer import data as mnist

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        device = _resolve_device(args.device)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    data_dir = args.data_dir if args.data_dir is not None else mnist.default_data_dir()
    t_data = time.perf_counter()
    try:
        arrays = mnist.load_arrays(
            data_dir, note=lambda text: print(f"{PROG}: {_safe(text)}", file=sys.stderr)
        )
    except mnist.DataError as e:
        print(f"{PROG}: error: {_safe(e)}", file=sys.stderr)
        return 2
    full = mnist.to_device(arrays, device)
    data_s = time.perf_counter() - t_data
    tags = [t.strip() for item in (args.tags or []) for t in item.split(",") if t.strip()]
    sweep = len(grid) > 1 or bool(args.sweep)
    group = args.group
    if sweep and group is None:
        group = "sweep-" + time.strftime("%Y%m%d-%H%M%S")
    failed = 0
    for overrides in grid:
        run_args = argparse.Namespace(**{**vars(args), **overrides})
        name = args.name
        if sweep:
            label = _sweep_label(overrides)
            name = f"{args.name}-{label}" if args.name else label
        try:
            run_one(
                run_args,
                full,
                device,
                name=name,
                group=group,
                tags=tags,
                out=out or sys.stdout,
                data_s=data_s,
            )
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted", file=sys.stderr)
            return 130
        except Exception as e:
            if os.environ.get("TRACKUI_DEBUG"):
                raise
            print(
                f"{PROG}: error: training failed: {_safe(type(e).__name__)}: {_safe(e)}".splitlines()[
                    0
                ],
                file=sys.stderr,
            )
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
