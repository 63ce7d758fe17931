"""Groups of runs: which runs go together, and a group's curve as a mean with a band.

Pure: rows in, groups out; members' bucketed curves in, the group's statistics
out (``store.group_curves`` asks the index for those curves). See docs/groups.md
for what a group is and how its members are aligned.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trackui.store.models import RunRow, Series, flatten

if TYPE_CHECKING:
    import numpy as np

BY_GROUP = "group"
"""The run's ``group`` (``init(group=...)``)."""
BY_JOB_TYPE = "job_type"
BY_SWEEP = "sweep"
"""The sweep the run belongs to (``meta.json``'s ``sweep_id``)."""
RUN_KEYS = (BY_GROUP, BY_JOB_TYPE, BY_SWEEP)
"""Keys read from the run itself; any other key is a config key (``a/b`` when nested)."""
CONFIG_PREFIX = "config:"
"""Spells a config key whose name is one of ``RUN_KEYS`` (``config:group``)."""

BAND_MINMAX = "minmax"
BAND_STD = "std"
BANDS = (BAND_MINMAX, BAND_STD)
"""The band around a group's mean: its members' min to max, or ±1 standard deviation."""

GROUP_ID_PREFIX = "group:"
"""Group ids start with this; run ids never do (they are directory names, no colon)."""

MISSING = "-"
"""How a key a run lacks reads in a group's label."""


def parse_keys(specs: Iterable[str]) -> tuple[str, ...]:
    """Group-by keys from ``--group-by`` values (repeated or comma-separated), in order, once each.

    Raises:
        ValueError: no key, or an empty one.
    """
    out: list[str] = []
    for spec in specs:
        for part in spec.split(","):
            k = part.strip()
            if not k:
                raise ValueError(f"group by: an empty key in {spec!r}")
            if k not in out:
                out.append(k)
    if not out:
        raise ValueError("group by: no key given")
    return tuple(out)


def key_value(row: RunRow, key: str) -> Any:
    """The value of one group-by key for a run (None when it has none)."""
    if key == BY_GROUP:
        return row.group
    if key == BY_JOB_TYPE:
        return row.meta.get("job_type")
    if key == BY_SWEEP:
        return row.meta.get("sweep_id")
    name = key[len(CONFIG_PREFIX) :] if key.startswith(CONFIG_PREFIX) else key
    flat = flatten(row.config)
    if name in flat:
        return flat[name]
    return flat.get(name.replace(".", "/"))


def _text(v: Any) -> str:
    if v is None:
        return MISSING
    if isinstance(v, str):
        return v
    return json.dumps(v, sort_keys=True, default=str)


@dataclass(frozen=True)
class Group:
    """Runs equal on every group-by key."""

    keys: tuple[str, ...]
    values: tuple[Any, ...]
    """One value per key (None where the runs lack it)."""
    run_ids: tuple[str, ...]
    """Members, in the order of the rows they came from."""

    @property
    def label(self) -> str:
        """``v`` for one key, ``k=v k2=v2`` for several."""
        if len(self.keys) == 1:
            return _text(self.values[0])
        return " ".join(f"{k}={_text(v)}" for k, v in zip(self.keys, self.values, strict=True))

    @property
    def id(self) -> str:
        """A stable id: the same keys and values give the same id in any root or order."""
        return GROUP_ID_PREFIX + self.label

    @property
    def hash(self) -> int:
        """``id_hash`` of the group's id."""
        return id_hash(self.id)


def group_runs(rows: Sequence[RunRow], keys: Sequence[str]) -> list[Group]:
    """The groups of ``rows`` by ``keys``, in the order of each group's first row."""
    keys = tuple(keys)
    order: dict[tuple[str, ...], tuple[tuple[Any, ...], list[str]]] = {}
    for r in rows:
        values = tuple(key_value(r, k) for k in keys)
        slot = order.setdefault(tuple(_text(v) for v in values), (values, []))
        slot[1].append(r.id)
    return [Group(keys, v, tuple(ids)) for v, ids in order.values()]


def is_group_id(s: str) -> bool:
    """Whether ``s`` is a group's id rather than a run's."""
    return s.startswith(GROUP_ID_PREFIX)


