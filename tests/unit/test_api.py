"""The logging API against real run directories, read back with the store's reader."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import trackui
from trackui.store import layout, reader


def history(run_dir: Path) -> dict[int, dict[str, float]]:
    records, _, warnings = reader.read_records(run_dir)
    assert warnings == []
    return reader.merge_steps(records)


def test_round_trip(root: Path) -> None:
    run = trackui.init(
        project="mnist",
        name="baseline",
        config={"lr": 1e-3, "opt": {"beta": 0.9}},
        dir=root,
        tags=["mlp"],
        notes="n",
        group="sweep-1",
        job_type="train",
    )
    for i in range(3):
        trackui.log({"loss": 1.0 / (i + 1), "acc": i / 10})
    run.finish()
    info = reader.read_run(run.run_dir)
    assert info is not None
    assert info.state == "finished"
    assert info.meta["name"] == "baseline" and info.meta["project"] == "mnist"
    assert info.meta["tags"] == ["mlp"] and info.meta["group"] == "sweep-1"
    assert info.meta["job_type"] == "train" and info.meta["notes"] == "n"
    assert info.meta["exit_code"] == 0 and info.meta["end_time"] >= info.meta["start_time"]
    assert info.meta["pid"] == os.getpid() and info.meta["host"]
    assert info.config == {"lr": 1e-3, "opt": {"beta": 0.9}}
    assert history(run.run_dir) == {
        0: {"loss": 1.0, "acc": 0.0},
        1: {"loss": 0.5, "acc": 0.1},
        2: {"loss": pytest.approx(1 / 3), "acc": 0.2},
    }
    assert info.summary == {"loss": pytest.approx(1 / 3), "acc": 0.2}
    assert run.run_dir.parent == root
    assert layout.parse_run_dir_name(run.run_dir.name)[1] == run.id
    assert (root / layout.LATEST_LINK).resolve() == run.run_dir.resolve()


def test_steps_commit_and_merge(root: Path) -> None:
    run = trackui.init(dir=root)
    run.log({"a": 1})  # step 0
    run.log({"b": 2}, commit=False)  # step 1, open
    run.log({"c": 3})  # step 1, committed
    run.log({"d": 4}, step=5)  # step 5, open
    run.log({"e": 5})  # step 5, committed
    run.log({"f": 6})  # step 6
    run.log({"g": 7}, step=3)  # below: ignored
    run.log({"h": 8}, step=10, commit=True)
    assert run.step == 11
    run.finish()
    assert history(run.run_dir) == {
        0: {"a": 1},
        1: {"b": 2, "c": 3},
        5: {"d": 4, "e": 5},
        6: {"f": 6},
        10: {"h": 8},
    }


def test_same_step_later_value_wins(root: Path) -> None:
    run = trackui.init(dir=root)
    run.log({"a": 1}, step=2)
    run.log({"a": 9, "b": 1}, step=2)
    run.finish()
    assert history(run.run_dir) == {2: {"a": 9, "b": 1}}


def test_values(root: Path) -> None:
    torch = pytest.importorskip("torch")
    run = trackui.init(dir=root)
    run.log(
        {
            "nan": math.nan,
            "inf": math.inf,
            "ninf": -math.inf,
            "flag": True,
            "np_f": np.float32(0.5),
            "np_i": np.int64(7),
            "np_0d": np.array(2.5),
            "np_b": np.bool_(False),
            "tensor": torch.tensor(0.25),
            "big": 2**70,
            "nested": {"x": {"y": 1}},
            "text": "hello [b]",
        }
    )
    run.finish()
    rec = reader.read_records(run.run_dir)[0][0]
    assert math.isnan(rec.metrics["nan"]) and rec.metrics["inf"] == math.inf
    assert rec.metrics["ninf"] == -math.inf and rec.metrics["flag"] == 1
    assert rec.metrics["np_f"] == 0.5 and rec.metrics["np_i"] == 7 and rec.metrics["np_0d"] == 2.5
    assert rec.metrics["np_b"] == 0 and rec.metrics["tensor"] == 0.25
    assert rec.metrics["big"] == float(2**70) and rec.metrics["nested/x/y"] == 1
    assert rec.text == {"text": "hello [b]"}
    summary = json.loads((run.run_dir / layout.SUMMARY).read_text())
    assert summary["nan"] == "nan" and summary["inf"] == "inf" and summary["ninf"] == "-inf"


# An array of numbers is a histogram now (tests/unit/test_media_values.py); one of text is not.
@pytest.mark.parametrize("bad", [[1, 2], np.array(["a", "b"]), object(), None, 1 + 2j])
def test_bad_value_raises_naming_key_and_writes_nothing(root: Path, bad: object) -> None:
    run = trackui.init(dir=root)
    run.log({"ok": 1})
    with pytest.raises(TypeError, match="'outer/bad'"):
        run.log({"fine": 1.0, "outer": {"bad": bad}})
    run.log({"ok": 2})
    run.finish()
    assert history(run.run_dir) == {0: {"ok": 1}, 1: {"ok": 2}}


def test_log_requires_a_dict(root: Path) -> None:
    trackui.init(dir=root)
    with pytest.raises(TypeError, match="takes a dict"):
        trackui.log([("a", 1)])  # type: ignore[arg-type]


def test_calls_before_init_are_clear(root: Path) -> None:
    with pytest.raises(RuntimeError, match=r"trackui.log\(\) called before trackui.init\(\)"):
        trackui.log({"a": 1})
    with pytest.raises(RuntimeError, match="before trackui.init"):
        _ = trackui.config.lr
    assert trackui.run is None
    assert trackui.login() is True
    trackui.finish()  # no run: nothing to do


def test_config_access_and_persistence(root: Path) -> None:
    from argparse import Namespace
    from dataclasses import dataclass

    @dataclass
    class Opt:
        momentum: float = 0.9

    run = trackui.init(dir=root, config=Namespace(lr=0.1, batch_size=32))
    assert trackui.config.lr == 0.1 and trackui.config["batch_size"] == 32
    config = trackui.config
    config.learning_rate = 0.01
    run.config["epochs"] = 3
    run.config.update({"wd": 0.0})
    run.config.update(Opt())
    assert "epochs" in run.config and run.config.get("missing", 5) == 5
    with pytest.raises(AttributeError, match="no key 'nope'"):
        _ = run.config.nope
    on_disk = json.loads((run.run_dir / layout.CONFIG).read_text())
    assert on_disk == {
        "lr": 0.1,
        "batch_size": 32,
        "learning_rate": 0.01,
        "epochs": 3,
        "wd": 0.0,
        "momentum": 0.9,
    }
    run.finish()


def test_summary_aggregates_and_overrides(root: Path) -> None:
    run = trackui.init(dir=root)
    run.define_metric("val_accuracy", summary="max")
    run.define_metric("train/*", summary="min")
    run.define_metric("loss_mean", summary="mean")
    run.define_metric("epoch_loss", step_metric="epoch")
    for v in (0.5, 0.9, 0.7):
        run.log({"val_accuracy": v, "train/loss": v, "loss_mean": v, "last": v})
    run.summary["best"] = 42
    run.summary["last"] = -1
    assert run.summary["val_accuracy"] == 0.9
    run.finish()
    summary = json.loads((run.run_dir / layout.SUMMARY).read_text())
    assert summary == {
        "val_accuracy": 0.9,
        "train/loss": 0.5,
        "loss_mean": pytest.approx(0.7),
        "last": -1,
        "best": 42,
    }
    meta = json.loads((run.run_dir / layout.META).read_text())
    assert meta["metrics"]["epoch_loss"] == {"step_metric": "epoch"}
    with pytest.raises(ValueError, match="summary must be one of"):
        trackui.init(dir=root).define_metric("x", summary="median")


def test_summary_written_while_running(root: Path) -> None:
    run = trackui.init(dir=root)
    run.log({"loss": 3.0})
    run._writer.tick()  # what the background thread does every few seconds
    assert json.loads((run.run_dir / layout.SUMMARY).read_text()) == {"loss": 3.0}
    assert reader.read_run(run.run_dir).state == "running"
    run.finish()


def test_context_manager_marks_failure(root: Path) -> None:
    with pytest.raises(ZeroDivisionError), trackui.init(dir=root) as run:
        run.log({"a": 1})
        1 / 0  # noqa: B018
    info = reader.read_run(run.run_dir)
    assert info.state == "failed" and info.meta["exit_code"] == 1
    with trackui.init(dir=root) as ok:
        ok.log({"a": 1})
    assert reader.read_run(ok.run_dir).state == "finished"
    run2 = trackui.init(dir=root)
    run2.finish(exit_code=3)
    assert reader.read_run(run2.run_dir).meta["exit_code"] == 3
    assert reader.read_run(run2.run_dir).state == "failed"


def test_reinit_finishes_previous(root: Path) -> None:
    first = trackui.init(dir=root, name="first")
    second = trackui.init(dir=root, name="second")
    assert trackui.run is second
    assert reader.read_run(first.run_dir).state == "finished"
    same = trackui.init(dir=root, reinit="return_previous")
    assert same is second
    both = trackui.init(dir=root, reinit="create_new")
    assert reader.read_run(second.run_dir).state == "running" and trackui.run is both
    both.finish()
    assert trackui.run is second


def test_resume(root: Path) -> None:
    run = trackui.init(dir=root, id="my-run_1", config={"lr": 1})
    run.log({"a": 1})
    run.log({"a": 2})
    run.finish()
    again = trackui.init(dir=root, id="my-run_1", resume="allow", config={"epochs": 2})
    assert again.run_dir == run.run_dir and again.step == 2
    again.log({"a": 3})
    again.finish()
    assert history(run.run_dir) == {0: {"a": 1}, 1: {"a": 2}, 2: {"a": 3}}
    assert reader.read_run(run.run_dir).config == {"lr": 1, "epochs": 2}
    with pytest.raises(ValueError, match="resume='never' but run 'my-run_1' exists"):
        trackui.init(dir=root, id="my-run_1", resume="never")
    with pytest.raises(ValueError, match="resume='must' but there is no run 'other'"):
        trackui.init(dir=root, id="other", resume="must")
    with pytest.raises(ValueError, match="may hold only"):
        trackui.init(dir=root, id="../escape")


def test_disabled_mode_writes_nothing(root: Path) -> None:
    run = trackui.init(dir=root, mode="disabled", config={"lr": 1})
    run.log({"a": 1})
    run.summary["x"] = 1
    run.define_metric("a", summary="max")
    assert run.save(__file__) == []
    assert trackui.config.lr == 1
    run.finish()
    assert list(root.iterdir()) == []
    with pytest.raises(ValueError, match="mode must be"):
        trackui.init(dir=root, mode="cloud")


def test_root_from_env_and_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKUI_DIR", str(tmp_path / "env-root"))
    run = trackui.init()
    assert run.run_dir.parent == tmp_path / "env-root"
    run.finish()
    monkeypatch.delenv("TRACKUI_DIR")
    monkeypatch.chdir(tmp_path)
    run = trackui.init(run_name="spelled-as-hf")
    assert run.run_dir.parent == Path.cwd() / layout.DEFAULT_ROOT
    assert run.name == "spelled-as-hf"
    run.finish()


def test_metadata_captures_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    (repo / "f").write_text("1")
    subprocess.run(["git", "-C", str(repo), "add", "f"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "c"], check=True, env=env)
    (repo / "f").write_text("2")
    monkeypatch.chdir(repo)
    run = trackui.init(dir=tmp_path / "runs")
    run.finish()
    meta = reader.read_run(run.run_dir).meta
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert meta["git"]["commit"] == head and meta["git"]["dirty"] is True
    assert meta["cwd"] == str(repo) and meta["python"] and meta["command"][0] == sys.executable


def test_save_copies_and_never_escapes(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    (work / "ckpt").mkdir(parents=True)
    (work / "ckpt" / "a.pt").write_bytes(b"A")
    (work / "ckpt" / "b.pt").write_bytes(b"B")
    (work / "model.pth").write_bytes(b"M")
    (tmp_path / "secret").write_text("s")
    monkeypatch.chdir(work)
    run = trackui.init(dir=root)
    files = run.run_dir / layout.FILES_DIR
    assert len(run.save("model.pth")) == 1
    assert len(run.save("ckpt/*.pt")) == 2
    run.save(str(work / "model.pth"))  # absolute source: lands by its name
    run.save(str(work / "ckpt" / "a.pt"), base_path=str(work))
    assert (files / "model.pth").read_bytes() == b"M"
    assert (files / "a.pt").read_bytes() == b"A" and (files / "b.pt").read_bytes() == b"B"
    assert (files / "ckpt" / "a.pt").read_bytes() == b"A"
    # A source outside base_path would need ".." in its destination: refused.
    assert run.save("../secret", base_path=str(work)) == []
    # A symlink inside files/ pointing out of the run is not written through.
    (files / "evil").symlink_to(tmp_path)
    (work / "evil").mkdir()
    (work / "evil" / "secret").write_text("overwritten?")
    assert run.save("evil/secret", base_path=str(work)) == []
    assert (tmp_path / "secret").read_text() == "s"
    # Files saved early are copied again at finish (wandb's "live" policy).
    (work / "model.pth").write_bytes(b"M2")
    run.finish()
    assert (files / "model.pth").read_bytes() == b"M2"
    for p in root.rglob("*"):
        assert p.resolve().is_relative_to(root.resolve()) or p.is_symlink()


def test_watch_logs_norms(root: Path) -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    run = trackui.init(dir=root)
    config = trackui.config
    config.learning_rate = 0.01
    trackui.watch(model, log="all", log_freq=2)
    opt = torch.optim.SGD(model.parameters(), lr=config.learning_rate)
    for _ in range(4):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        trackui.log({"loss": loss})  # a 0-d tensor
    run.finish()
    h = history(run.run_dir)
    assert set(h) == {0, 1, 2, 3}
    assert all(isinstance(h[s]["loss"], float) for s in h)
    assert "gradients/0.weight.norm" in h[1] and "parameters/2.bias.norm" in h[1]
    assert "gradients/0.weight.norm" not in h[0]
    with pytest.raises(TypeError, match="torch.nn.Module"):
        trackui.init(dir=root).watch(object())


def test_console_lines(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TRACKUI_SILENT")
    run = trackui.init(dir=root, name="demo\x1b[31m")
    for i in range(30):
        run.log({"loss": 1 / (i + 1), "acc": i / 30})
    run.finish()
    out = capsys.readouterr().err
    assert f"trackui: run demo?[31m ({run.id}) in {run.run_dir}" in out
    assert f"trackui {root}" in out
    assert "\x1b" not in out
    assert "loss █" in out and "▁" in out
    assert "run summary" in out and "acc 0.96667" in out
    monkeypatch.setenv("TRACKUI_SILENT", "1")
    trackui.init(dir=root).finish()
    assert capsys.readouterr().err == ""


def test_console_capture(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKUI_CONSOLE", "wrap")
    run = trackui.init(dir=root)
    print("epoch 1 done")
    print("warning here", file=sys.stderr)
    run.finish()
    text = (run.run_dir / layout.OUTPUT).read_text()
    assert "epoch 1 done\n" in text and "warning here\n" in text
    print("after finish")
    assert "after finish" not in (run.run_dir / layout.OUTPUT).read_text()


def test_log_after_finish_is_ignored(root: Path) -> None:
    run = trackui.init(dir=root)
    run.log({"a": 1})
    run.finish()
    run.log({"a": 2})
    run.finish()
    assert history(run.run_dir) == {0: {"a": 1}}
