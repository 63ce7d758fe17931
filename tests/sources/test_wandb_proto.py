"""wandb's Record class built from the wandb package's own generated files, without importing wandb."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from trackui.store.sources import wandb_proto

pytest.importorskip("wandb")


def test_the_record_class_needs_no_import_of_wandb() -> None:
    code = (
        "import sys\n"
        "from trackui.store.sources.wandb_proto import record_class\n"
        "R = record_class()\n"
        "assert R.DESCRIPTOR.full_name == 'wandb_internal.Record', R\n"
        "print('wandb' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _fields(d, seen=None) -> dict:
    """Every message type reachable from ``d`` with its fields (name, number, type, repeated)."""
    seen = {} if seen is None else seen
    if d.full_name in seen:
        return seen
    seen[d.full_name] = sorted((f.name, f.number, f.type, f.is_repeated) for f in d.fields)
    for f in d.fields:
        if f.message_type is not None:
            _fields(f.message_type, seen)
    return seen


def test_it_is_wandbs_definition_and_reads_wandbs_bytes_alike() -> None:
    from wandb.proto.wandb_internal_pb2 import HistoryItem, Record

    ours = wandb_proto.record_class()
    assert ours is not Record
    assert _fields(ours.DESCRIPTOR) == _fields(Record.DESCRIPTOR)
    rec = Record(num=7)
    rec.history.item.append(HistoryItem(key="loss", value_json="0.25"))
    rec.history.step.num = 3
    summary = Record(num=8)
    summary.summary.update.add(key="acc", value_json="0.5")
    for r in (rec, summary):
        data = r.SerializeToString()
        back = ours.FromString(data)
        assert back.num == r.num and back.WhichOneof("record_type") == r.WhichOneof("record_type")
        assert back.SerializeToString() == data
    back = ours.FromString(rec.SerializeToString())
    assert back.history.step.num == 3
    assert [(i.key, i.value_json) for i in back.history.item] == [("loss", "0.25")]


def test_a_generated_file_without_a_descriptor_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "x_pb2.py"
    f.write_text("DESCRIPTOR = None\n")
    with pytest.raises(ValueError, match="no serialized descriptor"):
        wandb_proto.serialized_descriptor(f)


def test_files_not_of_that_shape_fall_back_to_wandbs_module(monkeypatch, tmp_path: Path) -> None:
    from wandb.proto.wandb_internal_pb2 import Record

    monkeypatch.setattr(wandb_proto, "proto_dir", lambda: tmp_path)  # (no generated files there)
    assert wandb_proto.record_class() is Record
