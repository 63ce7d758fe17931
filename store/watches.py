"""Watches: what says at once that a run went wrong, as a list of firings.

Built in, always on:

* ``nan``: a NaN or infinite value in any metric (clears when every metric
  that went non-finite has a finite value again);
* ``stall``: a running run whose last record is older than ten times its
  median interval between records, and at least :data:`STALL_MIN_S`
  (clears when it logs again, or stops running);
* ``crashed`` / ``failed``: the run's state (``store.liveness``).

Then the user's rules (``store.watch_rules``), read against every new record,
so a spike that recovers still fires; and ``alert()`` events from scripts
(``store.artifact_store.read_alerts``), one firing each.

Each rule fires once per run until it clears. ``Watches`` reads the runs'
files itself: for each run, the bytes appended to ``history.jsonl`` since
its own offset, when told which run directories changed (``update``, fed by
``store.watch.RootWatcher``'s reports), and the clock (``tick``) for stalls
and crashes. It keeps out of the index's ingest on purpose: the index reads
histories in bulk through DuckDB on its first load and a watch must not
slow that down; a second read of the appended bytes of the few runs that
changed costs next to nothing (they are in the page cache), and it lets
``trackui watch`` run without an index at all. When a run is first seen,
only its last :data:`TAIL_BYTES` of history are read (its recent records;
older history is not looked at).

Not thread-safe by itself: one caller at a time (the UI's worker holds a lock).
"""

from __future__ import annotations

import dataclasses
import math
import os
import statistics
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trackui.store import layout
from trackui.store.artifact_store import RUN_ALERTS, read_alerts
from trackui.store.liveness import claims_running, derive_state
from trackui.store.models import RunInfo, flatten
from trackui.store.reader import read_records, read_run
from trackui.store.watch_rules import Rule, RunContext

STALL_FACTOR = 10.0
"""A run stalls after this many times its median interval between records..."""
STALL_MIN_S = 300.0
"""...and never sooner than this (five minutes); ``Watches(stall_min_s=)`` overrides it."""
TAIL_BYTES = 16 * 1024
"""How much of a run's history is read when it is first seen (its last hundred records or so)."""
INTERVALS_KEPT = 256
"""The median interval is taken over this many recent intervals."""

NAN, STALL, CRASHED, FAILED, ALERT = "nan", "stall", "crashed", "failed", "alert"
"""Built-in rule names (a user's rule is named by its text)."""
BADGES = {NAN: "NaN", STALL: "stall", CRASHED: "crash", FAILED: "fail", ALERT: "alert"}
"""The short mark each kind of firing puts on a run's row (a user's rule: ``!``)."""
RULE_BADGE = "!"


@dataclass(frozen=True)
class Firing:
    """A rule that fired on a run."""

    time: float
    """Unix seconds: the record's time, or when it was seen (stalls, states)."""
    run_id: str
    run_name: str
    rule: str
    """``nan``, ``stall``, ``crashed``, ``failed``, ``alert`` or the user's rule text."""
    metric: str | None = None
    """The metric that fired it (an alert: its title)."""
    value: float | str | None = None
    """Its value (a stall: seconds since the last record; an alert: its text)."""
    step: int | None = None

    @property
    def kind(self) -> str:
        """``nan``, ``stall``, ``crashed``, ``failed``, ``alert`` or ``rule``."""
        return self.rule if self.rule in BADGES else "rule"

    @property
    def badge(self) -> str:
        return BADGES.get(self.rule, RULE_BADGE)

    def to_json(self) -> dict[str, Any]:
        """A plain object (non-finite values as the strings ``nan``, ``inf``, ``-inf``)."""
        v = self.value
        if isinstance(v, float) and not math.isfinite(v):
            v = "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        return {
            "time": self.time,
            "run_id": self.run_id,
            "run_name": self.run_name,
            "rule": self.rule,
            "kind": self.kind,
            "metric": self.metric,
            "value": v,
            "step": self.step,
        }


@dataclass
class _RunWatch:
    """What is followed of one run."""

    info: RunInfo
    offset: int = -1
    """Byte offset in ``history.jsonl`` read up to (-1: not read yet)."""
    last: dict[str, float] = field(default_factory=dict)
    nonfinite: dict[str, float] = field(default_factory=dict)
    last_t: float | None = None
    intervals: deque[float] = field(default_factory=lambda: deque(maxlen=INTERVALS_KEPT))
    active: set[str] = field(default_factory=set)
    """Rules fired and not cleared."""
    alerts_seen: int = 0
    alerts_size: int = -1
    config: dict[str, Any] | None = None
    files_key: tuple[int, ...] = ()
    """Size and mtime of ``meta.json`` and ``config.json`` when last read."""

    def context(self) -> RunContext:
        if self.config is None:
            self.config = flatten(self.info.config)
        return RunContext({**self.info.meta, "state": self.info.state}, self.config, self.last)


