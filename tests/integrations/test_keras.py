"""A Keras 3 model fitted on the torch backend with TrackuiCallback."""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported, here or by the callback

from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("torch")
keras = pytest.importorskip("keras")

from fwhelpers import metric_names, only_run, runs_under, series  # noqa: E402

import trackui  # noqa: E402
from trackui.integrations.keras import TrackuiCallback  # noqa: E402

# Keras' torch backend converts tensors with np.array(x), which NumPy 2 warns about.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def data(n: int = 96, seed: int = 0) -> tuple[Any, Any]:
    """Two Gaussian blobs in 4-d: a task a tiny MLP learns in a few epochs."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 4)).astype("float32") + y[:, None].astype("float32") * 2.0
    return x, y


def tiny_model() -> Any:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)],
        name="blobs",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(
            learning_rate=keras.optimizers.schedules.ExponentialDecay(0.01, 6, 0.5)
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def test_backend_is_torch() -> None:
    assert keras.backend.backend() == "torch"


def test_fit_logs_epochs_batches_validation_and_lr(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    x, y = data()
    cb = TrackuiCallback(
        log_freq=2, project="blobs", name="mlp", dir=str(root), config={"batch_size": 16}
    )
    model = tiny_model()
    # 96 samples with validation_split=0.25: 72 for training, 5 batches of 16 an epoch.
    model.fit(x, y, batch_size=16, epochs=3, validation_split=0.25, verbose=0, callbacks=[cb])

    assert trackui.run is None, "the callback's own run is finished"
    info = only_run(root)
    assert info.state == "finished"
    assert info.name == "mlp" and info.meta["project"] == "blobs"
    cfg = info.config
    assert cfg["batch_size"] == 16
    assert cfg["fit"] == {"epochs": 3, "steps_per_epoch": 5}
    assert cfg["model"]["name"] == "blobs" and cfg["model"]["class"] == "Sequential"
    assert cfg["model"]["num_parameters"] == 4 * 8 + 8 + 8 * 2 + 2
    assert cfg["optimizer"]["name"] == "adam"

    # Per-epoch values at the number of batches trained: 5, 10, 15.
    for metric in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"):
        assert [s for s, _ in series(info, metric)] == [5, 10, 15], metric
    assert series(info, "epoch") == [(5, 0.0), (10, 1.0), (15, 2.0)]
    accuracy = [v for _, v in series(info, "val_accuracy")]
    assert all(0.0 <= v <= 1.0 for v in accuracy)
    loss = [v for _, v in series(info, "loss")]
    assert loss[-1] < loss[0], "it learns"
    lr = [v for _, v in series(info, "learning_rate")]
    assert lr[0] < 0.01 and lr[-1] < lr[0], "the decayed learning rate, read from the optimizer"

    # Per-batch values every 2 batches, across epochs.
    batch_steps = [s for s, _ in series(info, "batch/loss")]
    assert batch_steps == [2, 4, 6, 8, 10, 12, 14]
    assert len(series(info, "batch/accuracy")) == 7
    assert len(series(info, "batch/learning_rate")) == 7
    assert not any(k.startswith("batch/val_") for k in metric_names(info)), (
        "validation is per epoch"
    )
    assert info.summary["val_loss"] == series(info, "val_loss")[-1][1]


def test_user_run_is_used_left_open_and_epoch_only(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    run = trackui.init(project="mine", dir=root)
    x, y = data()
    model = tiny_model()
    model.fit(
        x, y, batch_size=32, epochs=2, verbose=0, callbacks=[TrackuiCallback(log_freq="epoch")]
    )
    assert trackui.run is run
    assert only_run(root).state == "running"
    run.finish()
    info = only_run(root)
    assert info.state == "finished"
    assert [s for s, _ in series(info, "loss")] == [3, 6]
    assert series(info, "batch/loss") == []
    assert series(info, "val_loss") == [], "no validation data, no val metrics"


@pytest.mark.parametrize("bad", [-1, "often", 1.5, True])
def test_bad_log_freq_is_one_clear_error(bad: Any) -> None:
    with pytest.raises(ValueError, match="log_freq must be a number of batches"):
        TrackuiCallback(log_freq=bad)


def test_second_fit_with_the_same_callback_is_a_new_run_from_step_zero(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    x, y = data()
    cb = TrackuiCallback(log_freq="epoch", dir=str(root))
    model = tiny_model()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[cb])
    first = cb.run
    model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[cb])
    assert cb.run is not first
    runs = {r.id: r for r in runs_under(root)}
    assert [s for s, _ in series(runs[first.id], "loss")] == [3]
    assert [s for s, _ in series(runs[cb.run.id], "loss")] == [3, 6]
    assert all(r.state == "finished" for r in runs.values())
