"""The shorter wandb pattern: config set after init, watch, a 0-d tensor logged."""

import torch

import trackui as wandb

wandb.init(project="quickstart")
config = wandb.config
config.learning_rate = 0.01

model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=config.learning_rate)
wandb.watch(model, log_freq=10)

x, y = torch.randn(256, 10), torch.randn(256, 1)
for _ in range(50):
    loss = torch.nn.functional.mse_loss(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    wandb.log({"loss": loss})

wandb.finish()