def id_hash(group_id: str) -> int:
    """A stable number of a group's id (its colour): the same in every session and root."""
    return int.from_bytes(hashlib.blake2b(group_id.encode(), digest_size=4).digest(), "big")


# -- a group's summary (the table's row, ``ls --group-by``) -------------------


def state_counts(rows: Sequence[RunRow]) -> dict[str, int]:
    """How many members are in each state, states in order of first appearance."""
    out: dict[str, int] = {}
    for r in rows:
        out[r.state] = out.get(r.state, 0) + 1
    return out


def mean_of(values: Iterable[Any]) -> float | None:
    """The mean of the finite numbers among ``values`` (bools excluded); None without any."""
    import math

    total, n = 0.0, 0
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        f = float(v)
        if math.isfinite(f):
            total += f
            n += 1
    return total / n if n else None


def summary_means(rows: Sequence[RunRow]) -> dict[str, float]:
    """The mean of each summary key over the members that have a finite number for it."""
    keys: dict[str, None] = {}
    for r in rows:
        keys.update(dict.fromkeys(r.summary))
    out: dict[str, float] = {}
    for k in sorted(keys):
        m = mean_of(r.summary.get(k) for r in rows)
        if m is not None:
            out[k] = m
    return out


def shared_config(rows: Sequence[RunRow]) -> dict[str, Any]:
    """The flat config keys every one of ``rows`` has, with the same value (a group's config).

    Compared as groups, the keys that differ are then those equal within
    each group and differing between groups (seeds drop out).
    """
    flats = [flatten(r.config) for r in rows]
    if not flats:
        return {}
    return {
        k: v
        for k, v in flats[0].items()
        if all(k in f and _text(f[k]) == _text(v) for f in flats[1:])
    }


# -- a group's curve -------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GroupStats:
    """A group's curve of one metric on the shared bucket grid (one entry per grid point)."""

    group_id: str
    metric: str
    x: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    """Population standard deviation (ddof 0) of the members counted."""
    min: np.ndarray
    max: np.ndarray
    count: np.ndarray
    """How many members have a finite value there."""
    points: int
    """Full-resolution points behind the members' curves."""

    def series(self, band: str = BAND_MINMAX) -> Series:
        """The mean as a Series whose ``lo``/``hi`` are the band (the chart's envelope)."""
        if band == BAND_STD:
            lo, hi = self.mean - self.std, self.mean + self.std
        else:
            lo, hi = self.min, self.max
        return Series(self.group_id, self.metric, self.x, self.mean, self.mean, lo, hi, self.points)


def bucket_of(x: np.ndarray, a: float, b: float, n: int) -> np.ndarray:
    """Each x's bucket of ``n`` equal-width buckets on ``[a, b]`` (the formula of ``bucketing``)."""
    import numpy as np

    if not b > a:
        return np.zeros(len(x), dtype=np.int64)
    return np.clip(((x - a) / (b - a) * n).astype(np.int64), 0, n - 1)


