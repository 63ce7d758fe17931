"""``trackui train --sweep``: the grid of option values, one run per combination.

The sweep is a local sweep like any other: ``--sweep`` makes a wandb-format
grid configuration, stores it with ``trackui.sweep`` (under ``<root>/sweeps/``)
and runs each combination through ``trackui.agent`` in this process, so the
grid, the run names and the sweep's records are ``trackui.sweeps``'.
"""

from __future__ import annotations

import argparse
import contextlib
import io
from collections.abc import Callable, Sequence
from typing import Any

import trackui
from trackui import sweep_config
from trackui.sweeps import current_trial
from trackui.trainer.cli_args import SWEEPABLE, UsageError

Attempt = Callable[[argparse.Namespace, "str | None", "str | None"], int]
"""Trains one configuration as one run (options, name, group); returns 0, 1 (failed)
or 2 (stop the sweep: the data cannot be read)."""


class SweepStopped(BaseException):
    """A trial asked to stop the whole sweep; carries the exit status.

    A BaseException, like KeyboardInterrupt, so that the agent lets it through
    rather than counting a failed trial and going on.
    """

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


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
    axes = parse_axes(items, parser)
    return sweep_config.grid(axes) if axes else [{}]


def parse_axes(
    items: Sequence[str] | None, parser: argparse.ArgumentParser
) -> dict[str, dict[str, list[Any]]]:
    """``--sweep key=v1,v2 ...`` as sweep parameters: ``{dest: {"values": [...]}}``.

    No ``--sweep`` gives none. Raises UsageError as ``parse_sweep`` does.
    """
    if not items:
        return {}
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
    return axes


def check_sweep_options(args: argparse.Namespace) -> None:
    """``--sweep-method`` and ``--sweep-count`` go with ``--sweep``; random needs a count.

    Raises:
        UsageError: they do not.
    """
    if not args.sweep and (args.sweep_method != "grid" or args.sweep_count is not None):
        raise UsageError("--sweep-method and --sweep-count need --sweep")
    if args.sweep_method == "random" and args.sweep_count is None:
        raise UsageError("--sweep-method random needs --sweep-count N")


def sweep_label(overrides: dict[str, Any]) -> str:
    return sweep_config.label(overrides)


def run_sweep(args: argparse.Namespace, axes: dict[str, Any], attempt: Attempt) -> int:
    """Store ``axes`` as a sweep and run its trials through the agent.

    A grid runs every combination (at most ``--sweep-count``); a random sweep
    draws ``--sweep-count`` combinations of the values.

    Each run is named ``<--name>-<label>`` (the label alone without ``--name``)
    and grouped by ``--group``, else ``sweep-<sweep id>``. A failed run counts
    and the sweep goes on; KeyboardInterrupt goes through.

    Returns:
        0 if every run finished, 1 if any failed, or what stopped the sweep.
    """
    with contextlib.redirect_stdout(io.StringIO()):  # the console shows the runs alone
        sweep_id = trackui.sweep(
            {"method": args.sweep_method, "parameters": axes}, project=args.project, dir=args.dir
        )
    group = args.group if args.group is not None else f"sweep-{sweep_id}"
    codes: list[int] = []

    def trial() -> None:
        running = current_trial()
        assert running is not None  # the agent sets it while it calls us
        overrides = dict(running.params)
        label = sweep_label(overrides)
        name = f"{args.name}-{label}" if args.name else label
        code = attempt(argparse.Namespace(**{**vars(args), **overrides}), name, group)
        codes.append(code)
        if code == 2:
            raise SweepStopped(code)

    try:
        trackui.agent(sweep_id, function=trial, count=args.sweep_count, dir=args.dir)
    except SweepStopped as stop:
        return stop.code
    return 1 if any(codes) else 0
