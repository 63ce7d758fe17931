"""Framework integrations: log to trackui from the training loop you already use.

Each integration lives in its own module and imports its framework only when
that module is imported, so ``import trackui`` stays free of them:

- ``trackui.integrations.transformers``: ``TrackuiCallback`` for the Hugging
  Face ``Trainer``; importing it makes ``report_to="trackui"`` work.
- ``trackui.integrations.lightning``: ``TrackuiLogger`` for PyTorch Lightning
  (``lightning.pytorch`` or ``pytorch_lightning``).
- ``trackui.integrations.keras``: ``TrackuiCallback`` for Keras 3 ``fit``.

A missing framework raises ``ImportError`` with one line saying what to install.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

__all__ = ["default_project", "plain", "reopen", "require", "scalars"]


def require(module: str, package: str, integration: str) -> ModuleType:
    """Import ``module`` or raise an ImportError that says what to install.

    Args:
        module: The module to import (``"transformers"``).
        package: The pip package that provides it (``"transformers"``).
        integration: The integration that needs it, for the message.

    Returns:
        The imported module.

    Raises:
        ImportError: ``module`` is not installed (or fails to import).
    """
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f"{integration} needs {package}: pip install {package}  (or: pip install 'trackui[frameworks]')"
        ) from e


def default_project(fallback: str) -> str:
    """The project for a run an integration starts: ``$TRACKUI_PROJECT`` or ``fallback``."""
    return os.environ.get("TRACKUI_PROJECT") or fallback


def plain(value: Any, depth: int = 0) -> Any:
    """A config value as plain data: Namespaces, dataclasses and mappings become dicts.

    Callables become their qualified name (Lightning hyperparameters often hold
    classes or functions); other objects are left for the config writer, which
    stores anything that is not JSON as its ``str()``.
    """
    import dataclasses
    from argparse import Namespace
    from collections.abc import Mapping

    if depth > 20:  # a cyclic structure: stop rather than recurse forever
        return str(value)
    if isinstance(value, Namespace):
        value = vars(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '') or ''}.{value.__qualname__}".lstrip(".")
    return value


def scalars(values: Any) -> dict[str, Any]:
    """The entries of a metrics dict that ``log()`` accepts; the rest are dropped.

    Frameworks put the odd list or object into their metric dicts; a training
    loop should not stop because one of them cannot be plotted.
    """
    out: dict[str, Any] = {}
    for k, v in dict(values or {}).items():
        if isinstance(v, (bool, int, float, str)):
            out[str(k)] = v
        elif getattr(v, "ndim", None) == 0 and hasattr(v, "item"):
            out[str(k)] = v  # NumPy scalars and 0-d tensors; the run reads them
        elif getattr(v, "shape", None) == (1,) and hasattr(v, "item"):
            out[str(k)] = v.item()
    return out


def reopen(run: Any) -> Any:
    """The run ``run`` resumed after it was finished (for values logged after training).

    Trainers evaluate or test after ``fit`` has ended, and the integration that
    finished its run at the end of training must not lose those values.
    """
    import trackui

    return trackui.init(
        id=run.id,
        dir=run.root,
        project=run.project,
        resume="allow",
        reinit="create_new",  # leave any run the script made itself alone
    )
