"""The current run: ``init()``, the registry behind module-level ``trackui.log()``,
and finishing what a script left open at exit."""

from __future__ import annotations

import atexit
import datetime as _dt
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from trackui import console, probes, sweeps, system_metrics
from trackui import settings as _settings
from trackui.config_sources import defaults_path, is_yaml_path, read_yaml, select_keys
from trackui.run_config import config_from
from trackui.run_object import Run
from trackui.store import layout, reader
from trackui.store.writer import write_atomic
from trackui.values import clean_text, jsonable

_RESUME = ("allow", "must", "never", "auto")

_lock = threading.RLock()
_current: Run | None = None
_active: list[Run] = []
"""Runs started and not finished, oldest first (finished at exit if still open)."""
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
        if run.owner_pid != os.getpid():
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
    config_exclude_keys: Sequence[str] | None = None,
    config_include_keys: Sequence[str] | None = None,
    **_ignored: Any,
) -> Run:
    """Start a run and make it the current one.

    Args:
        project: project name (default: ``$TRACKUI_PROJECT``, else
            ``$WANDB_PROJECT``, else none).
        name: display name, kept exactly as given (``run_name`` is accepted too).
        config: a dict, Namespace or dataclass of hyperparameters, or the path
            of a YAML file; ``config-defaults.yaml`` beside the script gives
            defaults (``trackui.config_sources``).
        dir: the root that holds run directories (default: ``$TRACKUI_DIR``,
            else ``$WANDB_DIR``, else ``./trackui-runs``).
        tags, notes, group, job_type: as in wandb (and from ``$WANDB_TAGS``,
            ``$WANDB_NOTES``, ``$WANDB_RUN_GROUP``, ``$WANDB_JOB_TYPE``).
        id: a run id to use or resume (default ``$WANDB_RUN_ID``).
        resume: ``"allow"``, ``"must"``, ``"never"``, ``"auto"`` (or True)
            (default ``$WANDB_RESUME``).
        mode: ``"online"``, ``"offline"`` and ``"dryrun"`` all write locally;
            ``"disabled"`` (or ``$TRACKUI_MODE``/``$WANDB_MODE=disabled``)
            makes every call a no-op.
        settings: a ``trackui.Settings`` or a dict (``trackui.settings``).
        config_exclude_keys, config_include_keys: keys of ``config`` to drop or keep.
        reinit: what a second ``init()`` does with the current run: finish it
            (default), ``"return_previous"`` returns it, ``"create_new"`` keeps both.

    Returns:
        The new (or resumed) run.

    Raises:
        ValueError: a bad ``id``, ``resume`` or ``mode``, ``resume="must"``
            for a run that does not exist, or a config value nested deeper
            than ``values.MAX_DEPTH`` (or holding itself), checked before
            anything is written.
    """
    global _current
    st = _settings.resolve(settings, mode=mode)
    mode = st.mode
    env = _settings.env
    name = _first(name, run_name, st.get("run_name"), env("NAME"))
    project = _first(project, st.get("project"), env("PROJECT"))
    notes = _first(notes, st.get("run_notes"), env("NOTES"))
    tags = _first(tags, st.get("run_tags"), _settings.env_tags())
    group = _first(group, st.get("run_group"), env("RUN_GROUP"))
    job_type = _first(job_type, st.get("run_job_type"), env("JOB_TYPE"))
    given_id = _first(id, st.get("run_id"), env("RUN_ID"))
    resume = _first(resume, st.get("resume"), env("RESUME"))
    root_dir = _first(dir, st.get("root_dir"), env("DIR"))
    cfg = _initial_config(config, config_include_keys, config_exclude_keys)
    trial = sweeps.current_trial()  # inside trackui.agent(): the sweep's parameters win
    if trial is not None:
        cfg, name, group, given_id = trial.apply(cfg, name, group, given_id)
    jsonable(cfg)  # refuses a cycle or a too-deep value, naming its key
    if mode == "disabled":
        run = Run(
            run_dir=None,
            meta={"id": given_id or probes.new_id(), "name": name},
            config=cfg,
            disabled=True,
            on_finish=_forget,
        )
        run.settings = st
        with _lock:
            _current = run
        return run

    with _lock:
        if _current is not None and not _current.finished:
            if reinit is False or reinit == "return_previous":
                return _current
            if reinit != "create_new":
                _current.finish()

    resume = _resume_mode(resume)
    if given_id is not None and not layout.valid_run_id(given_id):
        raise ValueError(
            f"trackui.init: id {given_id!r} may hold only letters, digits, '-' and '_' (at most 64)"
        )
    root = layout.resolve_root(root_dir)
    if resume == "auto":
        given_id = given_id if given_id is not None else _crashed_latest(root)
        resume = "allow"
    existing = _find_run_dir(root, given_id) if given_id is not None else None
    if resume == "must" and existing is None:
        raise ValueError(
            f"trackui.init: resume='must' but there is no run {given_id!r} under {str(root)!r}"
        )
    if resume == "never" and existing is not None:
        raise ValueError(
            f"trackui.init: resume='never' but run {given_id!r} exists at {str(existing)!r}"
        )

    now = time.time()
    if existing is not None:
        run = Run.reopen(existing, cfg, probes.process(), now, on_finish=_forget)
    else:
        run_id = given_id or probes.new_id()
        stamp = _dt.datetime.fromtimestamp(now).strftime("%Y%m%d_%H%M%S")
        run_dir = root / layout.run_dir_name(stamp, run_id)
        meta = _new_meta(run_id, name, project, group, job_type, notes, tags, now)
        if entity:
            meta["entity"] = _text(entity)
        run = Run.create(run_dir, meta, cfg, on_finish=_forget)
        _point_latest(root, run_dir)
    run.settings = st
    if save_code:
        run._save_main_script()

    run._sampler = system_metrics.start_for(run, st)
    if _settings.captures_console(st):
        run.capture_console()
    with _lock:
        _active.append(run)
        _current = run
    _install_hooks()
    if trial is not None:
        trial.attach(run)
    if not st.silent:
        console.print_init(run, resumed=existing is not None)
    return run


