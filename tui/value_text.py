"""Values in the few places where the screen needs more than ``fmt`` gives.

``None`` spelled out where a key holds it (``fmt_value`` shows it as
nothing), a number fitted to a column's width without ever showing a wrong
number, and a delta that does not overflow where a float difference would
(``1e308 - -1e308``).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from trackui.tui.fmt import fmt_delta, fmt_value, shorten

DELTA_WIDTH = 12
"""The most characters a delta beside a compared value takes."""


def value_text(v: Any) -> str:
    """A config or summary value as one line; a value that is ``None`` reads ``None``."""
    return "None" if v is None else fmt_value(v)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _compact(v: float | int | Decimal, width: int) -> str | None:
    """``v`` in scientific notation in at most ``width`` characters (None: it cannot fit)."""
    for digits in range(4, 0, -1):
        s = format(v, f".{digits}g")
        mant, e, exp = s.partition("e")
        if "." in mant:  # (Decimal keeps trailing zeros)
            mant = mant.rstrip("0").rstrip(".")
        s = mant + e + exp
        if len(s) <= width:
            return s
    return None


def fit_value(v: Any, width: int) -> str:
    """``value_text(v)`` in at most ``width`` characters.

    A number too long for it (a 22-digit int) is shown with fewer significant
    digits in scientific notation; one that cannot fit even so, and any
    other text, is cut with ``…``. Never a number with digits silently lost.
    """
    s = value_text(v)
    if len(s) <= width or not _is_number(v) or not math.isfinite(v):
        return shorten(s, width)
    return _compact(v, width) or shorten(s, width)


def delta_text(value: Any, base: Any, delta: float | int | None) -> str:
    """The signed difference of ``value`` from ``base``, or "" when there is none to show.

    A float difference that overflowed (both values finite, the delta not)
    is worked out exactly; a long one is shown in scientific notation. Beside
    a value that is not finite, or from a baseline that is not, a delta says
    nothing the values do not (``inf (+inf)``): there is none.
    """
    for v in (value, base):
        if _is_number(v) and not math.isfinite(v):
            return ""
    if isinstance(delta, float) and math.isinf(delta) and _is_number(value) and _is_number(base):
        exact = Decimal(value) - Decimal(base)
        return ("+" if exact > 0 else "") + (_compact(exact, DELTA_WIDTH - 1) or "")
    s = fmt_delta(delta)
    if len(s) > DELTA_WIDTH and delta is not None and math.isfinite(delta):
        s = ("+" if delta > 0 else "-") + (_compact(abs(delta), DELTA_WIDTH - 1) or "")
    return s
