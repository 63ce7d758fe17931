"""trackui: experiment tracking in the terminal.

``import trackui as wandb`` works for the common case::

    import trackui
    run = trackui.init(project="mnist", config={"lr": 1e-3})
    trackui.log({"loss": 0.5})
    trackui.finish()

Importing this module costs little: it imports the standard library and
orjson only. The viewer (Textual, DuckDB) and the trainer (torch) are imported
by the commands that need them.
"""

from __future__ import annotations

from typing import Any

from trackui.api import Run, current, init

# Rich values (images, histograms, tables, charts, files): trackui.media.
from trackui.media import (
    Audio,
    Histogram,
    Html,
    Image,
    Molecule,
    Object3D,
    Plotly,
    Table,
    Video,
    plot,
)

__version__ = "0.1.0"
__all__ = [
    "Run",
    "config",
    "define_metric",
    "finish",
    "init",
    "log",
    "login",
    "run",
    "save",
    "summary",
    "watch",
    # Rich values
    "Audio",
    "Histogram",
    "Html",
    "Image",
    "Molecule",
    "Object3D",
    "Plotly",
    "Table",
    "Video",
    "plot",
]


def _need_run(what: str) -> Run:
    run = current()
    if run is None:
        raise RuntimeError(f"trackui.{what}() called before trackui.init()")
    return run


def log(
    data: dict[str, Any],
    step: int | None = None,
    commit: bool | None = None,
    sync: bool | None = None,
) -> None:
    """Log to the current run (see ``Run.log``)."""
    _need_run("log").log(data, step=step, commit=commit)


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    """Finish the current run, if there is one."""
    run = current()
    if run is not None:
        run.finish(exit_code=exit_code, quiet=quiet)


def save(glob_str: str, base_path: str | None = None, policy: str = "live") -> list[str]:
    """Copy files into the current run (see ``Run.save``)."""
    return _need_run("save").save(glob_str, base_path=base_path, policy=policy)


def define_metric(name: str, step_metric: str | None = None, **kw: Any) -> None:
    """Declare how a metric is summarised (see ``Run.define_metric``)."""
    _need_run("define_metric").define_metric(name, step_metric, **kw)


def watch(
    model: Any,
    criterion: Any = None,
    log: str | None = "gradients",
    log_freq: int = 1000,
    **kw: Any,
) -> None:
    """Log parameter and gradient norms of a torch model (see ``Run.watch``)."""
    _need_run("watch").watch(model, criterion, log=log, log_freq=log_freq, **kw)


def unwatch(model: Any = None) -> None:
    """Accepted for compatibility; hooks stay until the model is discarded."""


def login(*args: Any, **kwargs: Any) -> bool:
    """Nothing to log in to: runs are local files. Accepted for compatibility."""
    return True


class _Proxy:
    """``trackui.config`` / ``trackui.summary``: the current run's, looked up on each use."""

    def __init__(self, attr: str) -> None:
        object.__setattr__(self, "_attr", attr)

    def _target(self) -> Any:
        return getattr(_need_run(self._attr), self._attr)

    def __getattr__(self, key: str) -> Any:
        return getattr(self._target(), key)

    def __setattr__(self, key: str, value: Any) -> None:
        setattr(self._target(), key, value)

    def __getitem__(self, key: str) -> Any:
        return self._target()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._target()[key] = value

    def __contains__(self, key: object) -> bool:
        return key in self._target()

    def __iter__(self) -> Any:
        return iter(self._target())

    def __len__(self) -> int:
        return len(self._target())

    def __repr__(self) -> str:
        run = current()
        return repr(getattr(run, self._attr)) if run else f"<trackui.{self._attr}: no run>"


config: Any = _Proxy("config")
summary: Any = _Proxy("summary")


def __getattr__(name: str) -> Any:
    # `trackui.run` is the current run (None before init), looked up on use.
    if name == "run":
        return current()
    raise AttributeError(f"module 'trackui' has no attribute {name!r}")
