"""Where ``init(config=...)`` comes from besides a dict: YAML files, and which keys to keep.

``config="config.yaml"`` reads that file; a ``config-defaults.yaml`` beside the
script (else in the working directory) gives defaults under everything else,
as wandb does. Both need PyYAML, imported only when such a file is read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

DEFAULTS_FILE = "config-defaults.yaml"


def read_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A config from a YAML file, in wandb's shape or plain.

    wandb writes ``key: {desc: ..., value: v}``; such an entry gives ``key: v``.
    Its bookkeeping keys (``wandb_version``, ``_wandb``) are dropped.

    Raises:
        ImportError: PyYAML is not installed.
        ValueError: the file does not hold a mapping.
        OSError: the file cannot be read.
    """
    try:
        import yaml
    except ImportError:
        raise ImportError(
            f"trackui: reading {os.fspath(path)!r} needs PyYAML (pip install pyyaml)"
        ) from None
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ValueError(f"trackui: {os.fspath(path)!r} must hold a mapping of config keys")
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("wandb_version", "_wandb"):
            continue
        if isinstance(value, Mapping) and "value" in value and set(value) <= {"value", "desc"}:
            value = value["value"]
        out[str(key)] = value
    return out


def is_yaml_path(config: Any) -> bool:
    """Whether ``init(config=...)`` names a file rather than giving values."""
    return isinstance(config, (str, os.PathLike))


def defaults_path() -> Path | None:
    """``config-defaults.yaml`` beside the running script, else in the working directory."""
    places = []
    script = sys.argv[0] if sys.argv else ""
    if script and script not in ("-c", "-m", "-"):
        places.append(Path(script).resolve().parent)
    places.append(Path.cwd())
    for place in places:
        path = place / DEFAULTS_FILE
        if path.is_file():
            return path
    return None


def select_keys(
    config: dict[str, Any],
    include: Iterable[str] | None,
    exclude: Iterable[str] | None,
) -> dict[str, Any]:
    """``config`` with only the ``include`` keys (if given), less the ``exclude`` keys."""
    if include:
        keep = set(include)
        config = {k: v for k, v in config.items() if k in keep}
    if exclude:
        drop = set(exclude)
        config = {k: v for k, v in config.items() if k not in drop}
    return config
