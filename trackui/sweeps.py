"""Local sweeps: ``trackui.sweep()`` stores one, ``trackui.agent()`` runs its trials.

A sweep lives under the root as ``<root>/sweeps/<id>/sweep.json`` (its
configuration, see ``sweep_config``) and ``state.json`` (one entry per trial:
its run id, parameters, state and metric), each replaced atomically. Readers
of runs ignore this folder.

``agent(sweep_id, function=f, count=n)`` calls ``f`` in this process ``n``
times (a grid stops when it is done). While ``f`` runs, ``trackui.init()``
gives the run the trial's parameters on top of the config it is passed (as
wandb does), the sweep id as its group (unless one is given) and in
``meta.json`` (``sweep_id``), and a name made of the parameters (unless one is
given). Without ``function``, the agent runs the configuration's ``program``
in a child process for each trial with ``--name=value`` arguments, as wandb's
agent does; the child's ``init()`` finds its trial in ``$TRACKUI_SWEEP_TRIAL``.

``bayes`` proposes with Optuna's TPE sampler (``pip install 'trackui[sweeps]'``).
Hyperband (``early_terminate``) works in-process only: at each bracket's
iteration (the number of ``log()`` calls that carried the metric) a run worse
than the best ``1/eta`` of the earlier runs at that iteration is finished
(``meta.json`` gets ``early_terminated``: the iteration) and ``log()`` raises
:class:`EarlyTerminated`, which the agent catches.
"""

from __future__ import annotations

import math
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from trackui import sweep_bayes, sweep_config
from trackui.store import layout, reader
from trackui.store.writer import write_atomic

SWEEPS_DIR = "sweeps"
_ENV = "TRACKUI_SWEEP_TRIAL"


class EarlyTerminated(Exception):
    """Raised by ``log()`` in a sweep run that hyperband stopped; the run is already finished."""


class Trial:
    """One trial of a sweep: the parameters its run gets."""

    def __init__(
        self, sweep_id: str, params: dict[str, Any], run_id: str, store: Any = None
    ) -> None:
        self.sweep_id = sweep_id
        self.params = params
        """Flat names (``a.b``) to values."""
        self.run_id = run_id
        self._store = store
        self.run: Any = None

    def apply(self, config: dict[str, Any], name: Any, group: Any, id: Any) -> tuple[Any, ...]:
        """``(config, name, group, id)`` for ``init()``: the trial's parameters win."""
        merged = dict(config)
        for key, value in sweep_config.nest(self.params).items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        return (
            merged,
            name if name is not None else sweep_config.label(self.params),
            group if group is not None else self.sweep_id,
            id if id is not None else self.run_id,
        )

    def attach(self, run: Any) -> None:
        """Record the sweep in the run's meta; watch its metric for hyperband."""
        self.run = run
        if run.disabled:
            return
        run._meta["sweep_id"] = self.sweep_id
        run._write_meta()
        if self._store is not None:
            self._store.watch(self, run)


_trial: Trial | None = None


def current_trial() -> Trial | None:
    """The trial an ``init()`` now belongs to: the agent's, or the one in the environment."""
    if _trial is not None:
        return _trial
    text = os.environ.get(_ENV)
    if not text:
        return None
    try:
        d = orjson.loads(text)
        return Trial(str(d["sweep_id"]), dict(d["params"]), str(d["run_id"]))
    except (ValueError, KeyError, TypeError):
        return None


def _root(dir: Any = None) -> Path:
    return layout.resolve_root(dir)


def _write(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, orjson.dumps(obj, option=orjson.OPT_INDENT_2) + b"\n")


def sweep(
    sweep: dict[str, Any],
    entity: str | None = None,
    project: str | None = None,
    prior_runs: Any = None,
    dir: str | os.PathLike[str] | None = None,
) -> str:
    """Store a sweep configuration under the root; returns the sweep id.

    Raises:
        SweepConfigError: a configuration that cannot be run (what is wrong is named).
    """
    from trackui import probes

    config = sweep_config.check(dict(sweep))
    sweep_id = probes.new_id()
    folder = _root(dir) / SWEEPS_DIR / sweep_id
    _write(
        folder / "sweep.json",
        {
            "id": sweep_id,
            "project": project or config.get("project"),
            "created": time.time(),
            "config": config,
        },
    )
    _write(folder / "state.json", {"trials": []})
    print(f"trackui: created sweep {sweep_id} ({config['method']}) in {folder}")
    return sweep_id


