"""The ``trackui`` command's arguments: the subcommand parser, the UI's, and the run root."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

SUBCOMMANDS = ("ls", "show", "diff", "export", "watch", "train", "serve")


class UsageError(Exception):
    """Bad command-line usage (exit 2)."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors instead of usage dumps and ``exit``."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see --help)")


def add_dir(p: argparse.ArgumentParser, positional: bool) -> None:
    if positional:
        p.add_argument(
            "dir",
            nargs="?",
            metavar="DIR",
            help="run root (default: $TRACKUI_DIR or ./trackui-runs)",
        )
    p.add_argument("--dir", dest="dir_opt", metavar="DIR", help="run root")


def build_parser() -> argparse.ArgumentParser:
    """The subcommand parser (the UI form ``trackui [DIR]`` is handled before it)."""
    p = Parser(
        prog="trackui",
        usage="trackui [DIR] [--poll] [--watch RULE]  |  trackui {ls,show,diff,export,watch,train,serve} ...",
        description="Experiment tracking in the terminal. `trackui [DIR]` opens the UI on a "
        "run root (default: $TRACKUI_DIR, else ./trackui-runs); the subcommands answer the "
        "same questions without it.",
    )
    sub = p.add_subparsers(dest="cmd", parser_class=Parser)
    # Each subcommand's own prog: argparse would build it from the custom usage above.
    ls = sub.add_parser("ls", prog="trackui ls", help="list runs")
    add_dir(ls, True)
    ls.add_argument("--json", action="store_true", help="one JSON array")
    ls.add_argument(
        "--filter",
        "-f",
        default="",
        metavar="F",
        help="only runs that match F: words match the name or id; state:running, tag:T, "
        "project:P, group:G; config or summary keys compared with numbers (lr<0.01, "
        "optimizer/name=adam); terms all hold, or 'or', 'not' and parentheses; "
        "quote values with spaces (the UI's / takes the same language)",
    )
    ls.add_argument(
        "--group-by",
        action="append",
        default=None,
        metavar="KEY",
        help="a row per group of runs equal on KEY (repeat, or KEY,KEY): group, job_type, "
        "sweep, or a config key (a/b when nested); its size, states and means",
    )
    show = sub.add_parser(
        "show", prog="trackui show", help="one run: meta, config, summary, metrics"
    )
    show.add_argument("run", metavar="RUN")
    show.add_argument("--json", action="store_true")
    add_dir(show, False)
    diff = sub.add_parser(
        "diff", prog="trackui diff", help="config and summary keys that differ (exit 1 if any)"
    )
    diff.add_argument("runs", nargs="+", metavar="RUN")
    diff.add_argument("--all", action="store_true", help="all keys, not only differing ones")
    diff.add_argument("--json", action="store_true")
    add_dir(diff, False)
    ex = sub.add_parser("export", prog="trackui export", help="every logged value, full resolution")
    ex.add_argument("runs", nargs="+", metavar="RUN")
    ex.add_argument("--format", choices=("csv", "parquet", "jsonl"), default=None)
    ex.add_argument("-o", "--output", metavar="FILE", default=None, help="file (default stdout)")
    add_dir(ex, False)
    add_watch_parser(sub)
    serve = sub.add_parser(
        "serve",
        prog="trackui serve",
        help="the same UI in a browser (textual-serve; localhost unless --host says otherwise)",
    )
    add_dir(serve, True)
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, metavar="N", help="port (default 8000)")
    serve.add_argument("--poll", action="store_true", help="poll for changes (network filesystems)")
    sub.add_parser(
        "train",
        prog="trackui train",
        help="the bundled MNIST trainer (trackui train --help)",
        add_help=False,
    )
    return p


def ui_parser() -> argparse.ArgumentParser:
    """The parser of ``trackui [DIR] [--poll]`` (the UI)."""
    p = Parser(
        prog="trackui",
        description="Open the UI on a run root. Subcommands: " + ", ".join(SUBCOMMANDS) + ".",
    )
    add_dir(p, True)
    p.add_argument("--poll", action="store_true", help="poll for changes (network filesystems)")
    add_watch_rule(p)
    return p


WATCH_RULE_HELP = (
    "also watch for RULE, in the filter language over metrics (loss>10, "
    "'val_accuracy<0.5 and step>1000'); kept with the root's rules; repeatable"
)


def add_watch_rule(p: argparse.ArgumentParser) -> None:
    p.add_argument("--watch", action="append", default=[], metavar="RULE", help=WATCH_RULE_HELP)


def add_watch_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``trackui watch [DIR] [--watch RULE ...] [--json] [--exit-on-alert] [--poll]``."""
    w = sub.add_parser(
        "watch",
        prog="trackui watch",
        help="print each watch that fires (NaN, stalled, crashed or failed runs, your rules)",
    )
    add_dir(w, True)
    add_watch_rule(w)
    w.add_argument("--json", action="store_true", help="one JSON object per line")
    w.add_argument(
        "--exit-on-alert",
        action="store_true",
        help="exit 3 after the first firing (those holding at start included)",
    )
    w.add_argument("--poll", action="store_true", help="poll for changes (network filesystems)")


def run_root(args: argparse.Namespace, refs: Sequence[str] = ()) -> Path:
    """The run root the arguments name (a run directory given as RUN names its parent)."""
    from trackui.store import layout

    given = getattr(args, "dir_opt", None) or getattr(args, "dir", None)
    if given:
        return layout.resolve_root(given)
    # A run directory given as RUN, with no root named: use its parent.
    for ref in refs:
        p = Path(ref)
        if (p / layout.META).is_file() and layout.parse_run_dir_name(p.resolve().name):
            return p.resolve().parent
    return layout.resolve_root(None)
