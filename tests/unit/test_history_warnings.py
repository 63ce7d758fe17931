"""Damaged-record warnings of a run's history: the first few kept, the rest counted.

On every path (bulk, exact, live appends), in the index's row and in
``ls --json``; counted from the lines written, not from the product.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
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


# docs/format.md: a value in "m" is a JSON number, a boolean (0/1) or one of
# the strings "nan", "inf", "-inf"; any other value damages its record.
DAMAGING_VALUES = ['"5"', '"NaN"', '"Infinity"', '"-Infinity"', '"INF"', '"1e3"', "null", "[1]"]
VALID_VALUES = {"true": 1.0, "false": 0.0, '"nan"': math.nan, '"inf"': math.inf, "-2.5e3": -2500.0}


def reference_points(lines: list[bytes]) -> tuple[list[int], list[float]]:
    """Steps and values of ``a`` by the format's rule, one record at a time."""
    steps, values = [], []
    for line in lines:
        obj = json.loads(line)
        v = obj["m"].get("a")
        if isinstance(v, str):
            v = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(v, "damaged")
        if v == "damaged" or not isinstance(v, (int, float)):
            continue
        steps.append(obj["s"])
        values.append(float(v))
    return steps, values


@pytest.mark.parametrize("value", DAMAGING_VALUES + list(VALID_VALUES))
def test_a_metric_value_reads_the_same_on_the_bulk_and_the_exact_path(
    tmp_path: Path, write_run, monkeypatch, value: str
) -> None:
    # The bulk path's DuckDB casts "5" to 5.0 and "NaN" to NaN: it must agree
    # with the exact path (and the format) on the same file.
    line = b'{"s": 5, "t": 1.0, "m": {"a": %s, "b": 1.0}, "x": {"note": "a \\"q\\""}}\n'
    lines = [good(s) for s in range(5)] + [line % value.encode()] + [good(s) for s in range(6, 9)]
    want_steps, want_values = reference_points(lines)
    damaged = value in DAMAGING_VALUES
    got = []
    for bulk in (True, False):
        root = tmp_path / ("bulk" if bulk else "exact")
        root.mkdir()
        monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1 if bulk else 1 << 60)
        write_run(root, "v", history=b"".join(lines))
        with Index(root, cache=False) as ix:
            ix.refresh()
            row = ix.run("v")
            steps, _, values = (a.tolist() for a in ix.points("v", "a"))
            assert steps == want_steps
            np.testing.assert_array_equal(values, want_values)
            assert len(history_lines(list(row.warnings))) == (1 if damaged else 0)
            assert row.steps == (8 if damaged else 9)
            got.append((steps, row.steps, list(row.warnings)))
    assert got[0] == got[1]


def test_text_values_that_spell_a_non_finite_value_keep_the_bulk_path_right(
    root: Path, write_run, monkeypatch
) -> None:
    # "nan" as a text value, beside a metric "NaN": the spellings in the file
    # do not match the non-finite values read, and the exact path decides.
    monkeypatch.setattr(loading_mod, "BULK_MIN_BYTES", 1)
    lines = [good(0), b'{"s": 1, "t": 1.0, "m": {"a": "NaN"}, "x": {"mode": "nan"}}\n', good(2)]
    write_run(root, "t", history=b"".join(lines))
    with Index(root, cache=False) as ix:
        ix.refresh()
        assert ix.points("t", "a")[0].tolist() == [0, 2]
        assert ix.run("t").steps == 2


def test_live_appends_one_at_a_time_fill_every_place(root: Path, write_run) -> None:
    # The last place of the kept warnings filled by a refresh that brings one.
    write_run(root, "one", history=good(0), state="running")
    hist = next(root.glob("run-*-one")) / "history.jsonl"
    damaged = step = 0
    with Index(root, cache=False) as ix:
        ix.refresh()
        for batch in (MAX_WARNINGS - 1, 1, 1):
            with open(hist, "ab") as f:
                for _ in range(batch):
                    step += 1
                    f.write(b"[1, 2]\n" + good(step))
            damaged += batch
            ix.refresh()
            got = history_lines(list(ix.run("one").warnings))
            shown, rest = expect(damaged)
            assert len([w for w in got if "damaged record at byte" in w]) == shown, batch
            assert (got[-1] if rest else None) == rest