class _Store:
    """A sweep's files, read at the agent's start and written after each change."""

    def __init__(self, root: Path, sweep_id: str) -> None:
        sweep_id = str(sweep_id).rsplit("/", 1)[-1]
        self.root = root
        self.folder = root / SWEEPS_DIR / sweep_id
        try:
            head = orjson.loads((self.folder / "sweep.json").read_bytes())
            self.state = orjson.loads((self.folder / "state.json").read_bytes())
        except (OSError, ValueError) as e:
            raise ValueError(f"trackui.agent: no sweep {sweep_id!r} under {str(root)!r}") from e
        self.id = sweep_id
        self.project = head.get("project")
        self.config = sweep_config.check(head["config"])
        metric = self.config.get("metric") or {}
        self.metric = metric.get("name")
        self.maximize = metric.get("goal") == "maximize"

    def save(self) -> None:
        _write(self.folder / "state.json", self.state)

    @property
    def trials(self) -> list[dict[str, Any]]:
        return self.state.setdefault("trials", [])

    def propose(self, rng: random.Random) -> dict[str, Any] | None:
        """The next parameters, or None when a grid is done."""
        method = self.config["method"]
        params = self.config["parameters"]
        if method == "grid":
            done = {orjson.dumps(t["params"], option=orjson.OPT_SORT_KEYS) for t in self.trials}
            for point in sweep_config.grid(params):
                if orjson.dumps(point, option=orjson.OPT_SORT_KEYS) not in done:
                    return point
            return None
        if method == "bayes":
            return sweep_bayes.propose(params, self.trials, self.maximize, rng)
        return sweep_config.random_point(params, rng)

    # -- hyperband ---------------------------------------------------------

    def watch(self, trial: Trial, run: Any) -> None:
        et = self.config.get("early_terminate")
        if not et or not self.metric:
            return
        steps = set(sweep_config.hyperband_steps(et))
        eta = float(et.get("eta", 3))
        entry = self._entry(trial.run_id)
        original = run.log
        seen = [0]

        def log(data: dict[str, Any], step: Any = None, commit: Any = None, sync: Any = None):
            original(data, step=step, commit=commit, sync=sync)
            if not _carries(data, self.metric):
                return
            seen[0] += 1
            if seen[0] not in steps:
                return
            value = run.summary.get(self.metric)
            if not isinstance(value, (int, float)):
                return
            entry.setdefault("checks", {})[str(seen[0])] = value
            if self._worse_than_cut(trial.run_id, seen[0], float(value), eta):
                entry["state"] = "early_terminated"
                self.save()
                run._meta["early_terminated"] = seen[0]
                run.finish(exit_code=0)
                raise EarlyTerminated(
                    f"hyperband stopped run {run.id} at iteration {seen[0]}: "
                    f"{self.metric}={value} is outside the best 1/{eta:g}"
                )
            self.save()

        run.log = log

    def _worse_than_cut(self, run_id: str, it: int, value: float, eta: float) -> bool:
        others = [
            float(t["checks"][str(it)])
            for t in self.trials
            if t["run_id"] != run_id and str(it) in (t.get("checks") or {})
        ]
        if not others:
            return False
        best_first = sorted(others, reverse=self.maximize)
        cut = best_first[max(0, math.ceil(len(best_first) / eta) - 1)]
        return value < cut if self.maximize else value > cut

    def _entry(self, run_id: str) -> dict[str, Any]:
        for t in self.trials:
            if t["run_id"] == run_id:
                return t
        raise KeyError(run_id)

    def finish_trial(self, entry: dict[str, Any]) -> None:
        """Record the run's state and metric from its files."""
        run_dir = next(
            (
                p
                for p in reader.list_run_dirs(self.root)
                if (layout.parse_run_dir_name(p.name) or ("", ""))[1] == entry["run_id"]
            ),
            None,
        )
        info = reader.read_run(run_dir) if run_dir is not None else None
        if info is None:
            if entry.get("state") == "running":
                entry["state"] = "no run"  # the function never called init()
        else:
            if entry.get("state") == "running":
                entry["state"] = info.meta.get("state") or "finished"
            if self.metric:
                value = info.summary.get(self.metric)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    entry["metric"] = value
        self.save()


