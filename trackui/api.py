"""The ``Run`` object and ``init()``: the logging API behind ``import trackui``.

A run writes through ``store.writer.RunWriter`` into one run directory (see
``docs/format.md``). Each ``log()`` call becomes one history record, handed
to the OS before ``log()`` returns.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import getpass
import glob as _glob
import os
import platform
import secrets
import string
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from trackui import console
from trackui.run_config import Config, Summary, config_from
from trackui.store import layout, reader
from trackui.store.writer import RunWriter
from trackui.values import convert

_ID_ALPHABET = string.digits + string.ascii_lowercase
# Bound once: log() is on the training loop's hot path.
_now = time.time
_dumps = orjson.dumps
_LINE = orjson.OPT_APPEND_NEWLINE
_RESUME = ("allow", "must", "never")


def _new_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def _git_info(cwd: str) -> dict[str, Any] | None:
    """Commit, dirty flag and branch of the git work tree at ``cwd``, if any."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args],
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=3,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return None
    status = git("status", "--porcelain", "--untracked-files=no")
    branch = git("rev-parse", "--abbrev-ref", "HEAD")
    return {
        "commit": commit,
        "dirty": bool(status),
        "branch": branch if branch and branch != "HEAD" else None,
    }


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return None


class Run:
    """One run: its config, summary, history and files.

    Made by ``trackui.init()``; use as a context manager to finish it on exit
    (an exception escaping the block marks it ``failed``).
    """

    def __init__(
        self,
        *,
        run_dir: Path | None,
        meta: dict[str, Any],
        config: dict[str, Any],
        step: int = 0,
        disabled: bool = False,
    ) -> None:
        self._disabled = disabled
        self._meta = meta
        self._step = step
        self._finished = False
        self._pending: dict[str, Any] = {}
        """Values from ``watch()`` hooks, merged into the next ``log()``."""
        self._saved: list[tuple[Path, Path]] = []
        self.dir: Path | None = run_dir
        """The run directory (None for a disabled run)."""
        self._writer: RunWriter | None = None
        if run_dir is not None and not disabled:
            self._writer = RunWriter(run_dir, summary_source=self._summary_json)
        self.config = Config(config, on_change=self._write_config)
        self.summary = Summary(on_change=self._summary_changed)
        self._tee: console.Tee | None = None

    # -- identity ----------------------------------------------------------

    @property
    def id(self) -> str:
        return str(self._meta["id"])

    @property
    def name(self) -> str:
        return str(self._meta.get("name") or self.id)

    @name.setter
    def name(self, value: str) -> None:
        self._meta["name"] = str(value)
        self._write_meta()

    @property
    def project(self) -> str | None:
        return self._meta.get("project")

    @property
    def group(self) -> str | None:
        return self._meta.get("group")

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(self._meta.get("tags") or ())

    @tags.setter
    def tags(self, value: Sequence[str]) -> None:
        self._meta["tags"] = [str(t) for t in value]
        self._write_meta()

    @property
    def notes(self) -> str | None:
        return self._meta.get("notes")

    @notes.setter
    def notes(self, value: str) -> None:
        self._meta["notes"] = str(value)
        self._write_meta()

    @property
    def root(self) -> Path | None:
        """The directory that holds this run's directory."""
        return self.dir.parent if self.dir is not None else None

    @property
    def step(self) -> int:
        """The step the next ``log()`` without ``step=`` goes to."""
        return self._step

    @property
    def disabled(self) -> bool:
        return self._disabled

    def __repr__(self) -> str:
        return f"<trackui.Run {self.id} {self.name!r} dir={str(self.dir)!r}>"

    # -- logging -----------------------------------------------------------

    def log(
        self,
        data: dict[str, Any],
        step: int | None = None,
        commit: bool | None = None,
        sync: bool | None = None,
    ) -> None:
        """Log a dict of values at a step.

        Without ``step``, values go to the current step, which then advances
        (unless ``commit=False``, which keeps adding to the same step). With
        ``step``, values go to that step; a later ``log()`` without ``step``
        adds to it until one commits. A step lower than the current one is
        ignored with a warning, as wandb does.

        Raises:
            TypeError: a value that cannot be logged (nothing is written).
        """
        if self._disabled:
            return
        if self._finished:
            console.warn_once("log-after-finish", "trackui: log() after finish() is ignored")
            return
        m, x = convert(data)
        if self._pending:
            pending, self._pending = self._pending, {}
            for k, v in pending.items():
                m.setdefault(k, v)
        if step is None:
            s = self._step
            if commit is None:
                commit = True
        else:
            if type(step) is not int:
                step = int(step)
            if step < self._step:
                console.warn_once(
                    "step-back",
                    f"trackui: log(step={step}) is below the current step {self._step}; "
                    "those values are ignored",
                )
                return
            s = self._step = step
        rec: dict[str, Any] = {"s": s, "t": _now(), "m": m}
        if x:
            rec["x"] = x
        # One record per call, in the OS before we return (docs/format.md).
        self._writer.append(_dumps(rec, option=_LINE))  # type: ignore[union-attr]
        if m:
            summary = self.summary
            if summary.aggregating:
                summary.observe(m)
            else:
                summary._last.update(m)  # observe()'s whole work when nothing is aggregated
        if commit:
            self._step = s + 1

    def define_metric(
        self,
        name: str,
        step_metric: str | None = None,
        *,
        summary: str | None = None,
        goal: str | None = None,
        hidden: bool | None = None,
        step_sync: bool | None = None,
        overwrite: bool | None = None,
    ) -> None:
        """Declare how a metric (or a glob such as ``train/*``) is summarised and plotted.

        Args:
            name: a metric name or a glob.
            step_metric: the metric to use as its x-axis by default.
            summary: ``min``, ``max``, ``mean`` or ``last`` (the default).
            goal: ``minimize`` or ``maximize``, kept for the viewer.
        """
        if summary:
            self.summary.define(name, summary)
        if self._disabled:
            return
        entry = {
            k: v
            for k, v in (
                ("step_metric", step_metric),
                ("summary", summary),
                ("goal", goal),
                ("hidden", hidden),
            )
            if v is not None
        }
        metrics = dict(self._meta.get("metrics") or {})
        metrics[name] = {**metrics.get(name, {}), **entry}
        self._meta["metrics"] = metrics
        self._write_meta()

    def watch(
        self,
        model: Any,
        criterion: Any = None,
        log: str | None = "gradients",
        log_freq: int = 1000,
        **_: Any,
    ) -> None:
        """Log parameter and gradient norms per layer every ``log_freq`` forward passes.

        Only a ``torch.nn.Module`` can be watched; torch is looked up, never
        imported, so watching costs nothing to scripts that do not use it.
        """
        if self._disabled:
            return
        from trackui.torch_watch import watch_model

        watch_model(self, model, log=log, log_freq=log_freq)

    def _add_pending(self, values: dict[str, float]) -> None:
        self._pending.update(values)

    # -- files -------------------------------------------------------------

    def save(
        self,
        glob_str: str | os.PathLike[str],
        base_path: str | os.PathLike[str] | None = None,
        policy: str = "live",
    ) -> list[str]:
        """Copy files matching a path or glob into the run's ``files/``.

        Files keep their path relative to ``base_path`` (by default the
        directory of the glob). Nothing can land outside the run directory.
        Files are copied now and again at ``finish()``, so a file written
        after ``save()`` ends up in the run too.

        Returns:
            The paths of the copies made.
        """
        if self._disabled or self._writer is None:
            return []
        pattern = os.fspath(glob_str)
        base = Path(base_path) if base_path is not None else Path(_glob_root(pattern))
        matches = sorted(_glob.glob(pattern, recursive=True))
        if not matches:
            if not _glob.has_magic(pattern):
                console.warn(f"trackui: save: no such file {pattern!r}")
            return []
        out = []
        for src in matches:
            p = Path(src)
            if not p.is_file():
                continue
            try:
                rel = Path(os.path.relpath(p.absolute(), base.absolute()))
            except ValueError:
                rel = Path(p.name)
            dest = self._writer.copy_in(p, rel)
            if dest is not None:
                out.append(str(dest))
                if policy != "now":
                    self._saved.append((p, rel))
        return out

    # -- lifecycle ---------------------------------------------------------

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        """Write the summary and final state, sync and close; idempotent."""
        if self._finished:
            return
        self._finished = True
        _forget(self)
        if self._disabled or self._writer is None:
            return
        if self._tee is not None:
            self._tee.close()
            self._tee = None
        for src, rel in self._saved:
            if src.is_file():
                self._writer.copy_in(src, rel)
        code = 0 if exit_code is None else int(exit_code)
        self._meta["state"] = "finished" if code == 0 else "failed"
        self._meta["exit_code"] = code
        self._meta["end_time"] = time.time()
        self._writer.write_small(layout.SUMMARY, self._summary_json())
        self._writer.write_small(layout.META, self._meta)
        self._writer.close()
        if not quiet:
            console.print_finish(self)

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.finish(exit_code=1 if exc_type is not None else 0)

    # -- persistence -------------------------------------------------------

    def _summary_json(self) -> dict[str, Any]:
        return self.summary.to_json()

    def _summary_changed(self) -> None:
        if self._writer is not None:
            self._writer.mark_summary_dirty()

    def _write_meta(self) -> None:
        if self._writer is not None:
            self._writer.write_small(layout.META, self._meta)

    def _write_config(self) -> None:
        if self._writer is not None:
            self._writer.write_small(layout.CONFIG, self.config.to_json())


