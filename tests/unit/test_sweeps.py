"""Local sweeps: ``trackui.sweep`` + ``trackui.agent`` in wandb's configuration format."""

from __future__ import annotations

import importlib.util
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

import trackui
from trackui import sweep_config
from trackui.store import reader
from trackui.store.models import RunInfo
from trackui.sweep_config import SweepConfigError

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "tests" / "wandb_examples"


@pytest.fixture(autouse=True)
def quiet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("TRACKUI_DIR", str(tmp_path))
    monkeypatch.setenv("TRACKUI_CONSOLE", "off")
    monkeypatch.setenv("TRACKUI_STATS", "0")
    monkeypatch.delenv("TRACKUI_PROJECT", raising=False)
    return tmp_path


def _runs(root: Path) -> list[RunInfo]:
    out = [reader.read_run(p) for p in reader.list_run_dirs(root)]
    return [r for r in out if r is not None]


def _state(root: Path, sweep_id: str) -> dict:
    return orjson.loads((root / "sweeps" / sweep_id / "state.json").read_bytes())


def test_grid_sweep_runs_every_combination_in_process(tmp_path: Path) -> None:
    config = {
        "method": "grid",
        "metric": {"name": "val/loss", "goal": "minimize"},
        "parameters": {
            "lr": {"values": [0.1, 0.01]},
            "optimizer": {"parameters": {"name": {"values": ["sgd", "adam"]}}},
            "epochs": {"value": 3},
        },
    }
    sweep_id = trackui.sweep(config, project="grid")
    assert (tmp_path / "sweeps" / sweep_id / "sweep.json").is_file()
    seen = []

    def train() -> None:
        run = trackui.init(config={"lr": 1.0, "epochs": 1, "dropout": 0.5})
        seen.append((trackui.config.lr, run.config["optimizer"]["name"], trackui.config.dropout))
        for i in range(trackui.config.epochs):
            trackui.log({"val": {"loss": trackui.config.lr * (3 - i)}})

    trackui.agent(sweep_id, function=train, count=10)  # a grid stops when done
    assert sorted(seen) == sorted([(lr, opt, 0.5) for lr in (0.1, 0.01) for opt in ("sgd", "adam")])
    runs = _runs(tmp_path)
    assert len(runs) == 4
    for info in runs:
        assert info.state == "finished"
        assert info.meta["group"] == sweep_id and info.meta["sweep_id"] == sweep_id
        assert info.meta["project"] == "grid"
        assert info.meta["name"] == (
            f"lr={info.config['lr']},optimizer.name={info.config['optimizer']['name']},epochs=3"
        )
    state = _state(tmp_path, sweep_id)
    assert sorted(t["metric"] for t in state["trials"]) == pytest.approx([0.01, 0.01, 0.1, 0.1])
    assert {t["state"] for t in state["trials"]} == {"finished"}
    assert "TRACKUI_PROJECT" not in os.environ

    trackui.agent(sweep_id, function=train)  # nothing left
    assert len(_runs(tmp_path)) == 4


def test_random_sweep_draws_each_distribution_within_its_bounds() -> None:
    params = {
        "c": {"value": 7},
        "cat": {"values": ["a", "b"]},
        "i": {"min": 1, "max": 4},
        "u": {"min": 0.5, "max": 1.5},
        "qu": {"distribution": "q_uniform", "min": 0, "max": 10, "q": 2},
        "lu": {"distribution": "log_uniform", "min": -3.0, "max": 0.0},
        "luv": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
        "qluv": {"distribution": "q_log_uniform_values", "min": 1, "max": 256, "q": 1},
        "n": {"distribution": "normal", "mu": 5.0, "sigma": 0.1},
        "qn": {"distribution": "q_normal", "mu": 5.0, "sigma": 0.1, "q": 1},
        "ln": {"distribution": "log_normal", "mu": 0.0, "sigma": 0.5},
        "ilv": {"distribution": "inv_log_uniform_values", "min": 0.1, "max": 10.0},
        "beta": {"distribution": "beta", "a": 2.0, "b": 5.0},
    }
    sweep_config.check({"method": "random", "parameters": params})
    rng = random.Random(0)
    for _ in range(200):
        p = sweep_config.random_point(params, rng)
        assert p["c"] == 7 and p["cat"] in ("a", "b")
        assert p["i"] in (1, 2, 3, 4) and 0.5 <= p["u"] <= 1.5
        assert p["qu"] in (0, 2, 4, 6, 8, 10)
        assert math.exp(-3.0) <= p["lu"] <= 1.0
        assert 1e-4 <= p["luv"] <= 1e-1
        assert isinstance(p["qluv"], int) and 1 <= p["qluv"] <= 256
        assert 4.0 < p["n"] < 6.0 and p["qn"] in (4, 5, 6)
        assert p["ln"] > 0 and 0.1 <= p["ilv"] <= 10.0 and 0 < p["beta"] < 1