def _carries(data: Any, name: str) -> bool:
    if not isinstance(data, dict):
        return False
    if name in data:
        return True
    head, sep, rest = name.partition("/")
    return bool(sep) and _carries(data.get(head), rest)


def agent(
    sweep_id: str,
    function: Callable[[], Any] | None = None,
    entity: str | None = None,
    project: str | None = None,
    count: int | None = None,
    dir: str | os.PathLike[str] | None = None,
) -> None:
    """Run trials of a sweep: ``count`` of them (a grid stops when done; else no end).

    An exception in ``function`` is printed and its run marked failed; the
    agent goes on with the next trial (it gives up after 5 in a row).
    KeyboardInterrupt (or another BaseException) stops the agent: its trial's
    run is finished as failed, the trial recorded, and the exception goes on.
    """
    root = _root(dir)
    store = _Store(root, sweep_id)
    if store.config["method"] == "bayes":
        sweep_bayes.require()
    rng = random.Random()
    project = project or store.project
    old_project = os.environ.get("TRACKUI_PROJECT")
    if project and not old_project:
        os.environ["TRACKUI_PROJECT"] = project  # the runs' project, unless init() names one
    try:
        _run_trials(store, root, function, count, rng)
    finally:
        if project and not old_project:
            os.environ.pop("TRACKUI_PROJECT", None)


def _run_trials(
    store: _Store, root: Path, function: Callable[[], Any] | None, count: int | None, rng: Any
) -> None:
    global _trial
    from trackui import probes

    failures = done = 0
    while count is None or done < count:
        params = store.propose(rng)
        if params is None:
            break
        trial = Trial(store.id, params, probes.new_id(), store)
        entry = {"run_id": trial.run_id, "params": params, "state": "running"}
        store.trials.append(entry)
        store.save()
        ok, stopped = True, False
        if function is None:
            ok = _run_program(store, trial, root)
        else:
            _trial = trial
            try:
                function()
            except EarlyTerminated:
                pass
            except Exception:
                import traceback

                ok = False
                traceback.print_exc()
            except BaseException:  # KeyboardInterrupt, SystemExit: the sweep stops here
                ok, stopped = False, True
                raise
            finally:
                _trial = None
                run = trial.run
                if run is not None and not run.finished:
                    run.finish(exit_code=0 if ok else 1)
                if stopped:
                    store.finish_trial(entry)  # record what the run says it became
        done += 1
        if not ok:
            entry["state"] = "failed"
        store.finish_trial(entry)
        failures = 0 if ok else failures + 1
        if failures >= 5:
            print("trackui: agent: 5 trials failed in a row; stopping", file=sys.stderr)
            break


def _run_program(store: _Store, trial: Trial, root: Path) -> bool:
    import subprocess

    program = store.config.get("program")
    if not program:
        raise ValueError("trackui.agent: give function= or a 'program' in the sweep config")
    args = [f"--{k}={v}" for k, v in trial.params.items()]
    env = dict(os.environ)
    env["TRACKUI_DIR"] = str(root)
    env[_ENV] = orjson.dumps(
        {"sweep_id": trial.sweep_id, "params": trial.params, "run_id": trial.run_id}
    ).decode()
    return subprocess.call([sys.executable, str(program), *args], env=env) == 0


def controller(*args: Any, **kwargs: Any) -> Any:
    """Refused (``trackui.Unsupported``): ``trackui.agent`` proposes the parameters itself."""
    from trackui import wandb_names

    wandb_names.refuse("controller", wandb_names.MODULE["controller"])