def _first(*values: Any) -> Any:
    """The first of ``values`` that is not None."""
    for v in values:
        if v is not None:
            return v
    return None


def _initial_config(
    config: Any, include: Sequence[str] | None, exclude: Sequence[str] | None
) -> dict[str, Any]:
    """``init``'s config: ``config-defaults.yaml``, then ``config`` (values or a YAML path)."""
    cfg = read_yaml(config) if is_yaml_path(config) else config_from(config)
    defaults = defaults_path()
    if defaults is not None:
        cfg = {**read_yaml(defaults), **cfg}
    return select_keys(cfg, include, exclude)


def _resume_mode(resume: Any) -> str | None:
    """``resume`` as one of ``_RESUME`` or None (``True`` is ``"auto"``, as in wandb)."""
    if resume is True:
        return "auto"
    if resume is False or resume is None:
        return None
    value = str(resume).lower()
    if value in ("true", "1"):
        return "auto"
    if value in ("false", "0", ""):
        return None
    if value not in _RESUME:
        raise ValueError(
            f"trackui.init: resume must be one of allow, must, never, auto, not {resume!r}"
        )
    return value


def _crashed_latest(root: Path) -> str | None:
    """The id of the run ``<root>/latest-run`` points at, if it crashed or failed
    (what ``resume="auto"`` reopens, as wandb does for the last run on a machine)."""
    link = root / layout.LATEST_LINK
    try:
        target = root / os.readlink(link)
    except OSError:
        return None
    info = reader.read_run(target)
    if info is None or info.state not in ("crashed", "failed"):
        return None
    parsed = layout.parse_run_dir_name(target.name)
    return parsed[1] if parsed else None


def _text(value: Any) -> str:
    return clean_text(str(value))


def _new_meta(
    run_id: str,
    name: Any,
    project: Any,
    group: Any,
    job_type: Any,
    notes: Any,
    tags: Sequence[Any] | None,
    now: float,
) -> dict[str, Any]:
    """A new run's ``meta.json``: what the script named, then where it runs (``probes``)."""
    project = project or os.environ.get("TRACKUI_PROJECT")
    return {
        "format": layout.FORMAT_VERSION,
        "id": run_id,
        "name": _text(name) if name is not None else run_id,
        "project": _text(project) if project is not None else None,
        "group": _text(group) if group is not None else None,
        "job_type": _text(job_type) if job_type is not None else None,
        "notes": _text(notes) if notes is not None else None,
        "tags": [_text(t) for t in (tags or ())],
        "state": "running",
        **probes.origin(),
        "created": _dt.datetime.fromtimestamp(now).astimezone().isoformat(timespec="seconds"),
        "start_time": now,
        "end_time": None,
        "exit_code": None,
        "heartbeat_s": layout.HEARTBEAT_S,
    }


def _point_latest(root: Path, run_dir: Path) -> None:
    """Point ``<root>/latest-run`` at ``run_dir`` (best effort, atomic)."""
    try:
        write_atomic(root / layout.LATEST_LINK, link_to=run_dir.name)
    except OSError:
        pass
