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
from trackui.store.sources.tb_scalars import decode
from trackui.store.sources.tfrecord import read_chunks
from trackui.store.sources.walk import walk_root

EVENTS_PREFIX = "events.out.tfevents."
INSTALL_HINT = "pip install 'trackui[tensorboard]'"
QUIET_S = 60.0
"""An event file records no run's end (a writer closed cleanly leaves nothing to tell): a run
is ``running`` until its files are this long quiet, then ``finished`` (writers flush what
they queued every 120 s at most by default, and whenever ten events are queued)."""

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
        import numpy as np

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
            chunks, offsets[name], warns = read_chunks(path, offsets.get(name, 0))
            batch.warnings.extend(w.replace(str(run.path) + os.sep, "") for w in warns)
            parse = event_cls.FromString
            cur_step: int | None = None
            cur: dict[str, Any] = {}
            for chunk in chunks:
                buf = chunk.buf
                fast = decode(np.frombuffer(buf, dtype=np.uint8), chunk.at, chunk.length)
                tags: dict[bytes, str] = {}
                for i, (d, n) in enumerate(
                    zip(chunk.at.tolist(), chunk.length.tolist(), strict=True)
                ):
                    if fast.fast[i]:
                        # A plain scalar event (``store.sources.tb_scalars``).
                        ta = fast.tag_at[i]
                        tb = buf[ta : ta + fast.tag_len[i]]
                        tag = tags.get(tb)
                        if tag is None:
                            tag = tags[tb] = tb.decode("utf-8", "replace")
                        step, wall = fast.step[i], fast.wall[i]
                        if first_wall is None and wall:
                            first_wall = wall
                        if cur_step != step or tag in cur:
                            cur = {}
                            cur_step = step
                            rows.append((step, wall, cur))
                        cur[tag] = fast.value[i]
                        continue
                    try:
                        ev = parse(buf[d : d + n])
                    except Exception:
                        batch.warnings.append(f"{name}: a record is not an event; skipped")
                        continue
                    if first_wall is None and ev.wall_time:
                        first_wall = ev.wall_time
                    values = ev.summary.value
                    if not values:
                        continue
                    step = ev.step
                    for v in values:
                        if v.HasField("simple_value"):
                            val: float | None = v.simple_value
                        else:
                            plugin = v.metadata.plugin_data.plugin_name
                            if plugin == "hparams":
                                hp = _hparams(v.metadata.plugin_data.content)
                                if hp is not None:
                                    config = {**(config or cursor.get("config") or {}), **hp}
                                continue
                            if plugin == "scalars":
                                scalar_tags.add(v.tag)
                            if not v.HasField("tensor") or (
                                plugin not in ("scalars", "") and v.tag not in scalar_tags
                            ):
                                continue
                            val = _tensor_scalar(v.tensor)
                            if val is None:
                                continue
                        tag = v.tag
                        if cur_step != step or tag in cur:
                            cur = {}
                            cur_step = step
                            rows.append((step, ev.wall_time, cur))
                        cur[tag] = val
        if config is not None:
            batch.config = config
        if not cursor:
            batch.meta = {"source_quiet_s": QUIET_S}
        if cursor.get("start") is None and first_wall is not None:
            batch.meta = {**(batch.meta or {}), "start_time": first_wall}
        if run.key == ".":
            batch.meta = {**(batch.meta or {}), "name": os.path.basename(os.path.abspath(run.path))}
        new = {"offsets": offsets, "scalar_tags": sorted(scalar_tags), "start": first_wall}
        if config is not None:
            new["config"] = config
        elif "config" in cursor:
            new["config"] = cursor["config"]
        return batch, new
