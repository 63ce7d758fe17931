"""System metrics for every run: sampled in a thread, logged under ``system/``, never in the way."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import trackui
from trackui import system_metrics
from trackui.store import reader
from trackui.store.index import Index


@pytest.fixture
def fast_stats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKUI_STATS_INTERVAL", "0.1")
    monkeypatch.setenv("TRACKUI_CONSOLE", "off")
    monkeypatch.delenv("TRACKUI_STATS", raising=False)


def _records(run_dir: Path) -> list[reader.Record]:
    records, _, warnings = reader.read_records(run_dir)
    assert warnings == []
    return records


def test_every_run_logs_system_metrics_beside_the_users_steps(
    tmp_path: Path, fast_stats: None
) -> None:
    run = trackui.init(dir=tmp_path, project="p")
    assert run._sampler is not None and run._sampler.alive
    for i in range(8):
        run.log({"loss": 1.0 / (i + 1)})
        time.sleep(0.1)
    time.sleep(0.4)
    run.finish(quiet=True)
    assert run._sampler is None  # stopped at finish

    records = _records(run.run_dir)
    user = [r for r in records if "loss" in r.metrics]
    system = [r for r in records if any(k.startswith("system/") for k in r.metrics)]
    assert [r.step for r in user] == list(range(8))  # the script's steps, untouched
    assert run.step == 8
    assert len(system) >= 3
    assert all(set(r.metrics) <= {k for k in r.metrics if k.startswith("system/")} for r in system)
    first = system[-1].metrics
    assert first["system/proc/rss_mb"] > 10
    assert 0 <= first["system/mem_percent"] <= 100
    assert "system/cpu_percent" in first and "system/disk/read_mb_s" in first
    steps = [r.step for r in records]
    assert steps == sorted(steps)  # a system record never goes back
    assert "system/proc/rss_mb" not in run.summary  # the summary is the script's

    size = (run.run_dir / "history.jsonl").stat().st_size
    time.sleep(0.3)
    assert (run.run_dir / "history.jsonl").stat().st_size == size  # nothing after finish()

    # The System tab's panel charts every `system/` metric the index holds.
    with Index(tmp_path, cache=False) as ix:
        ix.scan()
        ix.ingest()
        names = [m.name for m in ix.metrics([run.id])]
    assert "loss" in names and "system/proc/rss_mb" in names


@pytest.mark.parametrize(
    "settings",
    [
        SimpleNamespace(x_disable_stats=True),
        SimpleNamespace(disable_stats=True),
        {"x_disable_stats": True},
    ],
)
def test_a_setting_turns_the_sampler_off(tmp_path: Path, fast_stats: None, settings) -> None:
    with trackui.init(dir=tmp_path, settings=settings) as run:
        assert run._sampler is None
        run.log({"a": 1})
        time.sleep(0.3)
    assert not any(k.startswith("system/") for r in _records(run.run_dir) for k in r.metrics)


def test_trackui_stats_0_turns_the_sampler_off(
    tmp_path: Path, fast_stats: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKUI_STATS", "0")
    with trackui.init(dir=tmp_path) as run:
        assert run._sampler is None
    monkeypatch.delenv("TRACKUI_STATS")
    assert system_metrics.stats_enabled(SimpleNamespace(x_disable_stats=False))
    assert system_metrics.stats_enabled(None)


def test_a_crash_in_the_sampler_never_reaches_the_script(tmp_path: Path) -> None:
    calls = []

    def sink(values: dict[str, float]) -> None:
        calls.append(values)
        raise RuntimeError("disk on fire")

    s = system_metrics.Sampler(sink, interval_s=0.05).start()
    time.sleep(0.5)
    assert not s.alive and isinstance(s.error, RuntimeError) and len(calls) == 1
    s.stop()

    def broken_probe() -> system_metrics.Probe:
        raise OSError("no /proc")

    s = system_metrics.Sampler(calls.append, interval_s=0.05, probe=broken_probe).start()
    time.sleep(0.3)
    assert not s.alive and isinstance(s.error, OSError)


def test_rates_come_from_two_readings() -> None:
    probe = system_metrics.Probe(gpus=False)
    first = probe.machine()
    assert "system/disk/read_mb_s" not in first  # one reading gives no rate
    time.sleep(0.05)
    second = probe.machine()
    assert second["system/disk/read_mb_s"] >= 0 and second["system/net/recv_mb_s"] >= 0
    assert probe.process()["system/proc/rss_mb"] > 10


def test_import_and_a_short_run_never_import_psutil(tmp_path: Path) -> None:
    code = (
        "import sys, trackui\n"
        "assert 'psutil' not in sys.modules\n"
        "with trackui.init(dir=sys.argv[1]) as run: run.log({'a': 1})\n"
        "assert 'psutil' not in sys.modules, 'psutil imported'\n"
    )
    env = {**os.environ, "TRACKUI_CONSOLE": "off", "TRACKUI_SILENT": "1"}
    env.pop("TRACKUI_STATS_INTERVAL", None)
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
