"""Keras 3: ``TrackuiCallback`` logs ``model.fit`` to trackui, on any Keras backend.

::

    from trackui.integrations.keras import TrackuiCallback
    model.fit(x, y, validation_split=0.1, epochs=5, callbacks=[TrackuiCallback(log_freq=10)])

What it logs:

- config: the ``fit`` parameters (``fit/epochs``, ``fit/steps_per_epoch``),
  the optimizer's config and the model's class, name, loss and size;
- at the end of each epoch: the epoch's metrics under Keras' own names
  (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``...), ``epoch`` and
  ``learning_rate``;
- every ``log_freq`` batches: the running metrics of the epoch so far as
  ``batch/loss``, ``batch/accuracy``..., with ``batch/learning_rate``.

The history's step is the number of batches trained so far, so batch and
epoch values share one axis. The callback logs into the run the script started
with ``trackui.init(...)`` (and leaves it open) or starts its own (project
``$TRACKUI_PROJECT``, default ``keras``) and finishes it when ``fit`` returns.
"""

from __future__ import annotations

import math
from typing import Any

from trackui.integrations import default_project, plain, require, scalars

keras = require("keras", "keras", "trackui.integrations.keras")

__all__ = ["TrackuiCallback"]


class TrackuiCallback(keras.callbacks.Callback):  # type: ignore[misc,name-defined]
    """Log a Keras ``fit`` to a trackui run.

    Args:
        log_freq: Log the running batch metrics every this many batches;
            ``"batch"`` is every batch, ``"epoch"`` (or 0) logs per epoch only.
        project: Project for a run this callback starts (default:
            ``$TRACKUI_PROJECT``, else ``keras``).
        name: Name for a run this callback starts.
        dir: Root for a run this callback starts (default: ``$TRACKUI_DIR``,
            else ``./trackui-runs``).
        log_learning_rate: Log the optimizer's current learning rate.
        **init_kwargs: More ``trackui.init`` arguments (``tags``, ``config``...).

    Raises:
        ValueError: ``log_freq`` is neither a non-negative int, ``"batch"`` nor ``"epoch"``.
    """

    def __init__(
        self,
        log_freq: int | str = 10,
        project: str | None = None,
        name: str | None = None,
        dir: str | None = None,
        log_learning_rate: bool = True,
        **init_kwargs: Any,
    ) -> None:
        super().__init__()
        if log_freq == "batch":
            log_freq = 1
        elif log_freq == "epoch":
            log_freq = 0
        if isinstance(log_freq, bool) or not isinstance(log_freq, int) or log_freq < 0:
            raise ValueError(
                f"TrackuiCallback: log_freq must be a number of batches, 'batch' or 'epoch', not {log_freq!r}"
            )
        self.log_freq = log_freq
        self._project = project
        self._name = name
        self._dir = dir
        self._log_lr = log_learning_rate
        self._init_kwargs = init_kwargs
        self._run: Any = None
        self._owns_run = False
        self._batches = 0
        """Training batches seen across all epochs (and all fits): the history's step."""

    @property
    def run(self) -> Any:
        """The trackui run this callback logs to (None before ``fit`` starts)."""
        return self._run

    # -- hooks -------------------------------------------------------------

    def on_train_begin(self, logs: Any = None) -> None:
        import trackui

        current = trackui.run
        if self._run is not None and not self._run._finished:
            pass  # a second fit() with the same callback while its run is open
        elif current is not None:
            self._run, self._owns_run = current, False
            self._batches = 0
        else:
            self._run = trackui.init(
                project=self._project or default_project("keras"),
                name=self._name,
                dir=self._dir,
                **self._init_kwargs,
            )
            self._owns_run = True
            self._batches = 0
        # Batches go on counting across fits into one run, after what it already holds.
        self._batches = max(self._batches, self._run.step)
        self._run.config.update(self._fit_config())

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        self._batches += 1
        if self._run is None or not self.log_freq or self._batches % self.log_freq:
            return
        data = {f"batch/{k}": v for k, v in scalars(logs).items()}
        lr = self._learning_rate() if self._log_lr else None
        if lr is not None:
            data["batch/learning_rate"] = lr
        if data:
            self._log(data)

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if self._run is None:
            return
        data = scalars(logs)
        data["epoch"] = int(epoch)
        lr = self._learning_rate() if self._log_lr else None
        if lr is not None:
            data.setdefault("learning_rate", lr)
        self._log(data)

    def on_train_end(self, logs: Any = None) -> None:
        if self._run is not None and self._owns_run:
            self._run.finish()

    # -- helpers -----------------------------------------------------------

    def _log(self, data: dict[str, Any]) -> None:
        run = self._run
        run.log(data, step=self._batches if self._batches >= run.step else None)

    def _learning_rate(self) -> float | None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            return None
        try:
            value = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        except (AttributeError, TypeError, ValueError):
            return None  # an optimizer without a readable learning rate
        return value if math.isfinite(value) else None

    def _fit_config(self) -> dict[str, Any]:
        params = dict(self.params or {})
        cfg: dict[str, Any] = {
            "fit": {
                k: v
                for k, v in (
                    ("epochs", params.get("epochs")),
                    ("steps_per_epoch", params.get("steps")),
                )
                if v is not None
            }
        }
        model = self.model
        if model is not None:
            info: dict[str, Any] = {
                "class": type(model).__name__,
                "name": getattr(model, "name", None),
            }
            try:
                info["num_parameters"] = int(model.count_params())
            except (ValueError, AttributeError):
                pass  # a model that is not built yet
            loss = getattr(model, "loss", None)
            if loss is not None:
                info["loss"] = (
                    loss if isinstance(loss, str) else getattr(loss, "name", type(loss).__name__)
                )
            cfg["model"] = info
            optimizer = getattr(model, "optimizer", None)
            if optimizer is not None:
                try:
                    cfg["optimizer"] = plain(optimizer.get_config())
                except (AttributeError, NotImplementedError, TypeError):
                    cfg["optimizer"] = {"name": type(optimizer).__name__}
        return cfg
