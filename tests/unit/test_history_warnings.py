"""Damaged-record warnings of a run's history: the first few kept, the rest counted.

On every path (bulk, exact, live appends), in the index's row and in
``ls --json``; counted from the lines written, not from the product.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trackui.cli import main
from trackui.store import loading as loading_mod
from trackui.store.index import Index
from trackui.store.ingest import MAX_WARNINGS


def good(step: int) -> bytes:
    return json.dumps({"s": step, "t": 1.0, "m": {"a": float(step)}}).encode() + b"\n"


def history_lines(warnings: list[str]) -> list[str]:
    return [w for w in warnings if w.startswith("history.jsonl:")]


def expect(damaged: int) -> tuple[int, str | None]:
    """How many per-line warnings are shown, and the line that counts the rest."""
    shown = min(damaged, MAX_WARNINGS)
    rest = damaged - shown
    return shown, (f"history.jsonl: {rest} more damaged records skipped" if rest else None)


@pytest.mark.parametrize("bulk", [True, False])
@pytest.mark.parametrize("damaged", [0, 1, MAX_WARNINGS, MAX_WARNINGS + 1, MAX_WARNINGS + 7])
def test_warnings_kept_and_counted(capsys, root: Path, write_run, monkeypatch, bulk, damaged):
    monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1 if bulk else 1 << 60)
    lines = [good(s) for s in range(40)]
    for i in range(damaged):
        lines.insert(2 * i + 1, b'{"s": true, "m": {}}\n')
    write_run(root, "w", history=b"".join(lines))
    shown, rest = expect(damaged)
    with Index(root, cache=False) as ix:
        ix.refresh()
        row = ix.run("w")
        got = history_lines(list(row.warnings))
        assert row.steps == 40
    assert len([w for w in got if "damaged record at byte" in w]) == shown
    assert (got[-1] if rest else None) == (rest if rest else None)
    assert len(got) == shown + (1 if rest else 0)
    assert main(["ls", str(root), "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert history_lines(listed["warnings"]) == got


def test_live_appends_add_to_the_count(root: Path, write_run) -> None:
    write_run(root, "live", history=good(0), state="running")
    hist = next(root.glob("run-*-live")) / "history.jsonl"
    damaged = step = 0
    with Index(root, cache=False) as ix:
        ix.refresh()
        for batch in (3, MAX_WARNINGS, 5):
            with open(hist, "ab") as f:
                for _ in range(batch):
                    step += 1
                    f.write(b"[1, 2]\n" + good(step))
            damaged += batch
            ix.refresh()
            got = history_lines(list(ix.run("live").warnings))
            shown, rest = expect(damaged)
            assert len(got) == shown + (1 if rest else 0), batch
            if rest:
                assert got[-1] == rest
        with Index(root, cache=False) as fresh:
            fresh.refresh()
            assert history_lines(list(fresh.run("live").warnings)) == got


@pytest.mark.parametrize("bulk", [True, False])
@pytest.mark.parametrize("step", ["true", "false", "2.0", "6e0", '"3"', "null", "-1", "[1]"])
def test_a_step_that_is_not_a_json_integer_is_a_damaged_record(
    root: Path, write_run, monkeypatch, bulk: bool, step: str
) -> None:
    # DuckDB would cast true, 2.0 or "3" to a number: the bulk path must not.
    monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1 if bulk else 1 << 60)
    bad = b'{"s": %s, "t": 1.0, "m": {"a": 99.0}}\n' % step.encode()
    write_run(root, "d", history=good(0) + bad + good(10) + good(11))
    with Index(root, cache=False) as ix:
        ix.refresh()
        row = ix.run("d")
        assert ix.points("d", "a")[0].tolist() == [0, 10, 11]
        assert (row.steps, row.last_step) == (3, 11)
        (warning,) = history_lines(list(row.warnings))
        assert warning.startswith("history.jsonl: damaged record at byte ")
