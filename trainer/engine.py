"""The training step and the device-side bookkeeping around it.

:class:`Stepper` runs one optimiser step on a batch cut from device-resident
data by index. On CUDA it captures the whole step (gather, forward, backward,
optimiser, metric accumulation) in one CUDA graph and replays it: the batch
size is fixed, and the last, shorter batch of an epoch replays the same graph
with its padding rows weighted 0. Where capture fails it says why and runs
the same step eagerly.

Loss and accuracy accumulate on the device; the host reads them back once per
logging interval (:class:`Readback`, without stalling the GPU) and once per
epoch, never per step.
"""

from __future__ import annotations

from collections import deque
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from trackui.trainer.data import DeviceData
from trackui.trainer.model import masked_cross_entropy

WARMUP_STEPS = 3
"""Eager steps run on a side stream before capture (as PyTorch's CUDA graph guide asks)."""


def make_optimizer(model: nn.Module, lr: float, device: torch.device) -> torch.optim.Optimizer:
    """Adam at ``lr``; on CUDA the fused, capturable kind a CUDA graph can replay.

    Fused and foreach Adam compute the same update; ``capturable`` keeps the
    step count on the device so that a replayed graph advances it.
    """
    if device.type == "cuda":
        # The learning rate as a device tensor: a float would be baked into the
        # captured graph, and a schedule (see set_lr) could not change it.
        lr_t = torch.tensor(lr, dtype=torch.float32, device=device)
        return torch.optim.Adam(model.parameters(), lr=lr_t, fused=True, capturable=True)
    return torch.optim.Adam(model.parameters(), lr=lr)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate, in place where it is a tensor.

    In place, so that a replayed CUDA graph, which holds the tensor's address,
    reads the new rate.
    """
    for group in optimizer.param_groups:
        if isinstance(group["lr"], torch.Tensor):
            group["lr"].fill_(lr)
        else:
            group["lr"] = lr


@dataclass
class EpochStats:
    """What one epoch of training measured."""

    loss: float
    """Mean loss over the epoch's samples."""
    accuracy: float
    """Fraction of the epoch's samples classified right (as the model stood at each step)."""
    samples: int
    """Number of samples trained on."""


