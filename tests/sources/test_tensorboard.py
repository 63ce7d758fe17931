"""TensorBoard event files written by torch.utils.tensorboard and tensorboardX, read through the index."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from trackui.store.index import Index

STEPS = [0, 1, 2, 5, 3, 4, 4]
"""Logged in this order: 5 before 3 and 4, and 4 twice (the second value wins)."""


def _values(i: int, s: int) -> dict[str, float]:
    return {
        "train/loss": 1.0 / (s + 1) + i * 1e-3,
        "acc": math.nan if s == 2 else s / 10 + i,
        "big": math.inf if s == 1 else float(s),
    }


def _expected(h) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {}
    for i, s in enumerate(STEPS):
        for k, v in _values(i, s).items():
            out.setdefault(k, {})[s] = h.f32(v)
    return out


def _write(writer_cls, folder: Path) -> None:
    w = writer_cls(str(folder))
    for i, s in enumerate(STEPS):
        for k, v in _values(i, s).items():
            w.add_scalar(k, v, s)
    w.close()


def _one(ix: Index, source: str = "tensorboard"):
    rows = ix.runs(f"source:{source}")
    assert len(rows) == 1, [r.name for r in rows]
    return rows[0]


@pytest.mark.parametrize("lib", ["torch", "tensorboardX"])
def test_scalars_read_back_value_for_value(root: Path, h, lib: str) -> None:
    if lib == "torch":
        from torch.utils.tensorboard import SummaryWriter
    else:
        from tensorboardX import SummaryWriter
    _write(SummaryWriter, root / "logs" / "exp1")
    before = h.listing(root / "logs")
    with Index(root) as ix:
        ix.refresh()
        row = _one(ix)
        assert row.name == "logs/exp1"
        assert row.meta["source"] == "tensorboard"
        assert row.meta["source_path"] == str(root / "logs" / "exp1")
        assert row.state in ("running", "finished")  # never crashed
        for metric, want in _expected(h).items():
            assert h.same(h.read_back(ix, row.id, metric), want), metric
        assert row.start_time is not None
    assert h.listing(root / "logs") == before  # nothing written in the foreign folders


def test_hparams_become_config_and_state_is_not_crashed(root: Path) -> None:
    from torch.utils.tensorboard import SummaryWriter

    w = SummaryWriter(str(root / "hp"))
    w.add_hparams({"lr": 0.01, "opt": "adam", "deep": True}, {"hparam/acc": 0.9}, run_name="trial")
    w.close()
    with Index(root, now=lambda: 4e9) as ix:  # (long after: its files are quiet)
        ix.refresh()
        # (the writer's own folder holds an event file without scalars: a run too)
        (row,) = [r for r in ix.runs("source:tensorboard") if r.name == "hp/trial"]
        assert row.config == {"lr": 0.01, "opt": "adam", "deep": True}
        assert row.state == "finished"
        assert ix.runs("source:tensorboard state:crashed") == []


def test_tf2_tensor_scalars(root: Path, h) -> None:
    """A tensor-encoded scalar (the ``scalars`` plugin's form, as tf.summary writes it)."""
    import numpy as np
    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    folder = root / "tf2"
    w = EventFileWriter(str(folder))
    for s in range(4):
        meta = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
        )
        if s == 0:
            t = tensor_pb2.TensorProto(
                dtype=1, float_val=[0.5], tensor_shape=tensor_shape_pb2.TensorShapeProto()
            )
        else:
            t = tensor_pb2.TensorProto(dtype=2, tensor_content=np.array([s * 1.5]).tobytes(),
                                       tensor_shape=tensor_shape_pb2.TensorShapeProto())  # fmt: skip
        v = summary_pb2.Summary.Value(tag="epoch_loss", tensor=t, metadata=meta if s == 0 else None)
        w.add_event(
            event_pb2.Event(step=s, wall_time=1e9 + s, summary=summary_pb2.Summary(value=[v]))
        )
    w.close()
    with Index(root) as ix:
        ix.refresh()
        row = _one(ix)
        assert h.read_back(ix, row.id, "epoch_loss") == {0: 0.5, 1: 1.5, 2: 3.0, 3: 4.5}
        step, t, _v = ix.points(row.id, "epoch_loss")
        assert t.tolist() == [1e9, 1e9 + 1, 1e9 + 2, 1e9 + 3]  # wall times as logged


