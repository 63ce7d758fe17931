"""What the index knows besides DuckDB: its runs and their loaded history, as immutable values.

An ``IndexState`` is replaced, never changed in place: a query takes the
current one and answers from it while a refresh builds the next. Runs are
known by their id (a string, as the UI and the CLI name them); inside DuckDB
and in this state's per-run maps they are numbered (``rid``, an int). The
mapping between the two is here: :meth:`IndexState.entry` (id to run, with its
rid) and :meth:`IndexState.ids_of` (rids to ids).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from trackui.store.ingest import HistState, Loaded, MStat
from trackui.store.liveness import RUNNING, claims_running
from trackui.store.models import MetricInfo, RunInfo
from trackui.store.reader import decode_value, loads_json
from trackui.store.text import quoted


@dataclass
class RunEntry:
    """One run directory as the index knows it."""

    rid: int
    """The run's number inside DuckDB."""
    dir: str
    """The run directory's name under the root."""
    sig: str
    """Sizes and mtimes of its small files when last read ('' for a placeholder)."""
    info: RunInfo
    readable: bool = True
    """False for placeholders (a meta.json that cannot be used): nothing of theirs is loaded."""

    def claims_running(self) -> bool:
        """Whether its writer said it is running (whether it still is, ``store.liveness`` says)."""
        return self.readable and claims_running(self.info.meta)


@dataclass
class IndexState:
    """Everything the queries need besides DuckDB; replaced, never mutated in place."""

    runs: dict[str, RunEntry] = field(default_factory=dict)
    """By run id."""
    hist: dict[int, HistState] = field(default_factory=dict)
    """By rid: how far each history is loaded."""
    mstats: dict[int, dict[int, MStat]] = field(default_factory=dict)
    """By rid, then metric id."""
    texts: dict[int, dict[str, tuple[int, str]]] = field(default_factory=dict)
    """By rid, then text key: the last (step, value)."""

    def entry(self, run_id: str) -> RunEntry:
        """The run with this id.

        Raises:
            LookupError: No run has this id.
        """
        run = self.runs.get(run_id)
        if run is None:
            raise LookupError(f"no run with id {quoted(run_id)}")
        return run

    def ids_of(self, rids: Iterable[int], runs: Iterable[RunEntry] | None = None) -> set[str]:
        """The ids of the runs numbered ``rids`` among ``runs`` (default: all of them)."""
        id_of = {r.rid: r.info.id for r in (self.runs.values() if runs is None else runs)}
        return {id_of[r] for r in rids if r in id_of}

    def kept(self, runs: dict[str, RunEntry]) -> IndexState:
        """This state with ``runs`` as its run table, forgetting the loads of runs not in it."""
        rids = {r.rid for r in runs.values()}
        return IndexState(
            runs,
            {k: v for k, v in self.hist.items() if k in rids},
            {k: v for k, v in self.mstats.items() if k in rids},
            {k: v for k, v in self.texts.items() if k in rids},
        )

    def merged(self, got: Loaded, resets: Iterable[int]) -> IndexState:
        """This state with ``got`` installed and ``resets`` forgotten first."""
        hist = dict(self.hist)
        mstats = dict(self.mstats)
        texts = dict(self.texts)
        for rid in resets:
            hist.pop(rid, None)
            mstats.pop(rid, None)
            texts.pop(rid, None)
        hist.update(got.hist)
        mstats.update(got.mstats)
        for rid, t in got.texts.items():
            texts[rid] = {**texts.get(rid, {}), **t}
        return IndexState(self.runs, hist, mstats, texts)

    def merged_summary(self, run: RunEntry, mnames: dict[int, str]) -> dict[str, Any]:
        """The newest value of each metric, with what only ``summary.json`` knows (docs/format.md).

        From the history: each metric's value at its last step, numeric or
        text (a text value at a later step than the last number wins). From
        ``summary.json``: keys the history lacks, ``define_metric``
        aggregates (min, max, mean), and everything else where the file was
        written after the last record read (a live writer rewrites it only
        every few seconds, so until then the history's values are newer).
        """
        out: dict[str, Any] = {}
        for mid, s in self.mstats.get(run.rid, {}).items():
            out[mnames[mid]] = s.last_v
        texts = self.texts.get(run.rid)
        if texts:
            stats = self.mstats.get(run.rid, {})
            last_num = {mnames[mid]: s.last_step for mid, s in stats.items()}
            for key, (step, val) in texts.items():
                if step > last_num.get(key, -1):
                    out[key] = val
        summary = run.info.summary
        if not summary:
            return out
        h = self.hist.get(run.rid)
        if (
            h is None
            or h.last_t is None
            or run.info.state not in _UNFINISHED  # (finish() writes it after the last record)
            or not _history_newer(run.sig, h.last_t)
        ):
            out.update(summary)
            return out
        keep = aggregated(run.info.meta)
        for key, val in summary.items():
            if key not in out or (keep and keep(key)):
                out[key] = val
        return out

    def loaded(self) -> tuple[int, int]:
        """``(runs whose metrics are loaded, runs total)``.

        A run is loaded once an ingest has read every complete line of its
        history (a torn or half-written last line is not waited for).
        """
        done = sum(1 for r in self.runs.values() if not r.readable or r.rid in self.hist)
        return done, len(self.runs)

    def metrics(self, run_ids: Iterable[str], mnames: dict[int, str]) -> list[MetricInfo]:
        """Numeric metric names of the runs (unknown ids skipped), with each run's step count."""
        out: dict[str, dict[str, int]] = {}
        for rid_s in run_ids:
            r = self.runs.get(rid_s)
            if r is None:
                continue
            for mid, s in self.mstats.get(r.rid, {}).items():
                out.setdefault(mnames[mid], {})[rid_s] = s.n
        return [MetricInfo(name, out[name]) for name in sorted(out)]

    def text_values(self, run_id: str) -> dict[str, str]:
        """The last value of each text metric of a run (LookupError: no such run)."""
        run = self.entry(run_id)
        return {k: v for k, (_, v) in sorted(self.texts.get(run.rid, {}).items())}

    def resolve(self, ref: str, root: Path) -> str:
        """The id of the run ``ref`` names: an id, a unique id prefix, a unique name, or its path.

        Raises:
            LookupError: Nothing or more than one run matches (one-line message).
        """
        if ref in self.runs:
            return ref
        if ref and (os.sep in ref or ref.startswith(".")):
            p = Path(ref)
            if p.is_dir():
                rp = p.resolve()
                for r in self.runs.values():
                    if r.info.path.resolve() == rp:
                        return r.info.id
        named = [r for r in self.runs.values() if r.info.name == ref]
        if len(named) == 1:
            return named[0].info.id
        if len(named) > 1:
            ids = ", ".join(sorted(r.info.id for r in named)[:5])
            raise LookupError(f"run name {quoted(ref)} is ambiguous: {len(named)} runs ({ids})")
        pre = [r for r in self.runs.values() if ref and r.info.id.startswith(ref)]
        if len(pre) == 1:
            return pre[0].info.id
        if len(pre) > 1:
            ids = ", ".join(sorted(r.info.id for r in pre)[:5])
            raise LookupError(f"run id prefix {quoted(ref)} is ambiguous: {len(pre)} runs ({ids})")
        raise LookupError(f"no run matches {quoted(ref)} in {quoted(str(root))}")


