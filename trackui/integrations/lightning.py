"""PyTorch Lightning: ``TrackuiLogger``, a Lightning ``Logger`` that writes a trackui run.

The one-line change from wandb::

    from trackui.integrations.lightning import TrackuiLogger
    trainer = Trainer(logger=TrackuiLogger(project="mnist", name="baseline"))

It works with whichever of ``lightning.pytorch`` (the ``lightning`` package)
and ``pytorch_lightning`` is installed; with both, the one the script has
already imported wins, else ``lightning.pytorch``.

Only global rank zero writes. ``finalize("success")`` finishes the run,
``finalize("failed")`` marks it ``failed``; a run the script started itself
with ``trackui.init(...)`` is used as it is and left for the script to finish.
"""

from __future__ import annotations

import glob
import importlib
import os
import secrets
import string
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from trackui.integrations import default_project, plain, reopen, require, scalars

__all__ = ["TrackuiLogger", "lightning_module"]


def lightning_module() -> ModuleType:
    """The installed Lightning package: ``lightning.pytorch`` or ``pytorch_lightning``.

    Raises:
        ImportError: neither is installed, with the command that installs one.
    """
    order = ["lightning.pytorch", "pytorch_lightning"]
    # A script that already imported one flavour trains with it: subclass that one.
    if "pytorch_lightning" in sys.modules and "lightning.pytorch" not in sys.modules:
        order.reverse()
    for name in order:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return require("pytorch_lightning", "pytorch-lightning", "trackui.integrations.lightning")


_pl = lightning_module()
_Logger: Any = _pl.loggers.Logger
_rank_zero_only: Any = _pl.utilities.rank_zero_only
_rank_zero_experiment: Any = importlib.import_module(
    _pl.loggers.logger.__name__
).rank_zero_experiment

_ID_ALPHABET = string.digits + string.ascii_lowercase


