"""Text from run data made safe for a terminal, and values formatted for people.

Every name and value in a run directory comes from a training script and may
hold anything: escape sequences, other control characters, Rich markup. What
is written to a terminal goes through one of three policies here:

- :func:`strip`: escape sequences and control characters removed (the UI,
  where a cell or a label must read cleanly; ``keep_newlines`` for
  multi-line text such as a run's console output).
- :func:`escape`: every non-printable character shown as ``\\xNN`` or
  ``\\uNNNN``, optionally cut to a width (the CLI, the trainer); :func:`marked`
  shows each as ``?`` instead (the console lines of the API).
- :func:`quoted`: a user-supplied string inside a one-line message: quoted,
  escaped, bounded.

And one set of formatters (number, value, delta, duration, age, clock time,
size). Where the UI and the CLI want different text (the UI shows a missing
value as nothing and floats to 4 digits; the CLI shows ``-``, 6 digits and
JSON for nested values), a parameter says which.

No Textual, no Rich, nothing heavy: the store, the API, the CLI, the trainer
and the UI all import this.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

# C0 controls (tab and newline included: a table cell or a label is one
# line), DEL, and C1 controls (0x80-0x9f, which some terminals honour as CSI).
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A whole escape sequence (CSI, OSC, single-character escapes), so that
# stripping leaves no readable residue such as "[31m".
_ESCAPE_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[@-Z\\-_]"  # two-character escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_C1_RE = re.compile("[\x7f-\x9f]")

FIXED_BELOW = 1e15
"""Below this magnitude an integral float prints as an integer (and, with
``fixed``, any number prints without an exponent)."""

# ------------------------------------------------------------------ safety


def strip(value: object, *, keep_newlines: bool = False) -> str:
    """``str(value)`` with escape sequences and control characters removed.

    Args:
        value: Anything; it is converted with ``str()``.
        keep_newlines: Keep ``\\n`` (for multi-line text such as console output);
            tabs then become four spaces, else one.

    Returns:
        Text that is safe to show literally.
    """
    s = value if isinstance(value, str) else str(value)
    s = _ESCAPE_RE.sub("", s)
    if keep_newlines:
        return "\n".join(_CONTROL_RE.sub("", part.replace("\t", "    ")) for part in s.split("\n"))
    return _CONTROL_RE.sub("", s.replace("\t", " "))


def escape(value: object, width: int | None = None, *, mark: str | None = None) -> str:
    """``str(value)`` as one line with every non-printable character made visible.

    A tab becomes a space; any other character that is not printable (controls,
    C1, line and paragraph separators, bidirectional overrides) becomes
    ``\\xNN``/``\\uNNNN``, or ``mark`` when one is given.

    Args:
        value: Anything; it is converted with ``str()``.
        width: Cut to this many characters, the last one ``…``.
        mark: What replaces each non-printable character instead of its code.
    """
    s = value if isinstance(value, str) else str(value)
    if not s.isprintable():
        out = []
        for ch in s:
            if ch.isprintable():
                out.append(ch)
            elif ch == "\t":
                out.append(" ")
            elif mark is not None:
                out.append(mark)
            else:
                o = ord(ch)
                out.append(f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}")
        s = "".join(out)
    return s if width is None else shorten(s, width)


def marked(value: object) -> str:
    """:func:`escape` with every non-printable character as ``?`` (the API's console lines)."""
    return escape(value, mark="?")


def quoted(value: object, limit: int = 80) -> str:
    """A user-supplied string for a one-line message: quoted, escaped, bounded."""
    s = value if isinstance(value, str) else str(value)
    s = s if len(s) <= limit else s[: limit - 3] + "..."
    return "'" + escape(s) + "'"


def escape_c1(text: str) -> str:
    """DEL and C1 controls as ``\\uNNNN`` (for JSON, which allows them raw)."""
    return _C1_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def shorten(s: str, width: int) -> str:
    """``s`` cut to ``width`` characters with an ellipsis when it is longer."""
    if width <= 0:
        return ""
    return s if len(s) <= width else s[: max(0, width - 1)] + "…"


def shorten_middle(s: str, width: int) -> str:
    """``s`` cut to ``width`` characters with an ellipsis in the middle when it is longer:
    names that differ at their end (``grid-lr=0.003,batch_size=64``) stay told apart."""
    if len(s) <= width or width < 5:
        return shorten(s, width)
    head = (width - 1 + 1) // 2
    return s[:head] + "…" + s[len(s) - (width - 1 - head) :]


# -------------------------------------------------------------- formatters


def fmt_number(v: float, digits: int = 4, *, fixed: bool = False) -> str:
    """A number, short: ints as ints, floats to ``digits`` significant digits.

    Args:
        v: An int, float or bool (ints of any size).
        digits: Significant digits of a float that is not integral.
        fixed: No exponent below ``FIXED_BELOW`` (``33121.5``, not ``3.312e+04``):
            a rate or a count keeps its integer digits.
    """
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return str(v)
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == int(v) and abs(v) < FIXED_BELOW:
        return str(int(v))
    if fixed and 1 <= abs(v) < FIXED_BELOW:
        whole = len(str(int(abs(v))))
        text = f"{v:.{max(0, digits - whole)}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{v:.{digits}g}"


def fmt_value(
    v: Any, *, missing: str = "", digits: int = 4, fixed: bool = False, json: bool = False
) -> str:
    """Any config or summary value as one line (not yet escaped: see :func:`escape`).

    Args:
        v: The value.
        missing: What ``None`` reads as.
        digits: Significant digits of floats (see :func:`fmt_number`).
        fixed: Numbers without an exponent below ``FIXED_BELOW`` (see :func:`fmt_number`).
        json: Lists and mappings as JSON (the CLI), else as ``[a, b]``/``{k: v}``
            with their strings stripped (the UI).
    """
    if v is None:
        return missing
    if isinstance(v, (int, float)):
        return fmt_number(v, digits, fixed=fixed)
    if json and isinstance(v, (dict, list, tuple)):
        from trackui.store.reader import encode_value
        from trackui.store.writer import json_bytes

        return json_bytes(encode_value(v), indent=False).decode()
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(fmt_value(x, missing=missing, digits=digits) for x in v) + "]"
    if isinstance(v, Mapping):
        inner = (
            f"{strip(k)}: {fmt_value(x, missing=missing, digits=digits)}" for k, x in v.items()
        )
        return "{" + ", ".join(inner) + "}"
    return str(v) if json else strip(v)


def fmt_delta(d: float | None, digits: int = 4, *, fixed: bool = False) -> str:
    """A signed difference, or "" when there is none to show."""
    if d is None or d == 0 or (isinstance(d, float) and math.isnan(d)):
        return ""
    return ("+" if d > 0 else "") + fmt_number(d, digits, fixed=fixed)


def fmt_duration(seconds: float | None) -> str:
    """Seconds as ``42s``, ``3m05s``, ``2h14m`` or ``3d04h``; ``-`` when unknown or negative."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


def fmt_age(start: float | None, now: float) -> str:
    """How long ago ``start`` was, as ``5m``-style text without the "ago"."""
    if start is None or not math.isfinite(start):
        return "-"
    return fmt_duration(max(0.0, now - start))


def fmt_time(t: float | None, *, seconds: bool = True) -> str:
    """Unix seconds as local ``YYYY-MM-DD HH:MM:SS`` (``HH:MM`` without ``seconds``)."""
    if t is None:
        return "-"
    try:
        return dt.datetime.fromtimestamp(t).strftime(
            "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
        )
    except (OverflowError, OSError, ValueError):
        return "-"


def fmt_size(n: int) -> str:
    """Bytes as ``912 B``, ``4.2 KB``, ``1.3 MB``."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


# ------------------------------------------------- numbers fitted to a width

DELTA_WIDTH = 12
"""The most characters a delta beside a compared value takes."""


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
    """``fmt_value(v, missing="None")`` in at most ``width`` characters.

    A number is written without an exponent where that fits (``33122``, not
    ``3.312e+04``: counts and rates read as counts); one too long for it (a
    22-digit int) is shown with fewer significant digits in scientific
    notation; one that cannot fit even so, and any other text, is cut with
    ``…``. Never a number with digits silently lost.
    """
    s = fmt_value(v, missing="None", fixed=True)
    if len(s) <= width or not _is_number(v) or not math.isfinite(v):
        return shorten(s, width)
    return _compact(v, width) or shorten(s, width)


def delta_text(value: Any, base: Any, delta: float | int | None) -> str:
    """The signed difference of ``value`` from ``base``, or "" when there is none to show.

    A float difference that overflowed (both values finite, the delta not)
    is worked out exactly; a long one is shown in scientific notation. Beside
    a value that is not finite, or from a baseline that is not, a delta says
    nothing the values do not (``inf (+inf)``): there is none. Without an
    exponent where it fits (``+29159``).
    """
    for v in (value, base):
        if _is_number(v) and not math.isfinite(v):
            return ""
    if isinstance(delta, float) and math.isinf(delta) and _is_number(value) and _is_number(base):
        exact = Decimal(value) - Decimal(base)
        return ("+" if exact > 0 else "") + (_compact(exact, DELTA_WIDTH - 1) or "")
    s = fmt_delta(delta, fixed=True)
    if len(s) > DELTA_WIDTH and delta is not None and math.isfinite(delta):
        s = ("+" if delta > 0 else "-") + (_compact(abs(delta), DELTA_WIDTH - 1) or "")
    return s
