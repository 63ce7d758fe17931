"""``trackui watch [DIR] [--watch RULE ...] [--json] [--exit-on-alert]``: firings as lines.

The watches of ``store.watches`` over the root, fed by the real watcher
(``store.watch.RootWatcher``) and a one-second clock: one line per firing
(or one JSON object per line with ``--json``), flushed as it happens, for a
tmux status line, cron, CI or a script. The firings that hold when it starts
are printed first, once. ``--exit-on-alert`` exits :data:`EXIT_ALERT` after
the first firing (those at start included); Ctrl-C exits 0 without a word.
Rules given with ``--watch`` are checked before anything starts and added
to the root's kept rules.
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import time
from pathlib import Path
from typing import IO

from trackui.cli_args import UsageError
from trackui.cli_output import clean

EXIT_ALERT = 3
"""Exit code of ``--exit-on-alert`` when a watch fired (0, 1 and 2 are the CLI's others)."""
TICK_S = 1.0
"""How often the clock is looked at (stalls, crashes) when no file changes."""


def check_rules(rules: list[str], prog: str) -> list[str]:
    """The rules given with ``--watch``, each checked (a bad one: UsageError, exit 2)."""
    from trackui.store.watch_rules import check_rule

    out = []
    for r in rules:
        err = check_rule(r)
        if err is not None:
            raise UsageError(f"{prog}: --watch {clean(r, 60)}: {err}")
        out.append(r.strip())
    return out


def keep_rules(root: Path, given: list[str]) -> list[str]:
    """The root's kept rules with ``given`` added (saved where the root exists and is writable:
    a root not made yet is not made for them)."""
    from trackui.store.watch_rules import load_settings, save_settings

    settings = load_settings(root)
    new = [r for r in given if r not in settings.rules]
    if new:
        settings.rules += new
        if root.is_dir():
            save_settings(root, settings)
    return settings.rules


def firing_json(f: object) -> str:
    """One firing as one line of JSON (``Firing.to_json``)."""
    from trackui.store.reader import encode_value
    from trackui.store.text import escape_c1
    from trackui.store.watches import Firing
    from trackui.store.writer import json_bytes

    assert isinstance(f, Firing)
    return escape_c1(json_bytes(encode_value(f.to_json()), indent=False).decode())


def format_firing(f: object) -> str:
    """One firing as a line: time, run, rule, metric=value, step (every part cleaned)."""
    from trackui.store.text import fmt_time, fmt_value
    from trackui.store.watches import Firing

    assert isinstance(f, Firing)
    parts = [fmt_time(f.time), clean(f.run_id), clean(f.run_name, 40), clean(f.rule, 60)]
    value = clean(fmt_value(f.value) if isinstance(f.value, float) else f.value, 80)
    if f.metric is not None:
        parts.append(f"{clean(f.metric, 60)}={value}")
    elif f.value is not None:
        parts.append(f"{'quiet_s' if f.rule == 'stall' else 'exit_code'}={value}")
    if f.step is not None:
        parts.append(f"step={f.step}")
    return "  ".join(parts)


def cmd_watch(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """``trackui watch``: print each firing as it happens."""
    from trackui.store.watch import RootWatcher
    from trackui.store.watch_rules import parse_rule
    from trackui.store.watches import Watches

    given = check_rules(args.watch or [], "trackui watch")
    root: Path = args.root
    if root.exists() and not root.is_dir():
        raise OSError(f"{clean(str(root))}: not a directory")
    rules = [parse_rule(r) for r in keep_rules(root, given)]
    watches = Watches(root, rules)
    changed: queue.Queue[set[Path]] = queue.Queue()
    watcher = RootWatcher(root, on_change=changed.put, poll=args.poll)

    def emit(firings: list) -> bool:
        for f in firings:
            out.write((firing_json(f) if args.json else format_firing(f)) + "\n")
        if firings:
            out.flush()
        return bool(firings) and args.exit_on_alert

    try:
        watcher.start()
        if emit(watches.update()):
            return EXIT_ALERT
        next_tick = time.monotonic() + TICK_S
        while True:
            try:
                dirs = changed.get(timeout=max(0.0, next_tick - time.monotonic()))
            except queue.Empty:
                dirs = None
            if dirs is not None:
                while not changed.empty():  # (a burst: one pass)
                    dirs |= changed.get_nowait()
                if emit(watches.update(dirs)):
                    return EXIT_ALERT
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + TICK_S
                if emit(watches.tick()):
                    return EXIT_ALERT
    except KeyboardInterrupt:
        return 0
    finally:
        with contextlib.suppress(Exception):
            watcher.stop()
