"""The ``trackui`` command: the UI, and ``ls``/``show``/``diff``/``export``/``watch``/``train``/``serve``.

The contract (docs/cli.md, DESIGN section 5): exit 0 on success, 1 when
``diff`` finds differences, 2 for a usage or I/O error with one line on
stderr, never a traceback. Human output shows names and values literally:
no markup is interpreted (nothing here renders markup) and every control
character is escaped, so nothing from a run reaches the terminal as an
escape sequence. JSON output is plain JSON.

Importing this module is cheap: DuckDB, the UI and the trainer are imported
inside the commands that need them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import IO, Any

from trackui import show_events
from trackui.cli_args import SUBCOMMANDS, UsageError, build_parser, run_root, ui_parser
from trackui.cli_output import (
    clean,
    dumps_json,
    fmt_delta,
    fmt_duration,
    fmt_time,
    is_terminal,
    names_terminal,
    run_json,
    table,
    to_csv,
    to_jsonl,
)

__all__ = ["build_parser", "clean", "dumps_json", "main"]

# -------------------------------------------------------------------- commands


def _open_index(root: Path) -> Any:
    """The index of ``root``, brought up to date.

    The index is a cache: when its storage fails while it loads (a disk that
    fills up, a folder it cannot write), it opens one step down its chain
    (``store.db``: root, user cache, temporary file, memory) and loads again,
    so that the command still answers.
    """
    from trackui.store.index import Index

    if not root.exists():
        raise OSError(f"{clean(str(root))}: no such directory")
    if not root.is_dir():
        raise OSError(f"{clean(str(root))}: not a directory")
    ix = Index(root, cache=True)
    try:
        ix.scan()
        ix.ingest()
    except Exception:
        with contextlib.suppress(Exception):
            ix.close()
        raise
    return ix


def cmd_ls(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """``trackui ls [DIR] [--json] [--group-by KEY]``."""
    keys = _group_keys(args.group_by)
    ix = _open_index(args.root)
    try:
        rows = ix.runs(args.filter or "", sort="created", descending=False)
    finally:
        ix.close()
    if keys and rows:
        from trackui.cli_groups import write_groups

        write_groups(rows, keys, args.json, out)
        return 0
    if args.json:
        out.write(dumps_json([run_json(r) for r in rows]) + "\n")
        return 0
    body = [
        [
            clean(r.id),
            clean(r.state),
            clean(r.name, 40),
            clean("/".join(x for x in (r.project, r.group) if x) or "-", 30),
            fmt_time(r.start_time),
            fmt_duration(r.runtime_s),
            str(r.steps),
            f"{len(r.warnings)} warning(s)" if r.warnings else "",
        ]
        for r in rows
    ]
    if rows:
        headers = ["ID", "STATE", "NAME", "PROJECT/GROUP", "CREATED", "RUNTIME", "STEPS", ""]
        out.write(table(headers, body) + "\n")
    else:
        err.write(f"trackui: no runs in {clean(str(args.root))}\n")
    return 0


def _group_keys(specs: list[str] | None) -> tuple[str, ...]:
    """``--group-by`` values as keys (none: no grouping)."""
    if not specs:
        return ()
    from trackui.store.groups import parse_keys

    try:
        return parse_keys(specs)
    except ValueError as e:
        raise UsageError(f"trackui ls: {e}") from None


def cmd_show(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """``trackui show RUN [--json]``."""
    ix = _open_index(args.root)
    try:
        row = ix.resolve(args.run)
        metrics = {m.name: m.steps.get(row.id, 0) for m in ix.metrics([row.id])}
        texts = ix.text_values(row.id)
    finally:
        ix.close()
    from trackui.store import rich  # images, tables...: their keys, types and counts

    if args.json:
        obj = run_json(row)
        obj["meta"] = row.meta
        obj["metrics"] = metrics
        obj["text"] = texts
        obj.update(show_events.events_json(row.path))
        obj["rich"] = rich.summary(row.path)
        obj["rich_summary"] = rich.last_references(row.path)
        out.write(dumps_json(obj) + "\n")
        return 0
    from trackui.store.models import flatten

    m = row.meta
    git = m.get("git") if isinstance(m.get("git"), dict) else None
    cmd = m.get("command")
    overview = [
        ("id", row.id),
        ("name", row.name),
        (
            "state",
            row.state + (f" (exit {m['exit_code']})" if m.get("exit_code") is not None else ""),
        ),
        ("project", row.project or "-"),
        ("group", row.group or "-"),
        ("job type", m.get("job_type") or "-"),
        ("tags", ", ".join(row.tags) or "-"),
        ("notes", m.get("notes") or "-"),
        ("created", row.created),
        ("runtime", fmt_duration(row.runtime_s)),
        ("steps", f"{row.steps} (last {row.last_step})" if row.last_step is not None else "0"),
        ("host", f"{row.host or '-'} (pid {m.get('pid')})"),
        ("user", m.get("user") or "-"),
        ("command", " ".join(str(c) for c in cmd) if isinstance(cmd, list) and cmd else "-"),
        ("cwd", m.get("cwd") or "-"),
        (
            "git",
            f"{git.get('commit')} ({git.get('branch') or 'detached'}{', dirty' if git.get('dirty') else ''})"
            if git
            else "-",
        ),
        ("path", str(row.path)),
    ]
    if m.get("source"):  # a run another tracker wrote, mirrored (docs/sources.md)
        overview.insert(1, ("source", f"{m['source']} ({m.get('source_path') or '-'})"))
    lines = [f"{k:<9} {clean(v, 200)}" for k, v in overview]
    sections = [
        ("config", flatten(row.config)),
        # A rich key's last value is shown by its type and file, never as a number.
        ("summary", {**row.summary, **_rich_summary(row.path)}),
        ("metrics (steps)", metrics),
        ("text", texts),
    ]
    sections.append(("rich values", rich.summary(row.path)))
    for title, d in sections:
        lines.append("")
        lines.append(title)
        if not d:
            lines.append("  -")
        width = min(40, max((len(clean(k)) for k in d), default=0))
        for k in sorted(d):
            lines.append(f"  {clean(k, 40):<{width}}  {clean(d[k], 200)}")
    lines += show_events.events_lines(row.path, clean)
    if row.warnings:
        lines.append("")
        lines.append("warnings")
        lines += [f"  {clean(w, 200)}" for w in row.warnings]
    out.write("\n".join(lines) + "\n")
    return 0


def _rich_summary(run_dir: Path) -> dict[str, str]:
    from trackui.store import rich

    return {k: f"<{rich.describe(ref)}>" for k, ref in rich.last_references(run_dir).items()}


def cmd_diff(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """``trackui diff RUN RUN... [--all] [--json]``: exit 1 when something differs."""
    if len(args.runs) < 2:
        raise UsageError("trackui diff: needs at least two runs (see --help)")
    ix = _open_index(args.root)
    try:
        rows = [ix.resolve(r) for r in args.runs]
        d = ix.diff([r.id for r in rows], all_keys=args.all)
    finally:
        ix.close()
    differs = any(r.differs for r in d.rows)
    if args.json:
        obj = {
            "runs": [{"id": r.id, "name": r.name} for r in rows],
            "baseline": d.baseline,
            "differs": differs,
            "rows": [
                {
                    "section": r.section,
                    "key": r.key,
                    "values": list(r.values),
                    "differs": r.differs,
                    "deltas": list(r.deltas),
                }
                for r in d.rows
            ],
        }
        out.write(dumps_json(obj) + "\n")
        return 1 if differs else 0
    headers = ["KEY"] + [clean(f"{r.name} ({r.id})", 32) for r in rows]
    lines: list[str] = []
    for section in ("config", "summary"):
        body = []
        for r in d.rows:
            if r.section != section:
                continue
            cells = [clean(r.key, 40)]
            for i, v in enumerate(r.values):
                cell = (
                    clean(v, 24)
                    if (r.values[i] is not None or r.key in _keys(rows[i], section))
                    else "(absent)"
                )
                delta = r.deltas[i]
                if i > 0 and fmt_delta(delta):
                    cell += f" ({fmt_delta(delta)})"
                cells.append(cell)
            body.append(cells)
        if body:
            lines.append(f"{section}{'' if args.all else ' (differing keys)'}")
            lines.append(table(headers, body))
            lines.append("")
    if not lines:
        lines = ["no differences in config or summary", ""]
    out.write("\n".join(lines))
    return 1 if differs else 0


def _keys(row: Any, section: str) -> set[str]:
    from trackui.store.models import flatten

    return set(flatten(row.config)) if section == "config" else set(row.summary)


def cmd_export(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """``trackui export RUN... [--format csv|parquet|jsonl] [-o FILE]``: every value, unsampled."""
    fmt = args.format
    if fmt is None:
        suffix = Path(args.output).suffix.lower() if args.output else ""
        fmt = {".parquet": "parquet", ".jsonl": "jsonl", ".json": "jsonl"}.get(suffix, "csv")
    to_stdout = args.output in (None, "-")
    if fmt == "parquet" and (is_terminal(out) if to_stdout else names_terminal(args.output)):
        raise UsageError(
            "trackui export: parquet is binary and would go to a terminal: "
            "give -o FILE.parquet, redirect stdout, or use --format csv"
        )
    ix = _open_index(args.root)
    try:
        rows = [ix.resolve(r) for r in args.runs]
        tbl = ix.history_table(list(dict.fromkeys(r.id for r in rows)))
    finally:
        ix.close()
    names = {r.id: r.name for r in rows}
    import pyarrow as pa

    tbl = tbl.add_column(
        1, "run_name", pa.array([names[i] for i in tbl.column("run_id").to_pylist()], pa.string())
    )
    target = args.output if args.output not in (None, "-") else None
    if fmt == "parquet":
        import pyarrow.parquet as pq

        # Written whole, then copied: Arrow's own file writer seeks, and on a
        # pipe (``-o /dev/stdout | ...``) it fails and deletes the path it
        # was given, which there is the system's /dev/stdout link.
        sink = pa.BufferOutputStream()
        pq.write_table(tbl, sink)
        data = sink.getvalue().to_pybytes()
        if target is None:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
        else:
            with open(target, "wb") as f:
                f.write(data)
        return 0
    from trackui.store import rich  # tables as CSV files beside the output; media's folder

    for r in rows:
        err.writelines(f"{x}\n" for x in rich.export(r.path, Path(target or ".").parent, r.id))
    text = to_csv(tbl) if fmt == "csv" else to_jsonl(tbl)
    if target is None:
        out.write(text)
    else:
        with open(target, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    return 0


NEEDS_TERMINAL = (
    "trackui: the UI needs a terminal (stdin, stdout and stderr); without one, "
    "`trackui ls` lists the runs (see trackui --help)"
)


def cmd_serve(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from trackui.serve import serve

    if not 0 < args.port < 65536:
        raise UsageError(f"trackui serve: --port {args.port}: not a port (1 to 65535)")
    return serve(args.root, args.host, args.port, out, err, poll=args.poll)


def _ui(argv: list[str], out: IO[str], err: IO[str]) -> int:
    args = ui_parser().parse_args(argv)
    root = run_root(args)
    rules: list[str] = []
    if args.watch:  # (checked before anything starts: a bad rule is one line, exit 2)
        from trackui.cli_watch import check_rules, keep_rules

        rules = keep_rules(root, check_rules(args.watch, "trackui"))
    # Without a terminal (cron, CI, a pipe) the UI would draw escape sequences
    # into the pipe and wait for keys that never come. (Textual draws on
    # stderr: `trackui DIR 2>log` would draw into the log.)
    # (A browser's session, started by `trackui serve`, talks through pipes.)
    from trackui.serve import under_web_driver

    if not under_web_driver() and not all(is_terminal(s) for s in (sys.stdin, out, err)):
        err.write(NEEDS_TERMINAL + "\n")
        return 2
    from trackui.tui.app import run_app

    return int(run_app(root, poll=args.poll, rules=rules))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``trackui`` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    out, err = sys.stdout, sys.stderr
    for stream in (out, err):
        reconf = getattr(stream, "reconfigure", None)
        if reconf is not None:
            try:
                reconf(errors="backslashreplace")
            except (ValueError, OSError):
                pass
    try:
        if argv and argv[0] == "train":
            from trackui.trainer.train import main as train_main

            return int(train_main(argv[1:]) or 0)
        # One BLAS thread (before NumPy loads): see trackui.tui's docstring.
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        if not argv or argv[0] not in SUBCOMMANDS:
            if argv and argv[0] in ("-h", "--help"):
                build_parser().print_help(out)
                return 0
            return _ui(argv, out, err)
        args = build_parser().parse_args(argv)
        refs = getattr(args, "runs", None) or ([args.run] if getattr(args, "run", None) else [])
        args.root = run_root(args, refs)
        if args.cmd == "watch":
            from trackui.cli_watch import cmd_watch

            return cmd_watch(args, out, err)
        cmd = {
            "ls": cmd_ls,
            "show": cmd_show,
            "diff": cmd_diff,
            "export": cmd_export,
            "serve": cmd_serve,
        }[args.cmd]
        return cmd(args, out, err)
    except UsageError as e:
        err.write(f"{clean(str(e))}\n")
        return 2
    except LookupError as e:
        err.write(f"trackui: {clean(_one_line(e))}\n")
        return 2
    except KeyboardInterrupt:
        err.write("trackui: interrupted\n")
        return 130
    except BrokenPipeError:
        # `trackui ls | head`: the reader left; nothing more to say.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        except OSError:
            pass
        return 0
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    except Exception as e:  # the contract: one line, never a traceback
        err.write(f"trackui: error: {clean(_one_line(e))}\n")
        return 2


def _one_line(e: BaseException) -> str:
    text = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
    if isinstance(e, OSError) and e.strerror and e.filename:
        text = f"{e.filename}: {e.strerror}"
    return " ".join(text.split())[:300] or type(e).__name__
