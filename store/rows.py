"""Rows of the run table, built from the index's state and reused while their run is unchanged."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from trackui.store.index_state import IndexState, RunEntry
from trackui.store.ingest import history_warnings
from trackui.store.liveness import RUNNING
from trackui.store.models import RunRow, flatten


def _s(v: Any) -> str | None:
    return None if v is None else str(v)


def build_row(st: IndexState, run: RunEntry, now: float, mnames: dict[int, str]) -> RunRow:
    """The row of ``run`` (``now`` for a running run's runtime)."""
    info = run.info
    m = info.meta
    h = st.hist.get(run.rid)
    start = m.get("start_time")
    start_f = float(start) if isinstance(start, (int, float)) else (
        h.first_t if h is not None and h.first_t is not None else 0.0
    )  # fmt: skip
    end = m.get("end_time")
    end_f = float(end) if isinstance(end, (int, float)) else None
    if info.state == RUNNING:
        runtime = now - start_f
    elif end_f is not None:
        runtime = end_f - start_f
    elif h is not None and h.last_t is not None:
        runtime = h.last_t - start_f
    else:
        runtime = 0.0
    created = m.get("created")
    if not isinstance(created, str) or not created:
        created = datetime.fromtimestamp(start_f, tz=timezone.utc).isoformat()
    warnings = list(info.warnings)
    if h is not None:
        warnings += history_warnings(h)
    return RunRow(
        id=info.id,
        name=info.name,
        project=_s(m.get("project")),
        group=_s(m.get("group")),
        tags=tuple(str(t) for t in m.get("tags") or ()),
        state=info.state,
        created=created,
        start_time=start_f,
        end_time=end_f,
        runtime_s=max(0.0, runtime) if math.isfinite(runtime) else 0.0,
        last_step=h.last_step if h is not None else None,
        steps=h.steps if h is not None else 0,
        path=info.path,
        host=_s(m.get("host")),
        config=info.config,
        summary=st.merged_summary(run, mnames),
        meta=m,
        warnings=tuple(warnings),
    )


class Rows:
    """The rows of the run table and the keys of their configs and summaries, kept for reuse.

    A state's parts are replaced (never mutated) whenever something changes:
    a row is reused while the objects it was built from are the same.
    """

    def __init__(self, mnames: dict[int, str]) -> None:
        self._mnames = mnames
        self._rows: dict[int, tuple[Any, Any, Any, Any, RunRow]] = {}
        """Per run, its row and what it was built from (run, hist, stats, texts)."""
        self._row_keys: dict[int, tuple[RunRow, frozenset[str], frozenset[str]]] = {}
        """Per run, its config and summary keys and the row they were read from."""
        self._keys: tuple[list[str], list[str]] | None = None
        """The last answer of ``keys()``."""

    def forget(self, rids: list[int]) -> None:
        """Drop what is kept of runs that are gone."""
        for rid in rids:
            self._rows.pop(rid, None)
            self._row_keys.pop(rid, None)
            self._keys = None

    def row(self, st: IndexState, run: RunEntry, now: float) -> RunRow:
        """The row of ``run``, reused when nothing it is built from changed."""
        rid = run.rid
        h, m, t = st.hist.get(rid), st.mstats.get(rid), st.texts.get(rid)
        hit = self._rows.get(rid)
        if hit is not None and hit[0] is run and hit[1] is h and hit[2] is m and hit[3] is t:
            return hit[4]
        row = build_row(st, run, now, self._mnames)
        if run.info.state != RUNNING:
            self._rows[rid] = (run, h, m, t, row)
        return row

    def keys(self, st: IndexState, now: float) -> tuple[list[str], list[str]]:
        """``(config flat keys, summary keys)`` over all runs, sorted."""
        cache = self._row_keys
        same = len(cache) == len(st.runs)
        for r in st.runs.values():
            # A run's keys are read again only when its row was rebuilt (a
            # live refresh touches a few runs of thousands), and the answer
            # is put together again only when some run's keys changed.
            row = self.row(st, r, now)
            hit = cache.get(r.rid)
            if hit is None or hit[0] is not row:
                new = (row, frozenset(flatten(row.config)), frozenset(row.summary))
                if hit is None or hit[1] != new[1] or hit[2] != new[2]:
                    same = False
                cache[r.rid] = new
        if same and self._keys is not None:
            return list(self._keys[0]), list(self._keys[1])
        if len(cache) != len(st.runs):
            for rid in set(cache) - {r.rid for r in st.runs.values()}:
                del cache[rid]
        ck: set[str] = set()
        sk: set[str] = set()
        for _, c, s in cache.values():
            ck |= c
            sk |= s
        self._keys = (sorted(ck), sorted(sk))
        return list(self._keys[0]), list(self._keys[1])