_UNFINISHED = (RUNNING, "crashed")
"""States whose ``summary.json`` may be older than the history (not written by ``finish()``)."""


def _history_newer(sig: str, last_t: float) -> bool:
    """Whether a record was logged after ``summary.json`` was written (its mtime is in ``sig``)."""
    parts = sig.split("|")
    if len(parts) != 3 or parts[2] in ("-", "?"):
        return False
    # (A file's mtime may lag the clock a few milliseconds: a record logged just
    # before the file was written may count as newer. Its value is then the one
    # the file holds, unless a value set by hand overrides it; a finished run's
    # file, written by finish(), is not compared at all.)
    return last_t > int(parts[2].split(":", 1)[0]) / 1e9


def aggregated(meta: dict[str, Any]) -> Callable[[str], bool] | None:
    """Which metric names ``define_metric`` gave a min, max or mean summary (None: none)."""
    declared = meta.get("metrics")
    if not isinstance(declared, dict):
        return None
    names: set[str] = set()
    globs: list[str] = []
    for name, spec in declared.items():
        agg = spec.get("summary") if isinstance(spec, dict) else None
        if not isinstance(agg, str) or agg.split(",")[0].strip() not in ("min", "max", "mean"):
            continue
        if any(c in name for c in "*?["):
            globs.append(name)
        else:
            names.add(name)
    if not names and not globs:
        return None
    return lambda key: key in names or any(fnmatch.fnmatchcase(key, g) for g in globs)


def touched(got: Loaded, resets: Iterable[int]) -> set[int]:
    """Runs whose merged summary may change with ``got`` and ``resets``."""
    return set(resets) | set(got.mstats) | set(got.texts)


@dataclass
class Cached:
    """What a cache file holds besides the points: read back when a viewer starts."""

    state: IndexState
    mids: dict[str, int]
    next_rid: int
    lagging: set[int]
    """Runs whose ``summary_kv`` a viewer that did not close left behind."""


def read_cached(cur: Any, root: Path) -> Cached:
    """The state a cache file holds (validated against the files on the first ingest)."""
    st = IndexState()
    mids = dict(cur.execute("SELECT name, mid FROM metric_names").fetchall())
    next_rid = 1
    for rid, rid_id, d, sig, meta, config, summary, warnings, state in cur.execute(
        "SELECT rid, id, dir, sig, meta, config, summary, warnings, state FROM runs"
    ).fetchall():
        summ = {k: decode_value(v) for k, v in loads_json(summary).items()}
        info = RunInfo(
            rid_id,
            root / d,
            loads_json(meta),
            loads_json(config),
            summ,
            state,
            tuple(orjson.loads(warnings)),
        )
        st.runs[rid_id] = RunEntry(rid, d, sig, info, readable=sig != "")
        next_rid = max(next_rid, rid + 1)
    lagging = set()
    for row in cur.execute(
        "SELECT rid, off, size, mtime_ns, ino, head, steps, last_step, first_t, last_t, "
        "warnings, tail, summary_ok FROM hist"
    ).fetchall():
        w = orjson.loads(row[10])
        st.hist[row[0]] = HistState(
            off=row[1], size=row[2], mtime_ns=row[3], ino=row[4], head=row[5],
            steps=row[6], last_step=row[7], first_t=row[8], last_t=row[9],
            warnings=w["warnings"], damaged=w["damaged"], tail=row[11],
        )  # fmt: skip
        if not row[12]:
            lagging.add(row[0])
    for rid, mid, n, lo, hi, last_v in cur.execute(
        "SELECT rid, s.mid, s.n, s.first_step, s.last_step, s.last_v "
        "FROM (SELECT rid, unnest(stats) AS s FROM hist)"
    ).fetchall():
        st.mstats.setdefault(rid, {})[mid] = MStat(n, lo, hi, last_v)
    for rid, key, step, val in cur.execute(
        "SELECT rid, key, arg_max(step, rowid), arg_max(val, rowid) FROM texts GROUP BY rid, key"
    ).fetchall():
        st.texts.setdefault(rid, {})[key] = (step, val)
    return Cached(st, mids, next_rid, {r for r in lagging if r in st.hist})
