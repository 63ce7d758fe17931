"""Axis ticks: round values that fit the room, and labels that read short.

Pure functions (no drawing): each takes the axis's range and the most ticks
that fit, and returns the ticks inside the range with their labels.

* numbers: 1, 2 or 5 times a power of ten, never a fractional step on an
  integer axis (steps); labels with SI suffixes from a thousand up (``1.5k``,
  ``2M``, ``3G``) and an exponent below a thousandth (``3e-6``);
* durations (relative time): round spans of seconds, minutes, hours or days,
  labelled ``30s``, ``5m``, ``1h05m``, ``2d``;
* clock times (wall time): round local times, labelled ``14:05:30``,
  ``14:05`` or ``12-07`` (month-day) as the span needs;
* log axes: powers of ten (``1``, ``10``, ``1k``, ``1e-5``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

NICE = (1.0, 2.0, 5.0)
"""A linear step is one of these times a power of ten."""

SI = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
"""SI prefixes of large labels, largest first."""

SMALL = 1e-3
"""Non-zero labels below this are written with an exponent (``3e-6``)."""

DURATION_STEPS = (
    1, 2, 5, 10, 15, 30,
    60, 120, 300, 600, 900, 1800,
    3600, 7200, 10800, 21600, 43200,
    86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400,
)  # fmt: skip
"""Round spans of time in seconds (longer ones are multiples of 28 days)."""


@dataclass(frozen=True)
class Ticks:
    """Tick positions (in data units) and the label of each."""

    values: tuple[float, ...]
    labels: tuple[str, ...]


def nice_step(lo: float, hi: float, room: int, *, integer: bool = False) -> float:
    """The smallest round step (1, 2 or 5 times a power of ten) giving at most ``room`` ticks.

    Ticks are the step's multiples from ``lo`` to ``hi``; on an integer axis
    the step is a whole number (1 at least).
    """
    room = max(1, room)
    span = hi - lo
    if not span > 0 or not math.isfinite(span):
        return 1.0
    k = math.floor(math.log10(span / room))
    for exp in (k - 1, k, k + 1, k + 2):
        for m in NICE:
            step = m * 10.0**exp
            if integer and step < 1:
                continue
            if count(lo, hi, step) <= room:
                return step
    return 10.0 ** (k + 3)


def count(lo: float, hi: float, step: float) -> int:
    """How many multiples of ``step`` lie from ``lo`` to ``hi`` (as :func:`multiples` finds)."""
    eps = step * 1e-9
    return max(0, math.floor((hi + eps) / step) - math.ceil((lo - eps) / step) + 1)


def multiples(lo: float, hi: float, step: float) -> list[float]:
    """The multiples of ``step`` from ``lo`` to ``hi`` (a hair of slack at both ends)."""
    eps = step * 1e-9
    first = math.ceil((lo - eps) / step)
    last = math.floor((hi + eps) / step)
    # Rounded to 12 digits: 3 * 0.2 is 0.6, not 0.6000000000000001.
    return [float(f"{i * step:.12g}") + 0.0 for i in range(first, last + 1)]


def number_label(v: float, step: float = 0.0) -> str:
    """``v`` short: ``0``, ``0.25``, ``1.5k``, ``2M``, ``3e-6``; digits enough to tell ``step`` apart."""
    if v == 0:
        return "0"
    if not math.isfinite(v):
        return "?"
    a = abs(v)
    if a >= 1e18:
        return _exp_label(v, step)
    for scale, suffix in SI:
        if a >= scale:
            return _fixed(v / scale, step / scale) + suffix
    if a < SMALL:
        return _exp_label(v, step)
    return _fixed(v, step)


def _fixed(v: float, step: float) -> str:
    """``v`` with the decimals ``step`` needs, trailing zeros dropped."""
    decimals = 0 if step <= 0 or step >= 1 else min(12, math.ceil(-math.log10(step) - 1e-9))
    if step <= 0:
        decimals = 3
    text = f"{v:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _exp_label(v: float, step: float) -> str:
    """``v`` as ``3e-6`` / ``2.5e+20`` (mantissa digits as ``step`` needs)."""
    k = math.floor(math.log10(abs(v)))
    mant = v / 10.0**k
    digits = 0
    if step > 0:
        digits = max(0, min(6, k - math.floor(math.log10(step) + 1e-9)))
    text = f"{mant:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}e{k}"


def linear_ticks(lo: float, hi: float, room: int, *, integer: bool = False) -> Ticks:
    """Round ticks from ``lo`` to ``hi``: at most ``room`` of them (one where ``lo == hi``)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return Ticks((), ())
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        return Ticks((lo,), (number_label(lo, 0.0 if not integer else 1.0),))
    step = nice_step(lo, hi, room, integer=integer)
    vals = multiples(lo, hi, step)
    return Ticks(tuple(vals), tuple(number_label(v, step) for v in vals))


