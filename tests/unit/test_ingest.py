"""The bulk path's sampling of a history file (``store.ingest_sampling.bulk_sample``) on real files."""

from __future__ import annotations

import json
from pathlib import Path

from trackui.store import ingest_sampling as ingest
from trackui.store.ingest_sampling import bulk_sample


def _write(path: Path, lines: list[bytes]) -> int:
    data = b"".join(line + b"\n" for line in lines)
    path.write_bytes(data)
    return len(data)


def _rec(step: int, m: dict, x: dict | None = None) -> bytes:
    rec = {"s": step, "t": float(step), "m": m}
    if x is not None:
        rec["x"] = x
    return json.dumps(rec).encode()


def test_names_in_order_of_appearance_and_text_values(tmp_path: Path) -> None:
    lines = [_rec(s, {"loss": 1.0, "acc": 0.5}) for s in range(50)]
    lines[20] = _rec(20, {"loss": 1.0, "lr": 0.1}, {"phase": "warm"})
    size = _write(tmp_path / "h.jsonl", lines)
    assert bulk_sample(tmp_path / "h.jsonl", size) == (("loss", "acc", "lr"), True)


def test_blank_and_damaged_lines_do_not_hide_the_others(tmp_path: Path) -> None:
    # A chunk that is not one JSON array once its lines are joined is read a
    # line at a time: the good lines around a bad one still count.
    lines = [_rec(0, {"a": 1.0}), b"", b'{"s": 1, "m": {"b": ', _rec(2, {"c": 2.0}), b"[1, 2]"]
    size = _write(tmp_path / "h.jsonl", lines)
    assert bulk_sample(tmp_path / "h.jsonl", size) == (("a", "c"), False)


def test_slices_of_a_long_file_find_names_the_ends_lack(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(ingest, "SAMPLE_BYTES", 4096)
    # "val" only in the middle tenth of the file: one of the slices falls there.
    lines = [
        _rec(s, {"loss": 1.0} | ({"val": 1.0} if 1400 <= s < 1600 else {})) for s in range(3000)
    ]
    size = _write(tmp_path / "h.jsonl", lines)
    assert bulk_sample(tmp_path / "h.jsonl", size) == (("loss", "val"), False)
    # Not read whole: a name on one line that no slice covers is missed (the
    # check after loading sends such a file the exact way).
    lines = [_rec(s, {"loss": 1.0} | ({"rare": 2.0} if s == 1500 else {})) for s in range(3000)]
    size = _write(tmp_path / "h.jsonl", lines)
    assert bulk_sample(tmp_path / "h.jsonl", size) == (("loss",), False)


def test_files_the_bulk_path_must_not_take(tmp_path: Path) -> None:
    torn = tmp_path / "torn.jsonl"
    torn.write_bytes(_rec(0, {"a": 1.0}) + b"\n" + b'{"s": 1, "m"')
    assert bulk_sample(torn, torn.stat().st_size) is None
    glob = tmp_path / "a[1].jsonl"
    size = _write(glob, [_rec(0, {"a": 1.0})])
    assert bulk_sample(glob, size) is None
    none = tmp_path / "none.jsonl"
    size = _write(none, [b"[1]", b'{"s": 0, "t": 0.0}'])
    assert bulk_sample(none, size) is None
    assert bulk_sample(tmp_path / "missing.jsonl", 100) is None


def test_marks_and_spellings_counted_as_bytes_count_them(tmp_path: Path) -> None:
    # Spellings and marks placed across every read's boundary (256 KiB slices,
    # 4 MiB chunks), counted against bytes.count over the whole file.
    size = (1 << 22) * 2 + 12345
    data = bytearray(b"." * size)
    words = [b'"nan"', b'"inf"', b'"-inf"', b":", b'"']
    placed = 0
    for boundary in range(1 << 18, size - 8, 1 << 18):
        for back in range(1, 6):
            w = words[(boundary // (1 << 18) + back) % len(words)]
            at = boundary - back
            if all(c == ord(".") for c in data[at - 1 : at + len(w) + 1]):
                data[at : at + len(w)] = w
                placed += 1
    data[-6:] = b'"-inf"'  # one at the very end
    path = tmp_path / "h.jsonl"
    path.write_bytes(bytes(data))
    want_spellings = sum(bytes(data).count(w) for w in words[:3])
    assert placed > 50 and want_spellings > 10
    assert ingest.count_spellings(path, size) == want_spellings
    assert ingest.count_marks(path, size) == (data.count(b":"), data.count(b'"'))
    # the first bytes only
    part = (1 << 22) + 3
    assert ingest.count_spellings(path, part) == sum(bytes(data[:part]).count(w) for w in words[:3])
    assert ingest.count_marks(path, part) == (data[:part].count(b":"), data[:part].count(b'"'))
    assert ingest.count_marks(tmp_path / "missing", 10) is None
    assert ingest.count_spellings(tmp_path / "missing", 10) is None
