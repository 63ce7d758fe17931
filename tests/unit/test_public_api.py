"""``trackui.Api()``, wandb's read API, over runs written through ``trackui.init``/``log``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import trackui


@pytest.fixture
def runs(root: Path) -> Path:
    """Three finished runs in two projects, and one in a third with text values."""
    specs = [
        ("mnist", "base", {"lr": 0.1, "opt": {"name": "sgd"}}, ["a"], 0.7, "finished"),
        ("mnist", "base-2", {"lr": 0.01, "opt": {"name": "adam"}}, ["a", "b"], 0.9, "finished"),
        ("mnist", "wide", {"lr": 0.001, "opt": {"name": "adam"}}, ["b"], 0.8, "failed"),
        ("cifar", "other", {"lr": 0.1}, [], 0.5, "finished"),
    ]
    for project, name, config, tags, acc, state in specs:
        run = trackui.init(project=project, name=name, config=config, tags=tags, dir=root)
        for i in range(20):
            if i % 5 == 0:
                run.log({"epoch": i // 5, "note": f"e{i}"}, commit=False)
            run.log({"loss": 1.0 / (i + 1), "val/acc": acc * i / 19})
        run.finish(exit_code=0 if state == "finished" else 1)
    return root


def _names(rs: list) -> list[str]:
    return [r.name for r in rs]


def test_runs_by_project_filters_and_order(runs: Path) -> None:
    api = trackui.Api(overrides={"dir": str(runs)})
    assert _names(api.runs("me/mnist")) == ["base", "base-2", "wide"]  # +created_at
    assert len(api.runs("cifar")) == 1 and len(api.runs()) == 4
    assert _names(api.runs("mnist", order="-summary_metrics.val/acc")) == ["base-2", "wide", "base"]
    assert _names(api.runs("mnist", order="+config.lr")) == ["wide", "base-2", "base"]
    f = api.runs
    assert _names(f("mnist", {"config.lr": {"$lt": 0.05}})) == ["base-2", "wide"]
    assert _names(f("mnist", {"config.opt.name": "sgd"})) == ["base"]
    assert _names(f("mnist", {"config.lr.value": 0.1})) == ["base"]
    assert _names(f("mnist", {"summary_metrics.val/acc": {"$gte": 0.8}})) == ["base-2", "wide"]
    assert _names(f("mnist", {"state": "failed"})) == ["wide"]
    assert _names(f("mnist", {"tags": "b"})) == ["base-2", "wide"]
    assert _names(f("mnist", {"tags": {"$in": ["a"]}})) == ["base", "base-2"]
    assert _names(f("mnist", {"tags": {"$nin": ["a"]}})) == ["wide"]
    assert _names(f("mnist", {"display_name": {"$regex": "^base"}})) == ["base", "base-2"]
    assert _names(f("mnist", {"$or": [{"state": "failed"}, {"config.lr": 0.1}]})) == [
        "base",
        "wide",
    ]
    assert _names(f("mnist", {"$and": [{"tags": "a"}, {"config.lr": {"$ne": 0.1}}]})) == ["base-2"]
    assert _names(f(filters={"config.missing": {"$exists": False}})) == [
        "base", "base-2", "wide", "other",
    ]  # fmt: skip
    with pytest.raises(ValueError):
        f("mnist", {"config.lr": {"$near": 1}})


def test_run_fields_history_and_scan_history(runs: Path) -> None:
    api = trackui.Api(overrides={"dir": str(runs)})
    first = api.runs("mnist")[0]
    run = api.run(f"me/mnist/{first.id}")
    assert (run.id, run.name, run.state, run.group) == (first.id, "base", "finished", None)
    assert run.config == {"lr": 0.1, "opt": {"name": "sgd"}}
    assert run.summary["val/acc"] == pytest.approx(0.7)
    assert run.tags == ["a"] and run.created_at.startswith("20")
    assert api.run(run.id).name == "base"
    with pytest.raises(ValueError):
        api.run("me/mnist/nope")

    rows = run.history(pandas=False)
    assert [r["_step"] for r in rows] == list(range(20))
    assert rows[5]["epoch"] == 1 and rows[5]["note"] == "e5" and "_runtime" in rows[5]
    sampled = run.history(samples=5, pandas=False)
    assert [r["_step"] for r in sampled] == [0, 5, 10, 14, 19]
    only = run.history(keys=["epoch"], pandas=False)
    assert only == [{"_step": s, "epoch": s // 5} for s in (0, 5, 10, 15)]
    by_epoch = run.history(keys=["loss"], x_axis="epoch", pandas=False)
    assert by_epoch[1] == {"epoch": 1, "loss": pytest.approx(1 / 6)}

    scanned = list(run.scan_history(page_size=3))
    assert len(scanned) == 20 and scanned == rows
    assert [r["loss"] for r in run.scan_history(keys=["loss"], min_step=18)] == [
        pytest.approx(1 / 19),
        pytest.approx(1 / 20),
    ]


def test_history_is_a_dataframe_with_pandas(runs: Path) -> None:
    pd = pytest.importorskip("pandas")
    run = trackui.Api(overrides={"dir": str(runs)}).runs("cifar")[0]
    df = run.history(keys=["loss"])
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["_step", "loss"] and len(df) == 20


def test_files_artifacts_and_the_root_from_the_environment(
    runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "weights.bin"
    f.write_bytes(b"w")
    run = trackui.init(project="files", dir=runs)
    run.save(str(f), base_path=str(tmp_path))
    run.log_artifact(str(f), name="weights", type="model")
    run.use_artifact("weights:latest")
    run.finish()

    monkeypatch.setenv("WANDB_DIR", str(runs))
    api = trackui.Api()
    got = api.run(run.id)
    files = got.files()
    assert [x.name for x in files] == ["weights.bin"] and files[0].size == 1
    with files[0].download(root=str(tmp_path / "dl")) as fh:
        assert fh.read() == "w"
    assert [a.qualified_name for a in got.logged_artifacts()] == ["weights:v0"]
    assert [a.qualified_name for a in got.used_artifacts()] == ["weights:v0"]
    assert api.artifact("weights:latest").type == "model"
    assert [a.version for a in api.artifact_versions("model", "weights")] == ["v0"]
    monkeypatch.setenv("TRACKUI_DIR", str(tmp_path / "elsewhere"))
    assert len(trackui.Api().runs()) == 0  # TRACKUI_DIR wins over WANDB_DIR


def test_reading_writes_nothing_under_the_root(runs: Path) -> None:
    before = sorted(p.relative_to(runs) for p in runs.rglob("*"))
    api = trackui.Api(overrides={"dir": str(runs)})
    for r in api.runs():
        r.history(pandas=False)
    assert sorted(p.relative_to(runs) for p in runs.rglob("*")) == before


def test_duckdb_is_imported_only_when_api_is_used() -> None:
    code = (
        "import sys, trackui; a = trackui.Artifact; b = trackui.AlertLevel\n"
        "assert 'duckdb' not in sys.modules, 'import'\n"
        "trackui.Api(overrides={'dir': '.'}).runs()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


EXAMPLES = Path(__file__).resolve().parents[1] / "wandb_examples"


@pytest.mark.parametrize("name", ["docs_artifacts", "docs_alerts", "docs_public_api"])
def test_wandb_documentation_calls_run_unchanged(name: str, tmp_path: Path) -> None:
    """W&B's documented calls for artifacts, alerts and the public API, with ``import wandb``
    giving trackui (the shim), in an empty directory."""
    env = {
        **os.environ,
        "PYTHONPATH": str(EXAMPLES / "shim"),
        "TRACKUI_SILENT": "1",
        "TRACKUI_CONSOLE": "off",
    }
    env.pop("TRACKUI_DIR", None)
    script = EXAMPLES / name / "main.py"
    p = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert p.returncode == 0, p.stderr[-2000:]
    assert " ok" in p.stdout
    assert (tmp_path / "trackui-runs").is_dir()