class TrackuiLogger(_Logger):  # type: ignore[misc]
    """Log a Lightning ``Trainer`` to a trackui run.

    Args:
        name: Display name of the run (default: its id).
        project: Project (default: ``$TRACKUI_PROJECT``, else ``lightning``);
            also this logger's ``name``, as with Lightning's wandb logger.
        save_dir: Where Lightning writes its own files (checkpoints go to
            ``<save_dir>/<project>/<run id>/checkpoints``); default: the
            Trainer's ``default_root_dir``.
        dir: Root of the trackui runs (default: ``$TRACKUI_DIR``, else
            ``./trackui-runs``).
        id: Run id, to resume a run (with ``resume="allow"`` in ``init_kwargs``).
        version: Another spelling of ``id``.
        log_model: ``True`` copies the checkpoints Lightning keeps into the
            run's ``files/`` when training ends; ``"all"`` copies each one as
            it is written. ``False`` (default) copies none.
        prefix: Put before every metric name (``"fold1"`` -> ``fold1-loss``).
        **init_kwargs: More ``trackui.init`` arguments (``tags``, ``group``,
            ``notes``, ``config``, ``resume``...).
    """

    LOGGER_JOIN_CHAR = "-"

    def __init__(
        self,
        name: str | None = None,
        project: str | None = None,
        save_dir: str | os.PathLike[str] | None = None,
        dir: str | os.PathLike[str] | None = None,
        id: str | None = None,
        version: str | None = None,
        log_model: bool | str = False,
        prefix: str = "",
        **init_kwargs: Any,
    ) -> None:
        super().__init__()
        if log_model not in (True, False, "all"):
            raise ValueError(
                f"TrackuiLogger: log_model must be True, False or 'all', not {log_model!r}"
            )
        self._run_name = name
        self._project = project or default_project("lightning")
        self._save_dir = os.fspath(save_dir) if save_dir is not None else None
        self._dir = dir
        self._id = id or version or "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))
        self._log_model = log_model
        self._prefix = prefix
        self._init_kwargs = init_kwargs
        self._run: Any = None
        self._owns_run = False
        self._checkpoint_callbacks: dict[int, Any] = {}
        self._copied: dict[str, float] = {}
        """Checkpoint path to the mtime it had when copied into the run."""

    # -- what Lightning asks of a logger -------------------------------------

    @property
    def name(self) -> str:
        """The project: with ``version``, names Lightning's checkpoint folder."""
        return self._project

    @property
    def version(self) -> str:
        """The run id."""
        if self._run is not None:
            return str(self._run.id)
        import trackui

        current = trackui.run
        if current is not None and not current.disabled:
            return str(current.id)
        return self._id

    @property
    def save_dir(self) -> str | None:
        """Where Lightning writes checkpoints (None: the Trainer's ``default_root_dir``)."""
        return self._save_dir

    @property
    @_rank_zero_experiment
    def experiment(self) -> Any:
        """The trackui ``Run`` (for ``self.logger.experiment.log({...})``).

        Started on first use, or the run the script already started. On
        ranks other than zero, an object that ignores every call.
        """
        if self._run is None:
            import trackui

            current = trackui.run
            if current is not None:
                self._run, self._owns_run = current, False
            else:
                self._run = trackui.init(
                    project=self._project,
                    name=self._run_name,
                    dir=self._dir,
                    id=self._id,
                    **self._init_kwargs,
                )
                self._owns_run = True
        elif self._owns_run and self._run._finished:
            # fit() finished the run; test() or validate() after it adds to the same one.
            self._run = reopen(self._run)
        return self._run

    @_rank_zero_only
    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        """Merge hyperparameters into the run's config.

        Args:
            params: A dict, ``argparse.Namespace`` or dataclass; nested
                values of those kinds are kept nested.
        """
        self.experiment.config.update(plain(params) or {})

    @_rank_zero_only
    def log_metrics(self, metrics: Any, step: int | None = None) -> None:
        """Log metrics at Lightning's step (the count of optimizer steps)."""
        data = scalars(metrics)
        if self._prefix:
            data = {f"{self._prefix}{self.LOGGER_JOIN_CHAR}{k}": v for k, v in data.items()}
        if not data:
            return
        run = self.experiment
        run.log(data, step=step if step is not None and step >= run.step else None)

    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        """Note (or, with ``log_model="all"``, copy) the checkpoints Lightning just wrote."""
        if not self._log_model:
            return
        if self._log_model == "all" or getattr(checkpoint_callback, "save_top_k", None) == -1:
            self._copy_checkpoints(checkpoint_callback)
        else:
            self._checkpoint_callbacks[id(checkpoint_callback)] = checkpoint_callback

    @_rank_zero_only
    def finalize(self, status: str) -> None:
        """Finish the run: ``success`` -> ``finished``, ``failed`` -> ``failed``.

        A run this logger did not start is left open for the script.
        """
        if self._run is None or self._run._finished:
            return
        failed = status == "failed"
        if not failed:
            for callback in self._checkpoint_callbacks.values():
                self._copy_checkpoints(callback)
            best = [
                c for c in self._checkpoint_callbacks.values() if getattr(c, "best_model_path", "")
            ]
            if best:
                self._run.summary["checkpoint/best"] = Path(best[0].best_model_path).name
        if self._owns_run:
            self._run.finish(exit_code=1 if failed else 0)

    # -- checkpoints ---------------------------------------------------------

    @_rank_zero_only
    def _copy_checkpoints(self, callback: Any) -> None:
        paths: set[str] = set()
        for attr in ("last_model_path", "best_model_path"):
            p = getattr(callback, attr, None)
            if p:
                paths.add(os.fspath(p))
        paths.update(os.fspath(p) for p in (getattr(callback, "best_k_models", None) or {}))
        run = self.experiment
        for p in sorted(paths):
            try:
                mtime = os.stat(p).st_mtime
            except OSError:
                continue  # pruned by save_top_k since
            if self._copied.get(p) == mtime:
                continue
            src = Path(p)
            # files/<checkpoint folder>/<name>: keeps "checkpoints/epoch=1-step=8.ckpt".
            run.save(glob.escape(str(src)), base_path=str(src.parent.parent), policy="now")
            self._copied[p] = mtime
