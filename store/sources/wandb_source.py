"""wandb's run folders (``wandb/run-*``, ``wandb/offline-run-*``), read from their ``.wandb`` log.

:class:`WandbSource` finds the folders under a root and reads each run's
``run-<id>.wandb`` (framing in :mod:`.wandb_log`, records in
:mod:`.wandb_records`) from a byte offset: the run record (name, project,
group, job type, notes, tags, host, start time), the config, history, summary,
system stats and the exit record, and the console text of ``files/output.log``.
The record classes are the ones published in the wandb package, loaded only
when a log is read (:mod:`.wandb_proto`); without wandb a read raises :class:`SourceUnavailable`.

The cursor is JSON: the byte offset of the next record (always a record
boundary), the offset in ``output.log``, the last step read (system stats take
it as their step, as trackui's own sampler does), the file's size at the last
read, and the config, meta and summary (each key's JSON text) known so far: a batch
states them whole.
"""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path
from typing import Any

from trackui.store.sources import wandb_log
from trackui.store.sources import wandb_records as rec
from trackui.store.sources.base import WANDB, Batch, ForeignRun, SourceUnavailable
from trackui.store.sources.walk import walk_root
from trackui.store.sources.wandb_proto import record_class

LIVE_WINDOW_S = 120.0
"""A log without an exit record, written to this recently, is ``running``; older, ``crashed``."""

READ_BYTES = 8 * 1024 * 1024
"""Bytes read at once (whole blocks; a longer record is read whole)."""

DESCRIBE_BYTES = 64 * 1024
"""Bytes ``describe`` reads from the start of a log (the run record is among the first)."""

MAX_OUTPUT_BYTES = 4 * 1024 * 1024
"""Console text read at once from ``output.log`` (the rest at the next read)."""

_RUN_PREFIXES = ("run-", "offline-run-")
_INSTALL = "reading wandb runs needs the wandb package: pip install 'trackui[wandb]'"


