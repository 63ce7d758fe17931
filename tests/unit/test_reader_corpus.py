"""The history reader against generated files of valid and damaged lines (Hypothesis).

Each file is built from records made to the format (docs/format.md) and
lines damaged in one way each (a boolean, negative, fractional or textual
step, values of the wrong type, JSON that is not an object, cut lines,
bytes that are not UTF-8), with blank lines between. The reader must return
exactly the valid records, in order, read by a reference written from the
format, and one warning per damaged line; an unterminated tail is left for
later.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trackui.store.reader import parse_record, read_records

NAME = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6)
NUMBER = st.one_of(
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["nan", "inf", "-inf"]),
)
OTHER = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.lists(st.integers(), max_size=2))

valid = st.fixed_dictionaries(
    {"s": st.integers(0, 2**62), "m": st.dictionaries(NAME, NUMBER, max_size=4)},
    optional={
        # A time that is not a number reads as NaN (the record stays).
        "t": st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.integers(0, 2**40),
            st.booleans(),
            st.none(),
            st.text(max_size=3),
        ),  # fmt: skip
        # Text values: the strings count, anything else is left out.
        "x": st.one_of(
            st.dictionaries(NAME, st.one_of(st.text(max_size=5), OTHER), max_size=3), OTHER
        ),  # fmt: skip
        "r": st.dictionaries(
            NAME,
            st.one_of(st.fixed_dictionaries({"_type": st.sampled_from(["image", "table"])}), OTHER),
            max_size=2,
        ),
        "extra": OTHER,
    },
)

BAD_STEPS = [True, False, -1, 1.5, 2.0, "3", None, [1]]
BAD_VALUES = ["NaN", "Infinity", "x", None, [1.0], {"a": 1}]


def damage(rec: dict[str, Any], how: int, which: int) -> bytes:
    """``rec`` damaged in one way (``how``), as a line without its newline."""
    rec = dict(rec)
    if how == 0:
        rec["s"] = BAD_STEPS[which % len(BAD_STEPS)]
    elif how == 1:
        del rec["s"]
    elif how == 2:
        rec["m"] = [None, "m", 3, [], True][which % 5]
    elif how == 3:
        del rec["m"]
    elif how == 4:
        rec["m"] = {**rec["m"], "bad": BAD_VALUES[which % len(BAD_VALUES)]}
    elif how == 5:
        return json.dumps([rec]).encode()  # JSON, not an object
    elif how == 6:
        whole = json.dumps(rec).encode()
        return whole[: max(1, which % len(whole))]  # cut short
    elif how == 7:
        return b'{"s": 1, "m": {}}\xff'  # not UTF-8 after the object
    elif how == 8:
        return json.dumps(rec).encode()[:-1] + b"}}"  # trailing garbage
    return json.dumps(rec).encode()


def expected(rec: dict[str, Any]) -> tuple:
    """What the format says a valid record holds (NaN as the string 'nan' to compare)."""
    t = rec.get("t")
    time = float(t) if isinstance(t, (int, float)) and not isinstance(t, bool) else math.nan
    metrics = {k: float(v) for k, v in rec["m"].items()}  # "nan"/"inf"/"-inf" too
    x = rec.get("x")
    text = {k: v for k, v in x.items() if isinstance(v, str)} if isinstance(x, dict) else {}
    r = rec.get("r") or {}
    rich = {k: v for k, v in r.items() if isinstance(v, dict) and "_type" in v}
    return _key(rec["s"], time, metrics, text, rich)


def _key(step: int, time: float, metrics: dict, text: dict, rich: dict) -> tuple:
    def nan(v: float) -> object:
        return "nan" if math.isnan(v) else v

    return (step, nan(time), {k: nan(v) for k, v in metrics.items()}, text, rich)


def got_key(r) -> tuple:
    return _key(r.step, r.time, r.metrics, r.text, r.rich)


line_spec = st.one_of(
    st.tuples(st.just("ok"), valid, st.just(0), st.just(0)),
    st.tuples(st.just("bad"), valid, st.integers(0, 8), st.integers(0, 1000)),
    st.tuples(st.just("blank"), st.sampled_from([b"", b" ", b"\t  "]), st.just(0), st.just(0)),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(line_spec, max_size=12),
    tail=st.one_of(st.none(), valid),
    crlf=st.booleans(),
)
def test_reader_returns_the_valid_records_and_a_warning_per_damaged_line(
    tmp_path_factory, specs, tail, crlf
) -> None:
    run = tmp_path_factory.mktemp("run")
    data, want, damaged, offsets = b"", [], [], []
    for kind, rec, how, which in specs:
        offsets.append(len(data))
        if kind == "ok":
            line = json.dumps(rec).encode()
            want.append(expected(rec))
        elif kind == "bad":
            line = damage(rec, how, which)
            damaged.append((len(data), len(line) + crlf))  # (where, how long)
        else:
            line = rec
        data += line + (b"\r\n" if crlf else b"\n")
    complete = len(data)
    if tail is not None:  # a record still being written: no newline yet
        data += json.dumps(tail).encode()
    (run / "history.jsonl").write_bytes(data)

    records, off, warnings = read_records(run)
    assert [got_key(r) for r in records] == want
    assert off == complete
    # One warning per damaged line, naming where it starts and its length.
    assert warnings == [
        f"history.jsonl: damaged record at byte {at} ({n} bytes), skipped" for at, n in damaged
    ]
    # Read again from where it stopped: nothing new until the tail's newline.
    assert read_records(run, off) == ([], off, [])
    # From any line's start: the records of that line on.
    for i, start in enumerate(offsets):
        later = sum(1 for kind, *_ in specs[i:] if kind == "ok")
        got, _, _ = read_records(run, start)
        assert [got_key(r) for r in got] == want[len(want) - later :]
    if tail is not None:
        with open(run / "history.jsonl", "ab") as f:
            f.write(b"\n")
        more, off2, warns2 = read_records(run, off)
        assert [got_key(r) for r in more] == [expected(tail)]
        assert (off2, warns2) == (len(data) + 1, [])


@given(rec=valid, how=st.integers(0, 8), which=st.integers(0, 1000))
@settings(max_examples=300, deadline=None)
def test_a_damaged_line_never_parses(rec, how, which) -> None:
    assert parse_record(damage(rec, how, which)) is None


@given(rec=valid)
@settings(max_examples=200, deadline=None)
def test_a_valid_line_parses_as_the_format_says(rec) -> None:
    got = parse_record(json.dumps(rec).encode())
    assert got is not None and got_key(got) == expected(rec)


def test_booleans_are_never_steps(tmp_path: Path) -> None:
    (tmp_path / "history.jsonl").write_bytes(
        b'{"s": true, "m": {"a": 1}}\n{"s": false, "m": {"a": 2}}\n{"s": 1, "m": {"a": 3}}\n'
    )
    records, _, warnings = read_records(tmp_path)
    assert [(r.step, r.metrics) for r in records] == [(1, {"a": 3.0})]
    assert len(warnings) == 2
