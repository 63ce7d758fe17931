"""Settings as wandb reads them: ``Settings(...)``, ``setup()``, and the environment.

Each setting comes from, in this order: the argument given to ``init()``, the
``settings=`` given to ``init()``, those given to ``setup()``, then the
environment, where ``TRACKUI_<NAME>`` wins over ``WANDB_<NAME>``. Only the
settings that mean something for local runs are honoured; the others are
accepted and ignored (see ``docs/api.md``).
"""

from __future__ import annotations

import os
from typing import Any

MODES = ("online", "offline", "disabled", "shared", "dryrun", "run")
"""Modes ``init`` accepts: ``dryrun`` is wandb's old name for ``offline``, ``run``
its old name for ``online``; all but ``disabled`` write locally."""

_MODE_ALIASES = {"dryrun": "offline", "run": "online"}
_OFF = ("", "0", "false", "no", "off")


def env(name: str) -> str | None:
    """``$TRACKUI_<name>``, else ``$WANDB_<name>``, else None (an empty value counts as unset)."""
    for prefix in ("TRACKUI_", "WANDB_"):
        value = os.environ.get(prefix + name)
        if value:
            return value
    return None


def env_flag(name: str) -> bool:
    """Whether ``$TRACKUI_<name>`` (else ``$WANDB_<name>``) is set to a true value."""
    value = env(name)
    return value is not None and value.strip().lower() not in _OFF


class Settings:
    """wandb's ``Settings``: every field is accepted; these are honoured.

    - ``mode``: ``online``, ``offline``, ``dryrun`` or ``disabled``, as ``init(mode=)``.
    - ``console``: ``off`` stops copying the console to ``output.log``; ``auto``,
      ``wrap``, ``redirect`` copy it.
    - ``silent``: no lines from ``init`` and ``finish`` (``$WANDB_SILENT`` and
      ``$TRACKUI_SILENT`` are read when those lines would be printed).
    - ``x_disable_stats`` (or ``disable_stats``): no system metrics for this run.
      Read it as ``run.settings.x_disable_stats``.
    - ``run_id``, ``run_name``, ``project``, ``run_group``, ``run_job_type``,
      ``run_notes``, ``run_tags``, ``root_dir``, ``resume``: as the ``init()``
      arguments they name.

    Unknown fields are kept as attributes and otherwise ignored.
    """

    def __init__(self, **fields: Any) -> None:
        self.mode: str | None = None
        self.console: str | None = None
        self.silent: bool | None = None
        self.x_disable_stats: bool | None = None
        for key, value in fields.items():
            setattr(self, key, value)
        if fields.get("disable_stats") is not None and self.x_disable_stats is None:
            self.x_disable_stats = bool(fields["disable_stats"])

    def update(self, other: Any = None, **fields: Any) -> None:
        """Take the fields of another ``Settings`` or dict that are set (not None)."""
        merged = {**_fields(other), **fields}
        for key, value in merged.items():
            if value is not None:
                setattr(self, key, value)
        if merged.get("disable_stats") is not None and merged.get("x_disable_stats") is None:
            self.x_disable_stats = bool(merged["disable_stats"])

    def get(self, key: str, default: Any = None) -> Any:
        value = getattr(self, key, None)
        return default if value is None else value

    def __repr__(self) -> str:
        shown = {k: v for k, v in vars(self).items() if v is not None}
        return f"Settings({shown!r})"


def _fields(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return dict(obj)
    return dict(vars(obj))


_global = Settings()
"""What ``setup(settings=...)`` gave; ``init`` starts from it."""


def setup(settings: Any = None, **_: Any) -> Settings:
    """Keep ``settings`` for every later ``init()`` in this process (as wandb's ``setup``)."""
    _global.update(settings)
    return _global


def teardown(exit_code: int | None = None) -> None:
    """Finish the runs left open, as wandb's ``teardown``."""
    from trackui.session import _active

    for run in list(_active):
        run.finish(exit_code=exit_code)


def require(requirement: str | None = None, **_: Any) -> None:
    """wandb's feature switches (``"service"``, ``"core"``): nothing to switch here."""


def resolve(settings: Any, **given: Any) -> Settings:
    """The settings of one ``init()``: its arguments over ``settings`` over ``setup()``'s
    over the environment. ``given`` holds ``mode``, ``console``, ``silent``."""
    out = Settings()
    out.update(_global)
    out.update(settings)
    out.update(**given)
    if out.mode is None:
        out.mode = env("MODE") or "online"
    mode = str(out.mode).lower()
    if mode not in MODES:
        raise ValueError(
            f"trackui.init: mode must be online, offline or disabled, not {out.mode!r}"
        )
    out.mode = _MODE_ALIASES.get(mode, mode)
    if out.console is None:
        out.console = env("CONSOLE") or "wrap"
    if out.x_disable_stats is None:
        out.x_disable_stats = env_flag("DISABLE_STATS") or env_flag("X_DISABLE_STATS")
    return out


def captures_console(settings: Settings) -> bool:
    """Whether ``settings.console`` asks for ``output.log``."""
    return str(settings.console).lower() not in ("off", "0", "false", "none")


def env_tags() -> list[str] | None:
    """``$WANDB_TAGS`` (comma-separated), if set."""
    value = env("TAGS")
    return [t.strip() for t in value.split(",") if t.strip()] if value else None


def mark_preempting() -> None:
    """wandb tells its server the run may be preempted; a local run has no one to tell."""