def _record_class() -> Any:
    try:
        return record_class()
    except ImportError as e:
        raise SourceUnavailable(_INSTALL) from e


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` is named as a wandb run folder and sits in a ``wandb`` folder."""
    return path.name.startswith(_RUN_PREFIXES) and path.parent.name == "wandb"


def log_file(folder: Path) -> Path | None:
    """The run's ``run-<id>.wandb`` in ``folder`` (None when it has none yet)."""
    try:
        names = sorted(
            n for n in os.listdir(folder) if n.startswith("run-") and n.endswith(".wandb")
        )
    except OSError:
        return None
    return folder / names[0] if names else None


class WandbSource:
    """Finds and reads wandb run folders."""

    name = WANDB

    def find(self, root: Path) -> list[ForeignRun]:
        """The run folders holding a ``.wandb`` log under ``root`` (the root's shared walk)."""
        root = Path(root)
        found: list[ForeignRun] = []
        if is_run_folder(root.resolve()):
            self._add(root, root, found)
            return found
        for folder in walk_root(root):
            if folder.path.name == "wandb" or (folder.rel == "" and root.resolve().name == "wandb"):
                for d in folder.dirs:
                    if d.startswith(_RUN_PREFIXES):
                        self._add(folder.path / d, root, found)
        found.sort(key=lambda r: r.key)
        return found

    @staticmethod
    def _add(folder: Path, root: Path, found: list[ForeignRun]) -> None:
        if log_file(folder) is None:
            return
        rel = folder.relative_to(root).as_posix() if folder != root else "."
        found.append(ForeignRun(WANDB, rel, folder, folder.name.rsplit("-", 1)[-1]))

    def describe(self, run: ForeignRun) -> dict[str, Any]:
        """The run record's ``meta.json`` keys, from the log's first blocks alone (wandb
        writes it first); ``{}`` where it is not there."""
        record_class = _record_class()
        path = log_file(run.path)
        if path is None:
            return {}
        with open(path, "rb") as f:
            head = f.read(DESCRIBE_BYTES)
        wandb_log.check_header(head)
        for _at, data in wandb_log.scan(head, 0, wandb_log.HEADER_LEN).records:
            if rec.record_tag(data) == rec.SUMMARY_TAG:
                continue
            r = record_class()
            r.ParseFromString(data)
            if r.WhichOneof("record_type") == "run":
                return rec.run_meta(r.run)
        return {}

    def read(self, run: ForeignRun, cursor: dict[str, Any]) -> tuple[Batch, dict[str, Any]]:
        """What the run's log and ``output.log`` hold after ``cursor``, and the next cursor.

        ``cursor`` is not changed; a read that fails part way returns it as
        the next cursor, with the warning alone.
        """
        record_class = _record_class()
        cur = copy.deepcopy({**_START, **cursor})
        batch = Batch()
        path = log_file(run.path)
        if path is None:
            return batch, cur
        state = _Reading(cur, batch)
        try:
            size = os.path.getsize(path)
            mtime = os.path.getmtime(path)
            with open(path, "rb") as f:
                if cur["offset"] <= wandb_log.HEADER_LEN:
                    wandb_log.check_header(f.read(wandb_log.HEADER_LEN))
                while cur["offset"] < size:
                    scan = _scan_from(f, cur["offset"], size)
                    for at, problem in scan.damaged:
                        resume = (at // wandb_log.BLOCK + 1) * wandb_log.BLOCK
                        batch.warnings.append(
                            f"{path}: damaged record at byte {at} ({problem}),"
                            f" skipped to the next block at byte {resume}"
                        )
                    summary_at_head = rec.is_summary
                    summaries = state.summaries
                    history = state.history
                    for at, data in scan.records:
                        if summary_at_head(data):
                            summaries.append((at, data))  # (folded at the end)
                            continue
                        r = record_class()
                        try:
                            r.ParseFromString(data)
                        except Exception:
                            batch.warnings.append(f"{path}: unreadable record at byte {at} skipped")
                            continue
                        if r.WhichOneof("record_type") == "history":
                            history(r.history)
                        else:
                            state.apply(r)
                    if scan.next_offset <= cur["offset"]:
                        break  # an incomplete record: the rest waits for the writer
                    cur["offset"] = scan.next_offset
        except wandb_log.NotAWandbLog as e:
            batch.warnings.append(f"{path}: {e}, skipped")
            cur["offset"] = size
        except OSError as e:
            return Batch(warnings=[f"{path}: unreadable ({e.strerror or e})"]), dict(cursor)
        state.fold_summaries(record_class, path)
        meta = state.meta
        meta["state"] = self._state(meta, cur, size, mtime)
        cur["size"] = size
        batch.output, cur["out"] = _output(run.path / "files" / "output.log", cur, meta["state"])
        if meta != cur["meta"]:
            cur["meta"] = meta
            batch.meta = copy.deepcopy(meta)
        if state.config_changed:
            batch.config = copy.deepcopy(cur["config"])
        if state.summary != cur["summary"]:
            cur["summary"] = state.summary
            batch.summary = rec.summary_values(state.summary)
        return batch, cur

    @staticmethod
    def _state(meta: dict[str, Any], cur: dict[str, Any], size: int, mtime: float) -> str:
        if cur["exited"]:
            return "finished" if meta.get("exit_code", 0) == 0 else "failed"
        growing = 0 <= cur["size"] < size
        return "running" if growing or time.time() - mtime < LIVE_WINDOW_S else "crashed"


_START: dict[str, Any] = {
    "offset": wandb_log.HEADER_LEN,
    "out": 0,
    "step": 0,
    "size": -1,
    "exited": False,
    "gpus": 0,
    "meta": {},
    "config": {},
    "summary": {},
}
"""The cursor of a run not read yet."""


class _Reading:
    """One read's records applied: rows into the batch, the rest into the cursor's state."""

    def __init__(self, cur: dict[str, Any], batch: Batch) -> None:
        self.cur, self.batch = cur, batch
        self.meta: dict[str, Any] = dict(cur["meta"])
        self.summary: dict[str, str] = dict(cur["summary"])
        self.config_changed = False
        self.summaries: list[tuple[int, bytes]] = []
        """Summary records read, ``(offset, bytes)``: parsed last first by ``fold_summaries``."""

    def fold_summaries(self, record_class: Any, path: Path) -> None:
        """Apply the summary records read (a key's latest value wins; see ``rec.fold_summaries``)."""
        if not self.summaries:
            return
        warnings = self.batch.warnings

        layouts = rec.KeyLayouts()

        def parsed() -> Any:
            for at, data in reversed(self.summaries):
                if layouts.seen(data):
                    continue  # (a later record states the same keys)
                r = record_class()
                try:
                    r.ParseFromString(data)
                except Exception:
                    warnings.append(f"{path}: unreadable record at byte {at} skipped")
                    continue
                yield r.summary

        rec.fold_summaries(parsed(), self.summary)
        self.summaries = []

    def history(self, h: Any) -> None:
        """A history record: a row at its step (the last step read where it states none)."""
        step, t, values = rec.history_row(h)
        cur = self.cur
        if step is not None:
            cur["step"] = step
        self.batch.rows.append((cur["step"], t, values))

    def apply(self, r: Any) -> None:
        cur, kind = self.cur, r.WhichOneof("record_type")
        if kind == "history":
            self.history(r.history)
        elif kind == "stats":
            values = rec.stats_values(r.stats)
            if cur["gpus"] == 1:
                values = rec.one_gpu_names(values)
            ts = r.stats.timestamp
            t = ts.seconds + ts.nanos / 1e9 if r.stats.HasField("timestamp") else None
            if values:
                self.batch.rows.append((cur["step"], t, values))
        elif kind == "summary":  # (a record read whole: see ``fold_summaries``)
            rec.apply_summary(r.summary, self.summary)
        elif kind == "config":
            rec.apply_config(r.config.update, r.config.remove, cur["config"])
            self.config_changed = True
        elif kind == "run":
            stated = rec.run_meta(r.run)
            if not stated["tags"] and "tags" in self.meta:
                del stated["tags"]  # an update that names no tags keeps them
            self.meta.update(stated)
            rec.apply_config(r.run.config.update, r.run.config.remove, cur["config"])
            self.config_changed = True
        elif kind == "environment":
            if r.environment.gpu_count:
                cur["gpus"] = int(r.environment.gpu_count)
        elif kind == "exit":
            cur["exited"] = True
            self.meta["exit_code"] = int(r.exit.exit_code)


def _scan_from(f: Any, offset: int, size: int) -> wandb_log.Scan:
    """Scan from ``offset``, reading more at once where one record is longer than a read."""
    want = READ_BYTES
    while True:
        f.seek(offset)
        buf = f.read(min(size - offset, want))
        scan = wandb_log.scan(buf, offset, offset)
        if scan.next_offset > offset or scan.damaged or offset + len(buf) >= size:
            return scan
        want *= 2


def _output(path: Path, cur: dict[str, Any], state: str) -> tuple[str, int]:
    """Console lines completed in ``output.log`` since ``cur["out"]`` (all of it once ended)."""
    start = cur["out"]
    try:
        with open(path, "rb") as f:
            f.seek(start)
            data = f.read(MAX_OUTPUT_BYTES)
    except OSError:
        return "", start
    if state == "running" or len(data) == MAX_OUTPUT_BYTES:
        cut = data.rfind(b"\n") + 1
        data = data[:cut]
    return data.decode("utf-8", "replace"), start + len(data)
