"""The usual wandb MNIST tutorial, unchanged but for the import.

    python examples/mnist_tutorial.py [--data DIR] [--epochs N] [--limit N]

DIR must hold torchvision's MNIST layout (``DIR/MNIST/raw/...``) or be
reachable for torchvision's download.
"""

import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

import trackui as wandb


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="./data")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images")
    args = parser.parse_args()

    wandb.init(
        project="mnist-tutorial",
        config={
            "learning_rate": 1e-3,
            "epochs": args.epochs,
            "batch_size": 64,
            "architecture": "MLP",
        },
    )
    config = wandb.config

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    train_set = datasets.MNIST(args.data, train=True, download=True, transform=transform)
    test_set = datasets.MNIST(args.data, train=False, download=True, transform=transform)
    if args.limit:
        train_set = Subset(train_set, range(args.limit))
        test_set = Subset(test_set, range(min(args.limit, len(test_set))))
    train_loader = DataLoader(train_set, batch_size=config.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)

    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    wandb.watch(model, log_freq=100)

    for epoch in range(config.epochs):
        model.train()
        total, correct, loss_sum = 0, 0, 0.0
        for data, target in train_loader:
            optimizer.zero_grad()
            output = model(data)
            loss = F.cross_entropy(output, target)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(data)
            correct += (output.argmax(1) == target).sum().item()
            total += len(data)

        model.eval()
        val_loss, val_correct = 0.0, 0
        with torch.no_grad():
            for data, target in test_loader:
                output = model(data)
                val_loss += F.cross_entropy(output, target, reduction="sum").item()
                val_correct += (output.argmax(1) == target).sum().item()

        wandb.log(
            {
                "epoch": epoch,
                "train_loss": loss_sum / total,
                "train_accuracy": correct / total,
                "val_loss": val_loss / len(test_set),
                "val_accuracy": val_correct / len(test_set),
            }
        )

    model_path = "model.pth"
    torch.save(model.state_dict(), model_path)
    wandb.save(model_path)
    wandb.finish()


if __name__ == "__main__":
    main()
