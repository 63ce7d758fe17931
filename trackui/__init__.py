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
    data: dict[str, Any] | None = None,
    step: int | None = None,
    commit: bool | None = None,
    sync: bool | None = None,
) -> None:
    """Log to the current run (see ``Run.log``); ``log()`` alone commits the open step."""
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


# Settings, environment and wandb's setup calls (trackui.settings, trackui.wandb_names)
from trackui import wandb_names as _wandb_names  # noqa: E402
from trackui.settings import Settings, mark_preempting, require, setup, teardown  # noqa: E402
from trackui.wandb_names import Unsupported  # noqa: E402

__all__ += ["Settings", "Unsupported", "join", "mark_preempting", "require", "setup", "teardown"]
join = finish
"""wandb's old name for ``finish``."""

config: Any = _Proxy("config")
summary: Any = _Proxy("summary")


# -- Artifacts, alerts and the read API (trackui.artifact_log, trackui.alerts,
# trackui.public_api): classes imported on first use.
_ARTIFACT_NAMES = {
    "Artifact": "trackui.artifacts",
    "AlertLevel": "trackui.alerts",
    "Api": "trackui.public_api",
}
__all__ += [*_ARTIFACT_NAMES, "alert", "log_artifact", "use_artifact", "log_model", "use_model"]
__all__ += ["link_model"]


def alert(title: str, text: str, level: Any = None, wait_duration: Any = None) -> None:
    """Record an alert in the current run (see ``Run.alert``)."""
    _need_run("alert").alert(title, text, level, wait_duration)


def log_artifact(artifact_or_path: Any, *args: Any, **kw: Any) -> Any:
    """Store an artifact as the current run's output (see ``Run.log_artifact``)."""
    return _need_run("log_artifact").log_artifact(artifact_or_path, *args, **kw)


def use_artifact(artifact_or_name: Any, *args: Any, **kw: Any) -> Any:
    """A stored artifact as the current run's input (see ``Run.use_artifact``)."""
    return _need_run("use_artifact").use_artifact(artifact_or_name, *args, **kw)


def log_model(path: Any, name: str | None = None, aliases: Any = None) -> Any:
    return _need_run("log_model").log_model(path, name, aliases)


def use_model(name: str) -> str:
    return _need_run("use_model").use_model(name)


def link_model(path: Any, registered_model_name: str, *args: Any, **kw: Any) -> Any:
    return _need_run("link_model").link_model(path, registered_model_name, *args, **kw)


# Sweeps, run locally (trackui/sweeps.py): wandb.sweep / wandb.agent.
from trackui.sweeps import EarlyTerminated, agent, controller, sweep  # noqa: E402

__all__ += ["EarlyTerminated", "agent", "controller", "sweep"]


def __getattr__(name: str) -> Any:
    # `trackui.run` is the current run (None before init), looked up on use.
    if name == "run":
        return current()
    if name in _ARTIFACT_NAMES:
        import importlib

        return getattr(importlib.import_module(_ARTIFACT_NAMES[name]), name)
    if name in _wandb_names.MODULE:  # wandb's names without a meaning here: refused on call
        return _wandb_names.stand_in(name)
    raise AttributeError(f"module 'trackui' has no attribute {name!r}")
