"""A tiny LightningModule fitted on the CPU with TrackuiLogger."""

from __future__ import annotations

import dataclasses
import importlib.util
from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
if (
    importlib.util.find_spec("lightning") is None
    and importlib.util.find_spec("pytorch_lightning") is None
):
    pytest.skip("neither lightning nor pytorch_lightning is installed", allow_module_level=True)

from fwhelpers import only_run, records, series  # noqa: E402

import trackui  # noqa: E402
from trackui.integrations.lightning import TrackuiLogger, lightning_module  # noqa: E402

pl = lightning_module()


@dataclasses.dataclass
class Optim:
    lr: float = 0.05
    betas: tuple[float, float] = (0.9, 0.99)


class Regressor(pl.LightningModule):  # type: ignore[misc,name-defined]
    """y = 3x - 1 with one linear layer; raises in training when told to."""

    def __init__(self, optim: Optim, data: Namespace, fail_at_step: int = -1) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.layer = torch.nn.Linear(1, 1)

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        if self.global_step == self.hparams.fail_at_step:
            raise RuntimeError("boom")
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.layer(x), y))

    def on_train_epoch_end(self) -> None:
        self.logger.experiment.log({"custom/epoch_marker": float(self.current_epoch)})

    def configure_optimizers(self) -> Any:
        return torch.optim.Adam(
            self.parameters(), lr=self.hparams.optim.lr, betas=self.hparams.optim.betas
        )


def loaders() -> tuple[Any, Any]:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, 1, generator=g)
    ds = torch.utils.data.TensorDataset(x, 3 * x - 1)
    return (
        torch.utils.data.DataLoader(ds, batch_size=16, shuffle=False),
        torch.utils.data.DataLoader(ds, batch_size=32),
    )


def fit(tmp_path: Path, logger: Any, fail_at_step: int = -1, **trainer_kw: Any) -> Any:
    torch.manual_seed(0)
    model = Regressor(Optim(), Namespace(n=64, source="[bold]synthetic"), fail_at_step=fail_at_step)
    trainer = pl.Trainer(
        max_epochs=2,
        logger=logger,
        log_every_n_steps=1,
        accelerator="cpu",
        devices=1,
        default_root_dir=str(tmp_path / "pl"),
        enable_progress_bar=False,
        enable_model_summary=False,
        **trainer_kw,
    )
    train, val = loaders()
    trainer.fit(model, train, val)
    return trainer


def test_fit_logs_hparams_metrics_and_finishes(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    logger = TrackuiLogger(project="regress", name="two-epochs", dir=root, tags=["tiny"])
    fit(tmp_path, logger, enable_checkpointing=False)

    info = only_run(root)
    assert info.state == "finished"
    assert info.name == "two-epochs" and info.meta["project"] == "regress"
    assert info.meta["tags"] == ["tiny"]
    assert logger.version == info.id and logger.name == "regress"
    assert logger.experiment.run_dir == info.path
    cfg = info.config
    assert cfg["optim"] == {"lr": 0.05, "betas": [0.9, 0.99]}, "dataclass kept nested"
    assert cfg["data"] == {"n": 64, "source": "[bold]synthetic"}, "Namespace kept nested"
    assert cfg["fail_at_step"] == -1

    # 4 batches an epoch, 2 epochs: Lightning's steps 0..7, val at the end of each epoch.
    loss = series(info, "train_loss")
    assert [s for s, _ in loss] == list(range(8))
    assert loss[-1][1] < loss[0][1], "it learns"
    val = series(info, "val_loss")
    assert [s for s, _ in val] == [3, 7]
    epochs = series(info, "epoch")
    assert {v for _, v in epochs} == {0.0, 1.0}
    assert all(v == (0.0 if s < 4 else 1.0) for s, v in epochs)
    assert [v for _, v in series(info, "custom/epoch_marker")] == [0.0, 1.0]
    assert info.summary["val_loss"] == val[-1][1]


def test_fit_that_raises_marks_the_run_failed(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    logger = TrackuiLogger(project="regress", dir=root)
    with pytest.raises(RuntimeError, match="boom"):
        fit(tmp_path, logger, fail_at_step=5, enable_checkpointing=False)
    info = only_run(root)
    assert info.state == "failed"
    assert info.meta["exit_code"] == 1
    assert [s for s, _ in series(info, "train_loss")] == [0, 1, 2, 3, 4]
    assert trackui.run is None


def test_log_model_copies_the_checkpoint_into_the_run(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    logger = TrackuiLogger(project="regress", dir=root, log_model=True)
    trainer = fit(tmp_path, logger)
    ckpt = Path(trainer.checkpoint_callback.best_model_path)
    assert ckpt.is_file()
    assert ckpt.parent == tmp_path / "pl" / "regress" / logger.version / "checkpoints"

    info = only_run(root)
    assert info.state == "finished"
    copy = info.path / "files" / "checkpoints" / ckpt.name
    assert copy.is_file()
    assert copy.read_bytes() == ckpt.read_bytes()
    assert info.summary["checkpoint/best"] == ckpt.name


def test_user_run_is_used_and_left_open(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    run = trackui.init(project="mine", name="user-run", dir=root)
    logger = TrackuiLogger()
    assert logger.version == run.id
    trainer = fit(tmp_path, logger, enable_checkpointing=False)
    assert trackui.run is run
    assert only_run(root).state == "running", "a run the script started is left open"
    run.finish()
    info = only_run(root)
    assert info.state == "finished"
    assert {s for s, _ in series(info, "val_loss")} == {3, 7}
    assert trainer.global_step == 8


def test_validate_after_fit_reopens_the_same_run(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    logger = TrackuiLogger(project="regress", dir=root)
    trainer = fit(tmp_path, logger, enable_checkpointing=False)
    assert only_run(root).state == "finished"
    _, val = loaders()
    trainer.validate(trainer.lightning_module, val, verbose=False)
    info = only_run(root)
    assert info.state == "finished", "validate() finalizes the reopened run too"
    assert len(series(info, "val_loss")) == 3
    assert records(info)[-1].step >= 7


def test_bad_log_model_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match="log_model must be True, False or 'all'"):
        TrackuiLogger(log_model="sometimes")


def test_log_model_all_keeps_every_checkpoint_and_prefix_names_metrics(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    logger = TrackuiLogger(project="regress", dir=root, log_model="all", prefix="fold1")
    ckpt = pl.callbacks.ModelCheckpoint(save_top_k=-1, filename="[e]{epoch}")
    fit(tmp_path, logger, callbacks=[ckpt])
    info = only_run(root)
    copies = sorted(p.name for p in (info.path / "files" / "checkpoints").iterdir())
    assert copies == ["[e]epoch=0.ckpt", "[e]epoch=1.ckpt"], (
        "names with glob characters copied literally"
    )
    assert [s for s, _ in series(info, "fold1-val_loss")] == [3, 7]
    assert series(info, "val_loss") == []


def test_other_ranks_write_nothing(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    rank_zero_only = pl.utilities.rank_zero_only
    saved = getattr(rank_zero_only, "rank", 0)
    # Lightning sets this attribute from the launcher's environment in each process.
    rank_zero_only.rank = 1
    try:
        logger = TrackuiLogger(dir=root)
        logger.log_hyperparams({"lr": 0.1})
        logger.log_metrics({"loss": 1.0}, step=0)
        logger.experiment.log({"x": 1.0})
        logger.finalize("success")
    finally:
        rank_zero_only.rank = saved
    assert trackui.run is None
    assert not root.exists()
