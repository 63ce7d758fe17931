"""The reference MNIST workload, written the usual tutorial way.

torchvision's ``MNIST`` dataset with ``ToTensor()`` and ``Normalize``, a
``DataLoader`` (batch 64, shuffled, the last short batch kept, no workers),
an MLP 784-128-10, Adam at 1e-3, ``.item()`` per step, validation on the
10,000 test images after each epoch. ``trackui train`` with its defaults does
the same work; ``bench/trainer_bench.py`` times the two side by side.

torchvision wants its files as ``<root>/MNIST/raw/<name>`` uncompressed and
checks the published ``.gz`` checksums before downloading, so this script
builds that layout in a temporary folder from the IDX files in ``--data-dir``
(symlinks where they are uncompressed, a decompressed copy where they are
``.gz``) and never downloads.

Prints one line per epoch and, last, one JSON object with the timings.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WORKLOAD: dict[str, Any] = {
    "arch": "mlp",
    "hidden": 128,
    "epochs": 5,
    "lr": 1e-3,
    "lr_decay": 1.0,  # a constant learning rate: no schedule
    "batch_size": 64,
    "test_batch_size": 1000,
    "optimizer": "adam",
    "loss": "cross_entropy",
    "shuffle": True,
    "drop_last": False,
    "normalize": {"mean": 0.5, "std": 0.5},
    "train_size": 60000,
    "test_size": 10000,
}
"""The reference workload; ``trackui train``'s defaults must log the same values."""

STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def build_model() -> Any:
    """The reference network: 784-128-10 with a ReLU."""
    from torch import nn

    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(28 * 28, WORKLOAD["hidden"]),
        nn.ReLU(),
        nn.Linear(WORKLOAD["hidden"], 10),
    )


def torchvision_root(data_dir: Path, into: Path) -> Path:
    """A folder laid out as torchvision's ``MNIST`` expects, made from ``data_dir``."""
    raw = into / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for stem in STEMS:
        plain, packed = data_dir / stem, data_dir / f"{stem}.gz"
        if plain.is_file():
            os.symlink(plain.resolve(), raw / stem)
        elif packed.is_file():
            with gzip.open(packed, "rb") as src, open(raw / stem, "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            raise SystemExit(f"reference_mnist: {stem}[.gz] not found in {data_dir}")
    return into


def run(
    data_dir: Path,
    *,
    epochs: int,
    device_name: str,
    train_limit: int | None,
    threads: int | None,
    test_limit: int | None = None,
) -> dict[str, Any]:
    """Train and validate the reference workload; returns its timings and accuracy."""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    if threads:
        torch.set_num_threads(threads)
    device = torch.device(
        ("cuda" if torch.cuda.is_available() else "cpu") if device_name == "auto" else device_name
    )
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="reference-mnist-") as tmp:
        root = torchvision_root(data_dir, Path(tmp))
        transform = transforms.Compose(
            [transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]
        )
        train_set = datasets.MNIST(root, train=True, download=False, transform=transform)
        test_set = datasets.MNIST(root, train=False, download=False, transform=transform)
        if train_limit:
            train_set = Subset(train_set, range(train_limit))  # type: ignore[assignment]
        if test_limit:
            test_set = Subset(test_set, range(test_limit))  # type: ignore[assignment]
        train_loader = DataLoader(train_set, batch_size=WORKLOAD["batch_size"], shuffle=True)
        test_loader = DataLoader(test_set, batch_size=WORKLOAD["test_batch_size"])

        torch.manual_seed(1)
        model = build_model().to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=WORKLOAD["lr"])
        criterion = nn.CrossEntropyLoss()
        setup_s = time.perf_counter() - t_start
        train_s = val_s = 0.0
        val_acc = float("nan")
        history = []
        for epoch in range(1, epochs + 1):
            t0 = time.perf_counter()
            model.train()
            running_loss, correct, seen = 0.0, 0, 0
            for images, labels in train_loader:
                images, labels = images.to(device), labels.to(device)
                optimizer.zero_grad()
                outputs = model(images)
                loss = criterion(outputs, labels)
                loss.backward()
                optimizer.step()
                running_loss += loss.item() * labels.size(0)
                correct += (outputs.argmax(1) == labels).sum().item()
                seen += labels.size(0)
            t1 = time.perf_counter()
            model.eval()
            val_loss, val_correct = 0.0, 0
            with torch.no_grad():
                for images, labels in test_loader:
                    images, labels = images.to(device), labels.to(device)
                    outputs = model(images)
                    val_loss += criterion(outputs, labels).item() * labels.size(0)
                    val_correct += (outputs.argmax(1) == labels).sum().item()
            t2 = time.perf_counter()
            train_s += t1 - t0
            val_s += t2 - t1
            val_acc = val_correct / len(test_set)
            history.append(
                {
                    "epoch": epoch,
                    "train_loss": running_loss / seen,
                    "train_accuracy": correct / seen,
                    "val_loss": val_loss / len(test_set),
                    "val_accuracy": val_acc,
                }
            )
            print(
                f"epoch {epoch}/{epochs}  train_loss {running_loss / seen:.4f}  "
                f"train_acc {correct / seen:.4f}  val_loss {val_loss / len(test_set):.4f}  "
                f"val_acc {val_acc:.4f}  {t2 - t0:.2f} s",
                flush=True,
            )
    return {
        "device": str(device),
        "epochs": epochs,
        "train_size": len(train_set),
        "setup_s": setup_s,
        "train_s": train_s,
        "val_s": val_s,
        "val_accuracy": val_acc,
        "history": history,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the reference workload and print its figures as JSON on the last line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_dir = (
        os.environ.get("TRACKUI_DATA_DIR")
        or Path(__file__).resolve().parents[2] / "shared" / "mnist"
    )
    p.add_argument("--data-dir", type=Path, default=Path(default_dir))
    p.add_argument("--epochs", type=int, default=WORKLOAD["epochs"])
    p.add_argument("--device", default="auto")
    p.add_argument("--train-limit", type=int, default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--test-limit", type=int, default=None)
    args = p.parse_args(argv)
    result = run(
        args.data_dir,
        epochs=args.epochs,
        device_name=args.device,
        train_limit=args.train_limit,
        threads=args.threads,
        test_limit=args.test_limit,
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
