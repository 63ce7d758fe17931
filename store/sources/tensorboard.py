"""TensorBoard event files (``events.out.tfevents.*``) as runs: one run per folder that holds them.

Several event files in one folder are one run, read in name order, each
from the byte offset the last read stopped at (``store.sources.tfrecord``
frames the records and checks their CRCs). Records are decoded with the
protobuf classes published in the ``tensorboard`` package (or
``tensorboardX``'s), imported only when an event file is read. Read:
scalars from ``simple_value`` and TF2's tensor-encoded scalars (a 0-d
numeric tensor, or any tensor of a tag whose first summary named the
``scalars`` plugin), the hparams plugin's session-start values as config,
wall times and steps as logged. Not read: images, histograms, audio, text,
graphs, embeddings (see ``docs/sources.md``).
"""

from __future__ import annotations

import os
from typing import Any

from trackui.store.sources.base import TENSORBOARD, Batch, ForeignRun, SourceUnavailable
from trackui.store.sources.tfrecord import read_records
from trackui.store.sources.walk import walk_root

EVENTS_PREFIX = "events.out.tfevents."
INSTALL_HINT = "pip install 'trackui[tensorboard]'"

# TensorFlow's DataType numbers for the numeric scalars a tensor summary may hold.
_DTYPES = {1: "<f4", 2: "<f8", 3: "<i4", 9: "<i8", 19: "<f2", 4: "<u1", 5: "<i2", 6: "<i1"}


def _event_class() -> Any:
    try:
        from tensorboard.compat.proto import event_pb2
    except ImportError:
        try:
            from tensorboardX.proto import event_pb2  # type: ignore[no-redef]
        except ImportError:
            raise SourceUnavailable(
                f"TensorBoard event files not read: {INSTALL_HINT} to read them"
            ) from None
    return event_pb2.Event


def _hparams(content: bytes) -> dict[str, Any] | None:
    """The hparams plugin's session-start values, or None when ``content`` holds none."""
    try:
        from tensorboard.plugins.hparams import plugin_data_pb2
    except ImportError:
        return None
    data = plugin_data_pb2.HParamsPluginData.FromString(content)
    if not data.HasField("session_start_info"):
        return None
    out: dict[str, Any] = {}
    for k, v in data.session_start_info.hparams.items():
        kind = v.WhichOneof("kind")
        if kind == "number_value":
            out[k] = v.number_value
        elif kind == "string_value":
            out[k] = v.string_value
        elif kind == "bool_value":
            out[k] = v.bool_value
    return out


def _tensor_scalar(t: Any) -> float | None:
    """The value of a 0-d (or one-element) numeric tensor, else None."""
    if len(t.tensor_shape.dim) > 1 or (t.tensor_shape.dim and t.tensor_shape.dim[0].size != 1):
        return None
    for field in ("float_val", "double_val", "half_val", "int_val", "int64_val"):
        vals = getattr(t, field)
        if len(vals) == 1:
            if field == "half_val":
                import numpy as np

                return float(np.array([vals[0]], np.uint16).view(np.float16)[0])
            return float(vals[0])
    if t.tensor_content and t.dtype in _DTYPES:
        import numpy as np

        arr = np.frombuffer(t.tensor_content, dtype=_DTYPES[t.dtype])
        if arr.size == 1:
            return float(arr[0])
    return None


class TensorBoardSource:
    """Event files under a root: one run per folder that holds them."""

    name = TENSORBOARD

    def find(self, root: Any) -> list[ForeignRun]:
        out = []
        for folder in walk_root(root):
            if any(f.startswith(EVENTS_PREFIX) for f in folder.files):
                out.append(ForeignRun(TENSORBOARD, folder.rel or ".", folder.path))
        return out

    def read(self, run: ForeignRun, cursor: dict[str, Any]) -> tuple[Batch, dict[str, Any]]:
        event_cls = _event_class()
        offsets: dict[str, int] = dict(cursor.get("offsets", {}))
        scalar_tags: set[str] = set(cursor.get("scalar_tags", []))
        batch = Batch()
        try:
            names = sorted(n for n in os.listdir(run.path) if n.startswith(EVENTS_PREFIX))
        except OSError as e:
            batch.warnings.append(f"{run.key}: cannot be listed ({e.strerror or e})")
            return batch, cursor
        config: dict[str, Any] | None = None
        first_wall = cursor.get("start")
        rows = batch.rows
        for name in names:
            path = os.path.join(run.path, name)
            records, offsets[name], warns = read_records(path, offsets.get(name, 0))
            batch.warnings.extend(w.replace(str(run.path) + os.sep, "") for w in warns)
            parse = event_cls.FromString
            cur_step: int | None = None
            cur: dict[str, Any] = {}
            for data in records:
                try:
                    ev = parse(data)
                except Exception:
                    batch.warnings.append(f"{name}: a record is not an event; skipped")
                    continue
                if first_wall is None and ev.wall_time:
                    first_wall = ev.wall_time
                if not ev.HasField("summary"):
                    continue
                step = ev.step
                for v in ev.summary.value:
                    kind = v.WhichOneof("value")
                    plugin = v.metadata.plugin_data.plugin_name if v.HasField("metadata") else ""
                    if plugin == "hparams":
                        hp = _hparams(v.metadata.plugin_data.content)
                        if hp is not None:
                            config = {**(config or cursor.get("config") or {}), **hp}
                        continue
                    if plugin == "scalars":
                        scalar_tags.add(v.tag)
                    if kind == "simple_value":
                        val: float | None = v.simple_value
                    elif kind == "tensor" and (plugin in ("scalars", "") or v.tag in scalar_tags):
                        val = _tensor_scalar(v.tensor)
                    else:
                        continue
                    if val is None:
                        continue
                    if cur_step != step or v.tag in cur:
                        cur = {}
                        cur_step = step
                        rows.append((step, ev.wall_time, cur))
                    cur[v.tag] = val
        if config is not None:
            batch.config = config
        if cursor.get("start") is None and first_wall is not None:
            batch.meta = {"start_time": first_wall}
        if run.key == ".":
            batch.meta = {**(batch.meta or {}), "name": os.path.basename(os.path.abspath(run.path))}
        new = {"offsets": offsets, "scalar_tags": sorted(scalar_tags), "start": first_wall}
        if config is not None:
            new["config"] = config
        elif "config" in cursor:
            new["config"] = cursor["config"]
        return batch, new
