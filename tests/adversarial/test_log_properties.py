"""Property-based tests of the logging value path (Hypothesis).

Whatever a script logs, drawn from floats with NaN, ±inf, subnormals and
±1e308, integers far beyond 64 bits, any Unicode with lone surrogates and
control characters, and nested dicts, goes ``log()``/config -> files ->
``store/reader.py`` and reads back equal, under the documented replacements
(lone surrogates as U+FFFD, integers beyond 64 bits as the nearest float in
metrics, non-finite config floats as "nan"/"inf"/"-inf"). And whatever
damage a run's files take (truncation, garbage, NUL runs, giant lines), the
reader returns in bounded time with warnings, never an exception.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import trackui  # noqa: E402
from trackui.store import layout, reader  # noqa: E402
from trackui.values import clean_text  # noqa: E402

VALUE_EXAMPLES = 300
CONFIG_EXAMPLES = 200
DAMAGE_EXAMPLES = 300

SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same cases every run: a failure is reproducible
    database=None,
)

names = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
"""Any code points: lone surrogates, controls, NUL, private use, astral."""
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
    st.sampled_from([1e308, -1e308, 1.7976931348623157e308, 5e-324, -0.0]),
)
ints = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**300), max_value=2**300),
    st.integers(min_value=-(2**1100), max_value=2**1100),  # beyond the largest float
)
scalars = st.one_of(floats, ints, st.booleans(), names)
logged = st.recursive(
    st.dictionaries(names, scalars, max_size=6),
    lambda inner: st.dictionaries(names, st.one_of(scalars, inner), max_size=4),
    max_leaves=20,
)
config_values = st.recursive(
    st.one_of(st.none(), floats, ints, st.booleans(), names),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=4)),
    max_leaves=20,
)


def _expected_log(data: dict[str, Any]) -> tuple[dict[str, float], dict[str, str]]:
    """What the reader gives back for ``data``, by the documented rules."""
    m: dict[str, float] = {}
    x: dict[str, str] = {}

    def walk(d: dict[str, Any], prefix: str) -> None:
        for k, v in d.items():
            key = prefix + k
            if isinstance(v, dict):
                walk(v, key + "/")
            elif isinstance(v, str):
                x[key] = v
            elif isinstance(v, bool):
                m[key] = float(v)
            elif isinstance(v, int):
                try:
                    m[key] = float(v)  # the nearest float
                except OverflowError:
                    m[key] = math.inf if v > 0 else -math.inf
            else:
                m[key] = v

    walk(data, "")
    flat = [*m, *x, *(v for v in x.values())]
    if any(clean_text(s) != s for s in flat):  # a record with a surrogate is cleaned whole
        m = {clean_text(k): v for k, v in m.items()}
        x = {clean_text(k): clean_text(v) for k, v in x.items()}
    return m, x


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_logged_values_read_back_as_documented(root: Path) -> None:
    run = trackui.init(dir=root)
    assert run.run_dir is not None
    state = {"offset": 0, "cases": 0}

    @settings(SETTINGS, max_examples=VALUE_EXAMPLES)
    @given(logged)
    def check(data: dict[str, Any]) -> None:
        run.log(data)
        state["cases"] += 1
        records, state["offset"], warnings = reader.read_records(run.run_dir, state["offset"])
        assert warnings == []
        (rec,) = records
        want_m, want_x = _expected_log(data)
        assert set(rec.metrics) == set(want_m)
        for k, v in want_m.items():
            assert _same(rec.metrics[k], v), (k, rec.metrics[k], v)
        assert rec.text == want_x

    check()
    run.finish()
    assert state["cases"] >= VALUE_EXAMPLES // 2
    print(f"\nlogged-value cases: {state['cases']}")


def _expected_config(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return v if math.isfinite(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, str):
        return clean_text(v)
    if isinstance(v, list):
        return [_expected_config(x) for x in v]
    return {clean_text(k): _expected_config(x) for k, x in v.items()}


@pytest.mark.slow  # about 10 s: one run per case
def test_config_values_read_back_as_documented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no git work tree to probe: quicker runs
    cases = 0

    @settings(SETTINGS, max_examples=CONFIG_EXAMPLES)
    @given(st.dictionaries(names, config_values, max_size=5))
    def check(config: dict[str, Any]) -> None:
        nonlocal cases
        cases += 1
        run = trackui.init(dir=tmp_path / "runs", config=config)
        run.finish()
        assert run.run_dir is not None
        info = reader.read_run(run.run_dir)
        assert info is not None and info.warnings == ()
        assert info.config == _expected_config(config)

    check()
    print(f"\nconfig cases: {cases}")


def _healthy_run(root: Path) -> Path:
    run = trackui.init(dir=root, config={"lr": 0.1, "big": 2**70}, name="n\udcffame")
    for i in range(20):
        run.log({"loss": 1.0 / (i + 1), "t": f"text {i}", "inf": math.inf})
    run.summary["best"] = 1.0
    run.finish()
    assert run.run_dir is not None
    return run.run_dir


FILES = (layout.META, layout.CONFIG, layout.SUMMARY, layout.HISTORY)
damage = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("garbage"), st.floats(0, 1), st.binary(min_size=1, max_size=200)),
    st.tuples(st.just("nul"), st.floats(0, 1), st.integers(1, 5000)),
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 255)),
    st.tuples(st.just("long"), st.floats(0, 1), st.integers(1, 1 << 20)),
)


def _damage(data: bytes, how: tuple[Any, ...]) -> bytes:
    at = int(how[1] * len(data))
    if how[0] == "truncate":
        return data[:at]
    if how[0] == "garbage":
        return data[:at] + how[2] + data[at:]
    if how[0] == "nul":
        return data[:at] + b"\0" * how[2] + data[at:]
    if how[0] == "flip":
        if not data:
            return data
        at = min(at, len(data) - 1)
        return data[:at] + bytes([data[at] ^ (how[2] or 1)]) + data[at + 1 :]
    return data[:at] + b"[" * how[2] + data[at:]  # a long line of nesting, unterminated


def _read_all(run_dir: Path) -> None:
    t0 = time.perf_counter()
    info = reader.read_run(run_dir)
    records, offset, warnings = reader.read_records(run_dir)
    assert all(isinstance(w, str) for w in warnings)
    if info is not None:
        assert isinstance(info.config, dict) and isinstance(info.summary, dict)
    assert 0 <= offset <= (run_dir / layout.HISTORY).stat().st_size
    assert time.perf_counter() - t0 < 5


def test_damaged_files_are_read_in_bounded_time(tmp_path: Path) -> None:
    run_dir = _healthy_run(tmp_path / "runs")
    pristine = {name: (run_dir / name).read_bytes() for name in FILES}
    cases = 0

    @settings(SETTINGS, max_examples=DAMAGE_EXAMPLES)
    @given(st.sampled_from(FILES), st.lists(damage, min_size=1, max_size=3))
    def check(name: str, hows: list[tuple[Any, ...]]) -> None:
        nonlocal cases
        cases += 1
        data = pristine[name]
        for how in hows:
            data = _damage(data, how)
        (run_dir / name).write_bytes(data)
        try:
            _read_all(run_dir)
        finally:
            (run_dir / name).write_bytes(pristine[name])

    check()
    print(f"\nfault cases: {cases}")


@pytest.mark.slow
@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("size", [(16 << 20) + 1, 40 << 20])
def test_giant_lines_in_each_file_are_read_in_bounded_time(
    tmp_path: Path, name: str, size: int
) -> None:
    run_dir = _healthy_run(tmp_path / "runs")
    with open(run_dir / name, "ab") as f:
        f.write(b"x" * size)
    _read_all(run_dir)
    with open(run_dir / name, "ab") as f:
        f.write(b"\n" + b"\0" * size + b"\n")
    _read_all(run_dir)
    os.truncate(run_dir / name, 0)
    _read_all(run_dir)


SUMMARY_EXAMPLES = 300


def test_summaries_and_sparklines_take_any_floats() -> None:
    from trackui import console
    from trackui.run_config import Summary
    from trackui.values import convert

    cases = 0

    @settings(SETTINGS, max_examples=SUMMARY_EXAMPLES)
    @given(st.lists(floats, min_size=1, max_size=60), st.integers(1, 40))
    def check(values: list[float], width: int) -> None:
        nonlocal cases
        cases += 1
        line = console.sparkline(values, width=width)
        assert len(line) == min(len(values), width)
        summary = Summary(on_change=lambda: None)
        for agg in ("min", "max", "mean"):
            summary.define(agg, agg)
        for v in values:
            m, _ = convert({"min": v, "max": v, "mean": v, "last": v})
            summary.observe(m)
        got = summary.as_dict()
        finite = [v for v in values if math.isfinite(v)]
        if finite:
            assert got["min"] == min(finite) and got["max"] == max(finite)
            lo, hi, mean = min(finite), max(finite), got["mean"]
            assert math.isfinite(mean)  # never an overflowed sum
            assert lo - abs(lo) * 1e-12 <= mean <= hi + abs(hi) * 1e-12
        for v in got.values():
            console._fmt(v)
        summary.to_json()

    check()
    print(f"\nsummary and sparkline cases: {cases}")