class Stepper:
    """One training step on device data, replayed from a CUDA graph where it applies.

    Args:
        model: the network, already on the data's device.
        optimizer: its optimiser (see :func:`make_optimizer`).
        data: the training and test tensors.
        batch_size: the full batch size (the graph's static shape).
        amp: run the forward pass under bf16 autocast.
        cuda_graph: try to capture the step in a CUDA graph (CUDA devices only).
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        data: DeviceData,
        batch_size: int,
        *,
        amp: bool = False,
        cuda_graph: bool = True,
    ) -> None:
        self.model = model
        self.optimizer = optimizer
        self.data = data
        self.batch_size = batch_size
        self.amp = amp
        self.device = data.x_train.device
        z = torch.zeros((), device=self.device)
        self.loss_sum = z.clone()
        """Sum over this epoch's samples of their loss (device scalar)."""
        self.correct = z.clone()
        """Number of this epoch's samples classified right (device scalar)."""
        self.interval_loss = z.clone()
        """Sum of batch losses since :meth:`take_interval` (device scalar)."""
        self.samples = 0
        self.interval_steps = 0
        self.graph: torch.cuda.CUDAGraph | None = None
        self.graph_error: str | None = None
        """Why capture failed, when it was tried and failed."""
        self._idx: torch.Tensor | None = None
        self._w: torch.Tensor | None = None
        self._saved: list[torch.Tensor] | None = None
        if cuda_graph and self.device.type == "cuda":
            try:
                self._capture()
            except Exception as e:  # any failure: say so and run eagerly
                self.graph = None
                self.graph_error = f"{type(e).__name__}: {e}".splitlines()[0]
                torch.cuda.synchronize(self.device)
                if self._saved is not None:
                    self._reset_state_after_warmup(self._saved)
            self._saved = None

    # The step itself

    def _autocast(self) -> AbstractContextManager[object]:
        if self.amp:
            # No weight-cast cache: a cache filled during capture would be
            # stale on replay (PyTorch's CUDA graph notes ask for this).
            return torch.autocast(
                device_type=self.device.type, dtype=torch.bfloat16, cache_enabled=False
            )
        return nullcontext()

    def _body(self, idx: torch.Tensor, weight: torch.Tensor | None) -> None:
        x = self.data.x_train.index_select(0, idx)
        y = self.data.y_train.index_select(0, idx)
        with self._autocast():
            logits = self.model(x)
        loss = masked_cross_entropy(logits, y, weight)
        loss.backward()
        self.optimizer.step()
        with torch.no_grad():
            hit = logits.argmax(1) == y
            if weight is None:
                self.loss_sum.add_(loss.detach() * y.shape[0])
                self.correct.add_(hit.sum())
            else:
                self.loss_sum.add_(loss.detach() * weight.sum())
                self.correct.add_((hit * weight).sum())
            self.interval_loss.add_(loss.detach())

    def _capture(self) -> None:
        b = self.batch_size
        self._idx = torch.arange(b, device=self.device) % self.data.n_train
        self._w = torch.ones(b, device=self.device)
        # Warm-up steps change the weights and the optimiser's moments; keep a
        # copy so that the run starts from the same state as an eager one.
        self._saved = [p.detach().clone() for p in self.model.parameters()]
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            for _ in range(WARMUP_STEPS):
                self.optimizer.zero_grad(set_to_none=True)
                self._body(self._idx, self._w)
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        # Grads start as None so that the captured backward writes them (no accumulation).
        self.optimizer.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            self._body(self._idx, self._w)
        self.graph = graph
        self._reset_state_after_warmup(self._saved)

    def _reset_state_after_warmup(self, saved: list[torch.Tensor]) -> None:
        # In place: the graph holds the addresses of these tensors.
        with torch.no_grad():
            for p, s in zip(self.model.parameters(), saved, strict=True):
                p.copy_(s)
            for state in self.optimizer.state.values():
                for v in state.values():
                    if isinstance(v, torch.Tensor):
                        v.zero_()
            self.loss_sum.zero_()
            self.correct.zero_()
            self.interval_loss.zero_()
        if self.graph is None:
            self.optimizer.zero_grad(set_to_none=True)

    @property
    def uses_graph(self) -> bool:
        """Whether steps replay a captured CUDA graph."""
        return self.graph is not None

    def step(self, idx: torch.Tensor) -> None:
        """One optimiser step on the training images at ``idx`` (a device index tensor)."""
        n = int(idx.shape[0])
        if self.graph is not None and self._idx is not None and self._w is not None:
            if n == self.batch_size:
                self._idx.copy_(idx, non_blocking=True)
                self.graph.replay()
            else:
                # Pad to the captured shape; weight-0 rows add nothing to loss or gradients.
                self._idx[:n].copy_(idx, non_blocking=True)
                self._idx[n:].zero_()
                self._w[n:].zero_()
                self.graph.replay()
                self._w.fill_(1.0)
        else:
            self.optimizer.zero_grad(set_to_none=True)
            self._body(idx, None)
        self.samples += n
        self.interval_steps += 1

    def replay_only(self, idx: torch.Tensor) -> None:
        """The bare step on a fixed full batch, for measuring the floor: no copy, no bookkeeping."""
        if self.graph is not None:
            self.graph.replay()
        else:
            self.optimizer.zero_grad(set_to_none=True)
            self._body(idx, None)

    # Reading metrics back

    def take_interval(self) -> tuple[torch.Tensor, int]:
        """The interval's loss sum (a fresh device scalar) and step count; restarts the interval."""
        total = self.interval_loss.clone()
        self.interval_loss.zero_()
        steps, self.interval_steps = self.interval_steps, 0
        return total, steps

    def take_epoch(self) -> EpochStats:
        """The epoch's loss and accuracy (one read from the device); restarts the epoch."""
        loss_sum, correct = torch.stack([self.loss_sum, self.correct]).tolist()
        n = max(self.samples, 1)
        stats = EpochStats(loss=loss_sum / n, accuracy=correct / n, samples=self.samples)
        self.loss_sum.zero_()
        self.correct.zero_()
        self.samples = 0
        return stats


