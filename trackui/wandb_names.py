"""wandb's public names that trackui cannot give a meaning, each with the reason.

``trackui.<name>`` for a name here (and not defined by a module of its own)
is a stand-in that raises ``Unsupported`` with the reason in one line when it
is called, never ``AttributeError``: a script that merely mentions it
(``isinstance(v, wandb.Audio)``) keeps running. ``docs/api.md`` tabulates
every public name of wandb and of its ``Run``.
"""

from __future__ import annotations

from typing import Any, NoReturn

_SERVER = "needs W&B's servers; trackui keeps runs as local files"
_ARTIFACTS = "artifacts are stored by W&B's servers; use run.save() to keep files with a run"
_MEDIA = "this kind of value cannot be logged by trackui yet"

MODULE: dict[str, str] = {
    "ArtifactTTL": _ARTIFACTS,
    "EvalTable": _MEDIA,
    "Graph": _MEDIA,
    "box3d": _MEDIA,
    "controller": "trackui.agent() picks each trial itself; there is no separate controller",
    "plot_table": _MEDIA,
    "restore": f"restoring a file from a run {_SERVER}",
}
"""Top-level names refused when called, by name."""

RUN: dict[str, str] = {
    "finish_artifact": _ARTIFACTS,
    "restore": MODULE["restore"],
    "status": f"a run's sync status {_SERVER}",
    "upsert_artifact": _ARTIFACTS,
}
"""``Run`` members refused when called, by name."""


class Unsupported(NotImplementedError):
    """A wandb call that cannot mean anything for local runs."""


def refuse(name: str, why: str) -> NoReturn:
    raise Unsupported(f"wandb.{name} is not supported by trackui: {why}")


def stand_in(name: str) -> type:
    """A class named ``name`` whose construction (a call) raises ``Unsupported``."""
    why = MODULE[name]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        refuse(name, why)

    return type(name, (), {"__init__": __init__, "__doc__": f"Refused: {why}."})


def run_stand_in(name: str) -> Any:
    """A ``Run`` method named ``name`` that raises ``Unsupported``."""
    why = RUN[name]

    def method(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
        refuse(f"Run.{name}", why)

    method.__name__ = name
    method.__doc__ = f"Refused: {why}."
    return method
