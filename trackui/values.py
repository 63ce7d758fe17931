"""Turn what a script logs into what the run directory stores.

``convert`` is on the hot path of ``log()``: plain ints and floats take the
first branch and cost a type check each. Everything else is checked before
anything is written, so a bad value raises ``TypeError`` and writes nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

MAX_DEPTH = 100
"""How deeply a logged dict or a config value may nest; deeper (or a cycle) is refused."""

MAX_INT_BITS = 10_000
"""Config and summary integers up to this many bits (about 3,000 digits) are kept
exact; bigger ones are stored as "inf" or "-inf"."""

REPLACEMENT = "\ufffd"
"""What each lone surrogate in a name or a text value is stored as."""

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(s: str) -> str:
    """``s`` as valid Unicode: each lone surrogate (what ``os.fsdecode`` makes of
    bytes that are not UTF-8) replaced by U+FFFD; other text is returned as is."""
    if s.isascii():
        return s
    return _SURROGATE.sub(REPLACEMENT, s)


def clean_record(obj: Any) -> Any:
    """A record's dicts with every key and string value passed through ``clean_text``."""
    if isinstance(obj, str):
        return clean_text(obj)
    if isinstance(obj, dict):
        return {clean_text(k): clean_record(v) for k, v in obj.items()}
    return obj


def _too_deep(key: str) -> ValueError:
    if len(key) > 80:
        key = key[:77] + "..."
    return ValueError(
        f"trackui: {key!r} nests more than {MAX_DEPTH} levels deep (or holds itself); "
        "it is refused and nothing was written"
    )


def _nonfinite(v: float) -> str:
    if v != v:
        return "nan"
    return "inf" if v > 0 else "-inf"


def _scalar(key: str, v: Any) -> float | int | str:
    """A value that is not a plain int/float: bool, NumPy, 0-d tensors, big ints."""
    t = type(v)
    if t is bool:
        return int(v)
    if t is int:
        # orjson refuses integers beyond 64 bits: the nearest float, ±inf past ±1.8e308.
        if _INT64_MIN <= v <= _INT64_MAX:
            return v
        try:
            return float(v)
        except OverflowError:
            return "inf" if v > 0 else "-inf"
    # NumPy scalars, 0-d NumPy arrays and 0-d torch tensors all have ndim == 0
    # and item(); reading them this way never imports torch or NumPy.
    if getattr(v, "ndim", None) == 0 and hasattr(v, "item"):
        try:
            item = v.item()
        except Exception as e:  # a tensor on a broken device, say
            raise TypeError(f"trackui.log: cannot read the value of {key!r}: {e}") from None
        if type(item) in (int, float, bool):
            return _number(key, item)
        raise TypeError(
            f"trackui.log: {key!r} holds a {type(item).__name__} ({t.__name__}); "
            "log ints, floats, bools or strings"
        )
    if isinstance(v, float):  # float subclasses
        return _number(key, float(v))
    if isinstance(v, int):  # int subclasses, IntEnum
        return _number(key, int(v))
    shape = getattr(v, "shape", None)
    what = f"a {t.__module__}.{t.__name__}" if t.__module__ != "builtins" else f"a {t.__name__}"
    if shape is not None:
        what += f" of shape {tuple(shape)}"
    raise TypeError(
        f"trackui.log: {key!r} is {what}; log ints, floats, bools, strings, "
        "0-d arrays or tensors, or dicts of them"
    )


def _number(key: str, v: Any) -> float | int | str:
    if type(v) is float:
        return v if v - v == 0.0 else _nonfinite(v)
    return _scalar(key, v)


def convert(
    data: Mapping[str, Any], prefix: str = "", rich: dict[str, Any] | None = None
) -> tuple[dict[str, float | int | str], dict[str, str]]:
    """Flatten and convert a dict of logged values.

    Returns ``(numeric, text)``: numeric values by flat name (non-finite as
    ``"nan"``/``"inf"``/``"-inf"``, bools as 0/1), and text values. Rich values
    (images, histograms, tables...: ``trackui.media``) go into ``rich`` by
    flat name when it is given, and are refused otherwise.

    Raises:
        TypeError: naming the key of a value that cannot be logged.
    """
    m: dict[str, float | int | str] = {}
    x: dict[str, str] = {}
    if type(data) is not dict or prefix:
        _convert_into(data, prefix, m, x, 0, rich)
        return m, x
    # The common case, a flat dict of str -> float/int, stays in this loop.
    for k, v in data.items():
        t = type(v)
        if type(k) is not str:
            k = str(k)
        if t is float:
            # v - v is 0.0 for finite floats and NaN for NaN and ±inf.
            m[k] = v if v - v == 0.0 else _nonfinite(v)
        elif t is int and _INT64_MIN <= v <= _INT64_MAX:
            m[k] = v
        else:
            _convert_one(k, v, t, m, x, 0, rich)
    return m, x


