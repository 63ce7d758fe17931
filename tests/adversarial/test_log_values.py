"""What a script logs can never crash it: extreme numbers, huge integers, text
that is not valid Unicode, cycles and deep nesting, oversized records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import trackui
from trackui import console
from trackui.api import MAX_RECORD_BYTES
from trackui.store import layout, reader
from trackui.values import MAX_DEPTH, REPLACEMENT


def _finish_loudly(run: trackui.Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKUI_SILENT", "0")  # the sparkline and summary print run
    run.finish()


@pytest.mark.parametrize(
    "values",
    [
        [float("inf")] * 40,
        [float("-inf"), float("nan")] * 20,
        [-1e308, 1e308] * 20,
        [1e308, -1e308, 0.0, 5e-324, -5e-324],
        [1.7976931348623157e308] * 3 + [-1.7976931348623157e308] * 30,
    ],
)
def test_finish_prints_any_numbers(
    root: Path,
    values: list[float],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = trackui.init(dir=root)
    run.define_metric("m", summary="mean")
    run.define_metric("lo", summary="min")
    for v in values:
        run.log({"x": v, "m": v, "lo": v, "big": 2**70})
    _finish_loudly(run, monkeypatch)
    err = capsys.readouterr().err
    assert "run history:" in err and "run summary:" in err
    info = reader.read_run(run.run_dir)
    assert info is not None and info.state == "finished"


def test_sparkline_spans_the_whole_float_range() -> None:
    line = console.sparkline([-1e308, 1e308])
    assert line == "▁█"
    assert console.sparkline([1e308, -1e308, 0.0] * 20).strip()
    assert console.sparkline([float("inf")] * 30) == " " * 24


def test_mean_summary_never_overflows(root: Path) -> None:
    run = trackui.init(dir=root)
    run.define_metric("m", summary="mean")
    for v in (1e308, 1e308, -1e308, -1e308):
        run.log({"m": v})
    assert run.summary["m"] == 0.0
    run.define_metric("n", summary="mean")
    for v in (1.0, 2.0, 3.0):
        run.log({"n": v})
    assert run.summary["n"] == 2.0
    run.finish()


def test_integers_beyond_64_bits_are_exact_in_config_and_nearest_float_in_metrics(
    root: Path,
) -> None:
    run = trackui.init(dir=root, config={"big": 2**70, "neg": -(2**100), "nest": {"b": 3**50}})
    run.log({"v": 2**70})
    run.summary["exact"] = 2**80
    run.finish()
    info = reader.read_run(run.run_dir)
    assert info is not None
    assert info.config == {"big": 2**70, "neg": -(2**100), "nest": {"b": 3**50}}
    assert type(info.config["big"]) is int
    assert info.summary["exact"] == 2**80
    (rec,) = reader.read_records(run.run_dir)[0]
    assert rec.metrics == {"v": float(2**70)}


def test_lone_surrogates_are_stored_as_the_replacement_character(root: Path) -> None:
    bad = "a\udcffb"
    run = trackui.init(
        dir=root, name=bad, tags=[bad], notes=bad, config={bad: bad, "k": [bad, {bad: 1}]}
    )
    run.log({bad: 1.0, "text": bad, "nested": {bad: 2.0}})
    run.summary[bad] = bad
    run.finish()
    want = f"a{REPLACEMENT}b"
    info = reader.read_run(run.run_dir)
    assert info is not None and info.warnings == ()
    assert info.meta["name"] == want and info.meta["tags"] == [want] and info.meta["notes"] == want
    assert info.config == {want: want, "k": [want, {want: 1}]}
    assert info.summary[want] == want
    records, _, warnings = reader.read_records(run.run_dir)
    assert warnings == []
    assert records[0].metrics == {want: 1.0, f"nested/{want}": 2.0}
    assert records[0].text == {"text": want}


def test_surrogates_in_argv_and_cwd_never_stop_init(tmp_path: Path) -> None:
    # Bytes that are not UTF-8 in a folder name and an argument, as a shell passes them.
    odd = os.fsencode(str(tmp_path)) + b"/dir-\xff\xfe"
    os.mkdir(odd)
    code = (
        "import sys, trackui\n"
        "run = trackui.init(dir=sys.argv[1])\n"
        "trackui.log({'a': 1.0})\n"
        "trackui.finish()\n"
    )
    env = {**os.environ, "TRACKUI_SILENT": "1", "TRACKUI_CONSOLE": "wrap"}
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "runs"), b"arg-\xff"],
        cwd=odd,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr
    (run_dir,) = reader.list_run_dirs(tmp_path / "runs")
    info = reader.read_run(run_dir)
    assert info is not None and info.state == "finished"
    assert info.meta["command"][-1] == f"arg-{REPLACEMENT}"
    assert info.meta["cwd"].endswith(f"dir-{REPLACEMENT}{REPLACEMENT}")


def _cycle() -> dict[str, object]:
    d: dict[str, object] = {}
    d["self"] = d
    return d


def _deep(n: int) -> dict[str, object]:
    d: dict[str, object] = {}
    for _ in range(n):
        d = {"d": d}
    return d


def _deep_list(n: int) -> list[object]:
    v: list[object] = []
    for _ in range(n):
        v = [v]
    return v


@pytest.mark.parametrize("value", [_cycle(), _deep(1000), _deep_list(MAX_DEPTH + 5)])
def test_cycles_and_deep_config_values_are_refused_before_anything_is_written(
    root: Path, value: object
) -> None:
    with pytest.raises(ValueError, match="'opt"):
        trackui.init(dir=root, config={"lr": 0.1, "opt": value})
    assert reader.list_run_dirs(root) == []
    run = trackui.init(dir=root, config={"lr": 0.1})
    with pytest.raises(ValueError, match="'opt"):
        run.config["opt"] = value
    with pytest.raises(ValueError, match="'opt"):
        run.config.update({"opt": value})
    run.finish()
    assert json.loads((run.run_dir / layout.CONFIG).read_text()) == {"lr": 0.1}


def test_deep_or_cyclic_logged_dicts_are_refused(root: Path) -> None:
    run = trackui.init(dir=root)
    with pytest.raises(ValueError, match="nests more than"):
        run.log({"deep": _deep(1000)})
    with pytest.raises(ValueError, match="nests more than"):
        run.log({"cyc": _cycle()})
    run.log({"ok": _deep(10)})
    run.finish()
    records, _, _ = reader.read_records(run.run_dir)
    assert [r.step for r in records] == [0]


def test_a_record_over_the_limit_is_refused_and_every_accepted_one_is_read_back(
    root: Path,
) -> None:
    run = trackui.init(dir=root)
    run.log({"a": 1.0, "s": "x" * (MAX_RECORD_BYTES - 100)})
    with pytest.raises(ValueError, match="over the limit of 8,388,608"):
        run.log({"a": 2.0, "s": "x" * (50 << 20)})
    run.log({"a": 3.0})
    with pytest.raises(ValueError, match="step"):
        run.log({"a": 4.0}, step=2**70)
    with pytest.raises(ValueError, match="step"):
        run.log({"a": 4.0}, step=float("inf"))  # type: ignore[arg-type]
    run.finish()
    records, _, warnings = reader.read_records(run.run_dir)
    assert warnings == []
    assert [(r.step, r.metrics["a"]) for r in records] == [(0, 1.0), (1, 3.0)]


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")


def test_values_whose_str_raises_never_stop_a_run(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = trackui.init(dir=root, config={"obj": _Unprintable()})
    run.log({"a": 1.0})
    run.summary["nested"] = {"n": 10**5000}  # str() of it raises ValueError
    _finish_loudly(run, monkeypatch)
    assert "run summary:" in capsys.readouterr().err
    info = reader.read_run(run.run_dir)
    assert info is not None and info.config["obj"].endswith("_Unprintable>")
    assert info.summary["nested"] == {"n": "inf"}
