"""What the records of a ``.wandb`` log say, in trackui's terms.

Values come as JSON text (``value_json``) as wandb writes it, NaN and the
infinities included (``NaN``, ``Infinity``, ``-Infinity``). A key is either
``key`` or a ``nested_key`` path, flattened with ``/`` as trackui flattens
nested logged dicts. wandb's own keys (``_step``, ``_timestamp``,
``_runtime``, ``_wandb``) are taken apart here, never shown as metrics.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import orjson

_MB = 1024.0 * 1024.0

_SLASHES = re.compile(r"/+")
_GPU = re.compile(r"gpu\.(\d+)\.(.+)")
_GPU_NAMES = {
    "gpu": ("util_percent", 1.0),
    "memory": ("mem_util_percent", 1.0),
    "memoryAllocatedBytes": ("mem_used_mb", 1.0 / _MB),
    "memoryTotal": ("mem_total_mb", 1.0 / _MB),
    "temp": ("temp_c", 1.0),
    "powerWatts": ("power_w", 1.0),
}
"""wandb's per-GPU stats that trackui's sampler also reads: its name and the unit change."""

_STATS_NAMES = {
    "cpu": "system/proc/cpu_percent",
    "proc.memory.rssMB": "system/proc/rss_mb",
    "memory_percent": "system/mem_percent",
}
"""wandb's stats that trackui's sampler also reads (``trackui/system_metrics.py``)."""


SUMMARY_TAG = 0x1A
"""The first byte of a serialized ``Record``'s ``summary`` field (field 3, length-delimited)."""


_SUMMARY_AT_HEAD = re.compile(rb"(?:\x08[\x80-\xff]{0,9}[\x00-\x7f])?\x1a", re.DOTALL)
"""A ``Record`` whose first field after ``num`` (a varint) is ``summary``."""


def record_tag(data: bytes) -> int:
    """The tag byte of a serialized ``Record``'s first field after ``num`` (which kind it is)."""
    i = 0
    if data[:1] == b"\x08":  # num, a varint
        i = 1
        n = len(data)
        while i < n and data[i] & 0x80:
            i += 1
        i += 1
    return data[i] if i < len(data) else 0


def is_summary(data: bytes) -> bool:
    """Whether a serialized ``Record`` is a summary record (``record_tag`` is ``SUMMARY_TAG``)."""
    return _SUMMARY_AT_HEAD.match(data) is not None


def decode(text: str) -> Any:
    """One ``value_json``: numbers as floats (NaN and the infinities too), else JSON."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return json.loads(text)
    except ValueError:
        return text


def decode_all(texts: list[str]) -> list[Any]:
    """Many ``value_json`` texts at once: one parse of them joined as a JSON array.

    The same values as :func:`decode` of each (numbers as floats or ints,
    which :func:`flat_values` keeps as floats); NaN and the infinities, which
    strict JSON lacks, take a slower parse, and a text that is not JSON
    alone falls back to :func:`decode` of each.
    """
    if not texts:
        return []
    joined = "[" + ",".join(texts) + "]"
    try:
        got = orjson.loads(joined)
    except ValueError:
        try:
            got = json.loads(joined)
        except ValueError:
            got = None
    if type(got) is not list or len(got) != len(texts):
        return [decode(t) for t in texts]
    return got


def item_key(item: Any) -> str:
    """An item's key: ``key``, or its ``nested_key`` path joined with ``/``."""
    return item.key or "/".join(item.nested_key)


def flat_values(key: str, value: Any, out: dict[str, Any]) -> None:
    """Put ``value`` under ``key`` in ``out`` as metric values, nested dicts flattened.

    Numbers and strings are kept (booleans as 0 and 1); rich values (a dict
    with wandb's ``_type``: images, tables, histograms) and lists are not.
    """
    if isinstance(value, float):
        out[key] = value
    elif isinstance(value, dict):
        if "_type" in value:
            return
        for k, v in value.items():
            flat_values(f"{key}/{k}", v, out)
    elif isinstance(value, int):  # booleans too
        out[key] = float(value)
    elif isinstance(value, str):
        out[key] = value


def history_row(record: Any) -> tuple[int | None, float | None, dict[str, Any]]:
    """``(step, wall time, metrics)`` of a history record (step None where it has none).

    The record's values are decoded at once (:func:`decode_all`).
    """
    step: int | None = None
    t: Any = None
    keys: list[str] = []
    texts: list[str] = []
    for item in record.item:
        nk = item.nested_key
        key = item.key or (nk[0] if len(nk) == 1 else "/".join(nk))
        if key[:1] == "_":
            if key == "_step":
                step = int(decode(item.value_json))
            elif key == "_timestamp":
                t = decode(item.value_json)
            continue
        keys.append(key)
        texts.append(item.value_json)
    values: dict[str, Any] = {}
    for key, value in zip(keys, decode_all(texts), strict=True):
        if type(value) is float:
            values[key] = value
        else:
            flat_values(key, value, values)
    if step is None and record.HasField("step"):
        step = int(record.step.num)
    return step, t if isinstance(t, float) else None, values


def stats_values(record: Any) -> dict[str, Any]:
    """A stats record's values as ``system/...`` metrics, named as trackui's sampler names them.

    The stats trackui also samples get its names and units; every other one
    is kept as ``system/`` plus wandb's name with ``.`` read as ``/``
    (``disk.vda.in`` is ``system/disk/vda/in``).
    """
    out: dict[str, Any] = {}
    for item in record.item:
        key = item_key(item)
        value = decode(item.value_json)
        if not isinstance(value, float):
            continue
        name = _STATS_NAMES.get(key)
        if name is None:
            m = _GPU.fullmatch(key)
            known = _GPU_NAMES.get(m.group(2)) if m else None
            if m and known:
                name, value = f"system/gpu.{m.group(1)}/{known[0]}", value * known[1]
            else:
                name = _SLASHES.sub("/", "system/" + key.replace(".", "/"))
        out[name] = value
    return out