def _glob_root(pattern: str) -> str:
    """The directory part of a glob before its first wildcard."""
    parts = Path(pattern).parts
    fixed: list[str] = []
    for part in parts[:-1]:
        if _glob.has_magic(part):
            break
        fixed.append(part)
    return str(Path(*fixed)) if fixed else "."


# -- the current run and process exit ----------------------------------------

_lock = threading.RLock()
_current: Run | None = None
_active: list[Run] = []
_hooks_installed = False
_exception_seen = False


def current() -> Run | None:
    """The run that module-level ``trackui.log()`` and friends write to."""
    return _current


def _forget(run: Run) -> None:
    global _current
    with _lock:
        if run in _active:
            _active.remove(run)
        if _current is run:
            _current = _active[-1] if _active else None


def _install_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    previous = sys.excepthook

    def excepthook(tp: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        global _exception_seen
        _exception_seen = True
        previous(tp, value, tb)

    sys.excepthook = excepthook
    atexit.register(_at_exit)


def _at_exit() -> None:
    """Finish runs the script left open: ``failed`` after an uncaught exception."""
    for run in list(_active):
        if run._meta.get("pid") != os.getpid():
            continue  # a forked child exiting: the run belongs to its parent
        try:
            run.finish(exit_code=1 if _exception_seen else 0)
        except Exception as e:  # never turn a clean exit into a traceback
            console.warn(f"trackui: could not finish run {run.id}: {e}")


def _find_run_dir(root: Path, run_id: str) -> Path | None:
    for path in reader.list_run_dirs(root):
        parsed = layout.parse_run_dir_name(path.name)
        if parsed and parsed[1] == run_id:
            return path
    return None


def init(
    project: str | None = None,
    name: str | None = None,
    config: Any = None,
    dir: str | os.PathLike[str] | None = None,
    tags: Sequence[str] | None = None,
    notes: str | None = None,
    group: str | None = None,
    job_type: str | None = None,
    id: str | None = None,
    resume: bool | str | None = None,
    mode: str | None = None,
    reinit: bool | str | None = None,
    entity: str | None = None,
    run_name: str | None = None,
    save_code: bool | None = None,
    settings: Any = None,
    **_ignored: Any,
) -> Run:
    """Start a run and make it the current one.

    Args:
        project: project name (default: ``$TRACKUI_PROJECT``, else none).
        name: display name, kept exactly as given (``run_name`` is accepted too).
        config: a dict, Namespace or dataclass of hyperparameters.
        dir: the root that holds run directories (default: ``$TRACKUI_DIR``,
            else ``./trackui-runs``).
        tags, notes, group, job_type: as in wandb.
        id: a run id to use or resume.
        resume: ``"allow"`` (or True), ``"must"``, ``"never"``.
        mode: ``"online"`` and ``"offline"`` both write locally;
            ``"disabled"`` (or ``$TRACKUI_MODE=disabled``) makes every call a no-op.
        reinit: what a second ``init()`` does with the current run: finish it
            (default), ``"return_previous"`` returns it, ``"create_new"`` keeps both.

    Returns:
        The new (or resumed) run.

    Raises:
        ValueError: a bad ``id``, ``resume`` or ``mode``, or ``resume="must"``
            for a run that does not exist.
    """
    global _current
    mode = mode or os.environ.get("TRACKUI_MODE") or "online"
    if mode not in ("online", "offline", "disabled", "shared"):
        raise ValueError(f"trackui.init: mode must be online, offline or disabled, not {mode!r}")
    name = name if name is not None else run_name
    cfg = config_from(config)
    if mode == "disabled":
        run = Run(
            run_dir=None, meta={"id": id or _new_id(), "name": name}, config=cfg, disabled=True
        )
        with _lock:
            _current = run
        return run

    with _lock:
        if _current is not None and not _current._finished:
            if reinit is False or reinit == "return_previous":
                return _current
            if reinit != "create_new":
                _current.finish()

    if resume is True:
        resume = "allow"
    elif resume is False:
        resume = None
    if resume is not None and resume not in _RESUME:
        raise ValueError(f"trackui.init: resume must be one of allow, must, never, not {resume!r}")
    if id is not None and not layout.valid_run_id(id):
        raise ValueError(
            f"trackui.init: id {id!r} may hold only letters, digits, '-' and '_' (at most 64)"
        )
    root = layout.resolve_root(dir)
    existing = _find_run_dir(root, id) if id is not None else None
    if resume == "must" and existing is None:
        raise ValueError(
            f"trackui.init: resume='must' but there is no run {id!r} under {str(root)!r}"
        )
    if resume == "never" and existing is not None:
        raise ValueError(f"trackui.init: resume='never' but run {id!r} exists at {str(existing)!r}")

    now = time.time()
    cwd = os.getcwd()
    if existing is not None:
        run = _resume(existing, cfg, now)
    else:
        run_id = id or _new_id()
        stamp = _dt.datetime.fromtimestamp(now).strftime("%Y%m%d_%H%M%S")
        run_dir = root / layout.run_dir_name(stamp, run_id)
        meta: dict[str, Any] = {
            "format": layout.FORMAT_VERSION,
            "id": run_id,
            "name": str(name) if name is not None else run_id,
            "project": project or os.environ.get("TRACKUI_PROJECT"),
            "group": group,
            "job_type": job_type,
            "notes": notes,
            "tags": [str(t) for t in (tags or ())],
            "state": "running",
            "host": platform.node(),
            "user": _user(),
            "pid": os.getpid(),
            "command": [sys.executable, *sys.argv],
            "cwd": cwd,
            "python": platform.python_version(),
            "git": _git_info(cwd),
            "created": _dt.datetime.fromtimestamp(now).astimezone().isoformat(timespec="seconds"),
            "start_time": now,
            "end_time": None,
            "exit_code": None,
            "heartbeat_s": layout.HEARTBEAT_S,
        }
        if entity:
            meta["entity"] = entity
        run = Run(run_dir=run_dir, meta=meta, config=cfg)
        run._write_meta()
        run._write_config()
        run._writer.write_small(layout.SUMMARY, {})  # type: ignore[union-attr]
        _point_latest(root, run_dir)

    if os.environ.get("TRACKUI_CONSOLE", "wrap").lower() not in ("off", "0", "false", "none"):
        run._tee = console.Tee.start(run.dir / layout.OUTPUT)  # type: ignore[operator]
    with _lock:
        _active.append(run)
        _current = run
    _install_hooks()
    console.print_init(run, resumed=existing is not None)
    return run


def _resume(run_dir: Path, cfg: dict[str, Any], now: float) -> Run:
    """Reopen an existing run: keep its meta and config, continue after its last step."""
    info = reader.read_run(run_dir)
    meta = dict(info.meta) if info else {"id": layout.parse_run_dir_name(run_dir.name)[1]}  # type: ignore[index]
    config = {**(info.config if info else {}), **cfg}
    last = -1
    offset = 0
    while True:
        records, new_offset, _ = reader.read_records(run_dir, offset, max_bytes=1 << 24)
        if records:
            last = max(last, max(r.step for r in records))
        if new_offset == offset:
            break
        offset = new_offset
    meta.update(
        state="running",
        pid=os.getpid(),
        host=platform.node(),
        end_time=None,
        exit_code=None,
        resumed_time=now,
        command=[sys.executable, *sys.argv],
    )
    run = Run(run_dir=run_dir, meta=meta, config=config, step=last + 1)
    if info:
        run.summary._last.update(info.summary)
    run._write_meta()
    run._write_config()
    return run


def _point_latest(root: Path, run_dir: Path) -> None:
    """Point ``<root>/latest-run`` at ``run_dir`` (best effort, atomic)."""
    link = root / layout.LATEST_LINK
    tmp = root / f".{layout.LATEST_LINK}.{os.getpid()}"
    try:
        if tmp.is_symlink():
            tmp.unlink()
        os.symlink(run_dir.name, tmp)
        os.replace(tmp, link)
    except OSError:
        pass