def group_stats(
    group_id: str,
    metric: str,
    members: Sequence[Series],
    grid: tuple[float, float],
    n: int,
) -> GroupStats:
    """A group's mean, standard deviation, min, max and count per bucket of the grid.

    ``members`` are the members' curves as their charts draw them (each
    smoothed on its full data, then bucketed); the grid is ``n`` buckets of
    equal width over ``grid = (a, b)``, and each entry of a member falls in
    the grid bucket of its x. The grid points are the buckets where at least
    one member has an entry; there each member's value is that of its latest
    entry at or before the bucket (carried, as-of), from its first entry to
    its last: a member that stopped early no longer counts. An entry with no
    finite value (a gap) stops the member counting from the bucket after its
    previous entry until its next finite entry. A grid point's x is the
    largest x of the entries in its bucket.
    """
    import numpy as np

    a, b = grid
    vals_gx = _shared_x_values(members, a, b, n)
    if vals_gx is not None:
        return _stats(group_id, metric, members, *vals_gx)
    per: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (bucket, x, y) per member
    for s in members:
        if len(s.x) == 0:
            continue
        x = np.asarray(s.x, dtype=np.float64)
        y = np.asarray(s.y, dtype=np.float64)
        fin = np.isfinite(x)
        k = np.full(len(x), -1, dtype=np.int64)
        k[fin] = bucket_of(x[fin], a, b, n)
        # A gap entry (NaN x) lies right after its previous entry's bucket
        # (or in its next entry's, when that is the same: unbucketed points).
        prev = np.maximum.accumulate(np.where(fin, k, -1))
        nxt = np.minimum.accumulate(np.where(fin, k, n)[::-1])[::-1]
        k = np.where(fin, k, np.minimum(prev + 1, nxt))
        y = np.where(fin & np.isfinite(y), y, np.nan)
        if fin.any():
            per.append((k, x, y))
    if not per:
        e = np.empty(0)
        return GroupStats(group_id, metric, e, e, e, e, e, np.empty(0, dtype=np.int64), 0)
    grid_k = np.unique(np.concatenate([k[np.isfinite(x)] for k, x, _ in per]))
    gx = np.full(len(grid_k), -np.inf)
    vals = np.full((len(per), len(grid_k)), np.nan)
    for i, (k, x, y) in enumerate(per):
        fin = np.isfinite(x)
        pos = np.searchsorted(grid_k, k[fin])
        np.maximum.at(gx, pos, x[fin])
        # The member's latest entry at or before each grid bucket (entries are in bucket order).
        j = np.searchsorted(k, grid_k, side="right") - 1
        inside = (j >= 0) & (grid_k <= k[fin][-1])
        vals[i, inside] = y[j[inside]]
    return _stats(group_id, metric, members, vals, gx)


def _shared_x_values(
    members: Sequence[Series], a: float, b: float, n: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """``group_stats``'s values and grid x when every member's curve has the same finite x
    (members that logged the same steps: seeds of one setting): the grid and each member's
    entry at it are then found once for all. None otherwise (or when no member has a point)."""
    import numpy as np

    xs = [np.asarray(s.x, dtype=np.float64) for s in members]
    if not xs or len(xs[0]) == 0:
        return None
    x = xs[0]
    if not np.isfinite(x).all() or not all(np.array_equal(o, x) for o in xs[1:]):
        return None
    if len(x) > 1 and not bool((x[1:] >= x[:-1]).all()):
        return None
    k = bucket_of(x, a, b, n)
    grid_k, first = np.unique(k, return_index=True)
    gx = np.maximum.reduceat(x, first)
    # Each member's latest entry at or before each grid bucket: the last of the bucket.
    j = np.searchsorted(k, grid_k, side="right") - 1
    ys = np.stack([np.asarray(s.y, dtype=np.float64) for s in members])
    vals = ys[:, j]
    vals[~np.isfinite(vals)] = np.nan
    return vals, gx


def _stats(
    group_id: str, metric: str, members: Sequence[Series], vals: np.ndarray, gx: np.ndarray
) -> GroupStats:
    """``group_stats`` from the members' values at each grid point (a row per member)."""
    import numpy as np

    ok = np.isfinite(vals)
    count = ok.sum(axis=0)
    has = count > 0
    safe = np.where(ok, vals, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(has, safe.sum(axis=0) / np.maximum(count, 1), np.nan)
        dev = np.where(ok, vals - mean, 0.0)
        std = np.where(has, np.sqrt((dev * dev).sum(axis=0) / np.maximum(count, 1)), np.nan)
    lo = np.where(has, np.where(ok, vals, np.inf).min(axis=0), np.nan)
    hi = np.where(has, np.where(ok, vals, -np.inf).max(axis=0), np.nan)
    points = sum(int(s.points) for s in members)
    return GroupStats(group_id, metric, gx, mean, std, lo, hi, count, points)


def shared_grid(members: Sequence[Series]) -> tuple[float, float] | None:
    """The x span of the members' curves together (None when none has a finite x)."""
    import numpy as np

    lo, hi = np.inf, -np.inf
    for s in members:
        x = np.asarray(s.x, dtype=np.float64)
        x = x[np.isfinite(x)]
        if len(x):
            lo, hi = min(lo, float(x[0])), max(hi, float(x[-1]))
    return None if lo > hi else (lo, hi)