def _event_file(folder: Path) -> Path:
    (f,) = sorted(folder.glob("events.out.tfevents.*"))
    return f


def test_damaged_record_skipped_with_a_warning(root: Path, tmp_path: Path, h) -> None:
    from torch.utils.tensorboard import SummaryWriter

    src = tmp_path / "src"
    w = SummaryWriter(str(src))
    for s in range(10):
        w.add_scalar("loss", float(s), s)
    w.close()
    data = bytearray(_event_file(src).read_bytes())
    # Records: 12-byte header, data, 4-byte CRC; flip a byte inside the 5th record's data.
    pos, n = 0, 0
    while n < 5:
        length = int.from_bytes(data[pos : pos + 8], "little")
        pos += 12 + length + 4
        n += 1
    data[pos + 12 + 3] ^= 0xFF
    (root / "bad").mkdir()
    (root / "bad" / _event_file(src).name).write_bytes(bytes(data))
    with Index(root) as ix:
        ix.refresh()
        row = _one(ix)
        got = h.read_back(ix, row.id, "loss")
        assert len(got) == 9 and all(got[s] == s for s in got)  # one record lost, the rest read
        assert any("CRC" in w for w in row.warnings)


def test_torn_tail_is_read_once_it_completes(root: Path, tmp_path: Path, h) -> None:
    from torch.utils.tensorboard import SummaryWriter

    src = tmp_path / "src"
    w = SummaryWriter(str(src))
    for s in range(6):
        w.add_scalar("loss", float(s), s)
    w.close()
    whole = _event_file(src).read_bytes()
    (root / "torn").mkdir()
    dest = root / "torn" / _event_file(src).name
    dest.write_bytes(whole[:-7])  # the last record cut short: being written
    with Index(root) as ix:
        ix.refresh()
        row = _one(ix)
        assert sorted(h.read_back(ix, row.id, "loss")) == [0, 1, 2, 3, 4]
        assert not any("CRC" in w or "damaged" in w for w in row.warnings)
        with open(dest, "ab") as f:
            f.write(whole[-7:])
        ix.refresh([dest])
        assert sorted(h.read_back(ix, row.id, "loss")) == [0, 1, 2, 3, 4, 5]


def test_a_restart_continues_from_the_cursor_and_a_replaced_file_is_read_again(
    root: Path, tmp_path: Path, h
) -> None:
    from torch.utils.tensorboard import SummaryWriter

    folder = root / "run"
    w = SummaryWriter(str(folder))
    for s in range(3):
        w.add_scalar("loss", float(s), s)
    w.flush()
    with Index(root) as ix:
        ix.refresh()
        rid = _one(ix).id
        mirror = _one(ix).path
    for s in range(3, 5):
        w.add_scalar("loss", float(s), s)
    w.close()
    lines_before = (mirror / "history.jsonl").read_bytes().count(b"\n")
    with Index(root) as ix:
        ix.refresh()
        assert sorted(h.read_back(ix, rid, "loss")) == [0, 1, 2, 3, 4]
    # Continued from the cursor: the first three records were not appended again.
    assert (mirror / "history.jsonl").read_bytes().count(b"\n") == lines_before + 2
    # The event file replaced by a shorter one: the run is read again from the start.
    shutil.rmtree(folder)
    w = SummaryWriter(str(folder))
    w.add_scalar("loss", 7.0, 0)
    w.close()
    with Index(root) as ix:
        ix.refresh()
        assert h.read_back(ix, rid, "loss") == {0: 7.0}


