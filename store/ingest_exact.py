"""The exact path: appended lines parsed one by one (see ``store.ingest``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from trackui.store import layout
from trackui.store.ingest import HistState, Loaded, MStat, add_warnings, read_before
from trackui.store.reader import read_records


def load_exact(
    cur: Any,
    items: Sequence[tuple[int, Path, HistState, int]],
    mid_of: Callable[[str], int],
    prev_stats: dict[int, dict[int, MStat]],
    *,
    insert: bool = True,
) -> Loaded:
    """Parse appended lines of each file and insert them (one transaction by the caller).

    Args:
        cur: A DuckDB cursor inside a transaction.
        items: ``(rid, run_dir, state, size)`` with ``state.off`` the offset to read from.
        mid_of: Metric name to id (creates ids for new names).
        prev_stats: The runs' metric stats so far (merged with the new lines).
        insert: False to leave the new rows in ``points`` and ``text_rows``
            of the result for the caller to insert later.
    """
    out = Loaded()
    cols: dict[str, list[Any]] = {"rid": [], "mid": [], "step": [], "t": [], "v": []}
    tcols: dict[str, list[Any]] = {"rid": [], "key": [], "step": [], "t": [], "val": []}
    for rid, run_dir, st, _size in items:
        records, new_off, warns = read_records(run_dir, st.off)
        if st.last_step is not None and any(
            r.step < st.last_step for r in records if r.metrics or r.text or r.rich
        ):
            # A step below those loaded before (a repeat, or one that goes
            # back): only the whole file says whether it is new.
            out.reload.append(rid)
            continue
        h = HistState(**{**st.__dict__, "warnings": list(st.warnings)})
        add_warnings(h, warns)
        h.off = new_off
        h.tail = read_before(run_dir / layout.HISTORY, new_off)
        stats = {k: MStat(**v.__dict__) for k, v in prev_stats.get(rid, {}).items()}
        texts: dict[str, tuple[int, str]] = {}
        prev_last = h.last_step
        steps_seen: set[int] = set()
        first = len(cols["rid"])
        back = False
        for rec in records:
            if rec.metrics or rec.text or rec.rich:  # a step with any value is a step
                steps_seen.add(rec.step)
                back = back or (h.last_step is not None and rec.step < h.last_step)
                if h.last_step is None or rec.step > h.last_step:
                    h.last_step = rec.step
            if rec.time == rec.time:  # not NaN
                h.first_t = rec.time if h.first_t is None else min(h.first_t, rec.time)
                h.last_t = rec.time if h.last_t is None else max(h.last_t, rec.time)
            for name, v in rec.metrics.items():
                mid = mid_of(name)
                cols["rid"].append(rid)
                cols["mid"].append(mid)
                cols["step"].append(rec.step)
                cols["t"].append(rec.time)
                cols["v"].append(v)
                s = stats.get(mid)
                if s is None:
                    stats[mid] = MStat(1, rec.step, rec.step, v)
                else:
                    if rec.step != s.last_step:
                        s.n += 1
                    s.first_step = min(s.first_step, rec.step)
                    s.last_step = max(s.last_step, rec.step)
                    if rec.step >= s.last_step:
                        s.last_v = v
            for key, val in rec.text.items():
                tcols["rid"].append(rid)
                tcols["key"].append(key)
                tcols["step"].append(rec.step)
                tcols["t"].append(rec.time)
                tcols["val"].append(val)
                texts[key] = (rec.step, val)
        if back:  # steps went back within these lines: count each metric's anew
            _recount(stats, prev_stats.get(rid, {}), cols["mid"][first:], cols["step"][first:])
            # Stored in step order (a stable sort: a repeated step's later value
            # still comes later), as readers of a metric's points assume.
            order = sorted(range(first, len(cols["step"])), key=cols["step"].__getitem__)
            for col in cols.values():
                col[first:] = [col[i] for i in order]
        h.steps += len(steps_seen) - (1 if prev_last is not None and prev_last in steps_seen else 0)
        out.hist[rid] = h
        out.mstats[rid] = stats
        out.texts[rid] = texts
    if cols["rid"]:
        tbl = points_table(cols["rid"], cols["mid"], cols["step"], cols["t"], cols["v"])
        if insert:
            insert_points(cur, tbl)
        out.points = tbl
    if tcols["rid"]:
        ttbl = texts_table(tcols["rid"], tcols["key"], tcols["step"], tcols["t"], tcols["val"])
        if insert:
            insert_texts(cur, ttbl)
        out.text_rows = ttbl
    return out


def _recount(
    stats: dict[int, MStat], prev: dict[int, MStat], mids: Sequence[int], steps: Sequence[int]
) -> None:
    """Set each metric's count of distinct steps from the new lines' ``(mid, step)``.

    The lines loaded before held steps up to ``prev``'s last step of each metric,
    and the new lines none below it: the two share that step at most.
    """
    new: dict[int, set[int]] = {}
    for mid, step in zip(mids, steps, strict=True):
        new.setdefault(mid, set()).add(step)
    for mid, got in new.items():
        p = prev.get(mid)
        stats[mid].n = len(got) + (0 if p is None else p.n - (p.last_step in got))


def insert_points(cur: Any, tbl: Any) -> None:
    """Append an Arrow table (rid, mid, step, t, v) to ``points``."""
    cur.register("_exact_points", tbl)
    cur.execute("INSERT INTO points SELECT rid, mid, step, t, v FROM _exact_points")
    cur.unregister("_exact_points")


def insert_texts(cur: Any, tbl: Any) -> None:
    """Append an Arrow table (rid, key, step, t, val) to ``texts``."""
    cur.register("_exact_texts", tbl)
    cur.execute("INSERT INTO texts SELECT rid, key, step, t, val FROM _exact_texts")
    cur.unregister("_exact_texts")


def points_table(rid: Sequence[int], mid: Sequence[int], step: Sequence[int],
                 t: Sequence[float], v: Sequence[float]) -> Any:  # fmt: skip
    """Numeric values as an Arrow table in ``points``' columns (rid, mid, step, t, v)."""
    import pyarrow as pa

    return pa.table({
        "rid": pa.array(rid, pa.int32()), "mid": pa.array(mid, pa.int32()),
        "step": pa.array(step, pa.int64()), "t": pa.array(t, pa.float64()),
        "v": pa.array(v, pa.float64()),
    })  # fmt: skip


def texts_table(rid: Sequence[int], key: Sequence[str], step: Sequence[int],
                t: Sequence[float], val: Sequence[str]) -> Any:  # fmt: skip
    """Text values as an Arrow table in ``texts``' columns (rid, key, step, t, val)."""
    import pyarrow as pa

    return pa.table({
        "rid": pa.array(rid, pa.int32()), "key": pa.array(key, pa.string()),
        "step": pa.array(step, pa.int64()), "t": pa.array(t, pa.float64()),
        "val": pa.array(val, pa.string()),
    })  # fmt: skip