def one_gpu_names(values: dict[str, Any]) -> dict[str, Any]:
    """``system/gpu.0/...`` as ``system/gpu/...`` (trackui's names where a run has one GPU)."""
    return {
        ("system/gpu/" + k[len("system/gpu.0/") :] if k.startswith("system/gpu.0/") else k): v
        for k, v in values.items()
    }


def apply_summary(record: Any, raw: dict[str, str]) -> None:
    """Apply a summary record to ``raw``: each key's ``value_json`` as written (wandb's own dropped)."""
    for item in record.update:
        nk = item.nested_key
        key = item.key or (nk[0] if len(nk) == 1 else "/".join(nk))
        if key[:1] != "_":
            raw[key] = item.value_json
    for item in record.remove:
        raw.pop(item_key(item), None)


def fold_summaries(records: Iterable[Any], raw: dict[str, str]) -> None:
    """Apply summary records, given last first, to ``raw``: what :func:`apply_summary` of
    each, first first, leaves.

    A key a later record states (or removes) is settled: an earlier record's
    value for it is never looked at. ``records`` may give None for a record
    whose keys a later one states too (:class:`KeyLayouts`).
    """
    settled: dict[str, str | None] = {}
    for record in records:
        if record is None:
            continue
        for item in record.remove:  # (applied after the same record's updates)
            key = item_key(item)
            if key not in settled:
                settled[key] = None
        for item in record.update:
            nk = item.nested_key
            key = item.key or (nk[0] if len(nk) == 1 else "/".join(nk))
            if key not in settled and key[:1] != "_":
                settled[key] = item.value_json
    for key, text in settled.items():
        if text is None:
            raw.pop(key, None)
        else:
            raw[key] = text


class KeyLayouts:
    """The keys of serialized summary records, read without their values.

    :meth:`seen` parses a ``Record``'s bytes with a message type that holds
    only the summary items' keys (built here from the field numbers of
    wandb's ``SummaryRecord`` and ``SummaryItem``): the key layout, in C, with
    no Python object per item. A record whose layout a later record had
    (given last first) changes nothing that one does not.
    """

    def __init__(self) -> None:
        self._cls = _layout_class()
        self._seen: set[bytes] = set()

    def seen(self, data: bytes) -> bool:
        """Whether a record with the same summary keys (updated and removed) came before."""
        m = self._cls()
        try:
            m.ParseFromString(data)
        except Exception:
            return False  # (the full parse says what is wrong)
        m.DiscardUnknownFields()
        layout = m.SerializeToString(deterministic=True)
        if layout in self._seen:
            return True
        self._seen.add(layout)
        return False


_LAYOUT: list[Any] = []


def _layout_class() -> Any:
    """A message class reading a ``Record``'s summary keys alone (fields 3 > 1, 2 > 1, 2)."""
    if _LAYOUT:
        return _LAYOUT[0]
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    pkg = "trackui_wandb_layout"
    fd = descriptor_pb2.FileDescriptorProto(name=f"{pkg}.proto", package=pkg, syntax="proto3")
    string, message, one, many = 9, 11, 1, 3
    item = fd.message_type.add(name="Item")
    item.field.add(name="key", number=1, type=string, label=one)
    item.field.add(name="nested_key", number=2, type=string, label=many)
    summary = fd.message_type.add(name="Summary")
    for name, number in (("update", 1), ("remove", 2)):
        summary.field.add(name=name, number=number, type=message, label=many,
                          type_name=f".{pkg}.Item")  # fmt: skip
    record = fd.message_type.add(name="Record")
    record.field.add(name="summary", number=3, type=message, label=one,
                     type_name=f".{pkg}.Summary")  # fmt: skip
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    _LAYOUT.append(message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{pkg}.Record")))
    return _LAYOUT[0]


def summary_values(raw: dict[str, str]) -> dict[str, Any]:
    """The flat summary of :func:`apply_summary`'s ``raw`` values."""
    out: dict[str, Any] = {}
    for key, text in raw.items():
        flat_values(key, decode(text), out)
    return out


def apply_config(items: Any, removed: Any, config: dict[str, Any]) -> None:
    """Apply config updates and removals to the nested ``config`` (wandb's ``_wandb`` dropped)."""
    for item in items:
        path = [item.key] if item.key else list(item.nested_key)
        if not path or path[0] == "_wandb":
            continue
        try:
            value = json.loads(item.value_json)
        except ValueError:
            value = item.value_json
        node = config
        for part in path[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = node[part] = {}
            node = nxt
        node[path[-1]] = value
    for item in removed:
        path = [item.key] if item.key else list(item.nested_key)
        node = config
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)


def run_meta(record: Any) -> dict[str, Any]:
    """The ``meta.json`` keys a run record states."""
    meta: dict[str, Any] = {"id": record.run_id, "name": record.display_name or record.run_id}
    for key, field in (
        ("project", "project"),
        ("group", "run_group"),
        ("job_type", "job_type"),
        ("notes", "notes"),
        ("host", "host"),
        ("entity", "entity"),
    ):
        value = getattr(record, field)
        if value:
            meta[key] = value
    meta["tags"] = list(record.tags)
    if record.HasField("start_time"):
        meta["start_time"] = record.start_time.seconds + record.start_time.nanos / 1e9
    return meta
