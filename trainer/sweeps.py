"""``trackui train --sweep``: the grid of option values, one run per combination.

The grid and the run names are ``trackui.sweep_config``'s, as for ``trackui.sweep``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from trackui import sweep_config
from trackui.trainer.cli_args import SWEEPABLE, UsageError


def _bool(text: str) -> bool:
    t = text.strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {text!r}")


def parse_sweep(
    items: Sequence[str] | None, parser: argparse.ArgumentParser
) -> list[dict[str, Any]]:
    """The grid of ``--sweep key=v1,v2 ...`` as a list of option overrides.

    Each value goes through the option's own type check, so a sweep accepts
    what the option accepts. No ``--sweep`` gives one empty override.

    Raises:
        UsageError: a malformed item, an unknown key, or a bad value.
    """
    if not items:
        return [{}]
    actions = {a.dest: a for a in parser._actions}
    axes: dict[str, dict[str, list[Any]]] = {}
    seen = set()
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip().lstrip("-").replace("-", "_")
        if not sep or not key or not values:
            raise UsageError(f"--sweep: expected KEY=V1,V2,... but got {item!r}")
        if key not in SWEEPABLE:
            raise UsageError(f"--sweep: cannot sweep {key!r} (choose from {', '.join(SWEEPABLE)})")
        if key in seen:
            raise UsageError(f"--sweep: {key!r} given twice")
        seen.add(key)
        action = actions[SWEEPABLE[key]]
        convert = _bool if key == "amp" else (action.type or str)
        parsed = []
        for text in values.split(","):
            text = text.strip()
            try:
                value = convert(text)  # type: ignore[operator]
            except (argparse.ArgumentTypeError, ValueError) as e:
                raise UsageError(f"--sweep {key}: {e}") from None
            if action.choices is not None and value not in action.choices:
                raise UsageError(
                    f"--sweep {key}: {text!r} is not one of {', '.join(action.choices)}"
                )
            parsed.append(value)
        axes[SWEEPABLE[key]] = {"values": parsed}
    return sweep_config.grid(axes)


def sweep_label(overrides: dict[str, Any]) -> str:
    return sweep_config.label(overrides)
