"""wandb's settings, environment, resume and config sources, against real run directories."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import trackui
from trackui.store import layout, reader

WANDB_VARS = (
    "PROJECT",
    "NAME",
    "NOTES",
    "TAGS",
    "RUN_ID",
    "RESUME",
    "MODE",
    "DIR",
    "RUN_GROUP",
    "JOB_TYPE",
    "SILENT",
    "CONSOLE",
)


@pytest.fixture(autouse=True)
def _no_wandb_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in WANDB_VARS:
        monkeypatch.delenv("WANDB_" + name, raising=False)


def test_wandb_environment_names_the_run(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "PROJECT": "proj",
        "NAME": "nm",
        "NOTES": "a note",
        "TAGS": "a, b",
        "RUN_ID": "myrun1",
        "RUN_GROUP": "g",
        "JOB_TYPE": "eval",
        "DIR": str(root),
    }.items():
        monkeypatch.setenv("WANDB_" + key, value)
    run = trackui.init()
    run.finish()
    assert run.run_dir is not None and run.run_dir.parent == root
    meta = reader.read_run(run.run_dir).meta
    assert (meta["id"], meta["project"], meta["name"], meta["notes"]) == (
        "myrun1",
        "proj",
        "nm",
        "a note",
    )
    assert meta["tags"] == ["a", "b"] and meta["group"] == "g" and meta["job_type"] == "eval"


def test_trackui_variables_and_arguments_come_first(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_PROJECT", "from-wandb")
    monkeypatch.setenv("TRACKUI_PROJECT", "from-trackui")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("TRACKUI_DIR", str(root))
    monkeypatch.setenv("WANDB_NAME", "env-name")
    run = trackui.init(name="arg-name")
    run.finish()
    assert run.root == root and run.project == "from-trackui" and run.name == "arg-name"
    assert not (tmp_path / "elsewhere").exists()


def test_wandb_mode_disabled_writes_nothing(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_MODE", "disabled")
    run = trackui.init(dir=root)
    trackui.log({"x": 1})
    run.finish()
    assert run.disabled and list(root.iterdir()) == []
    assert Path(run.dir).is_dir()  # scripts may write there even so


def test_trackui_mode_wins_over_wandb_mode(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.setenv("TRACKUI_MODE", "online")
    run = trackui.init(dir=root)
    run.finish()
    assert not run.disabled and run.run_dir is not None and run.run_dir.is_dir()


@pytest.mark.parametrize("mode", ["offline", "dryrun"])
def test_offline_and_dryrun_write_locally(root: Path, mode: str) -> None:
    run = trackui.init(dir=root, mode=mode)
    run.log({"x": 1})
    run.finish()
    assert run.offline and reader.read_run(run.run_dir).state == "finished"


def test_settings_object_is_honoured_and_the_rest_ignored(root: Path) -> None:
    run = trackui.init(
        dir=root,
        settings=trackui.Settings(
            mode="offline", console="off", x_disable_stats=True, _service_wait=30, anything=1
        ),
    )
    assert run.settings.x_disable_stats is True and run.settings.mode == "offline"
    print("not captured")
    run.finish()
    assert not (run.run_dir / layout.OUTPUT).exists()
    assert trackui.Settings(disable_stats=True).x_disable_stats is True
    off = trackui.init(dir=root, settings={"mode": "disabled"})
    assert off.disabled
    off.finish()


def test_setup_require_login_and_preempting_are_harmless(root: Path) -> None:
    trackui.require("service")
    trackui.require("core")
    assert trackui.login(key="x") is True
    s = trackui.setup(settings=trackui.Settings(x_disable_stats=True))
    try:
        run = trackui.init(dir=root)
        assert run.settings.x_disable_stats is True
        run.mark_preempting()
        trackui.mark_preempting()
        run.finish()
    finally:
        s.x_disable_stats = None


def test_resume_from_the_environment_continues_one_run(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_RUN_ID", "myrun1")
    first = trackui.init(dir=root)
    trackui.log({"loss": 1.0})
    first.finish()
    assert not first.resumed
    monkeypatch.setenv("WANDB_RESUME", "allow")
    again = trackui.init(dir=root)
    assert again.resumed and again.id == "myrun1" and again.starting_step == 1
    trackui.log({"loss": 0.5})
    again.finish()
    assert len(reader.list_run_dirs(root)) == 1
    records, _, _ = reader.read_records(again.run_dir)
    assert reader.merge_steps(records) == {0: {"loss": 1.0}, 1: {"loss": 0.5}}


def test_resume_auto_reopens_the_last_run_only_if_it_failed(root: Path) -> None:
    ok = trackui.init(dir=root)
    ok.finish()
    fresh = trackui.init(dir=root, resume="auto")
    assert fresh.id != ok.id and not fresh.resumed
    fresh.finish(exit_code=1)
    again = trackui.init(dir=root, resume=True)
    assert again.id == fresh.id and again.resumed
    again.finish()
    with pytest.raises(ValueError, match="allow, must, never, auto"):
        trackui.init(dir=root, resume="sometimes")


def test_resume_auto_picks_up_a_crashed_run(root: Path) -> None:
    code = (
        "import os, trackui\n"
        f"run = trackui.init(dir={str(root)!r})\n"
        "trackui.log({'x': 1})\n"
        "print(run.id, flush=True)\n"
        "os._exit(9)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    crashed_id = out.stdout.strip()
    run = trackui.init(dir=root, resume="auto")
    assert run.id == crashed_id and run.resumed and run.step == 1
    run.finish()


def test_config_from_yaml_defaults_and_key_selection(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.yaml").write_text(
        "wandb_version: 1\nlr:\n  desc: learning rate\n  value: 0.01\nlayers: [1, 2]\nseed: 3\n"
    )
    (tmp_path / "config-defaults.yaml").write_text("epochs: 5\nseed: 0\n")
    monkeypatch.chdir(tmp_path)
    run = trackui.init(dir=root, config="config.yaml", config_exclude_keys=["layers"])
    assert run.config.as_dict() == {"epochs": 5, "seed": 3, "lr": 0.01}
    run.config.update({"lr": 0.1}, allow_val_change=True)
    run.finish()
    assert reader.read_run(run.run_dir).config == {"epochs": 5, "seed": 3, "lr": 0.1}
    only = trackui.init(dir=root, config={"a": 1, "b": 2}, config_include_keys=["a"])
    assert only.config.as_dict() == {"a": 1}
    only.finish()


def test_config_yaml_without_pyyaml_is_one_line(root: Path, tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("a: 1\n")
    code = (
        "import sys; sys.modules['yaml'] = None\n"
        "import trackui\n"
        f"trackui.init(dir={str(root)!r}, config={str(tmp_path / 'c.yaml')!r})\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode != 0
    assert out.stderr.strip().splitlines()[-1].startswith("ImportError: trackui: reading")
    assert "pip install pyyaml" in out.stderr


def test_run_properties(root: Path) -> None:
    run = trackui.init(dir=root, project="p", entity="team", id="abc")
    assert run.url is None and run.path == "team/p/abc" and run.entity == "team"
    assert abs(run.start_time - reader.read_run(run.run_dir).meta["start_time"]) < 1e-6
    assert not run.resumed and not run.offline and not run.disabled
    assert run.sync_dir == str(run.run_dir)
    run.finish()


def test_run_dir_is_saved_with_the_run(root: Path) -> None:
    run = trackui.init(dir=root)
    with open(os.path.join(run.dir, "model.txt"), "w") as f:
        f.write("weights")
    run.finish()
    assert run.dir == str(run.run_dir / layout.FILES_DIR)
    assert reader.list_files(run.run_dir) == (("model.txt", 7),)


def test_log_code_keeps_the_sources(root: Path, tmp_path: Path) -> None:
    src = tmp_path / "proj"
    (src / "pkg").mkdir(parents=True)
    (src / "train.py").write_text("print(1)\n")
    (src / "pkg" / "model.py").write_text("x = 1\n")
    (src / "notes.txt").write_text("no\n")
    (src / ".venv").mkdir()
    (src / ".venv" / "skip.py").write_text("")
    run = trackui.init(dir=root)
    copied = run.log_code(str(src))
    run.finish()
    assert len(copied) == 2
    files = dict(reader.list_files(run.run_dir))
    assert set(files) == {"code/train.py", "code/pkg/model.py"}
    only_txt = trackui.init(dir=root)
    only_txt.log_code(str(src), include_fn=lambda path, root: path.endswith(".txt"))
    only_txt.finish()
    assert [p for p, _ in reader.list_files(only_txt.run_dir)] == ["code/notes.txt"]


def test_log_without_arguments_commits_the_step(root: Path) -> None:
    run = trackui.init(dir=root)
    trackui.log({"loss": 1.0}, commit=False)
    trackui.log({"val": 2.0}, commit=False)
    trackui.log()
    trackui.log({"loss": 0.5})
    run.finish()
    records, _, _ = reader.read_records(run.run_dir)
    assert len(records) == 3
    assert reader.merge_steps(records) == {0: {"loss": 1.0, "val": 2.0}, 1: {"loss": 0.5}}


def test_a_run_without_yaml_files_never_imports_yaml(root: Path) -> None:
    code = (
        "import sys, trackui\n"
        f"run = trackui.init(dir={str(root)!r}, settings=trackui.Settings(mode='offline'))\n"
        "run.define_metric('x', summary='min,max'); run.log({'x': 1}); run.finish()\n"
        "print('yaml' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