def log_ticks(lo: float, hi: float, room: int) -> Ticks:
    """Powers of ten from ``lo`` to ``hi`` (both above zero), every one or every few decades.

    Where no power of ten lies inside, round linear ticks instead.
    """
    if not (0 < lo <= hi) or not math.isfinite(hi):
        return Ticks((), ())
    first = max(-323, math.ceil(math.log10(lo) - 1e-9))
    last = min(308, math.floor(math.log10(hi) + 1e-9))
    if first > last:
        return linear_ticks(lo, hi, room)
    every = int(nice_step(first, last, room, integer=True))
    exps = [k for k in range(first, last + 1) if k % every == 0] or [first]
    vals = [10.0**k for k in exps]
    return Ticks(tuple(vals), tuple(number_label(v, v) for v in vals))


def duration_label(seconds: float) -> str:
    """Seconds as ``0s``, ``45s``, ``5m``, ``1m30s``, ``2h``, ``1h05m``, ``3d``, ``1d12h``."""
    sign = "-" if seconds < 0 else ""
    s = round(abs(seconds))
    d, rest = divmod(s, 86400)
    h, rest = divmod(rest, 3600)
    m, sec = divmod(rest, 60)
    if d:
        text = f"{d}d{h:02d}h" if h else f"{d}d"
    elif h:
        text = f"{h}h{m:02d}m" if m else f"{h}h"
    elif m:
        text = f"{m}m{sec:02d}s" if sec else f"{m}m"
    else:
        text = f"{sec}s"
    return sign + text


def _time_step(lo: float, hi: float, room: int) -> float:
    """The smallest round span of time giving at most ``room`` ticks from ``lo`` to ``hi``."""
    room = max(1, room)
    for step in DURATION_STEPS:
        if count(lo, hi, step) <= room:
            return float(step)
    month = 28 * 86400
    return month * nice_step(lo / month, hi / month, room, integer=True)


def duration_ticks(lo: float, hi: float, room: int) -> Ticks:
    """Round durations from ``lo`` to ``hi`` seconds (sub-second spans: ``0.5s``)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return Ticks((), ())
    span = hi - lo
    if span < 2:
        t = linear_ticks(lo, hi, room)
        step = nice_step(lo, hi, room) if span > 0 else 1.0
        if step >= 1:
            return Ticks(t.values, tuple(duration_label(v) for v in t.values))
        return Ticks(t.values, tuple(f"{lab}s" if lab != "0" else "0s" for lab in t.labels))
    step = _time_step(lo, hi, room)
    vals = multiples(lo, hi, step)
    return Ticks(tuple(vals), tuple(duration_label(v) for v in vals))


def clock_ticks(lo: float, hi: float, room: int, tz: dt.tzinfo | None = None) -> Ticks:
    """Round wall-clock times from ``lo`` to ``hi`` (Unix seconds; ``tz`` None: local time).

    Labels are ``HH:MM:SS`` for steps under a minute, ``HH:MM`` under a day,
    ``MM-DD`` from a day up and ``YYYY-MM`` from a year of span up.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or abs(hi) > 1e11 or abs(lo) > 1e11:
        return linear_ticks(lo, hi, room)
    step = _time_step(lo, max(hi, lo + 1.0), room)
    try:
        offset = _offset(lo, tz)
    except (OverflowError, OSError, ValueError):
        return linear_ticks(lo, hi, room)
    # Multiples of the step in local time (a day's ticks at local midnight).
    vals = [v - offset for v in multiples(lo + offset, hi + offset, step)]
    if hi - lo >= 365 * 86400:
        fmt = "%Y-%m"
    elif step >= 86400:
        fmt = "%m-%d"
    elif step >= 60:
        fmt = "%H:%M"
    else:
        fmt = "%H:%M:%S"
    labels = tuple(dt.datetime.fromtimestamp(v, tz).strftime(fmt) for v in vals)
    return Ticks(tuple(vals), labels)


def _offset(t: float, tz: dt.tzinfo | None) -> float:
    """Seconds east of UTC at ``t`` in ``tz`` (None: the local zone)."""
    moment = dt.datetime.fromtimestamp(t, tz) if tz is not None else dt.datetime.fromtimestamp(t)
    off = (moment if tz is not None else moment.astimezone()).utcoffset()
    return off.total_seconds() if off is not None else 0.0


def clock_label(t: float, span: float, tz: dt.tzinfo | None = None) -> str:
    """One wall-clock time for a readout: ``14:05:30``, with the date where ``span`` is days."""
    try:
        moment = dt.datetime.fromtimestamp(t, tz)
    except (OverflowError, OSError, ValueError):
        return number_label(t)
    return moment.strftime("%m-%d %H:%M:%S" if span >= 86400 else "%H:%M:%S")
