"""The reader's run-level parts on real directories: listing, meta, summary, bounds.

Each expectation comes from docs/format.md (a run directory's name, the
non-finite spellings, the line bound), not from the reader's output.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from trackui.store import layout
from trackui.store.models import Record
from trackui.store.reader import (
    MAX_LINE_BYTES,
    list_run_dirs,
    merge_steps,
    read_records,
    read_run,
)


def test_run_dirs_are_the_run_shaped_names_in_order(tmp_path: Path) -> None:
    for name in ("run-20231114_221320-b2", "run-20231114_221319-a1", "notes", "run-x"):
        (tmp_path / name).mkdir()
    (tmp_path / "run-20231114_221321-file").write_text("")  # a file, not a run
    assert list_run_dirs(tmp_path) == [
        tmp_path / "run-20231114_221319-a1",
        tmp_path / "run-20231114_221320-b2",
    ]
    assert list_run_dirs(tmp_path / "missing") == []


def test_a_run_without_an_id_in_its_meta_takes_its_directory_name(tmp_path: Path) -> None:
    d = tmp_path / "run-20231114_221320-abc123"
    d.mkdir()
    (d / layout.META).write_text(json.dumps({"format": 1, "name": "n", "state": "finished"}))
    (d / layout.SUMMARY).write_text(json.dumps({"loss": "nan", "acc": "inf", "lo": "-inf",
                                                 "note": "nan!", "n": 3}))  # fmt: skip
    (d / layout.CONFIG).write_text(json.dumps({"lr": 0.1}))
    info = read_run(d)
    assert info is not None
    assert info.id == "abc123" and info.meta["id"] == "abc123"
    s = info.summary
    assert math.isnan(s["loss"]) and s["acc"] == math.inf and s["lo"] == -math.inf
    assert s["note"] == "nan!" and s["n"] == 3
    assert info.config == {"lr": 0.1}
    assert info.meta["tags"] == [] and info.warnings == ()


def test_a_history_that_cannot_be_read_is_one_warning(tmp_path: Path) -> None:
    (tmp_path / layout.HISTORY).mkdir()  # a directory where the file should be
    records, off, warnings = read_records(tmp_path)
    assert (records, off) == ([], 0)
    assert warnings == [f"{layout.HISTORY}: unreadable (Is a directory)"]


def _line(step: int, size: int) -> bytes:
    """A valid record line of exactly ``size`` bytes (without its newline)."""
    head = json.dumps({"s": step, "m": {"a": 1.0}, "x": {"pad": ""}}).encode()
    assert len(head) <= size
    return head[:-3] + b"z" * (size - len(head)) + b'"}}'


def test_a_line_of_exactly_the_bound_is_read(tmp_path: Path) -> None:
    line = _line(0, MAX_LINE_BYTES)
    assert len(line) == MAX_LINE_BYTES
    (tmp_path / layout.HISTORY).write_bytes(line + b"\n" + _line(1, 60) + b"\n")
    records, off, warnings = read_records(tmp_path)
    assert [r.step for r in records] == [0, 1] and warnings == []
    assert off == MAX_LINE_BYTES + 1 + 61


def test_a_long_line_ending_on_a_chunk_boundary_skips_only_itself(tmp_path: Path) -> None:
    # 17 MiB: over the bound, its newline the first byte of a 1 MiB chunk.
    long = b"x" * (17 << 20)
    (tmp_path / layout.HISTORY).write_bytes(long + b"\n" + _line(5, 60) + b"\n")
    records, off, warnings = read_records(tmp_path)
    assert [r.step for r in records] == [5]
    assert len(warnings) == 1 and f"a line of {len(long):,} bytes at byte 0" in warnings[0]
    assert off == len(long) + 1 + 61


def test_merge_steps_lets_a_later_value_win() -> None:
    recs = [
        Record(0, 1.0, {"a": 1.0}),
        Record(1, 2.0, {"a": 2.0, "b": 5.0}),
        Record(1, 3.0, {"a": 3.0}),
    ]
    assert merge_steps(recs) == {0: {"a": 1.0}, 1: {"a": 3.0, "b": 5.0}}
    assert merge_steps([]) == {}


def test_integers_beyond_64_bits_are_read_exactly(tmp_path: Path) -> None:
    # Config and summary integers are kept exact (trackui.values.MAX_INT_BITS).
    d = tmp_path / "run-20231114_221320-big"
    d.mkdir()
    (d / layout.META).write_text(json.dumps({"format": 1, "id": "big"}))
    (d / layout.CONFIG).write_text(json.dumps({"seed": 2**70 + 1, "neg": -(10**30) - 7}))
    (d / layout.SUMMARY).write_text(json.dumps({"count": 2**64}))
    info = read_run(d)
    assert info is not None
    assert info.config == {"seed": 2**70 + 1, "neg": -(10**30) - 7}
    assert info.summary == {"count": 2**64}
