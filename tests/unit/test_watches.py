"""Watches at the store level: the built-in rules, the user's rules, firing once until clear."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

import trackui
from trackui.store.watch_rules import (
    FilterError,
    WatchSettings,
    check_rule,
    load_settings,
    parse_rule,
    save_settings,
)
from trackui.store.watches import CRASHED, FAILED, NAN, STALL, Firing, Watches


def rules_of(firings: list[Firing]) -> list[str]:
    return [f.rule for f in firings]


def append(run_dir: Path, *records: tuple[int, float, dict]) -> None:
    with open(run_dir / "history.jsonl", "a") as f:
        for step, t, m in records:
            f.write(json.dumps({"s": step, "t": t, "m": m}) + "\n")


# -------------------------------------------------------------------- NaN / inf


def test_nan_in_a_logged_run_fires_with_metric_value_and_step(root: Path) -> None:
    run = trackui.init(project="p", name="diverged", dir=root)
    for s in range(10):
        run.log({"loss": 1.0 / (s + 1), "acc": s / 10}, step=s)
    run.log({"loss": float("nan"), "acc": 0.5}, step=10)
    run.finish()
    got = Watches(root).update()
    assert rules_of(got) == [NAN]
    f = got[0]
    assert (f.run_id, f.run_name, f.metric, f.step) == (run.id, "diverged", "loss", 10)
    assert math.isnan(f.value)
    assert f.to_json()["value"] == "nan" and f.to_json()["kind"] == "nan"


def test_infinity_fires_too_and_a_finite_value_clears_it(root: Path, write_run) -> None:
    d = write_run(root, "inf00001", records=[(0, 1.0, {"loss": 1.0})])
    w = Watches(root)
    assert w.update() == []
    append(d, (1, 2.0, {"loss": "inf"}))
    got = w.update([d])
    assert rules_of(got) == [NAN] and got[0].value == math.inf
    append(d, (2, 3.0, {"loss": "-inf"}))
    assert w.update([d]) == []  # once until it clears
    assert w.active() == {"inf00001": (NAN,)}
    append(d, (3, 4.0, {"loss": 0.5}))
    assert w.update([d]) == [] and w.active() == {}
    append(d, (4, 5.0, {"loss": "nan"}))
    assert rules_of(w.update([d])) == [NAN]  # cleared, so it fires again


# -------------------------------------------------------------------- stalls


def test_a_running_run_that_stopped_logging_stalls(root: Path, write_run) -> None:
    # Logging every 2 s, last record at t=1000: stalled after max(10 x 2 s, minimum).
    records = [(s, 800.0 + 2.0 * s, {"loss": 1.0}) for s in range(101)]
    d = write_run(root, "stall001", state="running", records=records, host="gpu-node")
    now = [1000.0 + 25.0]
    w = Watches(root, now=lambda: now[0], stall_min_s=10.0)
    got = w.update()
    assert rules_of(got) == [STALL]
    assert got[0].value == pytest.approx(25.0)
    assert w.tick() == []  # once
    now[0] = 1100.0
    append(d, (101, 1099.0, {"loss": 0.9}))  # it logs again: cleared
    assert w.update([d]) == [] and w.active() == {}
    now[0] = 1099.0 + 21.0
    assert rules_of(w.tick()) == [STALL]


def test_stall_waits_for_ten_median_intervals_and_the_minimum(root: Path, write_run) -> None:
    records = [(s, 1000.0 + 30.0 * s, {"loss": 1.0}) for s in range(5)]  # every 30 s
    write_run(root, "slow0001", state="running", records=records, host="gpu-node")
    now = [1120.0 + 299.0]
    w = Watches(root, now=lambda: now[0], stall_min_s=60.0)
    assert w.update() == []  # 299 s quiet < 10 x 30 s
    now[0] = 1120.0 + 301.0
    assert rules_of(w.tick()) == [STALL]
    # The documented minimum: five minutes, whatever the interval.
    w2 = Watches(root, now=lambda: 1120.0 + 299.0, stall_min_s=400.0)
    assert w2.update() == []


def test_finished_runs_do_not_stall(root: Path, write_run) -> None:
    write_run(root, "done0001", state="finished", records=[(0, 1.0, {"loss": 1.0})])
    assert Watches(root, now=lambda: 1e9, stall_min_s=1.0).update() == []


# -------------------------------------------------------------------- states


def test_failed_and_crashed_runs_fire_once(root: Path, write_run) -> None:
    write_run(root, "fail0001", state="failed", records=[(0, 1.0, {"loss": 1.0})])
    # A running run on this host whose pid is gone: crashed.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    write_run(root, "dead0001", state="running", pid=int(dead.stdout), stamp="20231114_221321")
    w = Watches(root, now=lambda: 1_700_000_500.0, stall_min_s=1e9)
    got = {f.run_id: f for f in w.update()}
    assert got["fail0001"].rule == FAILED and got["fail0001"].value == 1  # the exit code
    assert got["dead0001"].rule == CRASHED
    assert w.update() == [] and w.tick() == []


def test_a_writer_killed_while_watched_is_seen_by_the_clock(root: Path) -> None:
    script = (
        "import sys, time, trackui\n"
        "run = trackui.init(project='p', name='victim', dir=sys.argv[1])\n"
        "run.log({'loss': 1.0})\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(root)], stdout=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        w = Watches(root)
        assert w.update() == []
        proc.kill()
        proc.wait(10)
        assert rules_of(w.tick()) == [CRASHED]
    finally:
        proc.kill()


# -------------------------------------------------------------------- user rules


def test_a_user_rule_fires_on_a_spike_that_recovers(root: Path) -> None:
    run = trackui.init(project="p", name="spiky", dir=root)
    for s in range(50):
        run.log({"loss": 50.0 if s == 20 else 1.0}, step=s)
    run.finish()
    w = Watches(root, [parse_rule("loss > 10")])
    got = w.update()
    assert rules_of(got) == ["loss > 10"]
    assert (got[0].metric, got[0].value, got[0].step) == ("loss", 50.0, 20)
    assert w.active() == {}  # it came back inside the rule: cleared


def test_a_rule_with_step_and_two_metrics(root: Path, write_run) -> None:
    d = write_run(root, "rule0001", records=[(500, 1.0, {"val_accuracy": 0.3})])
    w = Watches(root, [parse_rule("val_accuracy < 0.5 and step > 1000")])
    assert w.update() == []  # step 500
    append(d, (1200, 2.0, {"val_accuracy": 0.4}), (1300, 3.0, {"val_accuracy": 0.45}))
    got = w.update([d])
    assert [(f.step, f.value) for f in got] == [(1200, 0.4)]  # once, not on 1300
    append(d, (1400, 4.0, {"val_accuracy": 0.9}), (1500, 5.0, {"val_accuracy": 0.1}))
    assert [f.step for f in w.update([d])] == [1500]  # cleared at 1400, fires again


def test_rules_read_fields_config_and_last_values(root: Path, write_run) -> None:
    write_run(root, "cfg00001", config={"lr": 0.1}, tags=["big"],
              records=[(0, 1.0, {"loss": 3.0}), (1, 2.0, {"acc": 0.1})])  # fmt: skip
    write_run(root, "cfg00002", config={"lr": 0.001}, stamp="20231114_221321",
              records=[(0, 1.0, {"loss": 3.0})])  # fmt: skip
    rules = [
        parse_rule("loss > 2 and lr >= 0.1"),  # a config key
        parse_rule("tag:big and acc < 0.5 and loss > 2"),  # loss carried from the step before
        parse_rule("summary.loss > 100 or config.lr = 0.001 and loss > 1"),
    ]
    got = sorted((f.run_id, f.rule) for f in Watches(root, rules).update())
    assert got == [
        ("cfg00001", rules[0].text),
        ("cfg00001", rules[1].text),
        ("cfg00002", rules[2].text),
    ]


def test_rules_are_checked_by_the_filter_parser() -> None:
    assert check_rule("loss > 10") is None
    assert check_rule("val_accuracy < 0.5 and step > 1000") is None
    assert check_rule("loss >") == "filter: missing value after '>' at 6"
    assert check_rule("(loss > 1") == "filter: missing ')' for '(' at 1"
    assert "compares no metric" in (check_rule("state:running") or "")
    assert "compares no metric" in (check_rule("step > 5") or "")
    with pytest.raises(FilterError):
        parse_rule("   ")
    assert parse_rule("loss > 1 or val/acc < 0.2").metrics == {"loss", "val/acc"}


def test_removing_a_rule_clears_it(root: Path, write_run) -> None:
    write_run(root, "rm000001", records=[(0, 1.0, {"loss": 30.0})])
    w = Watches(root, [parse_rule("loss > 10")])
    w.update()
    assert w.active() == {"rm000001": ("loss > 10",)}
    w.set_rules([])
    assert w.active() == {}


# -------------------------------------------------------------------- alerts, reading


def test_alerts_from_scripts_join_the_firings(root: Path) -> None:
    run = trackui.init(project="p", name="alerting", dir=root)
    run.log({"loss": 1.0})
    w = Watches(root)
    w.update()
    run.alert("loss spiked", "loss 9.1", level="WARN")
    got = w.update([run.run_dir])
    run.finish()
    assert [(f.rule, f.metric, f.value) for f in got] == [("alert", "loss spiked", "loss 9.1")]


def test_a_run_first_seen_is_read_from_its_tail(root: Path, write_run) -> None:
    records = [(s, float(s), {"loss": "nan" if s == 3 else 1.0}) for s in range(2000)]
    records.append((2000, 2000.0, {"loss": "nan"}))
    write_run(root, "long0001", records=records)
    got = Watches(root, tail_bytes=4096).update()
    assert [(f.rule, f.step) for f in got] == [(NAN, 2000)]  # step 3 is before the tail


def test_settings_are_kept_per_root(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    assert load_settings(root) == WatchSettings([], True)
    assert save_settings(root, WatchSettings(["loss > 10", "bad >"], False))
    assert load_settings(root) == WatchSettings(["loss > 10"], False)  # a bad rule is dropped
    assert (root / ".trackui" / "watches.json").is_file()