def _files_key(run_dir: Path) -> tuple[int, ...]:
    out: list[int] = []
    for n in (layout.META, layout.CONFIG):
        try:
            st = os.stat(run_dir / n)
            out += [st.st_mtime_ns, st.st_size]
        except OSError:
            out += [-1, -1]
    return tuple(out)


def _tail_offset(path: Path, n: int) -> int:
    """The start of the first whole line in the last ``n`` bytes of a file (0 if shorter)."""
    try:
        size = os.path.getsize(path)
        if size <= n:
            return 0
        with open(path, "rb") as f:
            f.seek(size - n - 1)
            chunk = f.read(n + 1)
    except OSError:
        return 0
    i = chunk.find(b"\n")
    return size if i < 0 else size - n - 1 + i + 1


class Watches:
    """The watches over one run root (see the module docstring).

    Args:
        root: The run root.
        rules: The user's rules.
        now: The clock (stalls, crash checks of runs on other hosts).
        stall_min_s: The shortest stall (tests shorten it).
        tail_bytes: How much history of a run first seen is read.
    """

    def __init__(
        self,
        root: Path,
        rules: Sequence[Rule] = (),
        *,
        now: Callable[[], float] = time.time,
        stall_min_s: float = STALL_MIN_S,
        tail_bytes: int = TAIL_BYTES,
    ) -> None:
        self.root = Path(root)
        self.now = now
        self.stall_min_s = stall_min_s
        self.tail_bytes = tail_bytes
        self._runs: dict[str, _RunWatch] = {}
        """By run directory name."""
        self.set_rules(rules)

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self._rules

    def set_rules(self, rules: Sequence[Rule]) -> None:
        """Replace the user's rules (a rule no longer there clears; a new one reads new records)."""
        self._rules = tuple(dict.fromkeys(rules))
        by_metric: dict[str, list[Rule]] = {}
        for r in self._rules:
            for m in r.metrics:
                by_metric.setdefault(m, []).append(r)
        self._by_metric = by_metric
        texts = {r.text for r in self._rules}
        builtin = set(BADGES)
        for w in self._runs.values():
            w.active = {a for a in w.active if a in builtin or a in texts}

    @property
    def live(self) -> bool:
        """Whether a run says it is running (only then can the clock make a watch fire)."""
        return any(claims_running(w.info.meta) for w in self._runs.values())

    def active(self) -> dict[str, tuple[str, ...]]:
        """Run id -> the rules firing now (not cleared), in a stable order."""
        return {w.info.id: tuple(sorted(w.active)) for w in self._runs.values() if w.active}

    # ------------------------------------------------------------------ reading

    def update(self, dirs: Iterable[str | os.PathLike[str]] | None = None) -> list[Firing]:
        """Read what changed in these run directories (None: every run of the root).

        Returns the firings, in the order they happened within each run.
        """
        if dirs is None:
            names = layout.list_run_names(self.root) if self.root.is_dir() else []
            for gone in set(self._runs) - set(names):
                del self._runs[gone]
        else:
            names = sorted({Path(d).name for d in dirs if layout.parse_run_dir_name(Path(d).name)})
        out: list[Firing] = []
        for name in names:
            out += self._update_run(name)
        return out

    def tick(self) -> list[Firing]:
        """Look at the clock: stalls of running runs, and crashes (a killed writer writes nothing)."""
        out: list[Firing] = []
        now = self.now()
        for w in list(self._runs.values()):
            if claims_running(w.info.meta):
                state = derive_state(w.info.meta, w.info.path, now=now)
                if state != w.info.state:
                    w.info = dataclasses.replace(w.info, state=state)
                    out += self._check_state(w)
            out += self._check_stall(w, now)
        return out

    def _update_run(self, name: str) -> list[Firing]:
        path = self.root / name
        w = self._runs.get(name)
        key = _files_key(path)
        if w is None or key != w.files_key:
            # (a live run appends to its history many times a second: its
            # small files are read again only when they change)
            info = read_run(path, now=self.now())
            if info is None:
                self._runs.pop(name, None)
                return []
            if w is None:
                w = self._runs[name] = _RunWatch(info)
                w.offset = _tail_offset(path / layout.HISTORY, self.tail_bytes)
            else:
                if info.config != w.info.config:
                    w.config = None
                w.info = info
            w.files_key = key
        out = self._read_records(w)
        out += self._check_state(w)
        out += self._read_alerts(w)
        out += self._check_stall(w, self.now())
        return out

    def _read_records(self, w: _RunWatch) -> list[Firing]:
        path = w.info.path
        try:
            size = os.path.getsize(path / layout.HISTORY)
        except OSError:
            return []
        if size < w.offset:  # replaced or rewritten: read it again
            w.offset, w.last_t = 0, None
            w.intervals.clear()
        if size == w.offset:
            return []
        records, w.offset, _ = read_records(path, w.offset)
        out: list[Firing] = []
        for rec in records:
            t = rec.time
            if not math.isnan(t):
                if w.last_t is not None and t >= w.last_t:
                    w.intervals.append(t - w.last_t)
                w.last_t = t if w.last_t is None else max(w.last_t, t)
            if STALL in w.active:
                w.active.discard(STALL)
            out += self._check_record(w, rec.step, rec.metrics, t)
        return out

    def _check_record(
        self, w: _RunWatch, step: int, metrics: dict[str, float], t: float
    ) -> list[Firing]:
        out: list[Firing] = []
        when = t if not math.isnan(t) else self.now()
        nonfinite = w.nonfinite
        if nonfinite or not all(map(math.isfinite, metrics.values())):  # (the rare case)
            for k, v in metrics.items():
                if math.isfinite(v):
                    if k in nonfinite:
                        del nonfinite[k]
                elif k not in nonfinite:
                    nonfinite[k] = v
                    if NAN not in w.active:
                        w.active.add(NAN)
                        out.append(Firing(when, w.info.id, w.info.name, NAN, k, v, step))
            if not nonfinite:
                w.active.discard(NAN)
        w.last.update(metrics)
        hit = self._by_metric.keys() & metrics.keys() if self._by_metric else ()
        if hit:  # (a record whose metrics no rule names costs one set intersection)
            rules: dict[str, Rule] = {}
            for k in sorted(hit):
                for r in self._by_metric[k]:
                    rules[r.text] = r
            if rules:
                ctx = w.context()
                for r in rules.values():
                    if r.holds(step, metrics, ctx):
                        if r.text not in w.active:
                            w.active.add(r.text)
                            m = next((k for k in sorted(r.metrics) if k in metrics), None)
                            out.append(
                                Firing(when, w.info.id, w.info.name, r.text, m,
                                       metrics.get(m) if m else None, step)
                            )  # fmt: skip
                    else:
                        w.active.discard(r.text)
        return out

    def _check_state(self, w: _RunWatch) -> list[Firing]:
        state = w.info.state
        out: list[Firing] = []
        for rule in (CRASHED, FAILED):
            if state == rule:
                if rule not in w.active:
                    w.active.add(rule)
                    when = w.info.meta.get("end_time")
                    when = float(when) if isinstance(when, (int, float)) else self.now()
                    code = w.info.meta.get("exit_code")
                    out.append(Firing(when, w.info.id, w.info.name, rule, None, code, None))
            else:
                w.active.discard(rule)
        return out

    def _check_stall(self, w: _RunWatch, now: float) -> list[Firing]:
        if w.info.state != "running" or w.last_t is None:
            w.active.discard(STALL)
            return []
        limit = self.stall_limit(w)
        quiet = now - w.last_t
        if quiet <= limit:
            w.active.discard(STALL)
            return []
        if STALL in w.active:
            return []
        w.active.add(STALL)
        return [Firing(now, w.info.id, w.info.name, STALL, None, round(quiet, 1), None)]

    def stall_limit(self, w: _RunWatch) -> float:
        """How long a run may go without a record before it counts as stalled."""
        median = statistics.median(w.intervals) if w.intervals else 0.0
        return max(self.stall_min_s, STALL_FACTOR * median)

    def _read_alerts(self, w: _RunWatch) -> list[Firing]:
        path = w.info.path / RUN_ALERTS
        try:
            size = os.path.getsize(path)
        except OSError:
            return []
        if size == w.alerts_size:
            return []
        w.alerts_size = size
        alerts = read_alerts(w.info.path)
        new, w.alerts_seen = alerts[w.alerts_seen :], len(alerts)
        return [
            Firing(a.time, w.info.id, w.info.name, ALERT, a.title, a.text or a.level, None)
            for a in new
        ]
