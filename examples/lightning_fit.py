"""PyTorch Lightning logging to trackui: ``TrackuiLogger`` in place of ``WandbLogger``.

Fits a small regression on generated data for 3 epochs and keeps the best
checkpoint in the run (``log_model=True``).

    python examples/lightning_fit.py && trackui
"""

import torch

from trackui.integrations.lightning import TrackuiLogger, lightning_module

pl = lightning_module()  # lightning.pytorch or pytorch_lightning, whichever is installed


class Regressor(pl.LightningModule):
    def __init__(self, lr=0.05, hidden=16):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(1, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1)
        )

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y), prog_bar=True)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


g = torch.Generator().manual_seed(0)
x = torch.rand(512, 1, generator=g) * 6 - 3
y = torch.sin(x) + 0.05 * torch.randn(512, 1, generator=g)
train = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(x[:448], y[:448]), batch_size=32, shuffle=True
)
val = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[448:], y[448:]), batch_size=64)

logger = TrackuiLogger(project="lightning-demo", name="sine", log_model=True)
trainer = pl.Trainer(
    max_epochs=3, logger=logger, log_every_n_steps=5, accelerator="cpu", enable_progress_bar=False
)
trainer.fit(Regressor(), train, val)
