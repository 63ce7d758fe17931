"""One module makes run data safe for a terminal and formats values (trackui.store.text)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from trackui.store import text

HOSTILE = "a\x1b[31mb\x1b]0;t\x07c\td\x9b2Je\u202ef\n"


def test_strip_removes_whole_escape_sequences_and_controls() -> None:
    assert text.strip(HOSTILE) == "abc de\u202ef"
    assert text.strip("x\ty\n\x1b[1mz", keep_newlines=True) == "x    y\nz"


def test_escape_shows_every_non_printable_and_cuts() -> None:
    out = text.escape(HOSTILE)
    assert out == "a\\x1b[31mb\\x1b]0;t\\x07c d\\x9b2Je\\u202ef\\x0a"
    assert out.isprintable()
    assert text.escape("\x1b[31m", mark="?") == text.marked("\x1b[31m") == "?[31m"
    assert text.escape("abcdef", 4) == "abc…"
    assert text.escape(3.5) == "3.5"


def test_quoted_is_one_bounded_escaped_line() -> None:
    assert text.quoted("a\x1b[2J") == "'a\\x1b[2J'"
    long = text.quoted("x" * 200)
    assert len(long) == 82 and long.endswith("...'")


def test_escape_c1_for_json() -> None:
    assert text.escape_c1('"\x9b2J\x7f"') == '"\\u009b2J\\u007f"'


@pytest.mark.parametrize(
    ("v", "ui", "cli"),
    [
        (None, "", "-"),
        (True, "true", "true"),
        (2**70, str(2**70), str(2**70)),
        (3.0, "3", "3"),
        (33121.5, "3.312e+04", "33121.5"),
        (1234567.5, "1.235e+06", "1234568"),
        (0.000123456789, "0.0001235", "0.000123457"),
        (float("inf"), "inf", "inf"),
        (-float("inf"), "-inf", "-inf"),
        (float("nan"), "nan", "nan"),
        (1e308, "1e+308", "1e+308"),
        (-1e308, "-1e+308", "-1e+308"),
        ([1, None], "[1, ]", "[1,null]"),
        ({"k": float("inf"), "b": 2**70}, "{k: inf, b: " + str(2**70) + "}", None),
    ],
)
def test_one_value_formatter_two_presets(v: object, ui: str, cli: str | None) -> None:
    assert text.fmt_value(v) == ui
    got = text.fmt_value(v, missing="-", digits=6, fixed=True, json=True)
    if cli is not None:
        assert got == cli
    else:
        assert "inf" in got and str(2**70) in got


def test_durations_times_sizes_deltas() -> None:
    assert text.fmt_duration(42) == "42s"
    assert text.fmt_duration(185) == "3m05s"
    assert text.fmt_duration(8040) == "2h14m"
    assert text.fmt_duration(3 * 86400 + 4 * 3600) == "3d04h"
    for bad in (None, math.inf, math.nan, -1):
        assert text.fmt_duration(bad) == "-"
    assert text.fmt_age(100.0, 160.0) == "1m00s"
    assert text.fmt_age(math.inf, 0) == "-"
    for bad in (None, math.inf, -math.inf, math.nan, 1e308):
        assert text.fmt_time(bad) == "-"
    assert len(text.fmt_time(0.0)) == 19 and len(text.fmt_time(0.0, seconds=False)) == 16
    assert text.fmt_size(912) == "912 B" and text.fmt_size(4300) == "4.2 KB"
    assert text.fmt_delta(0.5) == "+0.5" and text.fmt_delta(-2.0) == "-2"
    assert text.fmt_delta(0) == text.fmt_delta(None) == text.fmt_delta(math.nan) == ""
    assert text.fmt_delta(33121.5, fixed=True) == "+33122"


def test_the_module_is_light() -> None:
    code = (
        "import sys, trackui.store.text\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'rich', 'duckdb', 'numpy', 'pyarrow')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_shorten_middle_keeps_both_ends() -> None:
    from trackui.store.text import shorten_middle

    a = shorten_middle("grid-lr=0.003,batch_size=128", 22)
    b = shorten_middle("grid-lr=0.003,batch_size=64", 22)
    assert len(a) == 22 and a.startswith("grid-lr=0.0") and a.endswith("size=128") and "…" in a
    assert a != b
    assert shorten_middle("short", 22) == "short"
    assert shorten_middle("abcdefgh", 4) == "abc…"