def _convert_into(
    data: Mapping[str, Any],
    prefix: str,
    m: dict[str, float | int | str],
    x: dict[str, str],
    depth: int,
    rich: dict[str, Any] | None = None,
) -> None:
    if not isinstance(data, Mapping):
        raise TypeError(f"trackui.log takes a dict, not {type(data).__name__}")
    if depth > MAX_DEPTH:
        raise _too_deep(prefix.rstrip("/"))
    for k, v in data.items():
        _convert_one(prefix + (k if type(k) is str else str(k)), v, type(v), m, x, depth, rich)


def _convert_one(
    key: str,
    v: Any,
    t: type,
    m: dict[str, float | int | str],
    x: dict[str, str],
    depth: int = 0,
    rich: dict[str, Any] | None = None,
) -> None:
    if t is float:
        m[key] = v if v - v == 0.0 else _nonfinite(v)
    elif t is str:
        x[key] = v
    elif t is dict or isinstance(v, Mapping):
        _convert_into(v, key + "/", m, x, depth + 1, rich)
    elif isinstance(v, str):
        x[key] = str(v)
    else:
        try:
            m[key] = _scalar(key, v)
        except TypeError:
            if rich is None:
                raise
            from trackui.media.encode import as_rich  # only once a value is not a number

            got = as_rich(v)
            if got is None:
                raise
            rich[key] = got


def as_step(step: Any) -> int:
    """A ``log(step=...)`` argument as an int.

    Raises:
        ValueError: not an integer, or beyond 64 bits.
    """
    if type(step) is not int:
        try:
            step = int(step)
        except (OverflowError, ValueError, TypeError):
            raise ValueError(f"trackui.log: step must be an integer, not {step!r}") from None
    if step > _INT64_MAX:
        raise ValueError(f"trackui.log: step {step} is beyond 64 bits; nothing is written")
    return step


def to_float(v: float | int | str) -> float:
    """A stored numeric value back as a float (the non-finite spellings included)."""
    if isinstance(v, str):
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[v]
    return float(v)


def jsonable(obj: Any, key: str = "", _depth: int = 0) -> Any:
    """A config value as JSON can hold it: nested dicts and lists kept, non-finite
    floats spelled as strings, lone surrogates in text replaced (``clean_text``),
    integers of any size kept exact, anything else (paths, enums, objects) as its str().

    Raises:
        ValueError: naming ``key``, for a value nested deeper than ``MAX_DEPTH``
            levels or one that holds itself.
    """
    if obj is None or isinstance(obj, bool):
        return obj
    if isinstance(obj, int):
        # Exact at any size JSON text can carry back (MAX_INT_BITS); beyond, ±inf.
        if obj.bit_length() <= MAX_INT_BITS:
            return int(obj)
        return "inf" if obj > 0 else "-inf"
    if isinstance(obj, str):
        return clean_text(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else _nonfinite(obj)
    if _depth >= MAX_DEPTH and isinstance(obj, (Mapping, list, tuple)):
        raise _too_deep(key)
    if isinstance(obj, Mapping):
        return {
            (k2 := clean_text(str(k))): jsonable(v, f"{key}.{k2}" if key else k2, _depth + 1)
            for k, v in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        return [jsonable(v, f"{key}[{i}]", _depth + 1) for i, v in enumerate(obj)]
    if getattr(obj, "ndim", None) == 0 and hasattr(obj, "item"):
        return jsonable(obj.item(), key, _depth + 1)
    if hasattr(obj, "tolist") and getattr(obj, "ndim", 2) <= 1:
        return jsonable(obj.tolist(), key, _depth + 1)
    try:
        return clean_text(str(obj))
    except RecursionError:
        raise _too_deep(key) from None
    except Exception:  # a __str__ that raises: the type's name stands in
        return f"<{type(obj).__module__}.{type(obj).__qualname__}>"