def test_without_the_tensorboard_package_runs_are_listed_with_a_warning(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from tensorboardX import SummaryWriter

    w = SummaryWriter(str(root / "tb"))
    w.add_scalar("loss", 1.0, 0)
    w.close()
    for name in ("tensorboard.compat.proto.event_pb2", "tensorboardX.proto.event_pb2"):
        monkeypatch.setitem(sys.modules, name, None)  # (an import of it fails)
        monkeypatch.delattr(name, raising=False)
    with Index(root) as ix:
        ix.refresh()
        row = _one(ix)
        assert any("pip install 'trackui[tensorboard]'" in w for w in row.warnings)


def test_a_damaged_length_is_skipped_to_the_next_valid_record(
    root: Path, tmp_path: Path, h
) -> None:
    from torch.utils.tensorboard import SummaryWriter

    src = tmp_path / "src"
    w = SummaryWriter(str(src))
    for s in range(10):
        w.add_scalar("loss", float(s), s)
    w.close()
    data = bytearray(_event_file(src).read_bytes())
    pos, n = 0, 0
    while n < 4:
        length = int.from_bytes(data[pos : pos + 8], "little")
        pos += 12 + length + 4
        n += 1
    data[pos] ^= 0x01  # the 5th record's length: its header fails its CRC
    (root / "bad").mkdir()
    (root / "bad" / _event_file(src).name).write_bytes(bytes(data))
    with Index(root) as ix:
        ix.refresh()
        row = _one(ix)
        got = h.read_back(ix, row.id, "loss")
        assert sorted(got) == [0, 1, 2, 4, 5, 6, 7, 8, 9]  # the damaged record lost, the rest read
        assert any("damaged bytes" in w for w in row.warnings)


def test_tensorflow_s_own_writer(root: Path, h) -> None:
    tf = pytest.importorskip(
        "tensorflow",
        reason="TensorFlow is not installed here (its tensor scalars are tested above)",
    )
    w = tf.summary.create_file_writer(str(root / "tf"))
    with w.as_default():
        for s in (0, 2, 1):
            tf.summary.scalar("loss", 1.0 / (s + 1), step=s)
    w.close()
    with Index(root) as ix:
        ix.refresh()
        row = _one(ix)
        assert h.read_back(ix, row.id, "loss") == {s: h.f32(1.0 / (s + 1)) for s in (0, 1, 2)}


def test_a_step_below_the_last_one_read_later_reads_back_as_logged(root: Path, h) -> None:
    from torch.utils.tensorboard import SummaryWriter

    w = SummaryWriter(str(root / "again"), flush_secs=3600)
    for s in range(6):
        w.add_scalar("loss", float(s), s)
    w.flush()
    with Index(root) as ix:
        ix.refresh()
        row = _one(ix)
        assert h.read_back(ix, row.id, "loss") == {s: float(s) for s in range(6)}
        w.add_scalar("loss", 20.0, 2)  # (a restart from a checkpoint: step 2 again)
        w.add_scalar("loss", 30.0, 3)
        w.add_scalar("loss", 60.0, 6)
        w.flush()
        ix.refresh([root / "again"])
        want = {0: 0.0, 1: 1.0, 2: 20.0, 3: 30.0, 4: 4.0, 5: 5.0, 6: 60.0}
        assert h.read_back(ix, row.id, "loss") == want
        # The mirror's history stays valid for the format: steps never go down.
        steps = [int(ln.split(b'"s":')[1].split(b",")[0]) for ln in
                 (row.path / "history.jsonl").read_bytes().splitlines()]  # fmt: skip
        assert steps == sorted(steps)
    w.close()


def test_rows_appended_after_the_last_saved_cursor_are_not_kept_twice(root: Path, h) -> None:
    from torch.utils.tensorboard import SummaryWriter

    w = SummaryWriter(str(root / "run"), flush_secs=3600)
    for s in range(3):
        w.add_scalar("loss", float(s), s)
    w.flush()
    with Index(root) as ix:
        ix.refresh()
        mirror = _one(ix).path
    # A viewer stopped between appending to the mirror and saving its cursor:
    # the next read starts from the saved cursor again.
    hist = mirror / "history.jsonl"
    hist.write_bytes(hist.read_bytes() + b'{"s":3,"t":1.0,"m":{"loss":99.0}}\n')
    w.add_scalar("loss", 3.0, 3)
    w.close()
    with Index(root) as ix:
        ix.refresh()
        assert h.read_back(ix, _one(ix).id, "loss") == {0: 0.0, 1: 1.0, 2: 2.0, 3: 3.0}
    assert hist.read_bytes().count(b"\n") == 4