class ShuffleOrder:
    """Each epoch's sample order, drawn as a shuffled ``DataLoader`` draws it.

    When an epoch starts, ``DataLoader(shuffle=True)`` takes two numbers from
    torch's global generator (its iterator's base seed, then its sampler's
    seed) and permutes the indices with a CPU generator seeded from the
    second; iterating the validation loader takes one more. Drawing the same
    numbers in the same order gives the trainer, for a given
    ``torch.manual_seed``, the very batches of the tutorial loop, on every
    device.
    """

    @staticmethod
    def _draw() -> int:
        return int(torch.empty((), dtype=torch.int64).random_().item())

    def epoch(self, n: int) -> torch.Tensor:
        """The permutation of ``range(n)`` for the next epoch (on the CPU)."""
        self._draw()  # the loader iterator's base seed
        seed = self._draw()  # the sampler's seed
        return torch.randperm(n, generator=torch.Generator().manual_seed(seed))

    def validation(self) -> None:
        """Account for the validation loader's iteration."""
        self._draw()


class Readback:
    """Device scalars copied to the host without waiting for the GPU.

    :meth:`push` queues an asynchronous copy into pinned memory and records an
    event; :meth:`ready` returns the values whose copies have landed (all of
    them with ``wait=True``). At most ``depth`` copies are in flight: beyond
    that the oldest is waited for, which bounds both memory and lag.

    Args:
        device: where the values live.
        depth: the most copies in flight.
    """

    def __init__(self, device: torch.device, depth: int = 64) -> None:
        self.device = device
        self.depth = depth
        self._pending: deque[tuple[int, int, torch.Tensor, torch.cuda.Event | None]] = deque()

    def push(self, step: int, count: int, value: torch.Tensor) -> None:
        """Queue ``value / count`` (read later) as the value for ``step``."""
        if self.device.type == "cuda":
            buf = torch.empty((), dtype=value.dtype, pin_memory=True)
            buf.copy_(value, non_blocking=True)
            event = torch.cuda.Event()
            event.record()
            self._pending.append((step, count, buf, event))
        else:
            self._pending.append((step, count, value, None))

    def ready(self, wait: bool = False) -> list[tuple[int, float]]:
        """``(step, value)`` pairs whose copies are done, oldest first."""
        out: list[tuple[int, float]] = []
        while self._pending:
            step, count, buf, event = self._pending[0]
            if event is not None and not event.query():
                if not wait and len(self._pending) <= self.depth:
                    break
                event.synchronize()
            self._pending.popleft()
            out.append((step, float(buf.item()) / max(count, 1)))
        return out


def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int, *, amp: bool = False
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``(x, y)``, read back from the device once."""
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device)
    ctx: AbstractContextManager[object] = (
        torch.autocast(device_type=x.device.type, dtype=torch.bfloat16) if amp else nullcontext()
    )
    with torch.no_grad(), ctx:
        for lo in range(0, x.shape[0], batch_size):
            xb, yb = x[lo : lo + batch_size], y[lo : lo + batch_size]
            logits = model(xb)
            loss_sum += F.cross_entropy(logits.float(), yb, reduction="sum")
            correct += (logits.argmax(1) == yb).sum()
    model.train(was_training)
    n = max(int(x.shape[0]), 1)
    total, hits = torch.stack([loss_sum, correct]).tolist()
    return float(total) / n, float(hits) / n