def test_random_agent_runs_count_trials(tmp_path: Path) -> None:
    sweep_id = trackui.sweep({"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    xs = []

    def train() -> None:
        with trackui.init() as run:
            xs.append(run.config["x"])
            run.log({"y": run.config["x"] ** 2})

    trackui.agent(sweep_id, function=train, count=3)
    assert len(xs) == 3 and all(0 <= x <= 1 for x in xs)
    assert len(_runs(tmp_path)) == 3


def test_bad_configurations_are_refused_with_the_reason() -> None:
    cases = [
        ({"method": "anneal", "parameters": {"a": {"value": 1}}}, "method must be"),
        ({"method": "grid", "parameters": {}}, "non-empty 'parameters'"),
        ({"method": "grid", "parameters": {"a": {"min": 0.0, "max": 1.0}}}, "a grid takes"),
        ({"method": "random", "parameters": {"a": {"distribution": "zipf"}}}, "unknown distrib"),
        ({"method": "bayes", "parameters": {"a": {"value": 1}}}, "needs a 'metric'"),
        (
            {
                "method": "random",
                "parameters": {"a": {"value": 1}},
                "early_terminate": {"type": "envelope"},
            },
            "only type 'hyperband'",
        ),
    ]
    for config, message in cases:
        with pytest.raises(SweepConfigError, match=message):
            trackui.sweep(config)
    with pytest.raises(ValueError, match="no sweep 'nope'"):
        trackui.agent("nope", function=lambda: None)
    with pytest.raises(NotImplementedError, match="controller is not supported"):
        trackui.controller("abc")


def test_a_failing_trial_is_marked_and_the_agent_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep_id = trackui.sweep({"method": "grid", "parameters": {"a": {"values": [1, 2]}}})

    def train() -> None:
        trackui.init()
        if trackui.config.a == 1:
            raise ZeroDivisionError("bad trial")
        trackui.log({"ok": 1})

    trackui.agent(sweep_id, function=train)
    states = {r.config["a"]: r.state for r in _runs(tmp_path)}
    assert states == {1: "failed", 2: "finished"}
    trials = _state(tmp_path, sweep_id)["trials"]
    assert [t["state"] for t in trials] == ["failed", "finished"]

    other = trackui.sweep({"method": "grid", "parameters": {"a": {"value": 1}}})
    trackui.agent(other, function=lambda: None)  # never calls init()
    assert [t["state"] for t in _state(tmp_path, other)["trials"]] == ["no run"]
    assert "ZeroDivisionError: bad trial" in capsys.readouterr().err
    assert trackui.run is None


def test_an_interrupt_stops_the_agent_and_records_the_trial(tmp_path: Path) -> None:
    sweep_id = trackui.sweep({"method": "grid", "parameters": {"a": {"values": [1, 2]}}})

    def train() -> None:
        trackui.init()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        trackui.agent(sweep_id, function=train)
    (run,) = _runs(tmp_path)
    assert run.state == "failed" and run.meta["sweep_id"] == sweep_id
    trials = _state(tmp_path, sweep_id)["trials"]
    assert [(t["params"], t["state"]) for t in trials] == [({"a": 1}, "failed")]
    assert trackui.run is None


def test_hyperband_stops_a_run_behind_the_earlier_ones(tmp_path: Path) -> None:
    config = {
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"start": {"values": [1.0, 5.0, 0.5]}},
        "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 2, "s": 2},
    }
    assert sweep_config.hyperband_steps(config["early_terminate"]) == [2, 4]
    sweep_id = trackui.sweep(config)
    logged: dict[float, int] = {}

    def train() -> None:
        run = trackui.init()
        for i in range(6):
            logged[run.config["start"]] = i + 1
            trackui.log({"loss": run.config["start"] / (i + 1)})  # raises when stopped

    trackui.agent(sweep_id, function=train)
    assert logged == {1.0: 6, 5.0: 2, 0.5: 6}  # 5.0 is behind at iteration 2
    by_start = {r.config["start"]: r for r in _runs(tmp_path)}
    stopped = by_start[5.0]
    assert stopped.state == "finished" and stopped.meta["early_terminated"] == 2
    records, _, _ = reader.read_records(stopped.path)
    assert [r.step for r in records] == [0, 1]
    state = {t["params"]["start"]: t for t in _state(tmp_path, sweep_id)["trials"]}
    assert state[5.0]["state"] == "early_terminated"
    assert state[0.5]["state"] == "finished" and state[0.5]["checks"] == {"2": 0.25, "4": 0.125}


@pytest.mark.skipif(
    importlib.util.find_spec("optuna") is None,
    reason="optuna (the 'sweeps' extra) is not installed",
)
def test_bayes_sweep_proposes_with_tpe(tmp_path: Path) -> None:
    sweep_id = trackui.sweep(
        {
            "method": "bayes",
            "metric": {"name": "loss", "goal": "minimize"},
            "parameters": {
                "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
                "k": {"min": 1, "max": 4},
                "opt": {"values": ["sgd", "adam"]},
                "b": {"distribution": "beta", "a": 2, "b": 2},
            },
        }
    )

    def train() -> None:
        with trackui.init() as run:
            c = run.config
            run.log({"loss": abs(c["lr"] - 0.01) + c["k"] + (c["opt"] == "sgd")})

    trackui.agent(sweep_id, function=train, count=6)
    trials = _state(tmp_path, sweep_id)["trials"]
    assert len(trials) == 6 and all(isinstance(t["metric"], float) for t in trials)
    for t in trials:
        assert 1e-4 <= t["params"]["lr"] <= 1e-1 and t["params"]["k"] in (1, 2, 3, 4)
        assert 0 < t["params"]["b"] < 1


def test_bayes_without_optuna_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)  # as if not installed
    sweep_id = trackui.sweep(
        {"method": "bayes", "metric": {"name": "l"}, "parameters": {"a": {"values": [1, 2]}}}
    )
    with pytest.raises(RuntimeError, match=r"^trackui: a bayes sweep needs Optuna: pip install "):
        trackui.agent(sweep_id, function=lambda: None, count=1)


