"""What trackio's rows say, in trackui's terms: metric values, system metric names, times.

trackio stores each step's values as one JSON object, NaN and the
infinities as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``, nested
dicts nested; its timestamps are ISO 8601 strings.
"""

from __future__ import annotations

import json
import re
import shlex
from datetime import datetime
from typing import Any

_SPECIAL = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
_GPU = re.compile(r"gpu/(\d+)/(.+)")
_SYSTEM_NAMES = {
    "cpu/utilization": ("system/cpu_percent", 1.0),
    "memory/percent": ("system/mem_percent", 1.0),
    "memory/used": ("system/mem_used_mb", 1024.0),
    "disk/read_mb_per_sec": ("system/disk/read_mb_s", 1.0),
    "disk/write_mb_per_sec": ("system/disk/write_mb_s", 1.0),
    "network/recv_mb_per_sec": ("system/net/recv_mb_s", 1.0),
    "network/sent_mb_per_sec": ("system/net/sent_mb_s", 1.0),
}
"""trackio's system metrics that trackui's sampler also reads: its name and the unit change."""
_GPU_NAMES = {
    "utilization": ("util_percent", 1.0),
    "memory_utilization": ("mem_util_percent", 1.0),
    "allocated_memory": ("mem_used_mb", 1024.0),
    "total_memory": ("mem_total_mb", 1024.0),
    "temp": ("temp_c", 1.0),
    "power": ("power_w", 1.0),
}


def split_command(command: str) -> list[str]:
    """trackio's command line as a list, as trackui's ``meta.json`` keeps it."""
    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


class Stamps:
    """ISO timestamps as Unix seconds (trackio gives a batch of rows one timestamp)."""

    def __init__(self) -> None:
        self.text: str | None = None
        self.value: float | None = None

    def __call__(self, text: str) -> float | None:
        if text != self.text:
            self.text, self.value = text, unix_time(text)
        return self.value


def unix_time(text: Any) -> float | None:
    """An ISO 8601 time as Unix seconds (None where it is not one)."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def json_object(text: str) -> dict[str, Any]:
    """``text`` as a JSON object; ``{}`` where it is not one."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def only_numbers(text: str, objects: int) -> bool:
    """Whether a JSON array of ``objects`` flat objects holds only numbers (no strings, no nesting).

    trackio writes compact JSON: a string value is ``:"``, a nested object a
    ``{`` more than one per row, a list a ``[`` more than the array's;
    booleans and null are spelled out. Anything else is read row by row.
    """
    return (
        text.count("{") == objects
        and text.count("[") == 1
        and ':"' not in text
        and "true" not in text
        and "false" not in text
        and "null" not in text
    )


def metric_values(logged: Any) -> dict[str, Any]:
    """A ``metrics`` object as flat values: nested dicts flattened with ``/``, trackio's NaN read."""
    if not isinstance(logged, dict):
        return {}
    out: dict[str, Any] = {}
    _flatten("", logged, out)
    return out


def _flatten(prefix: str, d: dict[str, Any], out: dict[str, Any]) -> None:
    for k, v in d.items():
        key = prefix + k
        if isinstance(v, bool):
            out[key] = float(v)
        elif isinstance(v, (int, float)):
            out[key] = v
        elif isinstance(v, str):
            out[key] = _SPECIAL.get(v, v)
        elif isinstance(v, dict) and "_type" not in v:
            _flatten(key + "/", v, out)


def system_values(logged: dict[str, Any]) -> dict[str, Any]:
    """trackio's system metrics as ``system/...``, named as trackui's sampler names them."""
    out: dict[str, Any] = {}
    flat: dict[str, Any] = {}
    _flatten("", logged, flat)
    for key, value in flat.items():
        if not isinstance(value, (int, float)):
            continue
        known = _SYSTEM_NAMES.get(key)
        m = _GPU.fullmatch(key) if known is None else None
        if m and m.group(2) in _GPU_NAMES:
            gname, scale = _GPU_NAMES[m.group(2)]
            known = (f"system/gpu.{m.group(1)}/{gname}", scale)
        name, scale = known or ("system/" + key, 1.0)
        out[name] = value * scale
    return out
