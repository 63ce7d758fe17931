"""The trainer's networks: the reference MLP and a small CNN.

Both take normalised images of shape (N, 1, 28, 28) and return logits (N, 10).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

ARCHS = ("mlp", "cnn")
"""Names accepted by ``--arch``."""


class Net(nn.Module):
    """An MNIST classifier.

    ``mlp`` is the reference workload's network: 784-128-10 with a ReLU.
    ``cnn`` is the network of PyTorch's MNIST example (two 3x3 convolutions,
    max-pooling, dropout, two linear layers), which passes 99% accuracy.

    Args:
        arch: ``"mlp"`` or ``"cnn"``.
        hidden: width of the MLP's hidden layer (the CNN's first linear layer).
    """

    def __init__(self, arch: str = "mlp", hidden: int = 128) -> None:
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"unknown arch {arch!r} (choose from {', '.join(ARCHS)})")
        self.arch = arch
        if arch == "mlp":
            self.layers: nn.Module = nn.Sequential(
                nn.Flatten(),
                nn.Linear(28 * 28, hidden),
                nn.ReLU(),
                nn.Linear(hidden, 10),
            )
        else:
            self.layers = nn.Sequential(
                nn.Conv2d(1, 32, 3, 1),
                nn.ReLU(),
                nn.Conv2d(32, 64, 3, 1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Dropout(0.25),
                nn.Flatten(),
                nn.Linear(9216, hidden),
                nn.ReLU(),
                nn.Dropout(0.5),
                nn.Linear(hidden, 10),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for a batch of images."""
        out: torch.Tensor = self.layers(x)
        return out


def masked_cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None
) -> torch.Tensor:
    """Mean cross-entropy over the rows whose ``weight`` is 1.

    With ``weight`` None (or all ones) this equals ``F.cross_entropy``. A
    batch padded to a fixed size with weight-0 rows gets the loss and the
    gradients of the unpadded batch, which lets one captured CUDA graph run the
    last, shorter batch of an epoch too.
    """
    if weight is None:
        return F.cross_entropy(logits.float(), target)
    per_row = F.cross_entropy(logits.float(), target, reduction="none")
    return (per_row * weight).sum() / weight.sum()
