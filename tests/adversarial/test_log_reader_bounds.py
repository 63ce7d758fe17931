"""The reader is bounded in time and memory whatever a run's files hold, and says
what it skipped: ``trackui ls --json`` lists the run with a warning naming the file."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import pytest

import trackui
from trackui.cli import main as cli_main
from trackui.store import layout, reader


def _run(root: Path) -> Path:
    run = trackui.init(dir=root, config={"lr": 0.1})
    for i in range(3):
        run.log({"loss": float(i)})
    run.finish()
    assert run.run_dir is not None
    return run.run_dir


def _ls_json(capsys: pytest.CaptureFixture[str], root: Path) -> list[dict[str, object]]:
    capsys.readouterr()
    assert cli_main(["ls", str(root), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_an_unterminated_giant_line_is_skipped_in_bounded_memory(root: Path) -> None:
    run_dir = _run(root)
    with open(run_dir / layout.HISTORY, "ab") as f:
        f.write(b'{"s": 9, "m": {"x": "' + b"y" * (64 << 20))  # 64 MiB, no newline
    tracemalloc.start()
    t0 = time.perf_counter()
    records, offset, warnings = reader.read_records(run_dir)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [r.step for r in records] == [0, 1, 2]
    assert len(warnings) == 1 and "over 16,777,216, skipped" in warnings[0]
    assert offset == (run_dir / layout.HISTORY).stat().st_size
    assert peak < 80 << 20, peak
    assert elapsed < 10
    # What a writer appends after it is read (the writer starts with a newline).
    with open(run_dir / layout.HISTORY, "ab") as f:
        f.write(b'\n{"s": 10, "t": 1.0, "m": {"x": 1.0}}\n')
    more, _, warnings = reader.read_records(run_dir, offset)
    assert [r.step for r in more] == [10] and warnings == []


def test_a_giant_terminated_line_between_records_is_skipped(root: Path) -> None:
    run_dir = _run(root)
    with open(run_dir / layout.HISTORY, "ab") as f:
        f.write(b'{"s": 5, "m": {"x": "' + b"y" * (20 << 20) + b'"}}\n')
        f.write(b'{"s": 6, "t": 1.0, "m": {"x": 6.0}}\n')
    records, _, warnings = reader.read_records(run_dir)
    assert [r.step for r in records] == [0, 1, 2, 6]
    assert len(warnings) == 1 and "skipped" in warnings[0]
    assert reader.last_step(run_dir) == 6


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "config.json: too large (209,715,200 bytes"),  # 200 MB, hand-edited
        (b"[" * 200_000 + b"]" * 200_000, "config.json: damaged"),  # nested deeper than JSON
        (b'{"a": ' + b'{"b": ' * 5000 + b"1" + b"}" * 5001, "config.json: damaged"),
        (b'{"a": 12345678901234567890123' + b"[" * 5000, "config.json: damaged"),
    ],
)
def test_oversized_or_deep_small_files_are_listed_with_a_warning(
    root: Path, content: bytes | None, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = _run(root)
    path = run_dir / layout.CONFIG
    if content is None:
        with open(path, "r+b") as f:
            f.truncate(200 * 1024 * 1024)  # sparse: costs no disk
    else:
        path.write_bytes(content)
    t0 = time.perf_counter()
    info = reader.read_run(run_dir)
    assert time.perf_counter() - t0 < 5
    assert info is not None and info.config == {}
    assert any(needle in w for w in info.warnings), info.warnings
    (row,) = _ls_json(capsys, root)
    assert row["steps"] == 3
    assert any("config.json" in w for w in row["warnings"]), row["warnings"]  # type: ignore[union-attr]
