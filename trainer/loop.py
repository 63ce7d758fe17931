"""The training loop of ``trackui train``: one epoch of steps, validation, and the
per-interval loss records, logged through the public API."""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import trackui
from trackui.trainer.cli_args import lr_decay
from trackui.trainer.progress import Progress

if TYPE_CHECKING:
    import torch

    from trackui.trainer.data import DeviceData
    from trackui.trainer.engine import Readback, ShuffleOrder, Stepper
    from trackui.trainer.sysmetrics import SystemMetrics


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


def fit(
    args: argparse.Namespace,
    run: trackui.Run,
    device: torch.device,
    stepper: Stepper,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    data: DeviceData,
    progress: Progress,
    timings: Timings,
) -> tuple[dict[str, Any], float]:
    """Every epoch: train, validate, log the epoch's record and print its line.

    Returns the last epoch's record and the best validation accuracy.
    """
    from trackui.trainer.engine import Readback, ShuffleOrder, set_lr
    from trackui.trainer.sysmetrics import SystemMetrics

    sysm = SystemMetrics(device, interval_s=args.system_every)
    readback = Readback(device)
    order = ShuffleOrder()
    state = LoopState()
    decay = lr_decay(args)
    best = -1.0
    final: dict[str, Any] = {}
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
    return final, best
