"""The ``Run`` object: one run's config, summary, history and files.

A run writes through ``store.writer.RunWriter`` into one run directory (see
``docs/format.md``). Each ``log()`` call becomes one history record, handed
to the OS before ``log()`` returns. ``trackui.session`` makes runs (``init``)
and keeps track of the current one.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from trackui import console
from trackui.metrics_spec import declaration, parse_goal, parse_summary
from trackui.run_compat import RunCompat
from trackui.run_config import Config, Summary
from trackui.run_identity import RunIdentity
from trackui.save_paths import files_to_save
from trackui.store import layout, reader
from trackui.store.writer import RunWriter
from trackui.values import as_step, clean_record, convert

# Bound once: log() is on the training loop's hot path.
_now = time.time
_dumps = orjson.dumps
_LINE = orjson.OPT_APPEND_NEWLINE

MAX_RECORD_BYTES = 8 << 20
"""The largest history record ``log()`` writes (8 MiB of JSON); a bigger one is
refused with a ValueError. The reader skips lines over ``reader.MAX_LINE_BYTES``
(16 MiB), so every record ``log()`` accepts is read back."""


class Run(RunIdentity, RunCompat):
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
        on_finish: Callable[[Run], None] | None = None,
    ) -> None:
        self._disabled = disabled
        self._on_finish = on_finish
        self._meta = meta
        self._step = step
        self._finished = False
        self._pending: dict[str, Any] = {}
        """Values from ``watch()`` hooks, merged into the next ``log()``."""
        self._saved: list[tuple[Path, Path]] = []
        self.run_dir: Path | None = run_dir
        """The run directory (None for a disabled run); ``run.dir`` is its ``files/``."""
        self._writer: RunWriter | None = None
        if run_dir is not None and not disabled:
            self._writer = RunWriter(run_dir, summary_source=self._summary_json)
        self.config = Config(config, on_change=self._write_config)
        self.summary = Summary(on_change=self._summary_changed)
        self._tee: console.Tee | None = None
        self._sampler: Any = None
        """The ``system_metrics.Sampler`` logging ``system/*``; stopped at ``finish()``."""

    @classmethod
    def create(
        cls,
        run_dir: Path,
        meta: dict[str, Any],
        config: dict[str, Any],
        *,
        on_finish: Callable[[Run], None] | None = None,
    ) -> Run:
        """A new run in ``run_dir``: its meta, config and an empty summary written now."""
        run = cls(run_dir=run_dir, meta=meta, config=config, on_finish=on_finish)
        run._write_meta()
        run._write_config()
        if run._writer is not None:
            run._writer.write_small(layout.SUMMARY, {})
        return run

    @classmethod
    def reopen(
        cls,
        run_dir: Path,
        config: dict[str, Any],
        process: dict[str, Any],
        now: float,
        *,
        on_finish: Callable[[Run], None] | None = None,
    ) -> Run:
        """Resume the run in ``run_dir``: keep its meta and config (``config`` on top),
        continue after its last step, and record ``process`` (host, pid, command)."""
        info = reader.read_run(run_dir)
        if info is not None:
            meta = dict(info.meta)
        else:
            parsed = layout.parse_run_dir_name(run_dir.name)
            meta = {"id": parsed[1] if parsed else run_dir.name}
        merged = {**(info.config if info else {}), **config}
        meta.update(
            process,
            state="running",
            end_time=None,
            exit_code=None,
            resumed_time=now,
        )
        run = cls(
            run_dir=run_dir,
            meta=meta,
            config=merged,
            step=reader.last_step(run_dir) + 1,
            on_finish=on_finish,
        )
        run._resumed = True
        run._starting_step = run._step
        if info:
            from trackui.store.rich import last_references  # (no metrics: read apart)

            run.summary.restore(info.summary)
            run.summary.restore(last_references(run_dir))
        run._write_meta()
        run._write_config()
        return run

    def capture_console(self) -> None:
        """Copy what the process prints to ``output.log`` until ``finish()``."""
        if self.run_dir is not None and self._tee is None and not self._disabled:
            self._tee = console.Tee.start(self.run_dir / layout.OUTPUT)

    # -- logging -----------------------------------------------------------

    def log(
        self,
        data: dict[str, Any] | None = None,
        step: int | None = None,
        commit: bool | None = None,
        sync: bool | None = None,
    ) -> None:
        """Log a dict of values at a step; ``log()`` alone commits the open step.

        Without ``step``, values go to the current step, which then advances
        (unless ``commit=False``, which keeps adding to the same step). With
        ``step``, values go to that step; a later ``log()`` without ``step``
        adds to it until one commits. A step lower than the current one is
        ignored with a warning, as wandb does.

        Names and text values that are not valid Unicode (lone surrogates)
        are stored with U+FFFD in their place; integers beyond 64 bits as the
        nearest float.

        Raises:
            TypeError: a value that cannot be logged (nothing is written).
            ValueError: a record over ``MAX_RECORD_BYTES``, a dict nested
                deeper than ``values.MAX_DEPTH``, or a step beyond 64 bits
                (nothing is written).
        """
        if self._disabled:
            return
        if self._finished:
            console.warn_once("log-after-finish", "trackui: log() after finish() is ignored")
            return
        rich: dict[str, Any] = {}
        m, x = convert(data if data is not None else {}, rich=rich)
        if self._pending:
            pending, self._pending = self._pending, {}
            for k, v in pending.items():
                if type(v) is float:
                    m.setdefault(k, v)
                else:  # a histogram from watch()
                    rich.setdefault(k, v)
        if step is None:
            s = self._step
            if commit is None:
                commit = True
        else:
            step = as_step(step)
            if step < self._step:
                console.warn_once(
                    "step-back",
                    f"trackui: log(step={step}) is below the current step {self._step}; "
                    "those values are ignored",
                )
                return
            s = step
        if data is None and not m:  # log() alone: commit the open step, write nothing
            self._step = s + 1 if commit else s
            return
        rec: dict[str, Any] = {"s": s, "t": _now(), "m": m}
        if x:
            rec["x"] = x
        if rich:  # images, histograms, tables...: files under media/, references here
            from trackui.media.encode import references

            rec["r"] = references(self.run_dir, rich)  # type: ignore[arg-type]
        try:
            line = _dumps(rec, option=_LINE)
        except TypeError:  # a name or text with lone surrogates: stored with U+FFFD
            rec = clean_record(rec)
            m = rec["m"]
            line = _dumps(rec, option=_LINE)
        if len(line) > MAX_RECORD_BYTES:
            raise ValueError(
                f"trackui.log: this record is {len(line):,} bytes of JSON, over the limit of "
                f"{MAX_RECORD_BYTES:,} (MAX_RECORD_BYTES); nothing is written"
            )
        # One record per call, in the OS before we return (docs/format.md).
        self._writer.append(line)  # type: ignore[union-attr]
        if m:
            summary = self.summary
            if summary.aggregating:
                summary.observe(m)
            else:
                summary._last.update(m)  # observe()'s whole work when nothing is aggregated
        if x:
            self.summary.observe(x)  # a text value is a metric's last value too
        r = rec.get("r")
        if r:  # the last reference of each rich key, as wandb's summary keeps it
            self.summary._last.update(r)
        self._step = s + 1 if commit else s

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
        """Declare how a metric (or a glob such as ``val/*``) is summarised and plotted.

        Args:
            name: a metric name or a glob.
            step_metric: the metric to use as its x-axis by default.
            summary: ``min``, ``max``, ``mean``, ``first``, ``last`` (the default),
                ``best`` (needs ``goal``) or ``none``, or several comma-separated;
                declarations of one name add up (see ``trackui.metrics_spec``).
            goal: ``minimize`` or ``maximize``.
            hidden: hide it from the viewer's charts.

        Everything is kept in ``meta.json`` under ``metrics`` (``docs/format.md``).

        Raises:
            ValueError: an unknown ``summary`` or ``goal``, or ``best`` without a goal.
        """
        kinds = parse_summary(summary)
        goal = parse_goal(goal)
        metrics = dict(self._meta.get("metrics") or {})
        entry = declaration(
            metrics.get(name),
            step_metric=step_metric,
            kinds=kinds,
            goal=goal,
            hidden=hidden,
            step_sync=step_sync,
        )
        if "best" in kinds and entry.get("goal") is None:
            raise ValueError(
                f"define_metric: summary='best' for {name!r} needs goal='minimize' or 'maximize'"
            )
        self.summary.define(name, kinds, entry.get("goal"))
        if self._disabled:
            return
        metrics[name] = entry
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
        """Log parameter and gradient norms and histograms per layer every ``log_freq``
        forward passes.

        Only a ``torch.nn.Module`` can be watched; torch is looked up, never
        imported, so watching costs nothing to scripts that do not use it.
        """
        if self._disabled:
            return
        from trackui.torch_watch import watch_model

        watch_model(self, model, log=log, log_freq=log_freq)

    def _add_pending(self, values: dict[str, Any]) -> None:
        self._pending.update(values)

    def _log_system(self, values: dict[str, float]) -> None:
        """One record of system metrics (from the sampler thread) at the current step.

        It neither advances the step nor enters the summary.
        """
        if self._finished or self._writer is None:
            return
        self._writer.append(_dumps({"s": self._step, "t": _now(), "m": values}, option=_LINE))

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
        out = []
        for src, rel in files_to_save(glob_str, base_path):
            dest = self._writer.copy_in(src, rel)
            if dest is not None:
                out.append(str(dest))
                if policy != "now":
                    self._saved.append((src, rel))
        return out

    # -- lifecycle ---------------------------------------------------------

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        """Write the summary and final state, sync and close; idempotent."""
        if self._finished:
            return
        self._finished = True
        if self._on_finish is not None:
            self._on_finish(self)
        if self._sampler is not None:
            self._sampler.stop()
            self._sampler = None
        if self._disabled or self._writer is None:
            return
        if self._tee is not None:
            self._tee.close()
            self._tee = None
        if (media := sys.modules.get("trackui.media.encode")) is not None:
            media.flush()  # the media files this process queued are on disk
        for src, rel in self._saved:
            if src.is_file():
                self._writer.copy_in(src, rel)
        try:
            code = 0 if exit_code is None else int(exit_code)
        except (TypeError, ValueError, OverflowError):
            code = 1
        self._meta["state"] = "finished" if code == 0 else "failed"
        self._meta["exit_code"] = code
        self._meta["end_time"] = time.time()
        self._writer.write_small(layout.SUMMARY, self._summary_json())
        self._writer.write_small(layout.META, self._meta)
        self._writer.close()
        if not quiet and not getattr(self.settings, "silent", False):
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

    def _write_config(self) -> None:
        if self._writer is not None:
            self._writer.write_small(layout.CONFIG, self.config.to_json())
