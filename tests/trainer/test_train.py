"""``trackui train`` end to end on the CPU: runs written, defaults, errors, sweeps."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from types import ModuleType

import pytest

torch = pytest.importorskip("torch")

from trackui.store import layout, reader  # noqa: E402
from trackui.trainer.model import Net  # noqa: E402
from trackui.trainer.train import build_parser, main, parse_sweep  # noqa: E402

FAST = ["--threads", "1", "--system-every", "0.05"]


def _runs(root: Path) -> list[reader.RunInfo]:
    infos = [reader.read_run(d) for d in reader.list_run_dirs(root)]
    return [i for i in infos if i is not None]


def _history(run_dir: Path) -> dict[int, dict[str, float]]:
    records, _, warnings = reader.read_records(run_dir)
    assert warnings == []
    return reader.merge_steps(records)


def test_short_run_writes_a_complete_run_that_learns(root: Path, mnist: Path) -> None:
    out = io.StringIO()
    argv = [
        "--data-dir",
        str(mnist),
        "--dir",
        str(root),
        "--name",
        "short",
        "--train-limit",
        "2000",
    ]
    rc = main([*argv, "--epochs", "2", "--log-every", "5", "--tags", "a,b", *FAST], out=out)
    assert rc == 0
    (run,) = _runs(root)
    assert run.state == "finished"
    assert run.meta["name"] == "short"
    assert run.meta["project"] == "mnist"
    assert run.meta["tags"] == ["a", "b"]
    assert run.config["train_size"] == 2000
    assert run.config["epochs"] == 2
    assert run.config["cuda_graph"] is (run.config["device"] == "cuda")  # on a GPU machine: auto

    steps = _history(run.path)
    per_epoch = math.ceil(2000 / 64)  # 32, the last batch short (16)
    losses = [(s, m["loss"]) for s, m in sorted(steps.items()) if "loss" in m]
    assert [s for s, _ in losses] == sorted(
        {*range(5, 2 * per_epoch + 1, 5), per_epoch, 2 * per_epoch}
    )
    first = sum(v for _, v in losses[:3]) / 3
    last = sum(v for _, v in losses[-3:]) / 3
    assert first > 1.5 and last < 0.8 * first  # the loss falls
    epochs = [m for _, m in sorted(steps.items()) if "val_accuracy" in m]
    assert [m["epoch"] for m in epochs] == [1, 2]
    assert set(epochs[0]) >= {
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "samples_per_s",
    }
    assert epochs[-1]["val_accuracy"] > 0.75  # chance is 0.1
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"]
    assert steps[per_epoch]["epoch"] == 1.0  # the fractional epoch beside the loss agrees
    assert any("system/proc/rss_mb" in m for m in steps.values())

    assert run.summary["val_accuracy"] == max(m["val_accuracy"] for m in epochs)
    assert run.summary["train_time_s"] > 0
    model_file = run.path / layout.FILES_DIR / "model.pt"
    net = Net("mlp")
    net.load_state_dict(torch.load(model_file, weights_only=True))

    text = out.getvalue()
    assert "\r" not in text  # not a terminal: no bar, one line per epoch
    assert [line.split()[:2] for line in text.splitlines() if line.startswith("epoch ")] == [
        ["epoch", "1/2"],
        ["epoch", "2/2"],
    ]


def test_defaults_are_the_reference_workload(
    root: Path, mnist: Path, reference: ModuleType
) -> None:
    rc = main(
        ["--data-dir", str(mnist), "--dir", str(root), "--dry-run", "--threads", "1"],
        out=io.StringIO(),
    )
    assert rc == 0
    (run,) = _runs(root)
    assert run.config["dry_run"] is True
    workload = {k: run.config[k] for k in reference.WORKLOAD}
    assert workload == reference.WORKLOAD
    assert run.config["amp"] is False and run.config["compile"] is False
    # The parser's defaults are those the run logged.
    args = build_parser().parse_args([])
    for key in ("epochs", "lr", "batch_size", "test_batch_size", "arch", "hidden"):
        assert getattr(args, key) == reference.WORKLOAD[key]


def test_lr_decay_defaults_per_network_and_is_applied_each_epoch(
    root: Path, mnist: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trackui.trainer import engine

    seen: list[float] = []

    def spy(optimizer: torch.optim.Optimizer, lr: float) -> None:
        real_set_lr(optimizer, lr)
        seen.append(float(optimizer.param_groups[0]["lr"]))

    real_set_lr = engine.set_lr
    monkeypatch.setattr(engine, "set_lr", spy)
    common = ["--data-dir", str(mnist), "--dir", str(root), "--dry-run", "--epochs", "3"]
    assert main([*common, "--arch", "cnn", "--name", "cnn", *FAST], out=io.StringIO()) == 0
    assert seen == pytest.approx([7e-4, 4.9e-4])  # PyTorch's MNIST example: gamma 0.7
    assert main([*common, "--name", "mlp", *FAST], out=io.StringIO()) == 0
    assert seen == pytest.approx([7e-4, 4.9e-4])  # the reference MLP: a constant rate
    assert main([*common, "--lr-decay", "0.5", "--name", "half", *FAST], out=io.StringIO()) == 0
    assert seen[2:] == pytest.approx([5e-4, 2.5e-4])
    for run in _runs(root):
        want = {"cnn": 0.7, "mlp": 1.0, "half": 0.5}[run.meta["name"]]
        assert run.config["lr_decay"] == want
        logged = [m["lr"] for _, m in sorted(_history(run.path).items()) if "lr" in m]
        assert logged == pytest.approx([1e-3 * want**e for e in range(3)])


def test_missing_data_is_one_clear_error_and_no_run(
    tmp_path: Path, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    rc = main(["--data-dir", str(empty), "--dir", str(root)])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("trackui train: error: MNIST not found in")
    assert "--data-dir" in err and "TRACKUI_NO_DOWNLOAD" in err
    assert _runs(root) == []


def test_sweep_2x2_makes_four_runs_in_one_group(root: Path, mnist: Path) -> None:
    argv = ["--data-dir", str(mnist), "--dir", str(root), "--train-limit", "256", "--epochs", "1"]
    sweep = ["--sweep", "lr=0.001,0.01", "batch-size=32,64"]
    assert main([*argv, *sweep, "--name", "grid", *FAST], out=io.StringIO()) == 0
    runs = _runs(root)
    assert len(runs) == 4
    groups = {r.meta["group"] for r in runs}
    assert len(groups) == 1 and next(iter(groups)).startswith("sweep-")
    combos = sorted((r.config["lr"], r.config["batch_size"]) for r in runs)
    assert combos == [(0.001, 32), (0.001, 64), (0.01, 32), (0.01, 64)]
    names = {r.meta["name"] for r in runs}
    assert "grid-lr=0.01,batch_size=32" in names and len(names) == 4
    assert all(r.state == "finished" for r in runs)


def test_sweep_is_stored_and_run_through_the_agent(root: Path, mnist: Path) -> None:
    argv = ["--data-dir", str(mnist), "--dir", str(root), "--dry-run", "--epochs", "1", *FAST]
    assert main([*argv, "--sweep", "lr=0.001,0.01", "seed=3"], out=io.StringIO()) == 0
    (folder,) = (root / "sweeps").iterdir()
    head = json.loads((folder / "sweep.json").read_text())
    assert head["id"] == folder.name and head["config"]["method"] == "grid"
    assert head["config"]["parameters"] == {
        "lr": {"values": [0.001, 0.01]},
        "seed": {"values": [3]},
    }
    trials = json.loads((folder / "state.json").read_text())["trials"]
    assert [t["params"] for t in trials] == [{"lr": 0.001, "seed": 3}, {"lr": 0.01, "seed": 3}]
    assert [t["state"] for t in trials] == ["finished", "finished"]
    runs = _runs(root)
    assert sorted(r.id for r in runs) == sorted(t["run_id"] for t in trials)
    assert {r.meta["sweep_id"] for r in runs} == {folder.name}
    assert {r.meta["group"] for r in runs} == {f"sweep-{folder.name}"}
    assert {r.meta["name"] for r in runs} == {"lr=0.001,seed=3", "lr=0.01,seed=3"}


def test_random_sweep_runs_count_draws_of_the_values(root: Path, mnist: Path) -> None:
    argv = ["--data-dir", str(mnist), "--dir", str(root), "--dry-run", "--epochs", "1", *FAST]
    sweep = ["--sweep", "seed=1,2,3", "--sweep-method", "random", "--sweep-count", "2"]
    assert main([*argv, *sweep], out=io.StringIO()) == 0
    (folder,) = (root / "sweeps").iterdir()
    assert json.loads((folder / "sweep.json").read_text())["config"]["method"] == "random"
    trials = json.loads((folder / "state.json").read_text())["trials"]
    assert len(trials) == 2 and all(t["params"]["seed"] in (1, 2, 3) for t in trials)
    runs = _runs(root)
    assert len(runs) == 2 and {r.meta["sweep_id"] for r in runs} == {folder.name}
    assert all(r.state == "finished" for r in runs)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--arch", "resnet"], "invalid choice"),
        (["--epochs", "0"], "must be at least 1"),
        (["--lr", "nan"], "positive number"),
        (["--sweep", "optimizer=sgd,adam"], "cannot sweep 'optimizer'"),
        (["--sweep", "lr"], "expected KEY=V1,V2"),
        (["--sweep", "lr=0.1,x"], "not a number"),
        (["--sweep", "arch=mlp,vit"], "'vit' is not one of"),
        (["--sweep", "lr=1", "lr=2"], "given twice"),
        (["--device", "quantum"], "unknown device"),
        (["--sweep-count", "2"], "need --sweep"),
        (["--sweep", "lr=0.1,0.2", "--sweep-method", "random"], "needs --sweep-count"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    argv: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--data-dir", str(tmp_path), "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("trackui train: error:")
    assert needle in err


def test_help_returns_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "--train-limit" in capsys.readouterr().out


def test_sweep_values_go_through_the_option_types() -> None:
    grid = parse_sweep(["amp=on,off", "arch=mlp,cnn", "seed=1,2,3"], build_parser())
    assert len(grid) == 12
    assert grid[0] == {"amp": True, "arch": "mlp", "seed": 1}
    assert parse_sweep(None, build_parser()) == [{}]


def test_hostile_names_reach_the_console_as_text(root: Path, mnist: Path) -> None:
    out = io.StringIO()
    name = "[bold]x[/]\x1b[31mred\x07"
    argv = ["--data-dir", str(mnist), "--dir", str(root), "--dry-run", "--epochs", "1"]
    assert main([*argv, "--name", name, "--threads", "1"], out=out) == 0
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
    assert "[bold]x[/]\\x1b[31mred\\x07" in out.getvalue()
    (run,) = _runs(root)
    assert run.meta["name"] == name  # kept exactly as given


def test_amp_runs_under_bf16_autocast(root: Path, mnist: Path) -> None:
    argv = ["--data-dir", str(mnist), "--dir", str(root), "--train-limit", "640", "--epochs", "1"]
    assert main([*argv, "--amp", "--log-every", "2", *FAST], out=io.StringIO()) == 0
    (run,) = _runs(root)
    assert run.config["amp"] is True
    steps = _history(run.path)
    losses = [m["loss"] for _, m in sorted(steps.items()) if "loss" in m]
    assert len(losses) == 5 and all(math.isfinite(v) for v in losses)
    assert losses[-1] < losses[0]
    assert run.summary["val_accuracy"] > 0.5


def test_trackui_train_command_runs_the_trainer(
    root: Path, mnist: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from trackui.cli import main as cli_main

    assert cli_main(["train", "--epochs", "0"]) == 2
    assert capsys.readouterr().err.startswith("trackui train: error: argument --epochs")
    argv = ["train", "--data-dir", str(mnist), "--dir", str(root), "--dry-run", "--epochs", "1"]
    assert cli_main([*argv, "--threads", "1"]) == 0
    (run,) = _runs(root)
    assert run.state == "finished" and run.config["dry_run"] is True


def test_without_torch_the_command_says_how_to_install_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    # torch is the optional `train` extra: importing the command costs nothing
    # without it, and running it gives one line that names the extra.
    code = (
        "import sys\n"
        "import trackui.trainer.train as t\n"
        "assert 'torch' not in sys.modules, 'imported torch'\n"
        "sys.modules['torch'] = None\n"
        "sys.exit(t.main(['--dir', sys.argv[1]]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        "trackui train: error: needs PyTorch; install it with pip install 'trackui[train]'"
        " (in a clone of trackui: pip install -e '.[train]')\n"
    )


@pytest.mark.slow
def test_same_seed_same_run_as_the_reference_script(
    root: Path, mnist: Path, reference: ModuleType
) -> None:
    # Same init, same batches in the same order, same update: the same run.
    argv = ["--data-dir", str(mnist), "--dir", str(root), "--train-limit", "640"]
    assert main([*argv, "--test-limit", "500", "--epochs", "2", *FAST], out=io.StringIO()) == 0
    ref = reference.run(
        mnist, epochs=2, device_name="cpu", train_limit=640, threads=1, test_limit=500
    )
    (run,) = _runs(root)
    ours = [m for _, m in sorted(_history(run.path).items()) if "val_accuracy" in m]
    assert len(ours) == len(ref["history"]) == 2
    for mine, theirs in zip(ours, ref["history"], strict=True):
        for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
            assert math.isclose(mine[key], theirs[key], rel_tol=1e-4), (key, mine, theirs)