def test_the_trainer_grid_is_the_sweep_grid() -> None:
    pytest.importorskip("torch")
    from trackui.trainer.train import build_parser, parse_sweep

    grid = parse_sweep(["lr=0.1,0.01", "seed=1,2"], build_parser())
    assert grid == sweep_config.grid({"lr": {"values": [0.1, 0.01]}, "seed": {"values": [1, 2]}})


# -- W&B's own examples, run with `import wandb` giving trackui -------------------------


def _env(root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(EXAMPLES / "shim"), str(REPO)]),
        "TRACKUI_DIR": str(root),
        "TRACKUI_SILENT": "1",
    }


def test_wandb_boolean_sweep_example_runs_through_sweep_and_agent(tmp_path: Path) -> None:
    driver = (
        "import sys, yaml, wandb\n"
        "config = yaml.safe_load(open('sweep-bool.yaml'))\n"
        "sweep_id = wandb.sweep(config, project='bool')\n"
        "wandb.agent(sweep_id)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", driver],
        cwd=EXAMPLES / "sweeps_boolean",
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    runs = _runs(tmp_path)
    combos = {(r.config["optimizer"], r.config["flag1"], r.config["flag2"]) for r in runs}
    assert combos == {
        (o, a, b) for o in ("sgd", "adam") for a in (False, True) for b in (False, True)
    }
    assert all(r.state == "finished" and r.summary["metric"] == 1.0 for r in runs)
    assert len({r.meta["sweep_id"] for r in runs}) == 1


def test_wandb_python_sweep_example_with_a_small_objective(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "sweep.py"],
        cwd=EXAMPLES / "sweeps_python",
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    runs = _runs(tmp_path)
    assert sorted(r.config["layers"] for r in runs) == [32, 64, 96, 128, 256]
    assert all(r.state == "finished" and r.meta["group"] for r in runs)
